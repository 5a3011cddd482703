"""customer merge (points travel lot by lot through merge_out / merge_in rows; the rest is re-pointed)
and customer forget (personal data gone from the file itself, the anonymous ledger kept)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from loyaltycli.shop import clock
from loyaltycli.store.models import Purchase


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_merge_moves_points_lot_by_lot_with_their_expiry(session, program):
    from loyaltycli.services import customers, points
    from loyaltycli.store import ledger
    from loyaltycli.services.check import check_database
    from loyaltycli.services.merge import merge_customers
    from loyaltycli.store.models import LedgerEntry, Purchase, Redemption

    keep = customers.enroll(session, program, "Aoife Byrne", phone="+353851234567", at=at("2026-01-10T10:00"))
    dup = customers.enroll(session, program, "Aoife B", email="aoife@example.ie", at=at("2025-09-01T10:00"))
    points.post_purchase(session, program, dup, 30000, receipt_id="D-1", at=at("2025-10-01T10:00"))
    # 300.00 already in the window: Bronze, 600 points, and the 2026 milestone (250)
    sale = points.post_purchase(session, program, dup, 60000, receipt_id="D-2", at=at("2026-03-01T10:00"))
    assert (sale.points, [b.points for b in sale.bonuses]) == (600, [250])
    points.redeem(session, program, dup, 100, at=at("2026-04-01T10:00"))
    # the redemption used the oldest points: the welcome 50, then 50 of the 300
    assert ledger.balance(session, dup.id) == 50 + 300 + 600 + 250 - 100 == 1100

    result = merge_customers(session, keep, dup)
    assert result.points == 1100
    assert [(lot["points"], lot["expires_at"]) for lot in result.lots] == [
        (250, at("2026-10-01T10:00")), (600, at("2027-03-01T10:00")), (250, at("2027-03-01T10:00"))]
    assert result.moved == {"purchases": 2, "surveys": 0, "redemptions": 1, "donations": 0, "memberships": 0,
                            "referrals": 0}
    assert result.filled == ["email"]
    assert ledger.balance(session, keep.id) == 50 + 1100 == result.balance
    assert ledger.balance(session, dup.id) == 0
    assert (dup.status, dup.merged_into_id, dup.email, keep.email) == ("merged", keep.id, None, "aoife@example.ie")
    rows = session.execute(select(LedgerEntry.customer_id, LedgerEntry.kind, LedgerEntry.delta, LedgerEntry.bonus_key)
                           .where(LedgerEntry.kind.in_(["merge_out", "merge_in"])).order_by(LedgerEntry.id)).all()
    assert rows == [(dup.id, "merge_out", -1100, None), (keep.id, "merge_in", 250, None),
                    (keep.id, "merge_in", 600, None), (keep.id, "merge_in", 250, None),
                    (keep.id, "merge_in", 0, "milestone:2026")]
    assert session.execute(select(func.count()).where(Purchase.customer_id == keep.id)).scalar() == 2
    assert session.execute(select(Redemption.customer_id)).scalar() == keep.id
    assert check_database(session) == []

    # the merged account: Silver (900.00 in the window), and the 2026 milestone is not paid twice
    after = points.post_purchase(session, program, keep, 1000, receipt_id="K-1")
    assert (after.earn_tier, after.points, after.bonuses) == ("Silver", 12, [])
    # the duplicate's lots still expire on their own dates
    assert ledger.expire_customer(session, keep.id, at("2026-10-02T00:00")) == 250
    assert ledger.balance(session, keep.id) == 1150 + 12 - 250
    # a KEY naming the duplicate now says where it went
    from loyaltycli.base.errors import UnknownCustomer

    with pytest.raises(UnknownCustomer, match="C000002 was merged into C000001; use C000001"):
        customers.find(session, "C000002", program)


def test_merge_carries_a_negative_balance_as_a_debt(session, program):
    from loyaltycli.services import customers, points
    from loyaltycli.store import ledger
    from loyaltycli.services.merge import merge_customers

    keep = customers.enroll(session, program, "Keep")
    dup = customers.enroll(session, program, "Dup")
    points.post_purchase(session, program, dup, 20000, receipt_id="D-1")
    points.redeem(session, program, dup, 250)
    points.post_refund(session, program, points.find_sale(session, "D-1"))
    assert ledger.balance(session, dup.id) == -200
    result = merge_customers(session, keep, dup)
    assert (result.points, result.lots, result.balance) == (-200, [], 50 - 200)
    assert ledger.balance(session, dup.id) == 0


def test_merge_repoints_referrals_surveys_and_memberships(session, program):
    from loyaltycli.services import customers, points
    from loyaltycli.store import ledger
    from loyaltycli.services.merge import merge_customers
    from loyaltycli.store.models import Membership, MembershipPlan, Referral, SurveyResponse

    keep = customers.enroll(session, program, "Keep", at=at("2026-01-01T10:00"))
    dup = customers.enroll(session, program, "Dup", at=at("2026-01-01T10:00"))
    friend = customers.enroll(session, program, "Friend", referral_code=dup.referral_code)
    session.add(SurveyResponse(customer_id=dup.id, at=clock.now(), nps=9, comment="great"))
    plan = MembershipPlan(name="Club", fee=2000, months=12, multiplier="2")
    session.add(plan)
    session.flush()
    session.add(Membership(customer_id=dup.id, plan_id=plan.id, started_at=at("2026-02-01T00:00"),
                           ends_at=at("2027-02-01T00:00"), fee=2000))
    session.flush()
    result = merge_customers(session, keep, dup)
    assert result.moved == {"purchases": 0, "surveys": 1, "redemptions": 0, "donations": 0, "memberships": 1,
                            "referrals": 1}
    assert session.execute(select(Referral.referrer_id)).scalar() == keep.id
    # the friend's first purchase rewards the customer kept; the membership doubles keep's points
    points.post_purchase(session, program, friend, 1500, receipt_id="F-1")
    assert ledger.balance(session, keep.id) == 50 + 50 + 200
    assert points.post_purchase(session, program, keep, 1000, receipt_id="K-1").points == 20


def test_merge_through_the_cli(cli):
    assert cli("enroll", "Aoife Byrne", "--phone", "0851234567").exit_code == 0
    assert cli("enroll", "Aoife", "--email", "aoife@example.ie", "--card", "CARD-7").exit_code == 0
    assert cli("purchase", "C000002", "80.00", "--receipt", "R-1").exit_code == 0

    result = cli("customer", "merge", "C000001", "C000001", "--yes")
    assert (result.exit_code, result.stderr) == (1, "error: C000001 and C000001 are the same customer; "
                                                    "nothing to merge\n")
    result = cli("customer", "merge", "0851234567", "aoife@example.ie", "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "merged C000002 into C000001: 130 points, 1 purchase moved; balance 180\n"
    # the e-mail and card came along, the duplicate can no longer be used
    shown = cli.json("customer", "show", "aoife@example.ie")
    assert (shown["code"], shown["balance"], shown["card"]) == ("C000001", 180, "CARD-7")
    for args in (("purchase", "C000002", "5.00"), ("customer", "merge", "C000001", "C000002", "--yes"),
                 ("customer", "forget", "C000002", "--yes")):
        result = cli(*args)
        assert (result.exit_code, result.stderr) == (1, "error: customer C000002 was merged into C000001; "
                                                        "use C000001\n"), args
    statement = cli.json("history", "C000002")
    assert [(r["kind"], r["points"], r["balance"]) for r in statement] == [
        ("welcome", 50, 50), ("earn", 80, 130), ("merge_out", -130, 0)]
    assert statement[-1]["note"] == "merged C000002 into C000001"
    assert cli("db", "check").exit_code == 0


SECRETS = ("Siobhán Ní Bhriain".encode(), b"siobhan.secret@example.ie", b"+353871112233", b"CARD-SECRET-9",
           b"xyzzy-private-comment", b"Siobhan-private-reason")


def file_bytes(db_path) -> bytes:
    data = db_path.read_bytes()
    wal = db_path.with_name(db_path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


@pytest.mark.sqlite_only  # the personal data must be gone from the file itself
def test_forget_erases_personal_data_from_the_file_and_keeps_the_ledger(cli, db_path, database):
    from loyaltycli.store.models import SurveyResponse

    assert cli("enroll", "Siobhán Ní Bhriain", "--email", "siobhan.secret@example.ie", "--phone", "+353871112233",
               "--card", "CARD-SECRET-9", "--birthday", "1990-05-04").exit_code == 0
    assert cli("enroll", "Other Person", "--email", "other@example.ie").exit_code == 0
    assert cli("purchase", "C000001", "120.00", "--receipt", "R-1").exit_code == 0
    assert cli("redeem", "C000001", "100").exit_code == 0
    assert cli("award", "C000001", "20", "--reason", "sorry Siobhan-private-reason, wrong order").exit_code == 0
    assert cli("award", "C000001", "-20", "--reason", "undo Siobhan-private-reason").exit_code == 0
    with database.session() as s:
        s.add(SurveyResponse(customer_id=1, at=clock.now(), nps=3, comment="xyzzy-private-comment"))
    before = file_bytes(db_path)
    assert all(secret in before for secret in SECRETS)
    with closing(sqlite3.connect(db_path)) as conn:
        rows_before = conn.execute("SELECT count(*), sum(delta) FROM ledger").fetchone()

    result = cli("customer", "forget", "siobhan.secret@example.ie", "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("forgot C000001: erased name, phone, email, card, birthday and 1 survey comment "
                             "and 2 award reasons; 70 points forfeited\n")
    after = file_bytes(db_path)
    for secret in SECRETS:
        assert secret not in after, secret
    assert b"other@example.ie" in after

    with closing(sqlite3.connect(db_path)) as conn:
        count, total = conn.execute("SELECT count(*), sum(delta) FROM ledger").fetchone()
        customer = conn.execute("SELECT name, phone, email, card, birthday, status FROM customer WHERE id=1").fetchone()
        survey = conn.execute("SELECT nps, comment FROM survey_response").fetchone()
    # the anonymous ledger stays; one row writes off the 70 points nobody can spend any more
    assert (count, total) == (rows_before[0] + 1, rows_before[1] - 70)
    assert customer == (None, None, None, None, None, "forgotten")
    assert survey == (3, None)
    history = cli.json("history", "C000001")
    assert [r["kind"] for r in history] == ["welcome", "earn", "redeem", "award", "adjust", "forget"]
    assert [r["points"] for r in history if r["kind"] in ("award", "adjust")] == [20, -20]
    assert {r["note"] for r in history if r["kind"] in ("award", "adjust")} == {"reason erased: customer forgotten"}

    result = cli("balance", "siobhan.secret@example.ie")
    assert (result.exit_code, result.stderr) == (
        1, "error: unknown customer 'siobhan.secret@example.ie'; try `loyalty customer list --search "
           "siobhan.secret@example.ie`\n")
    # forgetting again is allowed: it finishes an erasure that was stopped (and changes no ledger row)
    result = cli("customer", "forget", "C000001", "--yes")
    assert (result.exit_code, result.stdout) == (
        0, "C000001 was already forgotten; erased what was left and compacted the file\n")
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT count(*), sum(delta) FROM ledger").fetchone() == (count, total)
    assert cli("db", "check").exit_code == 0


def test_forget_from_the_library(session, program):
    from loyaltycli.services import customers
    from loyaltycli.store import ledger
    from loyaltycli.base.errors import RuleNotMet
    from loyaltycli.services.merge import forget_customer

    c = customers.enroll(session, program, "Niamh", email="niamh@example.ie")
    result = forget_customer(session, c)
    assert (result.code, result.forfeited, result.erased, result.comments) == ("C000001", 50, ["name", "email"], 0)
    assert ledger.balance(session, c.id) == 0
    again = forget_customer(session, c)  # a second forget finishes what a stopped one left
    assert (again.again, again.forfeited, again.erased) == (True, 0, [])
    c2 = customers.enroll(session, program, "Dup", email="dup@example.ie")
    from loyaltycli.services.merge import merge_customers

    with pytest.raises(RuleNotMet, match="only active customers"):
        merge_customers(session, c2, c)


def test_db_check_notices_points_on_a_merged_or_personal_data_on_a_forgotten_customer(cli, db_path):
    import json

    for name in ("Keep", "Dup", "Gone"):
        assert cli("enroll", name).exit_code == 0
    assert cli("customer", "merge", "C000001", "C000002", "--yes").exit_code == 0
    assert cli("customer", "forget", "C000003", "--yes").exit_code == 0
    assert cli("db", "check").exit_code == 0
    from loyaltycli.store import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()
    from safety_helpers import execute

    execute(db_path,
            "INSERT INTO ledger (customer_id, kind, delta, at, note, recorded_at) "
            "VALUES (2, 'award', 5, '2026-06-15', 'late', '2026-06-15')",
            "UPDATE customer SET name = 'Gone Again' WHERE id = 3",
            "INSERT INTO survey_response (customer_id, at, nps, comment) VALUES (3, '2026-06-15', 5, 'hi')")
    result = cli("db", "check", "--json")
    assert result.exit_code == 1
    assert [(p["check"], p["detail"]) for p in json.loads(result.stdout)["problems"]] == [
        ("merged", "C000002 is merged but still has a balance of 5"),
        ("forgotten", "C000003 is forgotten but still holds personal data"),
        ("forgotten", "survey response 1 of a forgotten customer keeps its comment"),
    ]


# (operation, day after 2025-06-01, size): most lots are still unexpired on 2026-06-15, some are not.
OPS = st.lists(st.tuples(st.sampled_from(["buy", "buy", "redeem", "refund", "award"]), st.integers(0, 379),
                         st.integers(1, 400)), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keep_ops=OPS, dup_ops=OPS)
def test_merge_keeps_every_point_property(database, keep_ops, dup_ops):
    """Whatever two customers did, a merge moves exactly the duplicate's unexpired balance, zeroes it, and
    the points still expire on their own dates."""
    from loyaltycli.services import customers, points
    from loyaltycli.store import ledger
    from loyaltycli.services.check import check_database
    from loyaltycli.base.errors import LoyaltyError
    from loyaltycli.services.merge import merge_customers
    from loyaltycli.store.program import load_program

    with database.session() as session:
        program = load_program(session)
        start = at("2025-06-01T09:00")
        keep = customers.enroll(session, program, "Keep", at=start)
        dup = customers.enroll(session, program, "Dup", at=start)
        for who, ops in ((keep, keep_ops), (dup, dup_ops)):
            for n, (op, day, size) in enumerate(ops):
                when = start + clock.DAY * day + clock.DAY / 24 * n
                when = min(when, clock.now())
                try:
                    if op == "buy":
                        points.post_purchase(session, program, who, size * 100, at=when,
                                             receipt_id=f"{who.code}-{n}")
                    elif op == "redeem":
                        points.redeem(session, program, who, 100 + size, at=max(when, ledger_last(session, who)))
                    elif op == "refund":
                        sale = session.execute(select(Purchase).where(Purchase.customer_id == who.id,
                                                                      Purchase.amount > 0)).scalars().first()
                        if sale is not None:
                            points.post_refund(session, program, sale, None, at=max(when, sale.at))
                    else:
                        points.award(session, program, who, size, "goodwill", at=when)
                except LoyaltyError:
                    pass
        now = clock.now()
        ledger.expire_customer(session, dup.id, now)
        owed = ledger.balance(session, dup.id)
        keep_before = ledger.balance(session, keep.id)
        later = now + clock.DAY * 200
        dup_expiring = sum(lot.remaining for lot in ledger.lot_state(session, dup.id, now).lots
                           if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= later)

        result = merge_customers(session, keep, dup)
        assert result.points == owed
        assert ledger.balance(session, dup.id) == 0
        assert ledger.balance(session, keep.id) == keep_before + owed
        merged_in_expiring = sum(lot["points"] for lot in result.lots if lot["expires_at"] <= later)
        assert merged_in_expiring == dup_expiring
        assert check_database(session) == []
        session.rollback()


def ledger_last(session, customer):
    """Redemptions are recorded after the customer's latest row (the statement stays in order)."""
    from loyaltycli.store.models import LedgerEntry

    last = session.execute(select(func.max(LedgerEntry.at)).where(LedgerEntry.customer_id == customer.id)).scalar()
    return min(max(last, customer.enrolled_at), clock.now()) if last else customer.enrolled_at
