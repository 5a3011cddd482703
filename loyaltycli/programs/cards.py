"""Stamp cards' store side (the definitions, the ledger and the displays are in services/cards.py)."""

from __future__ import annotations

from loyaltycli.engine.cards import CARD_COLUMNS

KEY = "cards"


def _tables():
    from loyaltycli.store.models import CardEntry

    return {"card_ledger": (CardEntry.__table__, CARD_COLUMNS)}


def __getattr__(name):
    if name == "TABLES":
        return _tables()
    raise AttributeError(name)


def load(session, accounts: dict) -> None:
    from loyaltycli.services.cards import load_held

    load_held(session, accounts)


def use_voucher(session, customer, reward: str, at) -> dict:
    from loyaltycli.services.cards import use_voucher

    return use_voucher(session, customer, reward, at)


def given(session, sale_ids: list[int], refund_of: dict[int, int]) -> dict[int, tuple[dict, dict]]:
    from loyaltycli.services.cards import stamps_of_sales, stamps_taken_back

    stamps = stamps_of_sales(session, sale_ids)
    if not stamps:
        return {}
    taken = stamps_taken_back(session, refund_of)
    return {sale_id: (gave, taken.get(sale_id, {})) for sale_id, gave in stamps.items()}
