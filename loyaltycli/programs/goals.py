"""Goals' store side: `goal add`, `goal list`, the goals' ledger read for the rule (progress per goal and
period), what a sale gave, a customer's progress (`balance`, `customer show`) and `report goals`. The rule
itself is loyaltycli.engine.rules.goals; the settings read the definitions through store/goals.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from loyaltycli.engine.rules.goals import GOAL_COLUMNS, PER, period_of
from loyaltycli.i18n import N_, gettext

KEY = "goals"


def __getattr__(name):
    if name == "TABLES":
        from loyaltycli.store.models import GoalEntry

        return {"goal_ledger": (GoalEntry.__table__, GOAL_COLUMNS)}
    raise AttributeError(name)


# -- definitions ------------------------------------------------------------------------------------------
def add_goal(session: Session, name: str, spend: int, reward: str, *, skus: list[str] | None = None,
             per: str = "month"):
    """A new goal; refused with a clear reason when a value is wrong or the name is taken."""
    from loyaltycli.shop import clock
    from loyaltycli.programs import checked_offer
    from loyaltycli.base.errors import InvalidInput
    from loyaltycli.store.models import Goal

    name, reward, patterns = checked_offer(name, reward, skus, gettext('goal name must be 1 to 100 characters'))
    if not 0 < spend <= 10**9:
        raise InvalidInput(gettext('--spend must be more than zero'))
    per = (per or "").strip().lower()
    if per not in PER:
        raise InvalidInput(gettext('--per {per!r} is not one of {per2}').format(per=per, per2=', '.join(PER)))
    if session.execute(select(Goal.id).where(func.lower(Goal.name) == name.lower())).first():
        raise InvalidInput(gettext('a goal named {name!r} already exists; see `loyalty goal list`').format(name=name))
    goal = Goal(name=name, spend=spend, reward=reward, skus="\n".join(patterns), per=per, created_at=clock.now())
    session.add(goal)
    session.flush()
    return goal


def list_goals(session: Session) -> list:
    from loyaltycli.store.models import Goal

    return list(session.execute(select(Goal).order_by(Goal.id)).scalars())


# -- what the rule needs ------------------------------------------------------------------------------------
def load(session: Session, accounts: dict) -> None:
    """Progress and vouchers per (goal, period) of ``accounts`` (id -> Account), into ``state["goals"]``."""
    from loyaltycli.store.models import GoalEntry

    ids = list(accounts)
    progress = func.sum(case((GoalEntry.kind.in_(("progress", "unprogress")), GoalEntry.delta), else_=0))
    vouchers = func.sum(case((GoalEntry.kind == "voucher", 1), else_=0))
    for i in range(0, len(ids), 500):
        for customer_id, goal_id, period, cents, issued in session.execute(
                select(GoalEntry.customer_id, GoalEntry.goal_id, GoalEntry.period, progress, vouchers)
                .where(GoalEntry.customer_id.in_(ids[i:i + 500]))
                .group_by(GoalEntry.customer_id, GoalEntry.goal_id, GoalEntry.period)):
            accounts[customer_id].state.setdefault(KEY, {})[(goal_id, period)] = [int(cents or 0), bool(issued)]


def _progress_of(ids_in):
    from loyaltycli.store.models import GoalEntry

    return (select(GoalEntry.purchase_id, GoalEntry.goal_id, GoalEntry.period, GoalEntry.delta)
            .where(ids_in(GoalEntry.purchase_id), GoalEntry.kind == "progress"))


def _taken_back_by(ids_in):
    from loyaltycli.store.models import GoalEntry

    return (select(GoalEntry.purchase_id, GoalEntry.goal_id, GoalEntry.delta)
            .where(ids_in(GoalEntry.purchase_id), GoalEntry.kind == "unprogress"))


def given(session: Session, sale_ids: list[int], refund_of: dict[int, int]) -> dict[int, tuple[dict, dict]]:
    """sale id -> ({goal id: (period, cents) the sale gave}, {goal id: cents its refunds took back})."""
    from loyaltycli.store.storage import built, id_lists

    out: dict[int, tuple[dict, dict]] = {}
    for ids in id_lists(session, sale_ids):
        for purchase_id, goal_id, period, cents in session.execute(built(session, _progress_of), {"ids": ids}):
            out.setdefault(purchase_id, ({}, {}))[0][goal_id] = (period, int(cents))
    if not out:
        return out
    for ids in id_lists(session, list(refund_of)):
        for refund_id, goal_id, cents in session.execute(built(session, _taken_back_by), {"ids": ids}):
            sale = out.get(refund_of[refund_id])
            if sale is not None:
                sale[1][goal_id] = sale[1].get(goal_id, 0) - int(cents)
    return out


# -- what people see -----------------------------------------------------------------------------------------
def customer_goals(session: Session, program, customer_id: int, now: datetime) -> list[dict]:
    """Each active goal: the customer's progress in the current period, of how much, unused vouchers."""
    from loyaltycli.shop import clock
    from loyaltycli.store.models import GoalEntry

    goals = getattr(program, "goals", ())
    if not goals:
        return []
    zone = clock.local_zone()
    periods = {goal.id: period_of(now, zone, goal.per) for goal in goals}
    progress: dict[int, int] = {}
    vouchers: dict[int, int] = {}
    for goal_id, kind, period, delta in session.execute(
            select(GoalEntry.goal_id, GoalEntry.kind, GoalEntry.period, func.sum(GoalEntry.delta))
            .where(GoalEntry.customer_id == customer_id)
            .group_by(GoalEntry.goal_id, GoalEntry.kind, GoalEntry.period)):
        if kind in ("progress", "unprogress") and periods.get(goal_id) == period:
            progress[goal_id] = progress.get(goal_id, 0) + int(delta)
        elif kind in ("voucher", "voucher_used"):
            vouchers[goal_id] = vouchers.get(goal_id, 0) + int(delta)
    return [{"goal": goal.name, "period": periods[goal.id], "spend": progress.get(goal.id, 0),
             "target": goal.spend, "reward": goal.reward, "vouchers": vouchers.get(goal.id, 0)} for goal in goals]


def describe(goals: list[dict]) -> str:
    """'Pastries 18,40 € of 30,00 €' (the shop's money format), with the vouchers to use."""
    from loyaltycli.base.money import format_money
    from loyaltycli.i18n import ngettext

    parts = []
    for g in goals:
        text = gettext("{goal} {spend} of {target}").format(goal=g["goal"], spend=format_money(g["spend"]),
                                                          target=format_money(g["target"]))
        if g["vouchers"]:
            text += ngettext(", {count} voucher: {reward}", ", {count} vouchers: {reward}", g["vouchers"]).format(
                count=g["vouchers"], reward=g["reward"])
        parts.append(text)
    return "; ".join(parts)


def history(session: Session, customer_id: int) -> list[dict]:
    """The customer's goal rows for `history`, oldest first: ``at``, ``kind``, ``note`` (the fixed English
    text scripts read) and ``say`` (a function: the same words in the language then in force, amounts the
    shop's way, so that the statement speaks its reader's language)."""
    from functools import partial

    from loyaltycli.base.money import format_amount, format_money
    from loyaltycli.store.models import Goal, GoalEntry

    def said(kind, name, reward, period, delta, words=str, money=format_amount) -> str:
        if kind in ("progress", "unprogress"):
            return words(N_("{goal} {amount} ({period})")).format(
                goal=name, amount=("+" if delta >= 0 else "-") + money(abs(delta)), period=period)
        if kind == "voucher":
            return words(N_("{goal} reached ({period}): a voucher for {reward}")).format(
                goal=name, period=period, reward=reward)
        return words(N_("{goal}: voucher for {reward} used")).format(goal=name, reward=reward)  # voucher_used

    out = []
    for row, name, reward in session.execute(
            select(GoalEntry, Goal.name, Goal.reward).join(Goal, Goal.id == GoalEntry.goal_id)
            .where(GoalEntry.customer_id == customer_id).order_by(GoalEntry.at, GoalEntry.id)):
        values = (row.kind, name, reward, row.period, row.delta)
        out.append({"at": row.at, "kind": row.kind, "note": said(*values),
                    "say": partial(said, *values, words=gettext, money=format_money)})
    return out


def shown(session: Session, program, customer_id: int, now: datetime):
    """For `balance` and `customer show`: ("goals", progress as JSON, text), None in a shop without goals."""
    from loyaltycli.base.money import format_amount

    found = customer_goals(session, program, customer_id, now)
    if not found:
        return None
    data = [{**g, "spend": format_amount(g["spend"]), "target": format_amount(g["target"])} for g in found]
    return "goals", data, describe(found)


def _giving(session: Session, reward: str) -> list:
    """The goals whose reward (or name) is ``reward``."""
    from loyaltycli.programs import giving

    return giving(list_goals(session), reward)


def _unused(session: Session, customer_id: int, goals: list) -> list:
    """The customer's unused vouchers of ``goals``, oldest first (a goal's voucher does not expire)."""
    from loyaltycli.store.models import GoalEntry

    used = select(GoalEntry.voucher_id).where(GoalEntry.customer_id == customer_id, GoalEntry.kind == "voucher_used")
    return list(session.execute(
        select(GoalEntry).where(GoalEntry.customer_id == customer_id, GoalEntry.kind == "voucher",
                                GoalEntry.goal_id.in_([g.id for g in goals]), GoalEntry.id.not_in(used))
        .order_by(GoalEntry.at, GoalEntry.id)).scalars())


def vouchers_held(session: Session, customer, reward: str, at) -> int:
    """How many unused vouchers for ``reward`` the customer holds of the goals (0: none gives it)."""
    goals = _giving(session, reward)
    return len(_unused(session, customer.id, goals)) if goals else 0


def use_voucher(session: Session, customer, reward: str, at: datetime | None = None) -> dict:
    """Use the customer's oldest unused voucher of a goal giving ``reward`` (or named so)."""
    from loyaltycli.shop import clock
    from loyaltycli.store import ledger
    from loyaltycli.base.errors import NotFound, RuleNotMet
    from loyaltycli.store.models import Goal, GoalEntry

    goals = _giving(session, reward)  # the reward is not empty: programs.use_voucher
    if not goals:
        raise NotFound(gettext('no goal gives {reward!r}; see `loyalty goal list`').format(reward=reward.strip()))
    at = ledger.check_when(at)
    ledger.lock_customer(session, customer.id)
    found = _unused(session, customer.id, goals)
    if not found:
        raise RuleNotMet(gettext('{code} has no voucher for {reward}').format(code=customer.code, reward=goals[0].reward))
    voucher = found[0]
    goal: Goal = next(g for g in goals if g.id == voucher.goal_id)
    session.add(GoalEntry(customer_id=customer.id, goal_id=goal.id, kind="voucher_used", period=voucher.period,
                          delta=-1, at=at, voucher_id=voucher.id, note=f"used: {goal.reward}", recorded_at=clock.now()))
    session.flush()
    return {"code": customer.code, "goal": goal.name, "reward": goal.reward, "vouchers_left": len(found) - 1}


def goals_report(session: Session, program, period) -> dict:
    """Per goal, in the period: customers who made progress, spend counted (net of refunds), vouchers
    issued and used. One GROUP BY over the goals' ledger."""
    from loyaltycli.store.models import Goal, GoalEntry

    start, end = period.start, period.end
    inside = (GoalEntry.at >= start) & (GoalEntry.at < end)
    spend = func.coalesce(func.sum(case((inside & GoalEntry.kind.in_(("progress", "unprogress")), GoalEntry.delta),
                                        else_=0)), 0)
    customers = func.count(func.distinct(case((inside & (GoalEntry.kind == "progress"), GoalEntry.customer_id))))
    issued = func.coalesce(func.sum(case((inside & (GoalEntry.kind == "voucher"), 1), else_=0)), 0)
    used = func.coalesce(func.sum(case((inside & (GoalEntry.kind == "voucher_used"), 1), else_=0)), 0)
    rows = session.execute(select(Goal.name, Goal.reward, Goal.spend, Goal.per, Goal.active, customers, spend,
                                  issued, used)
                           .outerjoin(GoalEntry, GoalEntry.goal_id == Goal.id)
                           .group_by(Goal.id, Goal.name, Goal.reward, Goal.spend, Goal.per, Goal.active)
                           .order_by(Goal.id)).all()
    return {"period": {"from": start, "to": end},
            "goals": [{"goal": name, "reward": reward, "target": target, "per": per, "active": active,
                       "customers": int(n), "spend": int(cents), "vouchers_issued": int(i), "vouchers_used": int(u)}
                      for name, reward, target, per, active, n, cents, i, u in rows]}


def _goal_written(goal) -> dict:
    from loyaltycli.base.money import format_amount
    from loyaltycli.store.models import sku_patterns

    return {"name": goal.name, "spend": format_amount(goal.spend), "reward": goal.reward,
            "skus": list(sku_patterns(goal.skus)), "per": goal.per, "active": bool(goal.active)}


def _goal_added(session, table: dict):
    from loyaltycli.base.money import parse_money

    spend = parse_money(str(table["spend"]), what="spend")
    return add_goal(session, table["name"], spend, table["reward"], skus=table["skus"], per=table["per"])


def file_section():
    from loyaltycli.i18n import Nn_
    from loyaltycli.base.settings import AMOUNT, PATTERNS, TEXT, YES_NO
    from loyaltycli.programs import Section

    return Section("goals", {"name": TEXT, "spend": AMOUNT, "reward": TEXT, "skus": PATTERNS, "per": TEXT,
                             "active": YES_NO},
                   {"skus": [], "per": "month", "active": True}, list_goals, _goal_written, _goal_added,
                   N_("a goal named {name!r} already exists with other terms ({key}: {have} here, {given} in "
                      "the file); a file does not change a goal's terms"),
                   (Nn_("{count} goal added ({names})", "{count} goals added ({names})"),
                    Nn_("{count} goal already there ({names})", "{count} goals already there ({names})")))
