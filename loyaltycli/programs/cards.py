"""Stamp cards' store side: a card's definition (``add_card``, its list in the program file), the ledger's
table, the stamps held, what a sale gave and voucher use (the ledger as stored is store/cards.py; expiry
and displays are services/cards.py)."""

from __future__ import annotations

from loyaltycli.engine.cards import CARD_COLUMNS
from loyaltycli.i18n import gettext

KEY = "cards"
MAX_STAMPS = 1000


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


def _giving(session, reward: str) -> list:
    """The stamp cards whose reward (or name) is ``reward``."""
    from loyaltycli.programs import giving
    from loyaltycli.store.cards import list_cards

    return giving(list_cards(session), reward)


def _vouchers(session, customer_id: int, cards: list, at) -> tuple[list, list]:
    """The customer's unused vouchers of ``cards``, oldest first, and those still usable at ``at``."""
    from loyaltycli.store.cards import unused_vouchers

    found = unused_vouchers(session, customer_id, [c.id for c in cards])
    return found, [v for v in found if v.expires_at is None or v.expires_at > at]


def vouchers_held(session, customer, reward: str, at) -> int:
    """How many usable vouchers for ``reward`` the customer holds of the stamp cards (0: none gives it)."""
    cards = _giving(session, reward)
    return len(_vouchers(session, customer.id, cards, at)[1]) if cards else 0


def use_voucher(session, customer, reward: str, at=None) -> dict:
    """Use the customer's oldest usable voucher for ``reward`` (a card's reward or name)."""
    from loyaltycli.base.errors import InvalidInput, NotFound, RuleNotMet
    from loyaltycli.engine.cards import VOUCHER_USED
    from loyaltycli.shop import clock
    from loyaltycli.store import ledger
    from loyaltycli.store.cards import note_fields
    from loyaltycli.store.models import CardEntry

    if not (reward or "").strip():
        raise InvalidInput(gettext('--voucher needs the reward, e.g. --voucher "Free coffee"'))
    cards = _giving(session, reward)
    if not cards:
        raise NotFound(gettext('no stamp card gives {reward!r}; see `loyalty card list`').format(reward=reward.strip()))
    at = ledger.check_when(at)
    ledger.lock_customer(session, customer.id)
    found, usable = _vouchers(session, customer.id, cards, at)
    if not usable:
        if found:
            raise RuleNotMet(gettext("{code}'s voucher for {reward} expired on {expires_at}").format(code=customer.code, reward=cards[0].reward, expires_at=clock.local_text(found[-1].expires_at)[:10]))
        raise RuleNotMet(gettext('{code} has no voucher for {reward}').format(code=customer.code, reward=cards[0].reward))
    voucher = usable[0]
    card = next(c for c in cards if c.id == voucher.card_id)
    session.add(CardEntry(customer_id=customer.id, card_id=card.id, kind="voucher_used", unit="voucher", delta=-1,
                          at=at, voucher_id=voucher.id, recorded_at=clock.now(),
                          **note_fields(VOUCHER_USED.make(reward=card.reward))))
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


# -- definitions ---------------------------------------------------------------------------------------
def add_card(session, name: str, stamps: int, reward: str, *, skus: list[str] | None = None,
             min_amount: int = 0, per: str = "visit", expires_days: int | None = None):
    """A new stamp card; refused with a clear reason when a value is wrong or the name is taken."""
    from sqlalchemy import func, select

    from loyaltycli.base.errors import InvalidInput
    from loyaltycli.engine.cards import PER
    from loyaltycli.programs import checked_offer
    from loyaltycli.shop import clock
    from loyaltycli.store.models import Card

    name, reward, patterns = checked_offer(name, reward, skus, gettext('card name must be 1 to 100 characters'))
    if not 1 <= stamps <= MAX_STAMPS:
        raise InvalidInput(gettext('--stamps must be 1 to {max_stamps}').format(max_stamps=MAX_STAMPS))
    per = (per or "").strip().lower()
    if per not in PER:
        raise InvalidInput(gettext('--per {per!r} is not one of {per2}').format(per=per, per2=', '.join(PER)))
    if min_amount < 0:
        raise InvalidInput(gettext('--min-amount cannot be negative'))
    if expires_days is not None and not 1 <= expires_days <= 36500:
        raise InvalidInput(gettext('--expires-days must be 1 to 36500'))
    if session.execute(select(Card.id).where(func.lower(Card.name) == name.lower())).first():
        raise InvalidInput(gettext('a card named {name!r} already exists; see `loyalty card list`').format(name=name))
    card = Card(name=name, stamps=stamps, reward=reward, skus="\n".join(patterns), min_amount=min_amount, per=per,
                expires_days=expires_days, created_at=clock.now())
    session.add(card)
    session.flush()
    return card


# -- the program file ------------------------------------------------------------------------------------
def _card_written(card) -> dict:
    from loyaltycli.base.money import format_amount
    from loyaltycli.store.models import sku_patterns

    table = {"name": card.name, "stamps": card.stamps, "reward": card.reward, "skus": list(sku_patterns(card.skus)),
             "per": card.per, "min_amount": format_amount(card.min_amount)}
    if card.expires_days is not None:  # TOML has no null: a card that never expires has no such key
        table["expires_days"] = card.expires_days
    table["active"] = bool(card.active)
    return table


def _card_added(session, table: dict):
    from loyaltycli.base.money import parse_money

    minimum = parse_money(str(table["min_amount"]), what="min_amount")
    return add_card(session, table["name"], table["stamps"], table["reward"], skus=table["skus"],
                    min_amount=minimum, per=table["per"], expires_days=table["expires_days"])


def file_section():
    from loyaltycli.i18n import N_, Nn_
    from loyaltycli.base.settings import AMOUNT, PATTERNS, TEXT, WHOLE, YES_NO
    from loyaltycli.programs import Section
    from loyaltycli.store.cards import list_cards

    return Section("cards", {"name": TEXT, "stamps": WHOLE, "reward": TEXT, "skus": PATTERNS, "per": TEXT,
                             "min_amount": AMOUNT, "expires_days": WHOLE, "active": YES_NO},
                   {"skus": [], "per": "visit", "min_amount": "0.00", "expires_days": None, "active": True},
                   list_cards, _card_written, _card_added,
                   N_("a stamp card named {name!r} already exists with other terms ({key}: {have} here, {given} "
                      "in the file); a file does not change a card's terms"),
                   (Nn_("{count} stamp card added ({names})", "{count} stamp cards added ({names})"),
                    Nn_("{count} stamp card already there ({names})", "{count} stamp cards already there ({names})")))
