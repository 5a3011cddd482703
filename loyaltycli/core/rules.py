"""The program's rules: qualifying spend, tiers, multipliers, bonuses, referral rewards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyaltycli.core import clock, ledger
from loyaltycli.core.models import Customer, Membership, MembershipPlan, Purchase, Referral
from loyaltycli.core.money import floor_int
from loyaltycli.core.program import Program, Tier


def qualifying_spend(session: Session, program: Program, customer_id: int, at: datetime,
                     *, inclusive: bool = False) -> int:
    """Net spend (sales less refunds) in the tier window before ``at`` (``at`` itself excluded unless
    ``inclusive``)."""
    start = at - clock.DAY * program.tier_window_days
    upper = Purchase.at <= at if inclusive else Purchase.at < at
    return session.execute(
        select(func.coalesce(func.sum(Purchase.amount), 0))
        .where(Purchase.customer_id == customer_id, Purchase.at >= start, upper)
    ).scalar_one()


def tier_at(session: Session, program: Program, customer_id: int, at: datetime) -> Tier:
    """The tier in force for a purchase at ``at``."""
    return program.tier_for_spend(qualifying_spend(session, program, customer_id, at))


def current_tier(session: Session, program: Program, customer_id: int, now: datetime | None = None) -> Tier:
    """The tier now, counting every purchase up to now."""
    now = now or clock.now()
    return program.tier_for_spend(qualifying_spend(session, program, customer_id, now, inclusive=True))


def membership_multiplier(session: Session, customer_id: int, at: datetime) -> Decimal:
    """The multiplier of the customer's active paid membership at ``at`` (1 without one)."""
    rows = session.execute(
        select(MembershipPlan.multiplier).join(Membership, Membership.plan_id == MembershipPlan.id)
        .where(Membership.customer_id == customer_id, Membership.started_at <= at, Membership.ends_at > at,
               (Membership.cancelled_at.is_(None)) | (Membership.cancelled_at > at))
    ).scalars().all()
    return max((Decimal(m) for m in rows), default=Decimal(1))


def points_for_amount(program: Program, amount: int, multiplier: Decimal) -> int:
    """Points for a purchase: whole currency units x earn rate x multipliers, rounded down."""
    if amount <= 0:
        return 0
    if program.earn_mode == "cashback":  # 1 point = 1 cent of store credit
        return floor_int(Decimal(amount) * program.cashback_percent / 100 * multiplier)
    return floor_int(Decimal(amount // 100) * program.earn_rate * multiplier)


@dataclass
class Bonus:
    kind: str
    points: int
    customer_id: int
    note: str


def milestone_bonus(session: Session, program: Program, customer: Customer, at: datetime,
                    purchase_id: int) -> Bonus | None:
    """250 points (by default) the first time a calendar year's spend reaches the milestone."""
    if not program.milestone_bonus or not program.milestone_spend:
        return None
    year = clock.local_year(at)
    key = f"milestone:{year}"
    if ledger.has_bonus(session, customer.id, key):
        return None
    start, end = clock.year_bounds(year)
    spend = session.execute(
        select(func.coalesce(func.sum(Purchase.amount), 0))
        .where(Purchase.customer_id == customer.id, Purchase.at >= start, Purchase.at < end, Purchase.at <= at)
    ).scalar_one()
    if spend < program.milestone_spend:
        return None
    note = f"milestone: {year} spend reached {program.milestone_spend // 100}"
    ledger.post(session, customer.id, "milestone", program.milestone_bonus, at,
                expires_at=program.expiry_for(at), purchase_id=purchase_id, bonus_key=key, note=note)
    return Bonus("milestone", program.milestone_bonus, customer.id, note)


def referral_bonuses(session: Session, program: Program, customer: Customer, at: datetime, amount: int,
                     purchase_id: int) -> list[Bonus]:
    """On the referee's first purchase of at least the minimum: reward referee and referrer."""
    if amount < program.referral_min_purchase:
        return []
    referral = session.execute(select(Referral).where(Referral.referee_id == customer.id)).scalar()
    if referral is None or referral.rewarded_purchase_id is not None:
        return []
    referrer = session.get(Customer, referral.referrer_id)
    ledger.lock_customer(session, referrer.id, require_active=False)
    referral.rewarded_purchase_id = purchase_id
    referral.rewarded_at = at
    session.flush()
    successful = session.execute(
        select(func.count()).select_from(Referral)
        .where(Referral.referrer_id == referrer.id, Referral.rewarded_purchase_id.is_not(None))
    ).scalar_one()
    out = []
    key = f"referral:{customer.id}"
    if program.referral_referee_bonus:
        note = f"referral: welcome via {referrer.code}"
        ledger.post(session, customer.id, "referral", program.referral_referee_bonus, at,
                    expires_at=program.expiry_for(at), purchase_id=purchase_id, bonus_key=key, note=note)
        out.append(Bonus("referral", program.referral_referee_bonus, customer.id, note))
    points = program.referrer_bonus(successful)
    if points and referrer.status == "active":
        note = f"referral: {customer.code} made a first purchase (referral #{successful})"
        ledger.post(session, referrer.id, "referral", points, at, expires_at=program.expiry_for(at),
                    purchase_id=purchase_id, bonus_key=key, note=note)
        out.append(Bonus("referral", points, referrer.id, note))
    return out
