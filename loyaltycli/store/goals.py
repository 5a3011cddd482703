"""Goals' definitions as stored, read into the engine's rules (``Program.goals``); the goals' ledger, `goal
add` and the displays are programs/goals.py."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyaltycli.engine.rules.goals import GoalRule
from loyaltycli.store.models import Goal, sku_patterns


def rule_of(goal: Goal) -> GoalRule:
    return GoalRule(goal.id, goal.name, goal.spend, goal.reward, sku_patterns(goal.skus),
                    goal.per)


def load_rules(session: Session) -> tuple[GoalRule, ...]:
    """The active goals, as the engine reads them."""
    return tuple(rule_of(goal) for goal in session.execute(
        select(Goal).where(Goal.active.is_(True)).order_by(Goal.id)).scalars())
