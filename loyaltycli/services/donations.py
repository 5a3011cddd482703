"""Value-based loyalty: customers give points to a cause; the shop pays the cause their value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.store import ledger
from loyaltycli.base.errors import InvalidInput, NotFound, RuleNotMet
from loyaltycli.store.models import Cause, Customer, Donation
from loyaltycli.store.program import Program, point_value
from loyaltycli.engine.notes import make as make_note
from loyaltycli.i18n import _


def _clean(name: str) -> str:
    from loyaltycli.base.textkey import check_plain_text

    value = " ".join((check_plain_text(name, "cause name") or "").split())
    if not value or len(value) > 100:
        raise InvalidInput(_('cause name must be 1 to 100 characters'))
    return value


def add_cause(session: Session, name: str) -> Cause:
    """A new cause customers can donate to (names are unique, case-insensitively)."""
    value = _clean(name)
    if session.execute(select(Cause.id).where(func.lower(Cause.name) == value.lower())).first():
        raise RuleNotMet(_('cause {value!r} already exists; see `loyalty cause list`').format(value=value))
    cause = Cause(name=value, created_at=clock.now())
    session.add(cause)
    session.flush()
    return cause


def find_cause(session: Session, name: str) -> Cause:
    value = " ".join((name or "").split())
    cause = session.execute(select(Cause).where(func.lower(Cause.name) == value.lower())).scalar()
    if cause is None:
        raise NotFound(_('unknown cause {value!r}; add it with `loyalty cause add NAME` or see `loyalty cause list`').format(value=value))
    return cause


def all_causes(session: Session) -> list[Cause]:
    """Every cause, in the order they were added."""
    return list(session.execute(select(Cause).order_by(Cause.id)).scalars())


def list_causes(session: Session) -> list[dict]:
    """Every cause with what it has received so far."""
    totals = (select(Donation.cause_id, func.count().label("n"), func.sum(Donation.points).label("points"),
                     func.sum(Donation.value).label("value")).group_by(Donation.cause_id).subquery())
    rows = session.execute(
        select(Cause.name, Cause.created_at, func.coalesce(totals.c.n, 0), func.coalesce(totals.c.points, 0),
               func.coalesce(totals.c.value, 0))
        .outerjoin(totals, totals.c.cause_id == Cause.id).order_by(Cause.name))
    return [{"cause": name, "created_at": created, "donations": n, "points": pts, "value": value}
            for name, created, n, pts, value in rows]


@dataclass
class DonationResult:
    code: str
    cause: str
    points: int
    value: int
    balance: int


def donate(session: Session, program: Program, customer: Customer, points: int, cause_name: str, *,
           at: datetime | None = None) -> DonationResult:
    """Give points (oldest first) to a cause; their value is ``points x point_value``."""
    from loyaltycli.services.points import check_when

    if points <= 0 or points > ledger.MAX_POINTS:
        raise InvalidInput(_('points to donate must be a positive whole number'))
    cause = find_cause(session, cause_name)
    at = check_when(at)
    if customer.status != "active":
        raise RuleNotMet(_('customer {code} is not active').format(code=customer.code))
    value = points * point_value(program)
    entry, left = ledger.spend(session, customer, points, at, "donate", make_note("donate", cause=cause.name))
    session.add(Donation(ledger_id=entry.id, customer_id=customer.id, cause_id=cause.id, points=points,
                         value=value, at=at))
    session.flush()
    return DonationResult(customer.code, cause.name, points, value, left)


def donation_totals(session: Session, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """Per cause: donations, donors, points and their value in the period [start, end)."""
    query = (select(Cause.name, func.count(Donation.id), func.count(func.distinct(Donation.customer_id)),
                    func.coalesce(func.sum(Donation.points), 0), func.coalesce(func.sum(Donation.value), 0))
             .join(Donation, Donation.cause_id == Cause.id).group_by(Cause.name).order_by(Cause.name))
    if start is not None:
        query = query.where(Donation.at >= start)
    if end is not None:
        query = query.where(Donation.at < end)
    return [{"cause": name, "donations": n, "donors": donors, "points": pts, "value": value}
            for name, n, donors, pts, value in session.execute(query)]
