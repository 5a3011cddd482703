"""Paid memberships: plans with a fee, a period and a points multiplier.

Each paid period is one Membership row (join, then one per renewal) holding the fee paid: a payment,
never qualifying spend. ``rules.membership_multiplier`` applies the plan's multiplier while a period
is running and not cancelled.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.base.errors import InvalidInput, NotFound, RuleNotMet
from loyaltycli.store.models import Customer, Membership, MembershipPlan
from loyaltycli.base.money import format_money, parse_decimal
from loyaltycli.i18n import _, ngettext
from loyaltycli.base.numbers import decimal_text


def add_months(moment: datetime, months: int) -> datetime:
    """The same local day and time ``months`` later (the 31st becomes the month's last day)."""
    local = clock.to_local(moment)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    naive = local.replace(tzinfo=None, year=year, month=month, day=day)
    # A month later may fall in a DST gap or the autumn hour: the nearest real moment, no question asked.
    return clock.localize(naive, strict=False)


def add_plan(session: Session, name: str, fee: int, months: int, multiplier: str, perk: str = "") -> MembershipPlan:
    """A new plan: ``fee`` (cents) for ``months`` months, points x ``multiplier`` while active."""
    from loyaltycli.base.textkey import check_plain_text

    check_plain_text(perk, "perk")
    if len((perk or "").strip()) > 500:
        raise InvalidInput(_('the perk must be at most 500 characters'))
    value = " ".join((check_plain_text(name, "plan name") or "").split())
    if not value or len(value) > 100:
        raise InvalidInput(_('plan name must be 1 to 100 characters'))
    if fee < 0:
        raise InvalidInput(_('the fee must not be negative'))
    if not 1 <= months <= 120:
        raise InvalidInput(_('--months must be 1 to 120'))
    factor = parse_decimal(multiplier, what="--multiplier", minimum=Decimal(1), maximum=Decimal(10))
    if session.execute(select(MembershipPlan.id).where(func.lower(MembershipPlan.name) == value.lower())).first():
        raise RuleNotMet(_('plan {value!r} already exists; see `loyalty membership plan list`').format(value=value))
    plan = MembershipPlan(name=value, fee=fee, months=months, multiplier=decimal_text(factor),
                          perk=(perk or "").strip())
    session.add(plan)
    session.flush()
    return plan


def find_plan(session: Session, name: str) -> MembershipPlan:
    value = " ".join((name or "").split())
    plan = session.execute(select(MembershipPlan).where(func.lower(MembershipPlan.name) == value.lower(),
                                                        MembershipPlan.active.is_(True))).scalar()
    if plan is None:
        raise NotFound(_('unknown plan {value!r}; see `loyalty membership plan list`').format(value=value))
    return plan


def all_plans(session: Session) -> list[MembershipPlan]:
    """Every plan, offered or not, in the order they were added."""
    return list(session.execute(select(MembershipPlan).order_by(MembershipPlan.id)).scalars())


def list_plans(session: Session) -> list[dict]:
    now = clock.now()
    members = (select(Membership.plan_id, func.count(func.distinct(Membership.customer_id)).label("n"))
               .where(Membership.started_at <= now, Membership.ends_at > now, Membership.cancelled_at.is_(None))
               .group_by(Membership.plan_id).subquery())
    rows = session.execute(select(MembershipPlan, func.coalesce(members.c.n, 0))
                           .outerjoin(members, members.c.plan_id == MembershipPlan.id)
                           .where(MembershipPlan.active.is_(True)).order_by(MembershipPlan.name))
    return [{"plan": p.name, "fee": p.fee, "months": p.months, "multiplier": p.multiplier, "perk": p.perk,
             "members": n} for p, n in rows]


def _latest(session: Session, customer: Customer) -> Membership | None:
    """The customer's last paid period (the one that ends last)."""
    return session.execute(select(Membership).where(Membership.customer_id == customer.id)
                           .order_by(Membership.ends_at.desc(), Membership.id.desc())).scalars().first()


@dataclass
class MembershipResult:
    code: str
    plan: str
    started_at: datetime
    ends_at: datetime
    fee: int
    multiplier: str


def _result(customer: Customer, plan: MembershipPlan, row: Membership) -> MembershipResult:
    return MembershipResult(customer.code, plan.name, row.started_at, row.ends_at, row.fee, plan.multiplier)


def join(session: Session, customer: Customer, plan_name: str, at: datetime | None = None) -> MembershipResult:
    """Start a paid membership now (or at ``at``); the plan's fee is recorded as paid."""
    from loyaltycli.services.points import check_when

    plan = find_plan(session, plan_name)
    at = check_when(at, customer)
    last = _latest(session, customer)
    if last is not None and last.cancelled_at is None and last.ends_at > at:
        current = session.get(MembershipPlan, last.plan_id)
        raise RuleNotMet(_('{code} is already a {name} member until {ends_at}; use `loyalty membership renew` or cancel first').format(code=customer.code, name=current.name, ends_at=clock.local_text(last.ends_at)[:10]))
    row = Membership(customer_id=customer.id, plan_id=plan.id, started_at=at, ends_at=add_months(at, plan.months),
                     fee=plan.fee)
    session.add(row)
    session.flush()
    return _result(customer, plan, row)


def renew(session: Session, customer: Customer, at: datetime | None = None) -> MembershipResult:
    """Pay one more period of the customer's plan: it starts when the current one ends (or now, if lapsed)."""
    from loyaltycli.services.points import check_when

    at = check_when(at, customer)
    last = _latest(session, customer)
    if last is None:
        raise RuleNotMet(_('{code} has no membership; use `loyalty membership join {code} PLAN`').format(code=customer.code))
    if last.cancelled_at is not None:
        raise RuleNotMet(_("{code}'s membership was cancelled; use `loyalty membership join` to start again").format(code=customer.code))
    plan = session.get(MembershipPlan, last.plan_id)
    if not plan.active:
        raise RuleNotMet(_('plan {name} is no longer offered; join another plan').format(name=plan.name))
    start = max(last.ends_at, at)
    row = Membership(customer_id=customer.id, plan_id=plan.id, started_at=start,
                     ends_at=add_months(start, plan.months), fee=plan.fee)
    session.add(row)
    session.flush()
    return _result(customer, plan, row)


def cancel(session: Session, customer: Customer, at: datetime | None = None) -> MembershipResult:
    """End the membership now: the multiplier stops; paid fees are not refunded."""
    from loyaltycli.services.points import check_when

    at = check_when(at)
    rows = session.execute(select(Membership).where(Membership.customer_id == customer.id,
                                                    Membership.cancelled_at.is_(None), Membership.ends_at > at)
                           ).scalars().all()
    if not rows:
        raise RuleNotMet(_('{code} has no running membership to cancel').format(code=customer.code))
    for row in rows:
        row.cancelled_at = at
    session.flush()
    first = min(rows, key=lambda r: r.started_at)
    plan = session.get(MembershipPlan, first.plan_id)
    return MembershipResult(customer.code, plan.name, first.started_at, at, 0, plan.multiplier)


def status_of(row: Membership, now: datetime) -> str:
    if row.cancelled_at is not None and row.cancelled_at <= now:
        return "cancelled"
    if row.ends_at <= now:
        return "lapsed"
    if row.started_at > now:
        return "upcoming"
    return "active"


def list_memberships(session: Session, *, active_only: bool = False) -> list[dict]:
    """One row per member: plan, since, paid until, status, fees paid in all."""
    now = clock.now()
    last = (select(Membership.customer_id, func.max(Membership.ends_at).label("ends_at"),
                   func.min(Membership.started_at).label("since"), func.sum(Membership.fee).label("fees"))
            .group_by(Membership.customer_id).subquery())
    rows = session.execute(
        select(Customer.code, Customer.name, Membership, MembershipPlan.name, last.c.since, last.c.fees)
        .join(last, last.c.customer_id == Customer.id)
        .join(Membership, (Membership.customer_id == Customer.id) & (Membership.ends_at == last.c.ends_at))
        .join(MembershipPlan, MembershipPlan.id == Membership.plan_id)
        .order_by(Customer.id, Membership.id)).all()
    out = {}
    for code, name, row, plan, since, fees in rows:
        status = status_of(row, now)
        if status == "upcoming" and since <= now:  # renewed ahead: the current period is running
            status = "active"
        if active_only and status != "active":
            continue
        out[code] = {"code": code, "name": name, "plan": plan, "since": since, "paid_until": row.ends_at,
                     "status": status, "cancelled_at": row.cancelled_at, "fees_paid": fees}
    return list(out.values())


def fee_text(plan: MembershipPlan) -> str:
    return ngettext("{fee} per {months} month", "{fee} per {months} months", plan.months).format(
        fee=format_money(plan.fee), months=plan.months)
