"""Stamp cards and item/visit rewards, the rules once for the counter and the import.

A stamp card earns one stamp per matching item unit (``per item``) or one per visit (``per visit``), for a
purchase of at least its minimum amount; a full card becomes a voucher for its reward and a new card
starts with the extra stamps. A refund takes back the stamps its items earned (per item and quantity; a
per-visit stamp once what is left of the sale is below the minimum; a full refund all of them); a card may
go below zero, and a voucher already issued is kept.

Item rules give fixed points per matching item unit (or once per purchase with a matching item); visit
points are a fixed number per purchase of at least a minimum amount. Both are points (``earn`` rows of
the points ledger), so that a refund reverses them with the spend points.

Pure: no database, no clock. Stamp and voucher rows are lists in ``CARD_COLUMNS`` order (the caller
fills in ``purchase_id``) for the stamp-card ledger, never the points ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Iterable, Sequence

CARD_COLUMNS = ("customer_id", "card_id", "kind", "unit", "delta", "at", "expires_at", "purchase_id", "voucher_id",
                "note", "recorded_at")
C_KIND, C_DELTA, C_PURCHASE = 2, 4, 7  # columns of a card row (engine tests read kind and delta)
PER = ("visit", "item")


@dataclass(frozen=True)
class CardRule:
    """A stamp card's definition."""

    id: int
    name: str
    stamps: int
    reward: str
    skus: tuple[str, ...] = ()
    min_amount: int = 0
    per: str = "visit"
    expires_days: int | None = None


@dataclass(frozen=True)
class ItemRule:
    """Fixed bonus points for items of SKU patterns: per item unit, or once per purchase (``per visit``)."""

    name: str
    skus: tuple[str, ...]
    points: int
    per: str = "item"


def matches(sku: str, patterns: Iterable[str]) -> bool:
    """Whether ``sku`` matches one of the patterns (fnmatch, case-insensitive)."""
    sku = sku.upper()
    return any(fnmatchcase(sku, pattern.upper()) for pattern in patterns)


def units(items: Sequence[tuple], patterns: Sequence[str]) -> int:
    """Units of ``items`` ((sku, quantity, ...) tuples) whose SKU matches (every item without patterns)."""
    return sum(item[1] for item in items if item[1] > 0 and item[0] and (not patterns or matches(item[0], patterns)))


def stamps_for(card: CardRule, amount: int, items: Sequence[tuple]) -> int:
    """The stamps a purchase of ``amount`` cents with ``items`` earns on ``card``."""
    if amount <= 0 or amount < card.min_amount:
        return 0
    if card.per == "item":
        return units(items, card.skus)
    if card.skus and not units(items, card.skus):
        return 0
    return 1


def item_points(rules: Sequence[ItemRule], items: Sequence[tuple]) -> list[tuple[ItemRule, int]]:
    """(rule, points) of the item rules a purchase's items meet."""
    out = []
    for rule in rules:
        n = units(items, rule.skus)
        if n:
            out.append((rule, rule.points * n if rule.per == "item" else rule.points))
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if abs(n) == 1 else f"{n} {word}s"


def card_sale(cards: Sequence[CardRule], held: dict, customer_id: int, receipt_id: str, at: datetime,
              amount: int, items: Sequence[tuple], recorded: datetime) -> tuple[list[list], dict[int, int]]:
    """The stamp and voucher rows of a sale, and the stamps it earned per card id. ``held`` (card id ->
    stamps on the current card) is updated."""
    rows: list[list] = []
    earned: dict[int, int] = {}
    for card in cards:
        n = stamps_for(card, amount, items)
        if not n:
            continue
        earned[card.id] = n
        stamps = held.get(card.id, 0) + n
        rows.append([customer_id, card.id, "stamp", "stamp", n, at, None, None, None,
                     f"receipt {receipt_id}: {_plural(n, 'stamp')} on {card.name}"[:500], recorded])
        while stamps >= card.stamps:
            stamps -= card.stamps
            expires = at + timedelta(days=card.expires_days) if card.expires_days else None
            rows.append([customer_id, card.id, "complete", "stamp", -card.stamps, at, None, None, None,
                         f"{card.name} card complete ({card.stamps} stamps)"[:500], recorded])
            rows.append([customer_id, card.id, "voucher", "voucher", 1, at, expires, None, None,
                         f"{card.reward}"[:500], recorded])
        held[card.id] = stamps
    return rows, earned


def card_refund(cards: Sequence[CardRule], stamps: dict[int, int], taken: dict[int, int], held: dict,
                customer_id: int, receipt_id: str, at: datetime, left: int, items: Sequence[tuple],
                recorded: datetime) -> list[list]:
    """The rows taking back the stamps a refund's items earned. ``stamps``: card id -> stamps the sale earned;
    ``taken``: card id -> stamps refunds of it took back already (updated); ``left``: what is left of the
    sale after this refund; ``items``: the items returned ((sku, quantity, ...), quantities positive).

    A per-item card loses one stamp per matching unit returned; a per-visit card its stamp once what is left
    of the sale is below the card's minimum. Nothing left of the sale: every stamp it still holds goes back.
    A refund naming no items takes back no per-item stamp until the sale is fully refunded. ``held`` is
    updated (a card may go below zero); a voucher already issued is kept."""
    rules = {card.id: card for card in cards}
    rows = []
    for card_id, earned in stamps.items():
        due = earned - taken.get(card_id, 0)
        if due <= 0:
            continue
        card = rules.get(card_id)  # None: the card was retired since; only a full refund takes its stamps
        if left <= 0:
            back = due
        elif card is None:
            back = 0
        elif card.per == "item":
            back = min(due, units(items, card.skus))
        else:
            back = due if left < card.min_amount else 0
        if back:
            taken[card_id] = taken.get(card_id, 0) + back
            held[card_id] = held.get(card_id, 0) - back
            rows.append([customer_id, card_id, "unstamp", "stamp", -back, at, None, None, None,
                         f"refund of receipt {receipt_id}: {_plural(back, 'stamp')} taken back"[:500], recorded])
    return rows
