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

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Iterable, NamedTuple, Sequence

from loyaltycli.engine.note import Note
from loyaltycli.i18n import N_, Nn_

CARD_COLUMNS = ("customer_id", "card_id", "kind", "unit", "delta", "at", "expires_at", "purchase_id", "voucher_id",
                "note", "recorded_at", "note_kind", "note_args")
C_KIND, C_DELTA, C_PURCHASE = 2, 4, 7  # columns of a card row (engine tests read kind and delta)
PER = ("visit", "item")
EVENTS = ("stamp", "unstamp", "merge_in", "merge_out")  # stamp rows that are events (the others follow from them)
OPENING = ("stamp", "merge_in", "restate")  # stamp rows that carry the deadline of the card they leave open
ENDED = ("voucher_used", "merge_out", "voucher_void")  # rows that end a voucher (naming it by voucher_id)

# the notes of the stamp-card ledger (the stamp-card rule's NOTES)
STAMP = Note("stamp", *Nn_("receipt {receipt}: {stamps} stamp on {card}", "receipt {receipt}: {stamps} stamps on {card}"),
             count="stamps")
UNSTAMP = Note("unstamp", *Nn_("refund of receipt {receipt}: {stamps} stamp taken back",
                               "refund of receipt {receipt}: {stamps} stamps taken back"), count="stamps")
CARD_COMPLETE = Note("card_complete", N_("{card} card complete ({stamps} stamps)"))
CARD_EXPIRE = Note("card_expire", *Nn_("{stamps} stamp on {card} expired: the card was not filled within {days} days",
                                       "{stamps} stamps on {card} expired: the card was not filled within {days} days"),
                   count="stamps")
VOUCHER_USED = Note("voucher_used", N_("used: {reward}"))
CARD_RESTATED = Note("card_restated",
                     N_("{card} put in time order: receipt {receipt} of {day} was recorded after later ones"))
NOTES = (STAMP, UNSTAMP, CARD_COMPLETE, CARD_EXPIRE, VOUCHER_USED, CARD_RESTATED)


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


def rule_definition(name: str, skus: list[str] | None) -> tuple[str, tuple[str, ...]]:
    """An item rule's name and SKU patterns as a person gives them (`program rule add`, --points or --earn;
    `program set` and the program file), checked."""
    from loyaltycli.base.errors import InvalidInput
    from loyaltycli.base.textkey import check_plain_text
    from loyaltycli.i18n import _

    name = (check_plain_text(name, "rule name") or "").strip()
    patterns = tuple(check_plain_text(p, "--sku pattern").strip() for p in skus or [] if p.strip())
    if not name or len(name) > 100:
        raise InvalidInput(_('rule name must be 1 to 100 characters'))
    if not patterns:
        raise InvalidInput(_("give at least one --sku pattern (e.g. --sku 'CRO-*')"))
    return name, patterns


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


def _noted(made: tuple[str, str, str], recorded: datetime) -> tuple:
    """The note's text, ``recorded`` and the note's kind and values, as CARD_COLUMNS hold them."""
    text, kind, args = made
    return text, recorded, kind, args


def expire_cards(cards: Sequence[CardRule], held: dict, ends: dict, customer_id: int, at: datetime,
                 recorded: datetime) -> list[list]:
    """The rows writing off the stamps of cards not filled by their deadline (``ends``: card id -> the
    current card's deadline, N days after its first stamp), for a deadline at or before ``at``. Each row is
    dated at its card's deadline; ``held`` and ``ends`` are updated (the next stamp starts a new card)."""
    rows = []
    for card in cards:
        end = ends.get(card.id)
        if end is None or end > at:
            continue
        stamps = held.get(card.id, 0)
        if stamps > 0:
            rows.append([customer_id, card.id, "expire", "stamp", -stamps, end, None, None, None,
                         *_noted(CARD_EXPIRE.make(stamps=stamps, card=card.name, days=card.expires_days),
                                 recorded)])
            held[card.id] = 0
        ends[card.id] = None
    return rows


def card_sale(cards: Sequence[CardRule], held: dict, customer_id: int, receipt_id: str, at: datetime,
              amount: int, items: Sequence[tuple], recorded: datetime,
              ends: dict | None = None) -> tuple[list[list], dict[int, int]]:
    """The stamp and voucher rows of a sale, and the stamps it earned per card id. ``held`` (card id ->
    stamps on the current card) and ``ends`` (card id -> its deadline, cards with ``expires_days``) are
    updated. A card past its deadline has its stamps expired first; a stamp row carries the deadline of the
    card it leaves open (None: none open)."""
    rows: list[list] = []
    earned: dict[int, int] = {}
    if ends is None:
        ends = {}
    if ends:
        rows.extend(expire_cards(cards, held, ends, customer_id, at, recorded))
    for card in cards:
        n = stamps_for(card, amount, items)
        if not n:
            continue
        earned[card.id] = n
        days = timedelta(days=card.expires_days) if card.expires_days else None
        if days is not None and ends.get(card.id) is None:
            ends[card.id] = at + days  # the first stamp of a new card: it must be filled within N days
        stamps = held.get(card.id, 0) + n
        stamp_row = [customer_id, card.id, "stamp", "stamp", n, at, None, None, None,
                     *_noted(STAMP.make(receipt=receipt_id, stamps=n, card=card.name), recorded)]
        rows.append(stamp_row)
        while stamps >= card.stamps:
            stamps -= card.stamps
            rows.append([customer_id, card.id, "complete", "stamp", -card.stamps, at, None, None, None,
                         *_noted(CARD_COMPLETE.make(card=card.name, stamps=card.stamps), recorded)])
            rows.append([customer_id, card.id, "voucher", "voucher", 1, at, at + days if days else None, None,
                         None, f"{card.reward}"[:500], recorded, None, None])  # the reward as the shop wrote it
            if days is not None:  # the extra stamps start a new card now; none: the next stamp starts it
                ends[card.id] = at + days if stamps > 0 else None
        held[card.id] = stamps
        if days is not None:
            stamp_row[6] = ends[card.id]
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
    for card_id, earned in sorted(stamps.items()):  # card order, whatever order the store read them in
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
                         *_noted(UNSTAMP.make(receipt=receipt_id, stamps=back), recorded)])
    return rows


# -- card state indexed by time -------------------------------------------------------------------------------
class Logged(NamedTuple):
    """One row of a customer's card as the replay reads it (``account.card_log``): stored rows carry their
    ``id``; rows written with this decision or batch have none yet."""

    at: datetime
    kind: str
    unit: str
    delta: int
    expires_at: datetime | None = None
    id: int | None = None
    voucher_id: int | None = None


def logged(row: list) -> Logged:
    """An engine card row (CARD_COLUMNS order) as the log holds it."""
    return Logged(row[5], row[2], row[3], row[4], row[6], None, row[8])


def is_late(log: Sequence[Logged] | None, at: datetime) -> bool:
    """Whether a card's log has a stamp row later than ``at`` (a receipt arriving after later ones)."""
    for e in reversed(log or ()):  # in time order: the latest stamp row decides (a used voucher may be later)
        if e.unit == "stamp":
            return e.at > at
    return False


def replay(card: CardRule, log: Sequence[Logged]) -> tuple[Counter, Counter, list, int, datetime | None, list]:
    """The card as the rule gives it with its events in time order (``log``, sorted by time, ties in the
    order written): completions (time -> stamps, negative), expiries (time -> stamps, negative), vouchers
    ((time, expiry)), the stamps on the current card, its deadline, and the deadline each row leaves open.
    Before each event a card past its deadline expires (as before a sale, a refund or a merge); at the end,
    one past its deadline by the latest stamp row's time (as `expire` wrote it then)."""
    days = timedelta(days=card.expires_days) if card.expires_days else None
    complete, expire, vouchers, after = Counter(), Counter(), [], []
    held, end = 0, None
    horizon = max((e.at for e in log if e.unit == "stamp"), default=None)
    for e in log:
        if e.unit != "stamp" or e.kind not in EVENTS:
            after.append(None)
            continue
        if end is not None and end <= e.at:
            if held > 0:
                expire[end] -= held
                held = 0
            end = None
        if e.kind == "stamp":
            if days is not None and end is None:
                end = e.at + days
            held += e.delta
            while held >= card.stamps:
                held -= card.stamps
                complete[e.at] -= card.stamps
                vouchers.append((e.at, e.at + days if days else None))
                if days is not None:
                    end = e.at + days if held > 0 else None
        elif e.kind == "merge_in":  # stamps joining the open card, else keeping their own card's deadline
            if end is None:
                end = e.expires_at
            held += e.delta
        else:
            held += e.delta
        after.append(end)
    if end is not None and horizon is not None and end <= horizon and held > 0:
        expire[end] -= held
        held, end = 0, None
    return complete, expire, vouchers, held, end, after


def restate(card: CardRule, log: list[Logged], new: int, customer_id: int, recorded: datetime,
            made: tuple[str, str, str]) -> tuple[list[list], int, datetime | None, datetime | None]:
    """The rows that make a card's ledger say what the rule says of its events in time order, after a
    receipt arrived later than others (``log``: every row of the card sorted by time, ``log[new]`` the new
    event's): completions and expiries put right per time, vouchers not due voided (``voucher_void``,
    naming the voucher by its time and expiry: the writer finds its id), vouchers due issued at their time,
    the deadline restated (``restate``, a row of no stamps). Append-only: nothing written is changed; a
    voucher already used stays and stands for one due. Returns (rows, stamps held, deadline, the deadline
    the new event's row leaves open)."""
    complete, expire, due, held, end, after = replay(card, log)
    log[new] = log[new]._replace(expires_at=after[new])
    had_complete, had_expire = Counter(), Counter()
    issued: list[Logged] = []
    used, voided_ids, voided_at = set(), set(), Counter()
    for e in log:
        if e.unit == "stamp" and e.kind == "complete":
            had_complete[e.at] += e.delta
        elif e.unit == "stamp" and e.kind == "expire":
            had_expire[e.at] += e.delta
        elif e.unit == "voucher" and e.kind == "voucher":
            issued.append(e)
        elif e.kind == "voucher_void":
            if e.voucher_id is None:  # written with this batch: names its voucher by time and expiry
                voided_at[(e.at, e.expires_at)] += 1
            else:
                voided_ids.add(e.voucher_id)
        elif e.kind in ENDED and e.voucher_id is not None:
            used.add(e.voucher_id)
    completions = Counter({at: -n // card.stamps for at, n in had_complete.items()})
    mine = []  # the live vouchers of completions (a merge's came with the customer: not the rule's)
    for v in issued:
        if v.id in voided_ids and v.id is not None:
            continue
        if v.id not in used and voided_at[(v.at, v.expires_at)] > 0:
            voided_at[(v.at, v.expires_at)] -= 1
            continue
        if completions[v.at] > 0:
            completions[v.at] -= 1
            mine.append(v)
    text, kind, args = made
    rows = []

    def row(kind_, unit, delta, at, expires=None):
        rows.append([customer_id, card.id, kind_, unit, delta, at, expires, None, None, text, recorded, kind, args])

    for at in sorted(complete.keys() | had_complete.keys()):
        if complete[at] != had_complete[at]:
            row("complete", "stamp", complete[at] - had_complete[at], at)
    for at in sorted(expire.keys() | had_expire.keys()):
        if expire[at] != had_expire[at]:
            row("expire", "stamp", expire[at] - had_expire[at], at)
    wanted, extra = Counter(due), []
    for v in mine:
        if wanted[(v.at, v.expires_at)] > 0:
            wanted[(v.at, v.expires_at)] -= 1
        else:
            extra.append(v)
    missing = sorted(wanted.elements(), key=lambda v: v[0])
    for v in extra:
        if v.id is not None and v.id in used:
            if missing:
                missing.pop(0)  # used already: it stands for one due
        else:
            row("voucher_void", "voucher", -1, v.at, v.expires_at)
    for at, expires in missing:
        rows.append([customer_id, card.id, "voucher", "voucher", 1, at, expires, None, None, f"{card.reward}"[:500],
                     recorded, None, None])
    opening = [e for e in log if e.unit == "stamp" and e.kind in OPENING]
    if opening and card.expires_days:
        last = opening[-1]  # the row the store reads the deadline from (the latest; ties: the last written)
        if _open(last.expires_at, held, last.at) != _open(end, held, last.at):
            row("restate", "stamp", 0, last.at, end)
    return rows, held, end, after[new]


def _open(end: datetime | None, held: int, now: datetime) -> datetime | None:
    """A deadline as the next event reads it: one passed with no stamp held is no card open."""
    return None if end is None or (end <= now and held <= 0) else end
