"""Referral codes: issued at enrollment, given once, both sides rewarded on the first qualifying purchase."""

from __future__ import annotations

from datetime import datetime

import pytest

from loyaltycli.shop import clock
from loyaltycli.services import customers, points, referrals
from loyaltycli.store import ledger
from loyaltycli.services.customers import REFERRAL_ALPHABET
from loyaltycli.base.errors import RuleNotMet
from loyaltycli.store.models import Referral


def at(text: str) -> datetime:
    return clock.parse_timestamp(text)


def test_codes_are_8_characters_unique_and_without_look_alikes(session, program):
    codes = {customers.enroll(session, program, f"P{i}", email=f"p{i}@example.ie").referral_code for i in range(60)}
    assert len(codes) == 60
    for code in codes:
        assert len(code) == 8
        assert set(code) <= set(REFERRAL_ALPHABET)
        assert not set(code) & set("01OIL")


def test_both_rewarded_on_first_qualifying_purchase_only(session, program):
    ann = customers.enroll(session, program, "Ann", email="ann@example.ie", at=at("2026-01-01"))
    bob = customers.enroll(session, program, "Bob", email="bob@example.ie",
                           referral_code=ann.referral_code.lower(), at=at("2026-06-01"))
    # below the 10.00 minimum: only the purchase's own points
    points.post_purchase(session, program, bob, 999, at=at("2026-06-02"))
    assert ledger.balance(session, bob.id) == 50 + 9
    assert ledger.balance(session, ann.id) == 50
    result = points.post_purchase(session, program, bob, 1000, at=at("2026-06-03"))
    assert ledger.balance(session, bob.id) == 59 + 10 + 100
    assert ledger.balance(session, ann.id) == 50 + 200
    assert sorted((b.customer_id, b.points) for b in result.bonuses) == sorted([(bob.id, 100), (ann.id, 200)])
    # a second qualifying purchase rewards nobody again
    points.post_purchase(session, program, bob, 5000, at=at("2026-06-04"))
    assert ledger.balance(session, bob.id) == 169 + 50
    assert ledger.balance(session, ann.id) == 250
    assert referrals.successful_count(session, ann.id) == 1


def test_referrer_reward_grows_with_successful_referrals(session, program):
    ann = customers.enroll(session, program, "Ann", email="ann@example.ie", at=at("2026-01-01"))
    for i in range(1, 6):
        friend = customers.enroll(session, program, f"F{i}", email=f"f{i}@example.ie",
                                  referral_code=ann.referral_code, at=at("2026-02-01"))
        points.post_purchase(session, program, friend, 1000, at=at(f"2026-03-0{i}"))
    # 1st to 4th: 200 each; from the 5th on: 300 (referral_steps 1:200,5:300)
    assert ledger.balance(session, ann.id) == 50 + 4 * 200 + 300


def test_referral_steps_are_configurable(cli):
    assert cli("program", "set", "referral_steps", "1:200,2:250").exit_code == 0
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2026-01-01")
    code = cli.json("referral", "code", "C000001")["referral_code"]
    for i in (2, 3):
        cli("enroll", f"F{i}", "--email", f"f{i}@example.ie", "--referral-code", code, "--at", "2026-02-01")
        assert cli("purchase", f"C00000{i}", "12.00", "--at", "2026-03-01").exit_code == 0
    assert cli.json("balance", "C000001")["balance"] == 50 + 200 + 250
    data = cli.json("referral", "code", "C000001")
    assert data == {"code": "C000001", "referral_code": code, "successful_referrals": 2}


def test_self_referral_is_refused_with_reason(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--phone", "0851234567")
    code = cli.json("referral", "code", "C000001")["referral_code"]
    result = cli("enroll", "Ann Again", "--phone", "+353 85 123 4567", "--referral-code", code)
    assert result.exit_code == 1
    assert result.stderr == (f"error: self-referral: code {code} belongs to C000001, "
                             "who has the same phone or e-mail\n")
    result = cli("enroll", "Ann Again", "--email", "ANN@example.ie", "--referral-code", code)
    assert result.exit_code == 1 and "self-referral" in result.stderr
    assert cli("customer", "list", "--csv").stdout.count("\n") == 2  # header + Ann: nothing changed


def test_unknown_code_is_refused(cli):
    result = cli("enroll", "Bob", "--email", "bob@example.ie", "--referral-code", "ZZZZZZZZ")
    assert result.exit_code == 1
    assert result.stderr == ("error: unknown referral code 'ZZZZZZZZ'; check it with "
                             "`loyalty referral code KEY`\n")


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_code_given_after_enrollment(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2026-01-01")
    cli("enroll", "Eve", "--email", "eve@example.ie", "--at", "2026-01-01")
    ann = cli.json("referral", "code", "C000001")["referral_code"]
    eve = cli.json("referral", "code", "C000002")["referral_code"]
    # same day, before the first purchase: accepted once
    cli("enroll", "Bob", "--email", "bob@example.ie", "--at", "2026-06-15T09:00")
    result = cli("referral", "add", "C000003", ann.lower())
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"C000003 referred by C000001 (code {ann}); both are rewarded on C000003's first "
                             "purchase of at least 10.00\n")
    second = cli("referral", "add", "C000003", eve)
    assert second.exit_code == 1
    assert second.stderr == f"error: C000003 was already referred by C000001 (code {ann}); one referrer per customer\n"
    # own code
    own = cli.json("referral", "code", "C000002")["referral_code"]
    cli("enroll", "Cid", "--email", "cid@example.ie")
    assert "self-referral" in cli("referral", "add", "C000002", own).stderr
    # after the first purchase
    cli("purchase", "C000004", "5.00")
    late = cli("referral", "add", "C000004", ann)
    assert late.exit_code == 1
    assert late.stderr.startswith("error: a referral code is accepted only at enrollment")
    # enrolled days ago
    cli("enroll", "Dan", "--email", "dan@example.ie", "--at", "2026-06-10")
    assert cli("referral", "add", "C000005", ann).exit_code == 1
    # the accepted late code pays like one given at enrollment
    cli("purchase", "C000003", "10.00")
    assert cli.json("balance", "C000003")["balance"] == 50 + 10 + 100
    assert cli.json("balance", "C000001")["balance"] == 50 + 200


def test_referral_add_core_refuses_second_referrer(session, program):
    ann = customers.enroll(session, program, "Ann", email="ann@example.ie", at=at("2026-06-01"))
    bob = customers.enroll(session, program, "Bob", email="bob@example.ie", referral_code=ann.referral_code)
    with pytest.raises(RuleNotMet, match="already referred"):
        referrals.add_referral(session, program, bob, ann.referral_code)
    assert session.query(Referral).count() == 1


def test_referral_list(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2026-01-01")
    code = cli.json("referral", "code", "C000001")["referral_code"]
    cli("enroll", "Bob", "--email", "bob@example.ie", "--referral-code", code, "--at", "2026-02-01")
    cli("enroll", "Cat", "--email", "cat@example.ie", "--referral-code", code, "--at", "2026-03-01")
    cli("enroll", "Dee", "--email", "dee@example.ie")
    cli("purchase", "C000002", "15.00", "--at", "2026-04-01T10:00:00Z")
    rows = cli.json("referral", "list", "C000001")
    assert [(r["referee"], r["status"], r["referee_points"], r["referrer_points"]) for r in rows] == [
        ("C000002", "rewarded", 100, 200), ("C000003", "pending", 0, 0)]
    assert rows[0]["rewarded_at"] == "2026-04-01T10:00:00+00:00"
    assert cli.json("referral", "list", "C000004") == []
    assert len(cli.json("referral", "list")) == 2
    assert cli("referral", "list", "--csv").stdout.splitlines()[0] == (
        "referrer,referee,referee_name,code,at,status,rewarded_at,referee_points,referrer_points")
