"""Value-based loyalty: donate points to causes; totals per cause in points and currency."""

from __future__ import annotations

import pytest

from loyaltycli.shop import clock
from loyaltycli.services import customers, donations, points
from loyaltycli.store import ledger
from loyaltycli.base.errors import InsufficientPoints, NotFound, RuleNotMet


@pytest.fixture
def shop(cli):
    assert cli("cause", "add", "Food bank").stdout == "cause Food bank added\n"
    cli("cause", "add", "Animal shelter")
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2026-01-01")
    cli("enroll", "Bob", "--email", "bob@example.ie", "--at", "2026-01-01")
    cli("purchase", "C000001", "300.00", "--at", "2026-02-01")   # Ann 350 points
    cli("purchase", "C000002", "100.00", "--at", "2026-02-01")   # Bob 150 points


def test_donate_and_report(cli, shop):
    result = cli("donate", "C000001", "200", "--cause", "food BANK", "--at", "2026-03-01")
    assert result.stdout == "C000001: donated 200 points (10.00) to Food bank; balance 150\n"
    cli("donate", "C000002", "100", "--cause", "Food bank", "--at", "2026-05-01")
    cli("donate", "C000001", "40", "--cause", "Animal shelter", "--at", "2026-05-02")
    assert cli.json("balance", "C000001")["balance"] == 110
    assert cli.json("report", "donations") == [
        {"cause": "Animal shelter", "donations": 1, "donors": 1, "points": 40, "value": "2.00", "currency": "EUR"},
        {"cause": "Food bank", "donations": 2, "donors": 2, "points": 300, "value": "15.00", "currency": "EUR"}]
    # period [from, to): May only
    assert cli.json("report", "donations", "--from", "2026-05-01", "--to", "2026-06-01") == [
        {"cause": "Animal shelter", "donations": 1, "donors": 1, "points": 40, "value": "2.00", "currency": "EUR"},
        {"cause": "Food bank", "donations": 1, "donors": 1, "points": 100, "value": "5.00", "currency": "EUR"}]
    assert [(r["cause"], r["points"], r["value"]) for r in cli.json("cause", "list")] == [
        ("Animal shelter", 40, "2.00"), ("Food bank", 300, "15.00")]
    history = cli.json("history", "C000001")
    assert (history[-1]["kind"], history[-1]["points"], history[-1]["note"]) == (
        "donate", -40, "donated to Animal shelter")


def test_refusals(cli, shop):
    too_much = cli("donate", "C000002", "151", "--cause", "Food bank")
    assert too_much.exit_code == 1 and too_much.stderr == "error: C000002 has 150 points; 151 needed\n"
    unknown = cli("donate", "C000002", "10", "--cause", "Zoo")
    assert unknown.stderr == ("error: unknown cause 'Zoo'; add it with `loyalty cause add NAME` or see "
                              "`loyalty cause list`\n")
    zero = cli("donate", "C000002", "0", "--cause", "Food bank")
    assert zero.exit_code == 1 and zero.stderr == "error: points to donate must be a positive whole number\n"
    dup = cli("cause", "add", "food bank")
    assert dup.exit_code == 1 and dup.stderr == "error: cause 'food bank' already exists; see `loyalty cause list`\n"
    bad = cli("report", "donations", "--from", "2026-06-01", "--to", "2026-05-01")
    assert bad.exit_code == 1
    assert cli.json("balance", "C000002")["balance"] == 150


def test_core_donation_totals(session, program):
    ann = customers.enroll(session, program, "Ann", email="ann@example.ie", at=clock.parse_timestamp("2026-01-01"))
    donations.add_cause(session, "Library")
    with pytest.raises(RuleNotMet):
        donations.add_cause(session, "  library ")
    with pytest.raises(NotFound):
        donations.donate(session, program, ann, 10, "Zoo")
    with pytest.raises(InsufficientPoints):
        donations.donate(session, program, ann, 51, "Library")
    points.award(session, program, ann, 25, "survey thanks")
    result = donations.donate(session, program, ann, 75, "Library")
    assert (result.points, result.value, result.balance) == (75, 375, 0)
    assert ledger.balance(session, ann.id) == 0
    assert donations.donation_totals(session) == [
        {"cause": "Library", "donations": 1, "donors": 1, "points": 75, "value": 375}]
    assert donations.donation_totals(session, clock.parse_timestamp("2026-06-16")) == []

