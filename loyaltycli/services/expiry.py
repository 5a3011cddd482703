"""Points expiry over all customers: SQL finds the few who may have points to expire, the ledger's
FIFO replay (``ledger.replay``, as in ``ledger.expire_customer``) finds what each has to write off.

Idempotent (an expired lot is written off once) and back-datable (``as_of`` in the past writes only
the lots that had expired by then, each row dated at its lot's expiry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.store import ledger
from loyaltycli.base.errors import InvalidInput
from loyaltycli.store.models import Customer, LedgerEntry
from loyaltycli.i18n import _


@dataclass
class ExpiryResult:
    as_of: datetime
    candidates: int
    customers: int
    points: int
    stamps: int = 0  # stamps on cards not filled by their deadline (stamp cards with --expires-days)
    stamp_customers: int = 0


def as_of_moment(day: date | None) -> datetime:
    """The moment ``expire --as-of DAY`` looks at: the end of that local day, or now for today."""
    now = clock.now()
    if day is None:
        return now
    end = clock.end_of_day(day)
    if clock.start_of_day(day) > now:
        raise InvalidInput(_('--as-of {day} is in the future').format(day=day.isoformat()))
    return min(end, now)


def candidates(session: Session, as_of: datetime) -> list[int]:
    """Customers who may have points to expire by ``as_of``: a lot expired by then that no expiry row
    names yet, and a positive balance at that moment. Everyone else has nothing to write off: points
    still due to expire are in the balance, unless a refund took more points than were left (the only
    debit that may overdraw), so customers with a refund are replayed whatever their balance."""
    written = select(LedgerEntry.lot_id).where(LedgerEntry.kind == "expire", LedgerEntry.lot_id.is_not(None))
    open_lot = (select(LedgerEntry.customer_id)
                .where(LedgerEntry.delta > 0, LedgerEntry.expires_at.is_not(None), LedgerEntry.expires_at <= as_of,
                       LedgerEntry.id.not_in(written)))
    balance_then = (select(LedgerEntry.customer_id)
                    .where(LedgerEntry.customer_id.in_(open_lot), LedgerEntry.at <= as_of)
                    .group_by(LedgerEntry.customer_id)
                    .having(or_(func.sum(LedgerEntry.delta) > 0,
                                func.max(case((LedgerEntry.kind == "refund", 1), else_=0)) == 1)))
    return list(session.execute(balance_then.order_by(LedgerEntry.customer_id)).scalars())


BATCH = 500


def expire_all(session: Session, as_of: datetime | None = None) -> ExpiryResult:
    """Write the expiry rows of every customer as of ``as_of`` (default now).

    The candidates' ledgers are read in batches (one query per ``BATCH`` customers), replayed in
    memory with the same FIFO as ``ledger.expire_customer``, and their expiry rows bulk-inserted.
    """
    as_of = as_of or clock.now()
    if as_of > clock.now():
        raise InvalidInput(_('cannot expire points as of a future time'))
    ids = candidates(session, as_of)
    touched = total = 0
    recorded = clock.now()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        # PostgreSQL: hold these customers as a redemption would (SQLite already holds the write lock)
        session.execute(select(Customer.id).where(Customer.id.in_(chunk)).with_for_update())
        rows = session.execute(
            ledger.lot_query(LedgerEntry.customer_id)
            .where(LedgerEntry.customer_id.in_(chunk))
            .order_by(LedgerEntry.customer_id, LedgerEntry.at, LedgerEntry.id)).all()
        new_rows = []
        for customer_id, group in groupby(rows, key=lambda r: r[0]):
            state = ledger.replay([r[1:] for r in group], as_of)
            expired = 0
            for lot in state.lots:
                amount = state.due.get(lot.entry_id, 0)
                if amount > 0:
                    note = ledger.expiry_note(amount, lot.at)
                    new_rows.append({
                        "customer_id": customer_id, "kind": "expire", "delta": -amount, "at": lot.expires_at,
                        "expires_at": None, "purchase_id": None, "lot_id": lot.entry_id, "bonus_key": None,
                        "note": note[0], "note_kind": note[1], "note_args": note[2], "recorded_at": recorded})
                    expired += amount
            if expired:
                touched += 1
                total += expired
        if new_rows:
            session.execute(LedgerEntry.__table__.insert(), new_rows)
    from loyaltycli.services.cards import expire_due

    stamp_customers, stamps = expire_due(session, as_of)
    return ExpiryResult(as_of=as_of, candidates=len(ids), customers=touched, points=total, stamps=stamps,
                        stamp_customers=stamp_customers)

