"""Paid memberships: the fee is a payment (not spend); the plan's multiplier applies while active."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from loyaltycli.shop import clock
from loyaltycli.services import customers, memberships, points
from loyaltycli.store import ledger, tiers as rules
from loyaltycli.base.errors import NotFound, RuleNotMet
from loyaltycli.store.models import Membership


def at(text: str) -> datetime:
    return clock.parse_timestamp(text)


@pytest.fixture
def club(cli):
    result = cli("membership", "plan", "add", "Club", "--fee", "30.00", "--months", "12", "--multiplier", "2",
                 "--perk", "free delivery")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "plan Club: 30.00 per 12 months, points x2\n"
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2025-01-01")


def test_plan_list(cli, club):
    assert cli.json("membership", "plan", "list") == [
        {"plan": "Club", "fee": "30.00", "months": 12, "multiplier": "2", "perk": "free delivery", "members": 0,
         "currency": "EUR"}]
    cli("membership", "join", "C000001", "club")
    assert cli.json("membership", "plan", "list")[0]["members"] == 1


def test_a_perk_over_500_characters_is_refused_not_cut(cli):
    result = cli("membership", "plan", "add", "Long", "--fee", "9.00", "--months", "1", "--multiplier", "1", "--perk", "p" * 501)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: the perk must be at most 500 characters"
    assert cli.json("membership", "plan", "list") == []
    result = cli("membership", "plan", "add", "Long", "--fee", "9.00", "--months", "1", "--multiplier", "1", "--perk", "p" * 500)
    assert result.exit_code == 0, result.stderr
    assert cli.json("membership", "plan", "list")[0]["perk"] == "p" * 500


def test_a_multiplier_of_ten_is_written_10_not_1E1(cli):
    result = cli("membership", "plan", "add", "Gold", "--fee", "90.00", "--months", "12", "--multiplier", "10")
    assert result.stdout == "plan Gold: 90.00 per 12 months, points x10\n"
    assert cli.json("membership", "plan", "list")[0]["multiplier"] == "10"
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2025-01-01")
    cli("membership", "join", "C000001", "Gold")
    sale = cli.json("purchase", "C000001", "5.00")
    assert (sale["points"], sale["multiplier"]) == (50, "10")
    assert "x10)" in cli.json("history", "C000001")[-1]["note"]


def test_multiplier_applies_while_active_and_fee_is_not_spend(cli, club):
    result = cli("membership", "join", "C000001", "Club")
    assert result.stdout == "C000001 joined Club until 2027-06-15 (fee 30.00 paid; points x2)\n"
    sale = cli.json("purchase", "C000001", "24.50")
    assert (sale["points"], sale["multiplier"]) == (24 * 2, "2")
    assert cli.json("history", "C000001")[-1]["balance"] == 50 + 48
    assert cli.json("balance", "C000001")["balance"] == 48  # spendable: the welcome points have expired
    # the 30.00 fee is not qualifying spend: only the 24.50 sale counts
    assert cli.json("customer", "show", "C000001")["spend"] == "24.50"
    cli("membership", "cancel", "C000001")
    assert cli.json("purchase", "C000001", "24.50")["points"] == 24


def test_lapsed_membership_stops_and_back_dated_sales_use_it(cli, club):
    assert cli("membership", "join", "C000001", "Club", "--at", "2025-01-15").exit_code == 0
    # ended 2026-01-15: a sale now earns x1, a back-dated one inside the period x2
    assert cli.json("purchase", "C000001", "10.00")["points"] == 10
    assert cli.json("purchase", "C000001", "10.00", "--at", "2025-06-01")["points"] == 20
    assert cli.json("membership", "list")[0]["status"] == "lapsed"


def test_renew_extends_by_one_period_and_records_the_fee(cli, club):
    cli("membership", "join", "C000001", "Club")
    result = cli("membership", "renew", "C000001")
    assert result.stdout == "C000001 renewed Club until 2028-06-15 (fee 30.00 paid)\n"
    rows = cli.json("membership", "list")
    assert rows == [{"code": "C000001", "name": "Ann", "plan": "Club", "since": "2026-06-15T12:00:00+00:00",
                     "paid_until": "2028-06-15T12:00:00+00:00", "status": "active", "cancelled_at": None,
                     "fees_paid": "60.00", "currency": "EUR"}]
    # the multiplier runs on into the renewed period
    assert cli.json("purchase", "C000001", "10.00", "--at", "2026-06-15T12:00:00Z")["points"] == 20


def test_renew_after_lapse_starts_now(session, program):
    ann = customers.enroll(session, program, "Ann", email="ann@example.ie", at=at("2025-01-01"))
    memberships.add_plan(session, "Monthly", 500, 1, "1.5")
    memberships.join(session, ann, "monthly", at("2026-01-31T10:00:00Z"))
    first = session.execute(select(Membership)).scalar()
    assert first.ends_at == at("2026-02-28T10:00:00Z")  # the 31st: the month's last day
    renewed = memberships.renew(session, ann)
    assert (renewed.started_at, renewed.ends_at) == (at("2026-06-15T12:00:00Z"), at("2026-07-15T12:00:00Z"))
    assert sum(m.fee for m in session.execute(select(Membership)).scalars()) == 1000
    assert rules.membership_multiplier(session, ann.id, at("2026-06-20")) == 1.5
    assert rules.membership_multiplier(session, ann.id, at("2026-04-01")) == 1
    sale = points.post_purchase(session, program, ann, 2000)
    assert sale.points == 30
    assert ledger.balance(session, ann.id) == 80


def test_refusals(cli, club):
    renew = cli("membership", "renew", "C000001")
    assert renew.exit_code == 1
    assert renew.stderr == "error: C000001 has no membership; use `loyalty membership join C000001 PLAN`\n"
    cancel = cli("membership", "cancel", "C000001")
    assert cancel.stderr == "error: C000001 has no running membership to cancel\n"
    unknown = cli("membership", "join", "C000001", "Gold Club")
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: unknown plan 'Gold Club'; see `loyalty membership plan list`\n"
    cli("membership", "join", "C000001", "Club")
    twice = cli("membership", "join", "C000001", "Club")
    assert twice.exit_code == 1
    assert twice.stderr == ("error: C000001 is already a Club member until 2027-06-15; use "
                            "`loyalty membership renew` or cancel first\n")
    cli("membership", "cancel", "C000001")
    again = cli("membership", "renew", "C000001")
    assert again.stderr.startswith("error: C000001's membership was cancelled")
    dup = cli("membership", "plan", "add", "club", "--fee", "1", "--months", "1", "--multiplier", "1")
    assert dup.exit_code == 1 and "already exists" in dup.stderr
    bad = cli("membership", "plan", "add", "Odd", "--fee", "1", "--months", "0", "--multiplier", "1")
    assert bad.exit_code == 1 and bad.stderr == "error: --months must be 1 to 120\n"
    early = cli("membership", "join", "C000001", "Club", "--at", "2024-12-01")
    assert early.exit_code == 1 and "before C000001 enrolled" in early.stderr


def test_core_join_unknown_plan(session, program):
    ann = customers.enroll(session, program, "Ann", email="ann@example.ie")
    with pytest.raises(NotFound):
        memberships.join(session, ann, "nope")
    memberships.add_plan(session, "Club", 3000, 12, "2")
    memberships.join(session, ann, "Club")
    with pytest.raises(RuleNotMet):
        memberships.join(session, ann, "Club")
