"""The stamp-card ledger as stored: the cards in force, the stamps each customer holds (with the deadline
and time-ordered rows of cards that expire), what a sale gave and its refunds took back, usable vouchers,
and the writing of the engine's card rows. Use cases (`card add`, expiry, merge, displays) are in
services/cards.py, voucher use in programs/cards.py; the rules themselves in loyaltycli.engine.cards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyaltycli.store.models import Card, CardEntry, sku_patterns
from loyaltycli.store.storage import built, id_lists
from loyaltycli.engine.cards import CARD_COLUMNS, C_PURCHASE, ENDED, OPENING, CardRule, Logged

VOUCHER_GONE = ENDED  # rows that end a voucher (naming it by voucher_id): used, moved by a merge, voided


def rule_of(card: Card) -> CardRule:
    return CardRule(card.id, card.name, card.stamps, card.reward, sku_patterns(card.skus),
                    card.min_amount, card.per, card.expires_days)


def load_rules(session: Session) -> tuple[CardRule, ...]:
    """The active cards, as the engine reads them."""
    return tuple(rule_of(card) for card in session.execute(
        select(Card).where(Card.active.is_(True)).order_by(Card.id)).scalars())


def list_cards(session: Session) -> list[Card]:
    return list(session.execute(select(Card).order_by(Card.id)).scalars())



def load_held(session: Session, accounts: dict) -> None:
    """Stamps on each current card of ``accounts`` (id -> engine Account), into ``account.cards``."""
    ids = list(accounts)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for customer_id, card_id, stamps in session.execute(
                select(CardEntry.customer_id, CardEntry.card_id, func.sum(CardEntry.delta))
                .where(CardEntry.customer_id.in_(chunk), CardEntry.unit == "stamp")
                .group_by(CardEntry.customer_id, CardEntry.card_id)):
            account = accounts[customer_id]
            if account.cards is None:
                account.cards = {}
            account.cards[card_id] = int(stamps)
    expiring = _expiring(session)
    for (customer_id, card_id), end in deadlines(session, ids, expiring).items():
        account = accounts[customer_id]
        if account.card_ends is None:
            account.card_ends = {}
        account.card_ends[card_id] = end
    _load_log(session, accounts, ids, expiring)


def _expiring(session: Session) -> list[int]:
    """The ids of the cards with --expires-days."""
    return list(session.execute(select(Card.id).where(Card.expires_days.is_not(None))).scalars())


def _load_log(session: Session, accounts: dict, ids: list[int], expiring: list[int]) -> None:
    """The rows of cards that expire, in time order (ties: as written), into ``account.card_log`` (card id ->
    engine.cards.Logged rows): the card at any time, replayed when a receipt arrives late."""
    if not expiring:
        return
    for i in range(0, len(ids), 500):
        for customer_id, card_id, at, kind, unit, delta, expires_at, id_, voucher_id in session.execute(
                select(CardEntry.customer_id, CardEntry.card_id, CardEntry.at, CardEntry.kind, CardEntry.unit,
                       CardEntry.delta, CardEntry.expires_at, CardEntry.id, CardEntry.voucher_id)
                .where(CardEntry.customer_id.in_(ids[i:i + 500]), CardEntry.card_id.in_(expiring))
                .order_by(CardEntry.at, CardEntry.id)):
            account = accounts[customer_id]
            if getattr(account, "card_log", None) is None:
                account.card_log = {}
            account.card_log.setdefault(card_id, []).append(
                Logged(at, kind, unit, delta, expires_at, id_, voucher_id))


def deadlines(session: Session, customer_ids: list[int],
              expiring: list[int] | None = None) -> dict[tuple[int, int], datetime | None]:
    """(customer id, card id) -> the deadline of the current card (cards with --expires-days, ``expiring``
    when the caller has read them): the ``expires_at`` of its latest stamp row (None: no card open)."""
    expiring = _expiring(session) if expiring is None else expiring
    out: dict[tuple[int, int], datetime | None] = {}
    if not expiring:
        return out
    for i in range(0, len(customer_ids), 500):
        chunk = customer_ids[i:i + 500]
        latest = (select(CardEntry.customer_id, CardEntry.card_id, func.max(CardEntry.at).label("at"))
                  .where(CardEntry.customer_id.in_(chunk), CardEntry.card_id.in_(expiring),
                         CardEntry.kind.in_(OPENING))
                  .group_by(CardEntry.customer_id, CardEntry.card_id).subquery())
        for customer_id, card_id, end in session.execute(
                select(CardEntry.customer_id, CardEntry.card_id, CardEntry.expires_at)
                .join(latest, (latest.c.customer_id == CardEntry.customer_id)
                      & (latest.c.card_id == CardEntry.card_id) & (latest.c.at == CardEntry.at))
                .where(CardEntry.kind.in_(OPENING)).order_by(CardEntry.id)):
            out[(customer_id, card_id)] = end  # the latest row wins (ties of time: the last written)
    return out


def _stamps_by_purchase(kind: str):
    def build(ids_in):
        return (select(CardEntry.purchase_id, CardEntry.card_id, func.sum(CardEntry.delta))
                .where(ids_in(CardEntry.purchase_id), CardEntry.kind == kind)
                .group_by(CardEntry.purchase_id, CardEntry.card_id)
                .order_by(CardEntry.purchase_id, CardEntry.card_id))  # cards in their order, on any database
    return build


_STAMPS, _UNSTAMPS = _stamps_by_purchase("stamp"), _stamps_by_purchase("unstamp")


def stamps_of_sales(session: Session, purchase_ids: list[int]) -> dict[int, dict[int, int]]:
    """purchase id -> {card id: stamps that sale earned}."""
    out: dict[int, dict[int, int]] = {}
    for ids in id_lists(session, purchase_ids):
        for purchase_id, card_id, stamps in session.execute(built(session, _STAMPS), {"ids": ids}):
            out.setdefault(purchase_id, {})[card_id] = int(stamps)
    return out


def stamps_taken_back(session: Session, refunds: dict[int, int]) -> dict[int, dict[int, int]]:
    """sale id -> {card id: stamps its refunds took back}; ``refunds``: refund id -> the sale's id."""
    out: dict[int, dict[int, int]] = {}
    for ids in id_lists(session, list(refunds)):
        for refund_id, card_id, stamps in session.execute(built(session, _UNSTAMPS), {"ids": ids}):
            mine = out.setdefault(refunds[refund_id], {})
            mine[card_id] = mine.get(card_id, 0) - int(stamps)
    return out


def write(session: Session, rows: list[list], purchase_ids=None) -> None:
    """Write engine card rows; ``purchase_ids`` maps each row's purchase placeholder to its id (a list or
    dict indexed by the placeholder), or None when the rows already hold ids. A ``voucher_void`` row names
    its voucher by time and expiry (the engine knows no ids): it gets the id of the oldest such voucher of
    the customer's card that nothing has ended yet, once the vouchers written with it are in."""
    if not rows:
        return
    from loyaltycli.store import storage

    if purchase_ids is not None:
        for row in rows:
            row[C_PURCHASE] = purchase_ids[row[C_PURCHASE]]
    voids = [row for row in rows if row[2] == "voucher_void" and row[8] is None]
    if voids:
        rows = [row for row in rows if not (row[2] == "voucher_void" and row[8] is None)]
    if rows:
        storage.write_rows(session, CardEntry.__table__, CARD_COLUMNS, rows)
    if voids:
        session.flush()
        chosen: list[int] = []  # two voids of like vouchers name two of them
        for row in voids:
            row[8] = _voucher_named(session, row[0], row[1], row[5], row[6], chosen)
            row[6] = None
            chosen.append(row[8])
        storage.write_rows(session, CardEntry.__table__, CARD_COLUMNS, voids)


def _voucher_named(session: Session, customer_id: int, card_id: int, at: datetime,
                   expires_at: datetime | None, chosen: list[int]) -> int:
    ended = select(CardEntry.voucher_id).where(CardEntry.customer_id == customer_id,
                                               CardEntry.kind.in_(VOUCHER_GONE), CardEntry.voucher_id.is_not(None))
    query = (select(CardEntry.id).where(CardEntry.customer_id == customer_id, CardEntry.card_id == card_id,
                                        CardEntry.kind == "voucher", CardEntry.at == at, CardEntry.id.not_in(ended),
                                        CardEntry.id.not_in(chosen))
             .order_by(CardEntry.id).limit(1))
    query = query.where(CardEntry.expires_at.is_(None) if expires_at is None else CardEntry.expires_at == expires_at)
    return session.execute(query).scalar_one()


def unused_vouchers(session: Session, customer_id: int, card_ids: list[int] | None = None):
    used = select(CardEntry.voucher_id).where(CardEntry.customer_id == customer_id,
                                              CardEntry.kind.in_(VOUCHER_GONE))
    query = (select(CardEntry).where(CardEntry.customer_id == customer_id, CardEntry.kind == "voucher",
                                     CardEntry.id.not_in(used)).order_by(CardEntry.at, CardEntry.id))
    if card_ids is not None:
        query = query.where(CardEntry.card_id.in_(card_ids))
    return list(session.execute(query).scalars())



def note_fields(made: tuple[str, str, str]) -> dict:
    """A note made by ``engine.notes.make`` as CardEntry's fields."""
    return {"note": made[0], "note_kind": made[1], "note_args": made[2]}
