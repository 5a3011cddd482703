"""Stamp cards' use cases: expiry, a customer's cards and vouchers, the import's item hooks, merge. A card's
definition (`card add`, its list in the program file) and voucher use are programs/cards.py, the ledger as
stored store/cards.py, `report cards` reports/aggregates.py.

The rules themselves are in loyaltycli.engine.cards; stamps and vouchers are rows of the ``card_ledger``
table (units stamp and voucher), never of the points ledger, so no points balance ever counts them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.store.models import Card, CardEntry, Customer
from loyaltycli.store.cards import (OPENING, deadlines, list_cards, load_held, note_fields, rule_of,
                                    unused_vouchers, write)
from loyaltycli.engine.cards import C_DELTA, CardRule
from loyaltycli.i18n import ngettext


def expire_customers(session: Session, customer_ids: list[int], as_of: datetime) -> int:
    """Write off the stamps of these customers' cards not filled by their deadline, as of ``as_of`` (the
    engine's rule, as a sale or refund applies it); returns the stamps expired."""
    return -sum(row[C_DELTA] for row in _expire(session, customer_ids, as_of))


def _expire(session: Session, customer_ids: list[int], as_of: datetime) -> list[list]:
    from types import SimpleNamespace

    from loyaltycli.engine.cards import expire_cards

    rules = [rule_of(card) for card in list_cards(session) if card.expires_days]
    if not rules or not customer_ids:
        return []
    accounts = {i: SimpleNamespace(cards=None, card_ends=None) for i in customer_ids}
    load_held(session, accounts)
    rows, recorded = [], clock.now()
    for customer_id, account in accounts.items():
        if account.card_ends and account.cards:
            rows.extend(expire_cards(rules, account.cards, account.card_ends, customer_id, as_of, recorded))
    write(session, rows)
    return rows


def expire_due(session: Session, as_of: datetime) -> tuple[int, int]:
    """`expire`: every customer's stamps on cards past their deadline by ``as_of``; (customers, stamps)."""
    expiring = list(session.execute(select(Card.id).where(Card.expires_days.is_not(None))).scalars())
    if not expiring:
        return 0, 0
    due = case((CardEntry.kind.in_(OPENING) & CardEntry.expires_at.is_not(None) & (CardEntry.expires_at <= as_of), 1),
               else_=0)
    ids = sorted(set(session.execute(
        select(CardEntry.customer_id).where(CardEntry.card_id.in_(expiring), CardEntry.unit == "stamp")
        .group_by(CardEntry.customer_id, CardEntry.card_id)
        .having((func.sum(CardEntry.delta) > 0) & (func.max(due) == 1))).scalars()))
    touched = stamps = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        # PostgreSQL: hold these customers as a sale would (SQLite already holds the write lock)
        session.execute(select(Customer.id).where(Customer.id.in_(chunk)).with_for_update())
        rows = _expire(session, chunk, as_of)
        touched += len({row[0] for row in rows})
        stamps -= sum(row[C_DELTA] for row in rows)
    return touched, stamps


# -- a customer's cards ---------------------------------------------------------------------------------
def customer_cards(session: Session, customer_id: int, now: datetime | None = None,
                   active: tuple[CardRule, ...] | None = None) -> list[dict]:
    """Each card the customer has stamps or vouchers on: stamps now, of how many, usable vouchers.
    ``active``: the active cards already loaded (``Program.cards``); the card table is read only for a
    card no longer active."""
    now = now or clock.now()
    stamps = dict(((card_id, int(total)) for card_id, total in session.execute(
        select(CardEntry.card_id, func.sum(CardEntry.delta))
        .where(CardEntry.customer_id == customer_id, CardEntry.unit == "stamp").group_by(CardEntry.card_id))))
    vouchers: dict[int, list] = {}
    for voucher in unused_vouchers(session, customer_id):
        if voucher.expires_at is None or voucher.expires_at > now:
            vouchers.setdefault(voucher.card_id, []).append(voucher)
    if not stamps and not vouchers:  # no stamp or voucher: the cards need not be read
        return []
    ends = deadlines(session, [customer_id])
    out = []
    known = {rule.id: rule for rule in active or ()}
    held = sorted(stamps.keys() | vouchers.keys())
    for card in ([known[i] for i in held] if all(i in known for i in held) else list_cards(session)):
        if card.id not in stamps and card.id not in vouchers:
            continue
        mine = vouchers.get(card.id, [])
        held, end = stamps.get(card.id, 0), ends.get((customer_id, card.id))
        if end is not None and end <= now and held > 0:  # past its deadline: expired, written at the next event
            held = 0
        out.append({"card": card.name, "stamps": held, "stamps_needed": card.stamps,
                    "reward": card.reward, "vouchers": len(mine),
                    "voucher_expires": [clock.local_text(v.expires_at) for v in mine if v.expires_at],
                    "stamps_expire": clock.local_text(end) if end is not None and held > 0 else None})
    return out


def describe(cards: list[dict]) -> str:
    """'Coffee 7/10, 1 voucher: Free coffee'."""
    parts = []
    for c in cards:
        if c["vouchers"]:
            text = ngettext("{card} {stamps}/{needed}, {count} voucher: {reward}",
                            "{card} {stamps}/{needed}, {count} vouchers: {reward}", c["vouchers"]).format(
                card=c["card"], stamps=c["stamps"], needed=c["stamps_needed"], count=c["vouchers"],
                reward=c["reward"])
        else:
            text = f"{c['card']} {c['stamps']}/{c['stamps_needed']}"
        parts.append(text)
    return "; ".join(parts)


def history(session: Session, customer_id: int) -> list[dict]:
    """The customer's stamp-card rows, oldest first, with the stamps on the card after each."""
    names = {c.id: c for c in list_cards(session)}
    held: dict[int, int] = {}
    out = []
    for row in session.execute(select(CardEntry).where(CardEntry.customer_id == customer_id)
                               .order_by(CardEntry.at, CardEntry.id)).scalars():
        card = names[row.card_id]
        if row.unit == "stamp":
            held[row.card_id] = held.get(row.card_id, 0) + row.delta
        progress = f"({card.name} {held.get(row.card_id, 0)}/{card.stamps})"
        out.append({"at": row.at, "kind": row.kind, "card": card.name, "unit": row.unit, "delta": row.delta,
                    "note": f"{row.note} {progress}", "note_kind": row.note_kind, "note_args": row.note_args,
                    "text": row.note, "progress": progress})
    return out


# -- the import's hooks -----------------------------------------------------------------------------------
def sale_items(engine, lines) -> list[tuple]:
    """A till receipt's items as the engine reads them ((sku, quantity, amount)), read only when a stamp
    card or an item rule may need them."""
    if not engine.wants_items:
        return []
    from loyaltycli.tillcsv.records import receipt_items

    return [(sku, int(quantity / 1000), amount) for _, sku, quantity, _, amount in receipt_items(lines, 0)]  # thousandths to whole units


def returned_items(engine, lines) -> list[tuple]:
    """A till return's items as the engine reads them ((sku, quantity, amount), positive): its lines of a
    negative amount (a return line's quantity may be written negative or, negated by a preset, positive)."""
    if not engine.wants_items:
        return []
    from loyaltycli.tillcsv.records import receipt_items

    return [(sku, abs(int(quantity / 1000)), -amount) for _, sku, quantity, _, amount in receipt_items(lines, 0)
            if amount < 0]


# -- merge -----------------------------------------------------------------------------------------------
def merge(session: Session, keep_id: int, duplicate_id: int, at: datetime, note: tuple[str, str, str]) -> None:
    """Move the duplicate's stamps (per card) and usable vouchers (each with its own expiry) to the customer
    kept, with merge_out / merge_in rows: the stamp-card ledger stays append-only."""
    expire_customers(session, [keep_id, duplicate_id], at)  # cards past their deadline expire first
    ends = deadlines(session, [keep_id, duplicate_id])
    now = clock.now()
    rows = []

    def row(customer_id, card_id, kind, unit, delta, expires=None, voucher_id=None):
        rows.append(CardEntry(customer_id=customer_id, card_id=card_id, kind=kind, unit=unit, delta=delta, at=at,
                              expires_at=expires, voucher_id=voucher_id, recorded_at=now, **note_fields(note)))

    for card_id, stamps in session.execute(
            select(CardEntry.card_id, func.sum(CardEntry.delta))
            .where(CardEntry.customer_id == duplicate_id, CardEntry.unit == "stamp").group_by(CardEntry.card_id)):
        if stamps:
            # the stamps join the kept customer's open card (its deadline), else keep their own card's
            kept, own = ends.get((keep_id, card_id)), ends.get((duplicate_id, card_id))
            row(duplicate_id, card_id, "merge_out", "stamp", -int(stamps))
            row(keep_id, card_id, "merge_in", "stamp", int(stamps), expires=kept if kept is not None else own)
    for voucher in unused_vouchers(session, duplicate_id):
        if voucher.expires_at is None or voucher.expires_at > at:
            row(duplicate_id, voucher.card_id, "merge_out", "voucher", -1, voucher_id=voucher.id)
            row(keep_id, voucher.card_id, "voucher", "voucher", 1, expires=voucher.expires_at)
    session.add_all(rows)
    session.flush()
