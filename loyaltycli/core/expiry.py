"""Points expiry over all customers: SQL finds the few who may have points to expire, the ledger's
FIFO replay (``ledger.expire_customer``) writes their expiry rows.

Idempotent (an expired lot is written off once) and back-datable (``as_of`` in the past writes only
the lots that had expired by then, each row dated at its lot's expiry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from loyaltycli.core import clock, ledger
from loyaltycli.core.errors import InvalidInput
from loyaltycli.core.models import Customer, LedgerEntry


@dataclass
class ExpiryResult:
    as_of: datetime
    candidates: int
    customers: int
    points: int


def as_of_moment(day: date | None) -> datetime:
    """The moment ``expire --as-of DAY`` looks at: the end of that local day, or now for today."""
    now = clock.now()
    if day is None:
        return now
    end = clock.start_of_day(day) + clock.DAY
    if clock.start_of_day(day) > now:
        raise InvalidInput(f"--as-of {day.isoformat()} is in the future")
    return min(end, now)


def candidates(session: Session, as_of: datetime) -> list[int]:
    """Customers who may have points to expire by ``as_of``: a lot expired by then that no expiry row
    names yet, and a positive balance at that moment. Everyone else has nothing to write off."""
    written = aliased(LedgerEntry)
    open_lot = (select(LedgerEntry.customer_id)
                .where(LedgerEntry.delta > 0, LedgerEntry.expires_at.is_not(None), LedgerEntry.expires_at <= as_of,
                       ~exists().where(and_(written.lot_id == LedgerEntry.id, written.kind == "expire")))
                .distinct().subquery())
    balance_then = (select(LedgerEntry.customer_id)
                    .where(LedgerEntry.customer_id.in_(select(open_lot.c.customer_id)), LedgerEntry.at <= as_of)
                    .group_by(LedgerEntry.customer_id).having(func.sum(LedgerEntry.delta) > 0))
    return list(session.execute(balance_then.order_by(LedgerEntry.customer_id)).scalars())


def expire_all(session: Session, as_of: datetime | None = None) -> ExpiryResult:
    """Write the expiry rows of every customer as of ``as_of`` (default now)."""
    as_of = as_of or clock.now()
    if as_of > clock.now():
        raise InvalidInput("cannot expire points as of a future time")
    ids = candidates(session, as_of)
    touched = total = 0
    for customer_id in ids:
        points = ledger.expire_customer(session, customer_id, as_of)
        if points:
            touched += 1
            total += points
    return ExpiryResult(as_of=as_of, candidates=len(ids), customers=touched, points=total)


def expiring_within(session: Session, customer: Customer, days: int = 30) -> list[tuple[datetime, int]]:
    """(expiry, points) of the customer's lots that expire within ``days`` (for the counter's warning)."""
    return ledger.expiring_soon(session, customer.id, clock.now(), days)
