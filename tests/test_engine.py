"""The rules engine alone: no database, no clock (accounts built by hand, times given)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltycli.base.errors import InvalidInput, RuleNotMet
from loyaltycli.store.program import Program, settings as program_settings
from loyaltycli.engine.account import Account, Referral, Referrer
from loyaltycli.engine.earning import DELTA, KIND, Engine, Sale

pytestmark = pytest.mark.dialect_free("the engine is pure: no database (import-linter checks it)")

UTC = timezone.utc
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def program(**changes) -> Program:
    values = {key: setting.parse(setting.default) for key, setting in program_settings().items()}
    values.update(changes)
    return Program(values)


def engine(**changes) -> Engine:
    return Engine(program(**changes), UTC, T0)


def account(n: int = 1) -> Account:
    a = Account(n, f"C{n:06d}", T0 - timedelta(days=30))
    a.reset(0)
    return a


def test_a_sale_earns_at_the_tier_of_the_window_before_it_and_the_milestone_once():
    e, a = engine(), account()
    first = e.sale(a, "R1", T0, 60_000, "store")
    assert [(r[KIND], r[DELTA]) for r in first.rows] == [("earn", 600), ("milestone", 250)]
    assert first.tier.name == "Bronze"
    second = e.sale(a, "R2", T0 + timedelta(days=1), 1_000, "store")  # 600.00 in the window: Silver x1.25
    assert [(r[KIND], r[DELTA]) for r in second.rows] == [("earn", 12)] and second.tier.name == "Silver"
    assert "Silver x1.25" in second.rows[0][8]


def test_a_membership_multiplies_while_it_runs():
    e, a = engine(), account()
    a.add_membership(T0, T0 + timedelta(days=10), None, Decimal(2))
    assert e.sale(a, "R1", T0 + timedelta(days=1), 1_000, "store").earned == 20
    assert e.sale(a, "R2", T0 + timedelta(days=11), 1_000, "store").earned == 10


def test_a_sale_before_enrollment_is_refused():
    with pytest.raises(RuleNotMet, match="before C000001 enrolled"):
        engine().sale(account(), "R1", T0 - timedelta(days=31), 1_000, "store")


def test_the_first_purchase_of_a_referee_rewards_both_once_and_counts_for_the_referrer():
    e = engine()
    ann = Referrer(7, "C000007", True, 0)
    bob, cat = account(1), account(2)
    bob.referral, cat.referral = Referral(ann), Referral(ann)
    small = e.sale(bob, "B0", T0, 500, "store")  # below referral_min_purchase (10.00)
    assert small.rewarded is None and bob.referral is not None
    d = e.sale(bob, "B1", T0, 2_000, "store")
    assert [(r[0], r[KIND], r[DELTA]) for r in d.rows] == [(1, "earn", 20), (1, "referral", 100), (7, "referral", 200)]
    assert d.rewarded.referrer is ann and bob.referral is None and ann.successful == 1
    assert e.sale(bob, "B2", T0, 2_000, "store").rewarded is None
    e.sale(cat, "C1", T0, 2_000, "store")
    assert ann.successful == 2


def test_refunds_reverse_in_proportion_cumulatively_and_never_more_than_the_sale():
    e, a = engine(), account()
    e.sale(a, "R1", T0, 999, "store")  # 9 points
    sale = Sale("R1", 1, "C000001", T0, 999, 10)  # 10 points earned
    assert [e.refund(a, "R1/R1", T0, 333, sale).earned for _ in range(3)] == [-3, -3, -4]
    with pytest.raises(RuleNotMet, match="already fully refunded"):
        e.refund(a, "R1/R4", T0, 1, sale)


def test_a_refund_before_its_sale_or_of_more_than_is_left_is_refused():
    e, a = engine(), account()
    sale = Sale("R1", 1, "C000001", T0, 1_000, 10)
    with pytest.raises(InvalidInput, match="earlier than its sale"):
        e.refund(a, "R1-R", T0 - timedelta(seconds=1), 100, sale)
    with pytest.raises(RuleNotMet, match="more than what is left"):
        e.refund(a, "R1-R", T0, 1_001, sale)
    with pytest.raises(RuleNotMet, match="belongs to C000009"):
        e.refund(a, "R1-R", T0, 100, Sale("R1", 9, "C000009", T0, 1_000, 10))
    assert sale.refunded == 0  # nothing changed by a refusal


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 200_000)), min_size=1, max_size=30),
       st.lists(st.integers(1, 100_000), max_size=8))
def test_property_refunds_of_a_sale_add_up_to_what_it_earned_and_spend_is_net(sales, refunds):
    e, a = engine(), account()
    earned = {}
    for i, (day, amount) in enumerate(sorted(sales)):
        earned[i] = e.sale(a, f"R{i}", T0 + timedelta(days=day), amount, "store").earned
    last = len(sales) - 1
    at = T0 + timedelta(days=sorted(sales)[-1][0])
    sale = Sale(f"R{last}", 1, "C000001", at, sorted(sales)[-1][1], earned[last])
    taken = 0
    for amount in refunds:
        try:
            taken += -e.refund(a, "x", at, amount, sale).earned
        except RuleNotMet:
            continue
        assert 0 <= taken <= earned[last]
    if sale.refunded == sale.amount:
        assert taken == earned[last]
    assert a.spend_between(0, 2**62) == sum(amount for _, amount in sales) - sale.refunded


def test_every_rule_module_is_pure_and_the_order_is_the_documented_one():
    """The program types are rules of engine/rules/, run in the order its docstring gives; none of them
    reaches the database, the clock or the CLI."""
    import json
    import subprocess
    import sys

    import loyaltycli.engine.rules as rules

    code = ("import json, sys; from loyaltycli.engine import rules; rules.modules(); "
            "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout))
    assert not {m.split(".")[0] for m in modules} & {"sqlalchemy", "sqlmodel", "typer", "rich"}
    assert "loyaltycli.shop.clock" not in modules and "loyaltycli.store.db" not in modules
    assert rules.order() == [(5, "by_product"), (10, "spend"), (20, "visits"), (30, "items"), (40, "milestone"),
                             (50, "referral"), (60, "cards"), (70, "goals"), (80, "welcome"), (90, "birthday")]
    for position, name in rules.order():
        assert f"{position:>3}  " in rules.__doc__  # each one in the documented order


def test_a_rule_hook_left_out_is_not_called():
    e = engine(earn_per_visit=0, milestone_bonus=0)
    # no stamp card runs: the stamp-card rule is there only for refunds of sales that earned stamps
    assert [type(hook.__self__).__name__ for hook in e.hooks("sale")] == ["SpendPoints", "ReferralBonus"]
    assert [type(hook.__self__).__name__ for hook in e.hooks("refund")] == ["SpendPoints", "StampCardRefunds"]
    assert [type(hook.__self__).__name__ for hook in e.hooks("enroll")] == ["Welcome"]


def test_a_late_stamp_restates_the_card_with_appended_rows_only():
    """engine.cards.restate: a stamp dated before a later fill that it would have filled at its own time;
    the fill's completion moves to its time, its voucher is voided and the one of its time issued, the
    deadline restated (pure: the log in, rows out)."""
    from datetime import datetime, timedelta, timezone

    from loyaltycli.engine.cards import CardRule, Logged, restate

    card = CardRule(1, "Coffee", 3, "Free coffee", ("COF-*",), 0, "item", 30)
    day = lambda n: datetime(2026, 5, n, 9, tzinfo=timezone.utc)  # noqa: E731
    later = day(20) + timedelta(days=30)
    log = [Logged(day(1), "stamp", "stamp", 1, day(31), 1), Logged(day(3), "stamp", "stamp", 1, None),  # the late one
           Logged(day(5), "stamp", "stamp", 1, day(31), 2), Logged(day(20), "stamp", "stamp", 1, None, 3),
           Logged(day(20), "complete", "stamp", -3, None, 4), Logged(day(20), "voucher", "voucher", 1, later, 5)]
    rows, held, end, own = restate(card, log, 1, 7, day(25), ("n", "card_restated", "{}"))
    assert [(r[2], r[3], r[4], r[5], r[6]) for r in rows] == [
        ("complete", "stamp", -3, day(5), None), ("complete", "stamp", 3, day(20), None),
        ("voucher_void", "voucher", -1, day(20), later),
        ("voucher", "voucher", 1, day(5), day(5) + timedelta(days=30)),
        ("restate", "stamp", 0, day(20), later)]
    assert (held, end, own) == (1, later, day(31))


@settings(max_examples=200, deadline=None)
@given(hours=st.lists(st.integers(min_value=-40, max_value=40), min_size=1, max_size=12),
       zone=st.sampled_from(["Europe/Bucharest", "Europe/Lisbon", "America/New_York", "UTC"]))
def test_the_year_kept_between_sales_is_the_shops_calendar_year_of_each(hours, zone):
    """Engine.year_span keeps the last year asked (sales come in time order), and answers any other time
    too: around a new year's local midnight, forward and back, the shop's year as year_of reads it."""
    from zoneinfo import ZoneInfo

    from loyaltycli.base.instants import microseconds

    tz = ZoneInfo(zone)
    e = Engine(program(), tz, T0)
    new_year = datetime(2026, 1, 1, tzinfo=tz).astimezone(UTC)
    for hour in hours:
        at = new_year + timedelta(hours=hour, minutes=30)
        year, start, end = e.year_span(at, microseconds(at))
        assert year == at.astimezone(tz).year == e.year_of(at)
        assert (start, end) == (microseconds(e.year_start(year)), microseconds(e.year_start(year + 1)))
        assert start <= microseconds(at) < end
