"""Stamp cards as a rule (the card arithmetic is in loyaltycli.engine.cards): a sale stamps the cards its
items or visit earn, a full card becomes a voucher; a refund takes back what its items earned; a card
not filled by its deadline expires (before a sale or a refund, and by `expire`). Rows go to the
``card_ledger`` table; what a sale gave is ``given["cards"]`` (card id -> stamps).

A card that expires is indexed by time, as points are: a receipt dated before the card's latest row (it
arrived late) is put in its place and the card replayed from its events in time order
(``engine.cards.restate``); the rows that put the ledger right are appended, so the same receipts give
the same stamps, vouchers and expiries in whatever order they arrive, at the counter or by import."""

from __future__ import annotations

from bisect import insort

from loyaltycli.engine.cards import (CARD_RESTATED, NOTES as CARD_NOTES, STAMP, card_refund, card_sale, expire_cards, is_late, logged,
                                     restate, stamps_for, _noted)
from loyaltycli.engine.rules import Rule

ORDER = 60
NOTES = CARD_NOTES  # the stamp-card ledger's (engine/cards.py writes most of them)
TABLE = "card_ledger"


class StampCardRefunds(Rule):
    """No card running (all retired): only a refund taking back the stamps its sale earned."""

    KEY = "cards"

    def __init__(self, cards: tuple = ()):
        self.cards = cards
        self.expiring = False

    def refund(self, engine, event) -> None:
        sale, account = event.sale, event.account
        stamps = sale.given.get(self.KEY) if sale is not None else None
        if not stamps:
            return
        if account.cards is None:
            account.cards = {}
        rows = card_refund(self.cards, stamps, sale.taken.setdefault(self.KEY, {}), account.cards, account.id,
                           sale.receipt_id, event.at, sale.amount - sale.refunded - event.amount, event.items,
                           engine.recorded)
        self._emit(event, self._in_time(engine, event, rows))

    def _in_time(self, engine, event, rows: list) -> list:
        """``rows`` (the event's own), each card's put in time order when the event came late."""
        return rows

    def _emit(self, event, rows: list) -> None:
        event.out.writes.setdefault(TABLE, []).extend(rows)
        if self.expiring and rows:
            self._log(event.account, rows)

    def _log(self, account, rows: list) -> None:
        """The rows written, into the account's time-ordered log of cards that expire."""
        if account.card_log is None:
            account.card_log = {}
        expiring = {card.id for card in self.cards if card.expires_days}
        for row in rows:
            if row[1] in expiring:
                insort(account.card_log.setdefault(row[1], []), logged(row), key=lambda e: e.at)


class StampCards(StampCardRefunds):
    """The cards the shop runs: stamps, full cards, deadlines, and refunds."""

    def __init__(self, cards: tuple):
        self.cards = cards
        self.expiring = any(card.expires_days for card in cards)
        self.needs = frozenset({"cards"})
        self.items = True

    def expire(self, engine, event) -> None:
        account = event.account
        if account.card_ends and account.cards is not None:
            self._emit(event, expire_cards(self.cards, account.cards, account.card_ends, account.id, event.at,
                                           engine.recorded))

    def sale(self, engine, event) -> None:
        account = event.account
        if account.cards is None:
            account.cards = {}
        if account.card_ends is None and self.expiring:
            account.card_ends = {}
        late = self._late(account, event.at)
        cards = tuple(card for card in self.cards if card.id not in late) if late else self.cards
        rows, earned = card_sale(cards, account.cards, account.id, event.receipt_id, event.at, event.amount,
                                 event.items, engine.recorded, account.card_ends)
        for card in self.cards:
            n = stamps_for(card, event.amount, event.items) if card.id in late else 0
            if n:  # the card in time order (below): the sale's stamp row first, the rest from the replay
                earned[card.id] = n
                rows.append([account.id, card.id, "stamp", "stamp", n, event.at, None, None, None,
                             *_noted(STAMP.make(receipt=event.receipt_id, stamps=n, card=card.name),
                                     engine.recorded)])
        self._emit(event, self._in_time(engine, event, rows, late))
        event.out.given[self.KEY] = {card.id: earned[card.id] for card in self.cards if card.id in earned}

    def _late(self, account, at) -> set[int]:
        """The cards that expire whose log has a stamp row after ``at``."""
        log = account.card_log
        if not log:
            return set()
        return {card.id for card in self.cards if card.expires_days and is_late(log.get(card.id), at)}

    def _in_time(self, engine, event, rows: list, late: set | None = None) -> list:
        account = event.account
        late = self._late(account, event.at) if late is None else late
        if not late:
            return rows
        out = []
        for card in self.cards:
            if card.id not in late:
                continue
            own = [row for row in rows if row[1] == card.id and row[2] in ("stamp", "unstamp")]
            if not own:
                continue
            (row,) = own  # one stamp or unstamp row per card and event
            log = list(account.card_log.get(card.id, ()))
            insort(log, logged(row), key=lambda e: e.at)
            new = max(i for i, e in enumerate(log) if e.at <= event.at)  # ties: after the rows written before
            made = CARD_RESTATED.make(card=card.name, receipt=event.receipt_id,
                        day=event.at.astimezone(engine.zone).date().isoformat())  # the shop's day
            fixes, held, end, row[6] = restate(card, log, new, account.id, engine.recorded, made)
            account.cards[card.id] = held
            if account.card_ends is not None:
                account.card_ends[card.id] = end
            out.extend([row, *fixes])
        return [row for row in rows if row[1] not in late] + out


def build(program):
    cards = tuple(getattr(program, "cards", None) or ())
    return StampCards(cards) if cards else StampCardRefunds()
