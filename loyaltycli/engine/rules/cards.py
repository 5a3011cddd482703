"""Stamp cards as a rule (the card arithmetic is in loyaltycli.engine.cards): a sale stamps the cards its
items or visit earn, a full card becomes a voucher; a refund takes back what its items earned; a card
not filled by its deadline expires (before a sale or a refund, and by `expire`). Rows go to the
``card_ledger`` table; what a sale gave is ``given["cards"]`` (card id -> stamps)."""

from __future__ import annotations

from loyaltycli.engine.cards import card_refund, card_sale, expire_cards
from loyaltycli.engine.rules import Rule

ORDER = 60
TABLE = "card_ledger"


class StampCards(Rule):
    KEY = "cards"

    def __init__(self, cards: tuple):
        self.cards = cards
        self.expiring = any(card.expires_days for card in cards)
        # no card running: nothing to load or stamp, but a full refund still takes back a sale's stamps
        self.needs = frozenset({"cards"}) if cards else frozenset()
        self.items = bool(cards)

    def expire(self, engine, event) -> None:
        account = event.account
        if account.card_ends and account.cards is not None:
            event.out.writes.setdefault(TABLE, []).extend(
                expire_cards(self.cards, account.cards, account.card_ends, account.id, event.at, engine.recorded))

    def sale(self, engine, event) -> None:
        if not self.cards:
            return
        account = event.account
        if account.cards is None:
            account.cards = {}
        if account.card_ends is None and self.expiring:
            account.card_ends = {}
        rows, earned = card_sale(self.cards, account.cards, account.id, event.receipt_id, event.at, event.amount,
                                 event.items, engine.recorded, account.card_ends)
        event.out.writes.setdefault(TABLE, []).extend(rows)
        event.out.given[self.KEY] = earned

    def refund(self, engine, event) -> None:
        sale, account = event.sale, event.account
        stamps = sale.given.get(self.KEY) if sale is not None else None
        if not stamps:
            return
        if account.cards is None:
            account.cards = {}
        event.out.writes.setdefault(TABLE, []).extend(card_refund(
            self.cards, stamps, sale.taken.setdefault(self.KEY, {}), account.cards, account.id, sale.receipt_id,
            event.at, sale.amount - sale.refunded - event.amount, event.items, engine.recorded))


def build(program):
    return StampCards(tuple(getattr(program, "cards", None) or ()))
