"""Goals: `goal add`, `goal list` and `report goals` (the rule: loyaltycli/engine/rules/goals.py; its store:
loyaltycli/programs/goals.py)."""

from __future__ import annotations

from typing import List, Optional

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit, emit_lists
from loyaltycli.i18n import _

goal_app = typer.Typer(help="Goals: spend an amount on some products in a month, get a voucher.",
                       no_args_is_help=True)
NUMBERS = {"ignore_unknown_options": True}


def _goal_json(goal) -> dict:
    from loyaltycli.base.money import Money  # '30.00' in JSON and CSV, the shop's way in a table
    from loyaltycli.store.models import sku_patterns

    return {"goal": goal.name, "spend": Money(goal.spend), "skus": list(sku_patterns(goal.skus)),
            "per": goal.per, "reward": goal.reward, "active": goal.active}


@goal_app.command("add", context_settings=NUMBERS)
def goal_add(
    name: str = typer.Argument(..., help="Goal name, e.g. Pastries."),
    spend: str = typer.Option(..., "--spend", help="Spend that reaches the goal, e.g. 30.00 (the shop's way)."),
    reward: str = typer.Option(..., "--reward", help="What reaching it gives, e.g. \"Free coffee\"."),
    sku: Optional[List[str]] = typer.Option(None, "--sku", help="SKU pattern of items that count, e.g. 'PAS-*' "
                                                                "(repeatable; none: the whole amount)."),
    per: str = typer.Option("month", "--per", help="month or year: the calendar period the spend adds up in."),
) -> None:
    """Add a goal: spend on matching items within a calendar month (or year) reaching the amount gives a
    voucher for the reward, once per period. Refunds take the progress back.

    Example: loyalty goal add Pastries --spend 30.00 --sku 'PAS-*' --per month --reward "Free coffee"
    """
    from loyaltycli.base.money import format_money, parse_money
    from loyaltycli.programs import goals

    cents = parse_money(spend, what="--spend")
    with options.database().session() as session:
        data = _goal_json(goals.add_goal(session, name, cents, reward, skus=sku, per=per))
    period = _("in a calendar month") if data["per"] == "month" else _("in a calendar year")
    emit(data, message=_("goal {goal}: {spend} on {skus} {period} gives {reward}").format(
        goal=data["goal"], spend=format_money(cents), skus=", ".join(data["skus"]) or _("anything"),
        period=period, reward=data["reward"]))


@goal_app.command("list")
def goal_list() -> None:
    """List the goals: spend to reach, what counts, the period, the reward.

    Example: loyalty goal list --json
    """
    from loyaltycli.programs import goals

    with options.database().session(write=False) as session:
        rows = [_goal_json(g) for g in goals.list_goals(session)]
    emit_lists(rows, joined=["skus"], columns=["goal", "spend", "skus", "per", "reward", "active"], title=_("Goals"))


def report_goals(from_: Optional[str] = None, to: Optional[str] = None) -> None:
    """Goals in the period: customers who made progress, spend counted (net of refunds), vouchers issued
    and used.

    Example: loyalty report goals --from 2026-05-01 --to 2026-06-01 --csv
    """
    from loyaltycli.cli.reports import _period, _title
    from loyaltycli.base.money import money
    from loyaltycli.store.program import load_program
    from loyaltycli.programs import goals

    period = _period(from_, to)
    with options.database().session(write=False) as session:
        data = goals.goals_report(session, load_program(session), period)
    rows = [{**g, "target": money(g["target"]), "spend": money(g["spend"])} for g in data["goals"]]
    emit(rows, columns=["goal", "reward", "target", "per", "customers", "spend", "vouchers_issued", "vouchers_used"],
         title=_title(_("Goals"), data))


def register(app: typer.Typer) -> None:
    from loyaltycli.cli.reports import _from_option, _to_option, report_app

    app.add_typer(goal_app, name="goal")

    def command(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
        report_goals(from_, to)

    command.__doc__ = report_goals.__doc__
    report_app.command("goals")(command)
