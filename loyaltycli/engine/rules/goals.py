"""Goals: a customer's spend on items of a goal's SKU patterns within a calendar month (or year) of the
shop reaching the goal's amount gives a voucher for its reward, once per period. A sale's matching
spend is its progress in the sale's period; a refund takes back the progress of the sale it gives back
in proportion to the amount refunded (cumulatively rounded down: a full refund takes it all), from the
sale's period; a voucher already issued is kept. Rows go to the ``goal_ledger`` table (``GOAL_COLUMNS``);
what a sale gave is ``given["goals"]`` (goal id -> (period, cents)); the account's state
``state["goals"]`` is (goal id, period) -> [progress in cents, voucher issued]."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loyaltycli.engine.cards import matches
from loyaltycli.engine.rules import Rule

ORDER = 70
TABLE = "goal_ledger"
GOAL_COLUMNS = ("customer_id", "goal_id", "kind", "period", "delta", "at", "purchase_id", "voucher_id", "note",
                "recorded_at")
PER = ("month", "year")


@dataclass(frozen=True)
class GoalRule:
    """A goal's definition."""

    id: int
    name: str
    spend: int
    reward: str
    skus: tuple[str, ...] = ()
    per: str = "month"


def period_of(at: datetime, zone, per: str) -> str:
    """The goal period of ``at`` in the shop's calendar: '2026-05' (month) or '2026' (year)."""
    local = at.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}" if per == "month" else f"{local.year:04d}"


def matching(goal: GoalRule, amount: int, items) -> int:
    """The cents of a sale that count for ``goal``: its matching items' amounts (the whole amount for a
    goal with no SKU pattern)."""
    if not goal.skus:
        return max(amount, 0)
    return sum(item[2] for item in items if item[0] and item[2] > 0 and matches(item[0], goal.skus))


class Goals(Rule):
    KEY = "goals"
    needs = frozenset({"goals"})
    items = True

    def __init__(self, goals: tuple[GoalRule, ...]):
        self.goals = goals

    def _row(self, engine, event, goal_id: int, kind: str, period: str, delta: int, note: str) -> list:
        return [event.account.id, goal_id, kind, period, delta, event.at, None, None, note[:500], engine.recorded]

    def sale(self, engine, event) -> None:
        held = event.account.state.setdefault(self.KEY, {})
        rows = event.out.writes.setdefault(TABLE, [])
        gave = {}
        for goal in self.goals:
            cents = matching(goal, event.amount, event.items)
            if cents <= 0:
                continue
            period = period_of(event.at, engine.zone, goal.per)
            gave[goal.id] = (period, cents)
            state = held.setdefault((goal.id, period), [0, False])
            state[0] += cents
            rows.append(self._row(engine, event, goal.id, "progress", period, cents,
                                  f"receipt {event.receipt_id}: {engine.amount_text(cents)} towards {goal.name}"))
            if not state[1] and state[0] >= goal.spend:
                state[1] = True
                rows.append(self._row(engine, event, goal.id, "voucher", period, 1, goal.reward))
        event.out.given[self.KEY] = gave

    def refund(self, engine, event) -> None:
        sale = event.sale
        gave = sale.given.get(self.KEY) if sale is not None else None
        if not gave:
            return
        taken = sale.taken.setdefault(self.KEY, {})
        held = event.account.state.setdefault(self.KEY, {})
        rows = event.out.writes.setdefault(TABLE, [])
        for goal_id, (period, cents) in gave.items():
            due = cents * (sale.refunded + event.amount) // sale.amount - taken.get(goal_id, 0)
            if due <= 0:
                continue
            taken[goal_id] = taken.get(goal_id, 0) + due
            held.setdefault((goal_id, period), [0, False])[0] -= due
            rows.append(self._row(engine, event, goal_id, "unprogress", period, -due,
                                  f"refund of receipt {sale.receipt_id}: {engine.amount_text(due)} taken back"))


def build(program):
    goals = tuple(getattr(program, "goals", None) or ())
    return Goals(goals) if goals else None
