"""Stamp cards' store side: the ledger's table, the stamps held, what a sale gave and voucher use (the ledger
as stored is store/cards.py; definitions, expiry and displays are services/cards.py)."""

from __future__ import annotations

from loyaltycli.engine.cards import CARD_COLUMNS
from loyaltycli.i18n import gettext

KEY = "cards"


def _tables():
    from loyaltycli.store.models import CardEntry

    return {"card_ledger": (CardEntry.__table__, CARD_COLUMNS)}


def __getattr__(name):
    if name == "TABLES":
        return _tables()
    raise AttributeError(name)


def load(session, accounts: dict) -> None:
    from loyaltycli.store.cards import load_held

    load_held(session, accounts)


def write_rows(session, rows: list[list]) -> None:
    """The engine's card rows, a voided voucher's id found as they are written (store.cards.write)."""
    from loyaltycli.store.cards import write

    write(session, rows)


def use_voucher(session, customer, reward: str, at=None) -> dict:
    """Use the customer's oldest usable voucher for ``reward`` (a card's reward or name)."""
    from loyaltycli.base.errors import InvalidInput, NotFound, RuleNotMet
    from loyaltycli.engine.notes import make as make_note
    from loyaltycli.shop import clock
    from loyaltycli.store import ledger
    from loyaltycli.store.cards import list_cards, note_fields, unused_vouchers
    from loyaltycli.store.models import CardEntry

    wanted = (reward or "").strip().lower()
    if not wanted:
        raise InvalidInput(gettext('--voucher needs the reward, e.g. --voucher "Free coffee"'))
    cards = [c for c in list_cards(session) if c.reward.lower() == wanted or c.name.lower() == wanted]
    if not cards:
        raise NotFound(gettext('no stamp card gives {reward!r}; see `loyalty card list`').format(reward=reward.strip()))
    at = ledger.check_when(at)
    ledger.lock_customer(session, customer.id)
    found = unused_vouchers(session, customer.id, [c.id for c in cards])
    usable = [v for v in found if v.expires_at is None or v.expires_at > at]
    if not usable:
        if found:
            raise RuleNotMet(gettext("{code}'s voucher for {reward} expired on {expires_at}").format(code=customer.code, reward=cards[0].reward, expires_at=clock.local_text(found[-1].expires_at)[:10]))
        raise RuleNotMet(gettext('{code} has no voucher for {reward}').format(code=customer.code, reward=cards[0].reward))
    voucher = usable[0]
    card = next(c for c in cards if c.id == voucher.card_id)
    session.add(CardEntry(customer_id=customer.id, card_id=card.id, kind="voucher_used", unit="voucher", delta=-1,
                          at=at, voucher_id=voucher.id, recorded_at=clock.now(),
                          **note_fields(make_note("voucher_used", reward=card.reward))))
    session.flush()
    return {"code": customer.code, "card": card.name, "reward": card.reward,
            "vouchers_left": len(usable) - 1}


def given(session, sale_ids: list[int], refund_of: dict[int, int]) -> dict[int, tuple[dict, dict]]:
    from loyaltycli.store.cards import stamps_of_sales, stamps_taken_back

    stamps = stamps_of_sales(session, sale_ids)
    if not stamps:
        return {}
    taken = stamps_taken_back(session, refund_of)
    return {sale_id: (gave, taken.get(sale_id, {})) for sale_id, gave in stamps.items()}
