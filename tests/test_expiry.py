"""Points expiry: lots expire after expiry_days, oldest used first; `expire` is idempotent and back-datable."""

from __future__ import annotations

import pytest
import time

from sqlalchemy import select

from loyaltycli.shop import clock
from loyaltycli.services import customers, expiry, points
from loyaltycli.store import ledger
from loyaltycli.base.errors import InsufficientPoints
from loyaltycli.store.models import LedgerEntry


def at(text: str):
    return clock.parse_timestamp(text)


def _shop(cli):
    """Ann: welcome 50 (2025-01-10, expires 2026-01-10), 100 points (2025-03-01), 40 points (2025-08-01)."""
    assert cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2025-01-10").exit_code == 0
    assert cli("purchase", "C000001", "100.00", "--at", "2025-03-01").exit_code == 0
    assert cli("purchase", "C000001", "40.00", "--at", "2025-08-01").exit_code == 0


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_expire_is_back_datable_and_idempotent(cli):
    _shop(cli)
    first = cli.json("expire", "--as-of", "2026-02-01")
    assert (first["customers"], first["points"]) == (1, 50)
    assert first["as_of"] == "2026-02-02T00:00:00+00:00"  # the end of that day
    assert cli.json("expire", "--as-of", "2026-02-01")["points"] == 0
    # the spendable balance: March's 100 points expired on 2026-03-01, written off or not
    assert cli.json("balance", "C000001")["balance"] == 40
    now = cli.json("expire")
    assert (now["customers"], now["points"]) == (1, 100)
    assert cli.json("expire")["points"] == 0
    assert cli.json("balance", "C000001")["balance"] == 40
    rows = [r for r in cli.json("history", "C000001") if r["kind"] == "expire"]
    # each expiry row is dated at its lot's expiry, whenever `expire` ran
    assert [(r["at"], r["points"]) for r in rows] == [("2026-01-10T00:00:00+00:00", -50),
                                                      ("2026-03-01T00:00:00+00:00", -100)]


def test_redemption_uses_oldest_points_first(cli):
    _shop(cli)
    assert cli("redeem", "C000001", "100", "--at", "2025-09-01").exit_code == 0
    # 100 = welcome 50 + 50 of the March lot; 50 of March and all of August are left
    result = cli.json("expire")
    assert result["points"] == 50
    assert cli.json("balance", "C000001")["balance"] == 50 + 100 + 40 - 100 - 50


def test_expire_message(cli):
    _shop(cli)
    result = cli("expire")
    assert result.exit_code == 0
    assert result.stdout == "expired 150 points of 1 customer (as of 2026-06-15T12:00:00+00:00; 1 checked)\n"


def test_future_as_of_is_refused(cli):
    result = cli("expire", "--as-of", "2026-07-01")
    assert result.exit_code == 1
    assert result.stderr == "error: --as-of 2026-07-01 is in the future\n"


def test_expiry_days_zero_disables_expiry(cli):
    cli("program", "set", "expiry_days", "0")
    _shop(cli)
    assert cli.json("expire")["points"] == 0
    assert cli.json("balance", "C000001")["balance"] == 190


def test_customer_show_warns_of_points_expiring_within_30_days(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2025-06-01")
    cli("purchase", "C000001", "30.00", "--at", "2025-07-01T09:00:00Z")   # expires 2026-07-01: within 30 days
    cli("purchase", "C000001", "20.00", "--at", "2025-08-01T09:00:00Z")   # expires 2026-08-01: not yet
    data = cli.json("customer", "show", "C000001")
    # the welcome lot (2025-06-01) expired before now, so it is not "soon"
    assert data["expiring_soon"] == [{"expires_at": "2026-07-01T09:00:00+00:00", "points": 30}]
    shown = cli("customer", "show", "C000001").stdout
    assert "30 points on 2026-07-01" in shown


def test_candidates_are_prefiltered_in_sql(session, program):
    old = [customers.enroll(session, program, f"Old{i}", email=f"o{i}@example.ie", at=at("2025-01-01"))
           for i in range(3)]
    new = [customers.enroll(session, program, f"New{i}", email=f"n{i}@example.ie", at=at("2026-01-01"))
           for i in range(20)]
    # one old customer spent their welcome points before they expired: nothing left to expire
    points.post_purchase(session, program, old[0], 10000, at=at("2025-02-01"))
    points.redeem(session, program, old[0], 150, at=at("2025-03-01"))
    points.post_purchase(session, program, old[0], 2000, at=at("2026-06-01"))  # a fresh lot: balance 20
    ids = expiry.candidates(session, at("2026-06-15T12:00:00Z"))
    assert set(ids) == {c.id for c in old}  # the 20 new ones are never replayed
    result = expiry.expire_all(session)
    # old[0]: 50 + 100 - 150 = 0 left of the old lots -> nothing; old[1], old[2]: 50 each
    assert (result.candidates, result.customers, result.points) == (3, 2, 100)
    assert expiry.candidates(session, clock.now()) == [old[0].id]  # its spent lots stay, harmlessly
    assert expiry.expire_all(session).points == 0
    assert all(ledger.balance(session, c.id) == 50 for c in new)
    assert ledger.balance(session, old[0].id) == 20


def test_expire_all_scales(session, program):
    """2,000 customers, 200 with expired lots: one run costs about ten times a run over a tenth of the shop
    (200 customers, 20 expired) timed just before, in the same test: not a fixed number of seconds, which a
    loaded machine misses. A query per customer over the whole shop would cost a hundred times."""
    from sqlalchemy import insert

    from loyaltycli.store.models import Customer

    def add(first, last):
        session.execute(insert(Customer), [
            {"code": f"C{i:06d}", "name": f"N{i}", "referral_code": f"R{i:07d}", "enrolled_at": at("2025-01-01"),
             "consent": False, "status": "active"} for i in range(first, last + 1)])
        session.execute(insert(LedgerEntry), [
            {"customer_id": i, "kind": "earn", "delta": 10, "at": at("2025-01-01" if i % 10 == 0 else "2026-01-01"),
             "expires_at": at("2026-01-01" if i % 10 == 0 else "2027-01-01"), "note": "", "recorded_at": clock.now()}
            for i in range(first, last + 1)])

    def timed_run():
        started = time.perf_counter()
        result = expiry.expire_all(session)
        return result, time.perf_counter() - started

    add(1, 200)
    small, small_elapsed = timed_run()
    assert (small.candidates, small.customers, small.points) == (20, 20, 200)
    add(201, 2000)
    result, elapsed = timed_run()
    assert (result.candidates, result.customers, result.points) == (180, 180, 1800)
    # ten times the customers: about ten times the work; forty times leaves room for a busy machine
    assert elapsed < 40 * max(small_elapsed, 0.005), (elapsed, small_elapsed)
    total = session.execute(select(LedgerEntry.delta).where(LedgerEntry.kind == "expire")).scalars().all()
    assert sum(total) == -2000


def test_after_expire_all_nothing_is_outstanding(session, program):
    """Batched expiry writes exactly what the per-customer replay says is due, refunds and debits included."""
    shoppers = [customers.enroll(session, program, f"S{i}", email=f"s{i}@example.ie", at=at("2024-12-01"))
                for i in range(6)]
    for i, c in enumerate(shoppers):
        sale = points.post_purchase(session, program, c, 1000 * (i + 1), at=at("2025-01-05"), receipt_id=f"A{i}")
        points.post_purchase(session, program, c, 5000, at=at("2025-09-01"), receipt_id=f"B{i}")
        if i % 2:
            points.redeem(session, program, c, 100, at=at("2025-10-01"))
        if i % 3 == 0:
            points.post_refund(session, program, points.find_sale(session, sale.receipt_id), 500,
                               at=at("2025-11-01"))
    expected = {c.id: sum(ledger.lot_state(session, c.id, clock.now()).due.values()) for c in shoppers}
    result = expiry.expire_all(session)
    assert result.points == sum(expected.values()) > 0
    for c in shoppers:
        assert ledger.lot_state(session, c.id, clock.now()).due == {}
    # welcome 50 (expired 2025-12-01) + first sale's lot (expired 2026-01-05), less what debits took:
    # S0: 50 + 10 - 5 (refund of half) = 55; S1: 50 + 20 - 100 (redeemed, oldest first) -> 0 of those lots
    assert ledger.balance(session, shoppers[0].id) == 50 + 10 + 50 - 5 - 55
    assert ledger.balance(session, shoppers[1].id) == 50 + 20 + 50 - 100


def test_expiry_invariants_hold_for_any_history(session, program):
    """Hypothesis: whatever the sales, redemptions and refunds, a back-dated run then a run now write off
    exactly what the replay says is due, once; a further run writes nothing."""
    from itertools import count

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    serial = count()
    day = st.integers(min_value=0, max_value=520)  # days after 2025-01-01
    step = st.tuples(st.sampled_from(["sale", "redeem", "refund"]), day, st.integers(min_value=100, max_value=40000))

    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=st.lists(step, max_size=6), cut=day)
    def check(steps, cut):
        n = next(serial)
        start = at("2025-01-01")
        c = customers.enroll(session, program, f"H{n}", email=f"h{n}@example.ie", at=start)
        sales = []
        for i, (kind, offset, amount) in enumerate(sorted(steps, key=lambda s: s[1])):
            when = start + clock.DAY * offset + clock.DAY / 2
            if kind == "sale":
                sales.append(points.post_purchase(session, program, c, amount, at=when, receipt_id=f"H{n}-{i}"))
            elif kind == "redeem" and ledger.balance(session, c.id) >= 100:
                # points past their date are not redeemable: a refused redemption changes nothing,
                # as in one CLI command's transaction
                attempt = session.begin_nested()
                try:
                    points.redeem(session, program, c, 100, at=when)
                    attempt.commit()
                except InsufficientPoints:
                    attempt.rollback()
            elif kind == "refund" and sales:
                sale = points.find_sale(session, sales[-1].receipt_id)
                try:
                    points.post_refund(session, program, sale, min(amount, sale.amount), at=when)
                except Exception:  # already fully refunded: nothing to do
                    pass
        back = min(start + clock.DAY * cut, clock.now())
        due_back = sum(ledger.lot_state(session, c.id, back).due.values())
        before = ledger.balance(session, c.id)
        first = expiry.expire_all(session, back)
        due_now = sum(ledger.lot_state(session, c.id, clock.now()).due.values())
        second = expiry.expire_all(session)
        assert ledger.lot_state(session, c.id, clock.now()).due == {}
        assert expiry.expire_all(session).points == 0
        # other customers were settled by earlier examples, so the runs' totals are this customer's
        assert first.points == due_back
        assert second.points == due_now
        assert ledger.balance(session, c.id) == before - first.points - second.points

    check()


def test_the_spendable_balance_without_a_replay_is_the_replayed_one(session, program):
    """Hypothesis: ``ledger.spendable`` skips the replay when every lot expired by now has its expiry row;
    whatever the sales, redemptions, refunds and awards (in any time order, some back-dated before an
    `expire` that already ran), it is always the replay's spendable balance (``balance``'s)."""
    from itertools import count

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    serial = count()
    day = st.integers(min_value=0, max_value=560)  # days after 2025-01-01
    step = st.tuples(st.sampled_from(["sale", "redeem", "refund", "award", "expire"]), day,
                     st.integers(min_value=100, max_value=40000))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=st.lists(step, max_size=10))
    def check(steps):
        n = next(serial)
        start = at("2025-01-01")
        c = customers.enroll(session, program, f"S{n}", email=f"s{n}@example.ie", at=start)
        sales = []
        for i, (kind, offset, amount) in enumerate(steps):  # in the order drawn: times go back and forth
            when = min(start + clock.DAY * offset + clock.DAY / 2, clock.now())
            attempt = session.begin_nested()  # a refused step changes nothing, as one command's transaction
            try:
                if kind == "sale":
                    sales.append(points.post_purchase(session, program, c, amount, at=when, receipt_id=f"S{n}-{i}"))
                elif kind == "redeem":
                    points.redeem(session, program, c, 100, at=when)
                elif kind == "refund" and sales:
                    sale = points.find_sale(session, sales[-1].receipt_id)
                    points.post_refund(session, program, sale, min(amount, sale.amount), at=when)
                elif kind == "award":
                    points.award(session, program, c, amount // 100, "goodwill", at=when)
                elif kind == "expire":
                    expiry.expire_all(session, when)
                attempt.commit()
            except Exception:  # refused (not enough points, before the sale, fully refunded...)
                attempt.rollback()
            now = clock.now()
            assert ledger.spendable(session, c.id, now) == ledger.spendable_and_expiring(session, c.id, now)[0]

    check()


def test_refund_of_expired_points_gives_the_same_result_whenever_expire_runs(cli):
    """Expiry comes before any debit, a refund's included: a refund after its sale's points expired takes
    nothing back (they are gone already), so the balance ends the same, never below zero, whether
    `expire` ran before the refund or after it."""
    cli("program", "set", "welcome_bonus", "0")
    for name in ("Ann", "Bob"):
        cli("enroll", name, "--email", f"{name.lower()}@example.ie", "--at", "2025-01-01")
    cli("purchase", "C000001", "100.00", "--receipt", "A1", "--at", "2025-01-05")
    cli("purchase", "C000002", "100.00", "--receipt", "B1", "--at", "2025-01-05")
    cli("expire", "--as-of", "2026-01-31")        # both lots written off on time (2026-01-05)...
    assert cli.json("refund", "A1", "--at", "2026-02-01")["points"] == 0  # ...so the refund takes nothing
    assert cli.json("balance", "C000001")["balance"] == 0
    cli("purchase", "C000002", "1.00", "--receipt", "B2", "--at", "2025-01-06")  # a lot that expired unwritten
    assert cli.json("refund", "B2", "--at", "2026-02-01")["points"] == 0
    assert cli.json("balance", "C000002")["balance"] == 0  # spendable: the 1 point expired on 2026-01-06
    result = cli.json("expire")
    assert (result["candidates"], result["points"]) == (1, 1)
    assert cli.json("balance", "C000002")["balance"] == 0


def test_every_command_that_reports_a_balance_reports_the_spendable_one(cli):
    """Points expired and not written off yet are not the customer's: a sale, an award, a refund, a merge and
    its confirmation report the balance `balance` shows, not the sum of the rows (which still holds them)."""
    _shop(cli)  # of 190 points, 150 expired by now (welcome and March) and `expire` has not run
    assert cli.json("balance", "C000001")["balance"] == 40
    sale = cli.json("purchase", "C000001", "10.00", "--receipt", "N1")
    assert (sale["points"], sale["balance"]) == (10, 50)
    assert cli("purchase", "C000001", "5.00", "--receipt", "N2").stdout == (
        "C000001: +5 points for 5.00 (receipt N2); balance 55, tier Bronze\n")
    assert cli.json("award", "C000001", "5", "--reason", "goodwill")["balance"] == 60
    refund = cli.json("refund", "N1")
    assert (refund["points"], refund["balance"]) == (-10, 50)
    assert cli.json("balance", "C000001")["balance"] == 50
    cli("enroll", "Ann B", "--email", "annb@example.ie", "--at", "2025-01-10")  # her 50 expired too
    merged = cli.json("customer", "merge", "C000001", "C000002", "--yes")
    assert merged["balance"] == 50
    assert cli.json("balance", "C000001")["balance"] == 50
    refused = cli("redeem", "C000001", "100")  # and 50 is what can be spent
    assert (refused.exit_code, refused.stderr) == (1, "error: C000001 has 50 points; 100 needed\n")
