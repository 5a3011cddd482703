"""Program types: referrals, expiry, donations and causes, paid memberships, the reward catalogue,
the cashback preset, birthdays and the year-end rebate."""

from __future__ import annotations

from typing import Optional

import typer

from loyaltycli.cli import options
from loyaltycli.cli.customers import who
from loyaltycli.cli.render import emit
from loyaltycli.i18n import _, ngettext
from loyaltycli.base.numbers import decimal_text

referral_app = typer.Typer(help="Referral codes and who referred whom.", no_args_is_help=True)
cause_app = typer.Typer(help="Causes customers can donate points to.", no_args_is_help=True)
membership_app = typer.Typer(help="Paid memberships: plans, members, renewals.", no_args_is_help=True)
plan_app = typer.Typer(help="Membership plans: fee, period, points multiplier.", no_args_is_help=True)
reward_app = typer.Typer(help="The reward catalogue (redeem with `loyalty redeem KEY --reward NAME`).",
                         no_args_is_help=True)
membership_app.add_typer(plan_app, name="plan")

# Negative numbers ('-5') reach the command as values, to be refused with a clear reason.
NUMBERS = {"ignore_unknown_options": True}


def _money(cents):
    from loyaltycli.base.money import money

    return money(cents)


def _day(text: Optional[str], what: str):
    from loyaltycli.shop import clock

    return clock.parse_date(text, what=what) if text else None


def _when(at: Optional[str]):
    from loyaltycli.shop import clock

    return clock.parse_timestamp(at, what="--at", local_formats=True) if at else None


def _period(start: Optional[str], end: Optional[str]):
    """--from (inclusive) and --to (exclusive) days as UTC moments."""
    from loyaltycli.shop import clock
    from loyaltycli.base.errors import InvalidInput

    first, last = _day(start, "--from"), _day(end, "--to")
    if first and last and last <= first:
        raise InvalidInput(_("--to must be after --from (the period is [from, to))"))
    return (clock.start_of_day(first) if first else None), (clock.start_of_day(last) if last else None)


# -- referrals ------------------------------------------------------------------------------------
@referral_app.command("code")
def referral_code(key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
                  quiet: bool = typer.Option(False, "--quiet", "-q",
                                             help="Print the code alone (for a script: code=$(loyalty referral code C1 -q)).")
                  ) -> None:
    """Show a customer's referral code (issuing one if the customer has none).

    Example: loyalty referral code C000001
    """
    from loyaltycli.services import customers, referrals

    with options.database().session() as session:
        customer = customers.find(session, key)
        code = referrals.referral_code(session, customer)
        count = referrals.successful_count(session, customer.id)
    if quiet and not options.current.json:
        typer.echo(code)
        return
    emit({"code": customer.code, "referral_code": code, "successful_referrals": count},
         message=ngettext("{code} {name}: referral code {referral_code} ({count} successful referral)",
                          "{code} {name}: referral code {referral_code} ({count} successful referrals)", count).format(
             code=customer.code, name=who(customer.name, customer.phone), referral_code=code, count=count))


@referral_app.command("list")
def referral_list(key: Optional[str] = typer.Argument(None, help="Only this referrer's referrals.")) -> None:
    """List referrals (oldest first): referrer, referee, pending or rewarded, points each side got.

    Example: loyalty referral list C000001 --json
    """
    from loyaltycli.services import customers, referrals

    with options.database().session(write=False) as session:
        referrer = customers.find(session, key, usable=False) if key else None
        rows = referrals.list_referrals(session, referrer)
    emit(rows, columns=["referrer", "referee", "referee_name", "code", "at", "status", "rewarded_at",
                        "referee_points", "referrer_points"], title=_("Referrals"))


@referral_app.command("add")
def referral_add(key: str = typer.Argument(..., help="The new customer (referee)."),
                 code: str = typer.Argument(..., help="The referrer's referral code (any case).")) -> None:
    """Give a referral code forgotten at enrollment: only the same day, before the first purchase,
    and only if the customer has no referrer yet.

    Example: loyalty referral add C000002 K7M4PQ2X
    """
    from loyaltycli.services import customers, referrals
    from loyaltycli.store.models import Customer
    from loyaltycli.store.program import load_program

    with options.database().session() as session:
        program = load_program(session)
        customer = customers.find(session, key, program)
        referral = referrals.add_referral(session, program, customer, code)
        referrer = session.get(Customer, referral.referrer_id)
    emit({"referee": customer.code, "referrer": referrer.code, "code": referral.code, "at": referral.at},
         message=_("{code} referred by {referrer} (code {referral_code}); both are rewarded on {code}'s first "
                   "purchase of at least {amount}").format(code=customer.code, referrer=referrer.code,
                                                           referral_code=referral.code,
                                                           amount=_money(program.referral_min_purchase)))


# -- expiry ---------------------------------------------------------------------------------------
def expire(as_of: Optional[str] = typer.Option(None, "--as-of", help="YYYY-MM-DD: expire what had expired by "
                                                                      "the end of that day (default: now).")) -> None:
    """Write off points whose lots have expired, and stamps on cards not filled by their deadline, for
    every customer (safe to run again; back-datable).

    Example: loyalty expire --as-of 2026-06-30
    """
    from loyaltycli.services import expiry

    day = _day(as_of, "--as-of")
    moment = expiry.as_of_moment(day)
    with options.database().session() as session:
        result = expiry.expire_all(session, moment)
    # the day given is what the owner asked about; the moment is its end (local midnight after it)
    when = (_("the end of {day}").format(day=day.isoformat()) if day
            else result.as_of.isoformat(timespec='seconds'))
    counts = {"points": ngettext("{count} point", "{count} points", abs(result.points)).format(count=result.points),
              "customers": ngettext("{count} customer", "{count} customers", result.customers).format(
                  count=result.customers),
              "when": when, "checked": result.candidates}
    if result.stamps:
        message = _("expired {points} of {customers} (as of {when}; {checked} checked); {stamps} of "
                    "{stamp_customers} on stamp cards not filled in time").format(
            stamps=ngettext("{count} stamp", "{count} stamps", result.stamps).format(count=result.stamps),
            stamp_customers=ngettext("{count} customer", "{count} customers", result.stamp_customers).format(
                count=result.stamp_customers), **counts)
    else:
        message = _("expired {points} of {customers} (as of {when}; {checked} checked)").format(**counts)
    emit({"as_of": result.as_of, "candidates": result.candidates, "customers": result.customers,
          "points": result.points, "stamps": result.stamps}, message=message)


# -- donations ------------------------------------------------------------------------------------
def donate(key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
           points_: int = typer.Argument(..., metavar="POINTS", help="Points to give."),
           cause: str = typer.Option(..., "--cause", help="The cause (see `loyalty cause list`)."),
           at: Optional[str] = typer.Option(None, "--at", help="Time (ISO-8601).")) -> None:
    """Give points (oldest first) to a cause; the shop pays the cause their value.

    Example: loyalty donate C000001 200 --cause "Food bank"
    """
    from loyaltycli.services import customers, donations
    from loyaltycli.store.program import load_program

    with options.database().session() as session:
        program = load_program(session)
        customer = customers.find(session, key, program)
        result = donations.donate(session, program, customer, points_, cause, at=_when(at))
    emit({"code": result.code, "cause": result.cause, "points": result.points, "value": _money(result.value),
          "balance": result.balance},
         message=ngettext("{code}: donated {points} point ({value}) to {cause}; balance {balance}",
                          "{code}: donated {points} points ({value}) to {cause}; balance {balance}",
                          abs(result.points)).format(code=result.code, points=result.points, value=_money(result.value),
                                                     cause=result.cause, balance=result.balance))


@cause_app.command("add")
def cause_add(name: str = typer.Argument(..., help="Name of the cause.")) -> None:
    """Add a cause customers can donate points to.

    Example: loyalty cause add "Food bank"
    """
    from loyaltycli.services import donations

    with options.database().session() as session:
        cause = donations.add_cause(session, name)
    emit({"cause": cause.name}, message=_("cause {cause} added").format(cause=cause.name))


@cause_app.command("list")
def cause_list() -> None:
    """List causes with the donations, points and value each has received.

    Example: loyalty cause list --csv
    """
    from loyaltycli.services import donations

    with options.database().session(write=False) as session:
        rows = donations.list_causes(session)
    emit([{**r, "value": _money(r["value"])} for r in rows],
         columns=["cause", "donations", "points", "value", "created_at"], title=_("Causes"))


def donations_report(start: Optional[str] = typer.Option(None, "--from", help="First day (YYYY-MM-DD)."),
                     end: Optional[str] = typer.Option(None, "--to", help="Day after the period (exclusive).")) -> None:
    """Donations per cause in the period [from, to): donations, donors, points and their value.

    Example: loyalty report donations --from 2026-01-01 --to 2027-01-01
    """
    from loyaltycli.services import donations

    first, last = _period(start, end)
    with options.database().session(write=False) as session:
        rows = donations.donation_totals(session, first, last)
    emit([{**r, "value": _money(r["value"])} for r in rows],
         columns=["cause", "donations", "donors", "points", "value"], title=_("Donations"))


# -- memberships ----------------------------------------------------------------------------------
def _membership_data(result) -> dict:
    return {"code": result.code, "plan": result.plan, "started_at": result.started_at, "ends_at": result.ends_at,
            "fee": _money(result.fee), "multiplier": result.multiplier}


@plan_app.command("add")
def plan_add(name: str = typer.Argument(..., help="Plan name."),
             fee: str = typer.Option(..., "--fee", help="Fee per period, e.g. 30.00."),
             months: int = typer.Option(..., "--months", help="Length of one period in months."),
             multiplier: str = typer.Option(..., "--multiplier", help="Points multiplier while active, e.g. 2."),
             perk: str = typer.Option("", "--perk", help="What else members get (free coffee...).")) -> None:
    """Add a paid membership plan.

    Example: loyalty membership plan add Club --fee 30.00 --months 12 --multiplier 2 --perk "free delivery"
    """
    from loyaltycli.services import memberships
    from loyaltycli.base.money import parse_money

    cents = parse_money(fee, what="--fee")
    with options.database().session() as session:
        plan = memberships.add_plan(session, name, cents, months, multiplier, perk)
        text = memberships.fee_text(plan)
    emit({"plan": plan.name, "fee": _money(plan.fee), "months": plan.months, "multiplier": plan.multiplier,
          "perk": plan.perk}, message=_("plan {plan}: {fee}, points x{multiplier}").format(
              plan=plan.name, fee=text, multiplier=plan.multiplier))


@plan_app.command("list")
def plan_list() -> None:
    """List membership plans with their fee, period, multiplier, perk and current members.

    Example: loyalty membership plan list
    """
    from loyaltycli.services import memberships

    with options.database().session(write=False) as session:
        rows = memberships.list_plans(session)
    emit([{**r, "fee": _money(r["fee"])} for r in rows],
         columns=["plan", "fee", "months", "multiplier", "perk", "members"], title=_("Membership plans"))


@membership_app.command("join")
def membership_join(key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
                    plan: str = typer.Argument(..., help="Plan name."),
                    at: Optional[str] = typer.Option(None, "--at", help="Start (ISO-8601), for back-dating.")) -> None:
    """Start a paid membership; the fee is recorded as a payment (not as spend for tiers).

    Example: loyalty membership join C000001 Club
    """
    from loyaltycli.services import customers, memberships

    with options.database().session() as session:
        customer = customers.find(session, key)
        result = memberships.join(session, customer, plan, _when(at))
    emit(_membership_data(result),
         message=_("{code} joined {plan} until {until} (fee {fee} paid; points x{multiplier})").format(
             code=result.code, plan=result.plan, until=result.ends_at.date().isoformat(), fee=_money(result.fee),
             multiplier=result.multiplier))


@membership_app.command("renew")
def membership_renew(key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
                     at: Optional[str] = typer.Option(None, "--at", help="Time of payment (ISO-8601).")) -> None:
    """Pay one more period: it starts when the current one ends (or now, if it lapsed).

    Example: loyalty membership renew C000001
    """
    from loyaltycli.services import customers, memberships

    with options.database().session() as session:
        customer = customers.find(session, key)
        result = memberships.renew(session, customer, _when(at))
    emit(_membership_data(result),
         message=_("{code} renewed {plan} until {until} (fee {fee} paid)").format(
             code=result.code, plan=result.plan, until=result.ends_at.date().isoformat(), fee=_money(result.fee)))


@membership_app.command("cancel")
def membership_cancel(key: str = typer.Argument(..., help="Customer code, card, e-mail or phone.")) -> None:
    """End a membership now: the multiplier stops (fees already paid are kept).

    Example: loyalty membership cancel C000001
    """
    from loyaltycli.services import customers, memberships

    with options.database().session() as session:
        customer = customers.find(session, key)
        result = memberships.cancel(session, customer)
    emit({"code": result.code, "plan": result.plan, "cancelled_at": result.ends_at},
         message=_("{code}: {plan} membership cancelled").format(code=result.code, plan=result.plan))


@membership_app.command("list")
def membership_list(active: bool = typer.Option(False, "--active", help="Only running memberships.")) -> None:
    """List members: plan, since, paid until, status (active, lapsed, cancelled), fees paid.

    Example: loyalty membership list --active --csv
    """
    from loyaltycli.services import memberships

    with options.database().session(write=False) as session:
        rows = memberships.list_memberships(session, active_only=active)
    emit([{**r, "fees_paid": _money(r["fees_paid"])} for r in rows],
         columns=["code", "name", "plan", "since", "paid_until", "status", "fees_paid"], title=_("Memberships"))


# -- rewards --------------------------------------------------------------------------------------
@reward_app.command("add", context_settings=NUMBERS)
def reward_add(name: str = typer.Argument(..., help="Reward name."),
               cost: int = typer.Option(..., "--cost", help="Cost in points.")) -> None:
    """Add a reward to the catalogue.

    Example: loyalty reward add "Free coffee" --cost 100
    """
    from loyaltycli.services import rewards
    from loyaltycli.store.program import load_program

    with options.database().session() as session:
        program = load_program(session)
        reward = rewards.add_reward(session, program, name, cost)
        value = reward.cost * program.point_value
    emit({"reward": reward.name, "cost": reward.cost, "value": _money(value)},
         message=ngettext("reward {reward}: {cost} point", "reward {reward}: {cost} points", abs(reward.cost))
         .format(reward=reward.name, cost=reward.cost))


@reward_app.command("list")
def reward_list() -> None:
    """List the reward catalogue: cost in points, value, times redeemed.

    Example: loyalty reward list --json
    """
    from loyaltycli.services import rewards
    from loyaltycli.store.program import load_program

    with options.database().session(write=False) as session:
        rows = rewards.list_rewards(session, load_program(session))
    emit([{**r, "value": _money(r["value"])} for r in rows], columns=["reward", "cost", "value", "redeemed"],
         title=_("Rewards"))


@reward_app.command("remove")
def reward_remove(name: str = typer.Argument(..., help="Reward name.")) -> None:
    """Withdraw a reward from the catalogue (past redemptions keep it).

    Example: loyalty reward remove "Free coffee"
    """
    from loyaltycli.services import rewards

    with options.database().session() as session:
        reward = rewards.remove_reward(session, name)
    emit({"reward": reward.name, "removed": True}, message=_("reward {reward} removed").format(reward=reward.name))


# -- presets, birthdays, rebate -------------------------------------------------------------------
def program_preset(name: str = typer.Argument(..., help="cashback or points."),
                   percent: Optional[str] = typer.Option(None, "--percent", help="Cashback percent (default 5).")) -> None:
    """Switch the program type: cashback (points are store credit in cents) or points (the defaults).

    Example: loyalty program preset cashback --percent 5
    """
    from loyaltycli.store.program import apply_preset

    with options.database().session() as session:
        values = apply_preset(session, name, percent)
    emit(values, message=_("program preset {name}: {settings}").format(
        name=name.strip().lower(), settings=", ".join(f"{k} = {v}" for k, v in values.items())))


def birthdays(days: int = typer.Option(0, "--days", help="Also the next N days (0: today only)."),
              award: bool = typer.Option(False, "--award", help="Give the birthday bonus (once a year each)."),
              as_of: Optional[str] = typer.Option(None, "--as-of", help="Run as of this day (YYYY-MM-DD).")) -> None:
    """List customers whose birthday is today (or in the next --days); --award gives birthday_bonus.

    Example: loyalty birthdays --days 7 --award
    """
    from loyaltycli.services import bonuses
    from loyaltycli.store.program import load_program

    with options.database().session(write=award) as session:
        program = load_program(session)
        run = bonuses.birthdays(session, program, as_of=_day(as_of, "--as-of"), days=days, award=award)
    rows = [{"code": c["code"], "name": c["name"], "birthday": c["birthday"], "on": c["on"], "age": c["age"],
             "awarded": c["awarded"], "points": c["points"]} for c in run.customers]
    if award and not options.current.json and not options.current.csv:
        emit(rows, message=_("birthday bonus: {customers}, {points} ({already} had it already)").format(
            customers=ngettext("{count} customer", "{count} customers", run.awarded).format(count=run.awarded),
            points=ngettext("{count} point", "{count} points", abs(run.points)).format(count=run.points),
            already=len(rows) - run.awarded))
        return
    emit(rows, columns=["code", "name", "birthday", "on", "age", "awarded", "points"], title=_("Birthdays"))


def rebate(year: int = typer.Option(..., "--year", help="A finished calendar year."),
           percent: str = typer.Option(..., "--percent", help="Percent of the year's net spend, e.g. 2."),
           dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be given; change nothing.")) -> None:
    """Year-end rebate: percent of each customer's net spend in YEAR back as points, once per year.

    Example: loyalty rebate --year 2025 --percent 2 --dry-run
    """
    from loyaltycli.services import bonuses
    from loyaltycli.store.program import load_program

    with options.database().session(write=not dry_run) as session:
        program = load_program(session)
        run = bonuses.rebate(session, program, year, percent, dry_run=dry_run)
    rows = [{**c, "spend": _money(c["spend"])} for c in run.customers]
    if options.current.json:
        emit({"year": run.year, "percent": decimal_text(run.percent), "dry_run": dry_run,
              "customers": len(rows), "points": run.points, "spend": _money(run.spend),
              "already_rebated": run.already, "rebates": rows})
        return
    emit(rows, columns=["code", "name", "spend", "points"],
         message=None if dry_run else _("year-end rebate for {year}: {points} given to {customers} ({already} already had it)").format(
             year=run.year, points=ngettext("{count} point", "{count} points", abs(run.points)).format(count=run.points),
             customers=ngettext("{count} customer", "{count} customers", len(rows)).format(count=len(rows)),
             already=run.already),
         title=(_("Rebate {year} ({percent}%, would give {points} points)") if dry_run
                else _("Rebate {year} ({percent}%, gave {points} points)")).format(
             year=run.year, percent=run.percent.normalize(), points=run.points))


def register(app: typer.Typer) -> None:
    from loyaltycli.cli.reports import report_app
    from loyaltycli.cli.setup import program_app

    app.add_typer(referral_app, name="referral")
    app.command("expire")(expire)
    app.command("donate", context_settings=NUMBERS)(donate)
    app.add_typer(cause_app, name="cause")
    app.add_typer(membership_app, name="membership")
    app.add_typer(reward_app, name="reward")
    program_app.command("preset")(program_preset)
    app.command("birthdays")(birthdays)
    app.command("rebate")(rebate)
    report_app.command("donations")(donations_report)

