"""Tiers and multipliers as the reports and the counter's answers ask for them (by query); the earning
rules themselves are in loyaltycli.engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.store.models import Membership, MembershipPlan, Purchase
from loyaltycli.store.program import Program, Tier
from loyaltycli.engine.earning import points_for_amount  # noqa: F401 (the one rule, in the engine)


def window_start(program: Program, at: datetime) -> datetime:
    """The start of the tier window that ends at ``at``: the one home of the "tier now" window, for the
    displays, the counter's answers and the reports (the engine holds the same rule for its sales)."""
    return at - clock.DAY * program.tier_window_days


def in_window(program: Program, at: datetime, column=None, *, inclusive: bool = False):
    """The SQL condition: a purchase (its time ``column``, default ``Purchase.at``) counts towards the tier
    at ``at`` (``at`` itself excluded unless ``inclusive``)."""
    column = Purchase.at if column is None else column
    return and_(column >= window_start(program, at), column <= at if inclusive else column < at)


def window_spend(program: Program, customer_id, at: datetime, *, inclusive: bool = False):
    """The SQL scalar: net spend of ``customer_id`` (a value or a correlated column) in the window."""
    return (select(func.coalesce(func.sum(Purchase.amount), 0))
            .where(Purchase.customer_id == customer_id, in_window(program, at, inclusive=inclusive))
            .scalar_subquery())


def qualifying_spend(session: Session, program: Program, customer_id: int, at: datetime,
                     *, inclusive: bool = False) -> int:
    """Net spend (sales less refunds) in the tier window before ``at`` (``at`` itself excluded unless
    ``inclusive``)."""
    return session.execute(select(window_spend(program, customer_id, at, inclusive=inclusive))).scalar_one()


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


@dataclass
class Bonus:
    """A bonus a purchase earned, as the counter shows it."""

    kind: str
    points: int
    customer_id: int
    note: str
