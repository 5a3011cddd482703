"""The reward catalogue: named rewards at a cost in points (redeemed with ``points.redeem``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.store import ledger
from loyaltycli.base.errors import InvalidInput, NotFound, RuleNotMet
from loyaltycli.store.models import Redemption, Reward
from loyaltycli.store.program import Program
from loyaltycli.i18n import _


def _clean(name: str) -> str:
    from loyaltycli.base.textkey import check_plain_text

    value = " ".join((check_plain_text(name, "reward name") or "").split())
    if not value or len(value) > 100:
        raise InvalidInput(_('reward name must be 1 to 100 characters'))
    return value


def add_reward(session: Session, program: Program, name: str, cost: int) -> Reward:
    """Offer a reward at ``cost`` points; a removed reward of the same name comes back at the new cost."""
    value = _clean(name)
    if not 0 < cost <= ledger.MAX_POINTS:
        raise InvalidInput(_('--cost must be a positive whole number of points'))
    if cost < program.min_redemption:
        raise RuleNotMet(_('--cost {cost} is below the minimum redemption ({min_redemption} points); raise the cost or `loyalty program set min_redemption N`').format(cost=cost, min_redemption=program.min_redemption))
    reward = session.execute(select(Reward).where(func.lower(Reward.name) == value.lower())).scalar()
    if reward is not None and reward.active:
        raise RuleNotMet(_('reward {name!r} already exists at {cost} points; remove it first to change its cost').format(name=reward.name, cost=reward.cost))
    if reward is None:
        reward = Reward(name=value, cost=cost, active=True, created_at=clock.now())
        session.add(reward)
    else:
        reward.cost, reward.active = cost, True
    session.flush()
    return reward


def remove_reward(session: Session, name: str) -> Reward:
    """Withdraw a reward from the catalogue (past redemptions keep naming it)."""
    value = _clean(name)
    reward = session.execute(select(Reward).where(func.lower(Reward.name) == value.lower(),
                                                  Reward.active.is_(True))).scalar()
    if reward is None:
        raise NotFound(_('unknown reward {value!r}; see `loyalty reward list`').format(value=value))
    reward.active = False
    session.flush()
    return reward


def offered(session: Session) -> list[Reward]:
    """The rewards on offer (not removed), in the order they were first added."""
    return list(session.execute(select(Reward).where(Reward.active.is_(True)).order_by(Reward.id)).scalars())


def list_rewards(session: Session, program: Program) -> list[dict]:
    """The catalogue with each reward's value at the program's point value and how often it was taken."""
    taken = (select(Redemption.reward_id, func.count().label("n")).where(Redemption.reward_id.is_not(None))
             .group_by(Redemption.reward_id).subquery())
    rows = session.execute(select(Reward.name, Reward.cost, func.coalesce(taken.c.n, 0))
                           .outerjoin(taken, taken.c.reward_id == Reward.id)
                           .where(Reward.active.is_(True)).order_by(Reward.cost, Reward.name))
    return [{"reward": name, "cost": cost, "value": cost * program.point_value, "redeemed": n}
            for name, cost, n in rows]
