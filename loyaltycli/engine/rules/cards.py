"""Stamp cards as a rule (the card arithmetic is in loyaltycli.engine.cards): a sale stamps the cards its
items or visit earn, a full card becomes a voucher; a refund takes back what its items earned; a card
not filled by its deadline expires (before a sale or a refund, and by `expire`). Rows go to the
``card_ledger`` table; what a sale gave is ``given["cards"]`` (card id -> stamps)."""

from __future__ import annotations

from bisect import insort
from datetime import timedelta

from loyaltycli.engine.cards import _noted, card_refund, card_sale, expire_cards
from loyaltycli.engine.notes import make as note
from loyaltycli.engine.rules import Rule

ORDER = 60
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
        self._emit(event, card_refund(
            self.cards, stamps, sale.taken.setdefault(self.KEY, {}), account.cards, account.id, sale.receipt_id,
            event.at, sale.amount - sale.refunded - event.amount, event.items, engine.recorded))

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
            if row[1] in expiring and row[3] == "stamp":
                insort(account.card_log.setdefault(row[1], []), (row[5], row[2], row[4], row[6]),
                       key=lambda r: r[0])


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
        cards, late_rows, late_earned = self.cards, [], {}
        if account.card_log:  # receipts arriving after later ones: the card open at their own time
            late_rows, late_earned = self._late(engine, event)
            cards = tuple(card for card in cards if card.id not in late_earned)
        rows, earned = card_sale(cards, account.cards, account.id, event.receipt_id, event.at, event.amount,
                                 event.items, engine.recorded, account.card_ends)
        self._emit(event, late_rows + rows)
        event.out.given[self.KEY] = {**late_earned, **earned}

    def _late(self, engine, event) -> tuple[list, dict]:
        """The stamps of a sale dated before the card's latest row (a receipt arriving late): they join the
        card open at the sale's time and, if it has expired since, expire with it at its deadline, as in
        time order (an ``expire`` row dated at the deadline); with no card open then, they start a card
        of their own, which expired N days later since no later stamp joined it. Left to the usual rule:
        a sale that would fill that card, and one whose own card later stamps would have joined."""
        from loyaltycli.engine.cards import stamps_for

        account, at, rows, earned = event.account, event.at, [], {}
        for card in self.cards:
            log = account.card_log.get(card.id)
            if not card.expires_days or not log or log[-1][0] <= at:
                continue
            n = stamps_for(card, event.amount, event.items)
            held, deadline = 0, None
            for when, kind, delta, expires in log:
                if when > at:
                    break
                held += delta
                if kind in ("stamp", "merge_in"):
                    deadline = expires
                elif kind == "expire":
                    deadline = None
            if not n or held + n >= card.stamps:
                continue
            if deadline is None or deadline <= at:  # no card open then: one of its own, if no later stamp joined it
                deadline = at + timedelta(days=card.expires_days)
                if any(at < when < deadline and kind != "expire" for when, kind, _, _ in log):
                    continue
            elif not any(kind == "expire" and when == deadline for when, kind, _, _ in log):
                continue  # the card open then is still open: the usual rule
            earned[card.id] = n
            rows.append([account.id, card.id, "stamp", "stamp", n, at, deadline, None, None,
                         *_noted(note("stamp", receipt=event.receipt_id, stamps=n, card=card.name), engine.recorded)])
            rows.append([account.id, card.id, "expire", "stamp", -n, deadline, None, None, None,
                         *_noted(note("card_expire", stamps=n, card=card.name, days=card.expires_days),
                                 engine.recorded)])
        return rows, earned

def build(program):
    cards = tuple(getattr(program, "cards", None) or ())
    return StampCards(cards) if cards else StampCardRefunds()
