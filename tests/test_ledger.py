"""The core library: ledger rows, FIFO lots, expiry, bonuses (no CLI)."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from loyaltycli.services import customers, points
from loyaltycli.store import ledger
from loyaltycli.base.errors import DuplicateReceipt, InsufficientPoints
from loyaltycli.store.models import LedgerEntry, Purchase, PurchaseItem

T0 = datetime(2025, 1, 10, 10, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@pytest.fixture
def aoife(session, program):
    return customers.enroll(session, program, "Aoife", email="a@example.ie", at=T0)


def test_balance_is_the_sum_of_the_ledger(session, program, aoife):
    points.post_purchase(session, program, aoife, 12_345, at=T0 + DAY)     # 123 points
    points.award(session, program, aoife, 7, "cake", at=T0 + 2 * DAY)
    rows = session.execute(select(LedgerEntry.kind, LedgerEntry.delta).where(
        LedgerEntry.customer_id == aoife.id).order_by(LedgerEntry.id)).all()
    assert rows == [("welcome", 50), ("earn", 123), ("award", 7)]
    assert ledger.balance(session, aoife.id) == 180


def test_purchase_rows_keep_items_and_provenance(session, program, aoife):
    result = points.post_purchase(session, program, aoife, 900, at=T0 + DAY, receipt_id="R1", source="till-2",
                                  channel="Online", items=[points.Item("COF", 2, 450)])
    sale = session.get(Purchase, result.purchase_id)
    assert (sale.source, sale.receipt_id, sale.amount, sale.channel) == ("till-2", "R1", 900, "online")
    items = session.execute(select(PurchaseItem.sku, PurchaseItem.quantity_milli, PurchaseItem.amount)).all()
    assert items == [("COF", 2000, 900)]
    # the same receipt from another source is another sale
    points.post_purchase(session, program, aoife, 900, at=T0 + DAY, receipt_id="R1", source="till-3")
    with pytest.raises(DuplicateReceipt):
        points.post_purchase(session, program, aoife, 900, at=T0 + DAY, receipt_id="R1", source="till-2")


def test_redemptions_use_the_oldest_points_first(session, program, aoife):
    # lots: welcome 50 (T0), 100 (T0+100d), 100 (T0+200d); each expires 365 days later
    points.post_purchase(session, program, aoife, 10_000, at=T0 + 100 * DAY)
    points.post_purchase(session, program, aoife, 10_000, at=T0 + 200 * DAY)
    points.redeem(session, program, aoife, 120, at=T0 + 250 * DAY)   # takes welcome 50 + 70 of the first lot
    state = ledger.lot_state(session, aoife.id, T0 + 250 * DAY)
    assert [lot.remaining for lot in state.lots] == [0, 30, 100]
    # the first purchase lot expires at T0+465d with 30 left
    assert ledger.expire_customer(session, aoife.id, T0 + 465 * DAY) == 30
    assert ledger.expire_customer(session, aoife.id, T0 + 465 * DAY) == 0      # idempotent
    assert ledger.balance(session, aoife.id) == 250 - 120 - 30
    assert ledger.expire_customer(session, aoife.id, T0 + 600 * DAY) == 100
    assert ledger.balance(session, aoife.id) == 0


def test_expired_points_cannot_be_redeemed(session, program, aoife):
    points.post_purchase(session, program, aoife, 20_000, at=T0 + DAY)           # 200, expires T0+366d
    points.post_purchase(session, program, aoife, 5_000, at=T0 + 300 * DAY)     # 50
    assert ledger.balance(session, aoife.id) == 300
    with pytest.raises(InsufficientPoints, match="has 50 points; 100 needed"):
        points.redeem(session, program, aoife, 100, at=T0 + 400 * DAY)
    # the lazy write-off of the expired lot stays in this core session (the CLI rolls a refused command back)
    expired = session.execute(select(func.sum(LedgerEntry.delta)).where(LedgerEntry.kind == "expire")).scalar()
    assert expired == -250


def test_expiry_rows_are_dated_at_the_lot_expiry(session, program, aoife):
    ledger.expire_customer(session, aoife.id, T0 + 400 * DAY)
    row = session.execute(select(LedgerEntry).where(LedgerEntry.kind == "expire")).scalar_one()
    assert (row.delta, row.at, row.lot_id) == (-50, T0 + 365 * DAY, 1)


def test_a_credit_after_a_deficit_pays_it_first(session, program, aoife):
    sale = points.post_purchase(session, program, aoife, 10_000, at=T0 + DAY)          # 150
    points.redeem(session, program, aoife, 150, at=T0 + 2 * DAY)                       # 0
    points.post_refund(session, program, session.get(Purchase, sale.purchase_id), at=T0 + 3 * DAY)   # -100
    points.post_purchase(session, program, aoife, 20_000, at=T0 + 4 * DAY)             # +200 -> 100
    state = ledger.lot_state(session, aoife.id, T0 + 4 * DAY)
    assert state.deficit == 0
    assert sum(lot.remaining for lot in state.lots) == ledger.balance(session, aoife.id) == 100


def test_expiring_soon(session, program, aoife):
    points.post_purchase(session, program, aoife, 4_000, at=T0 + 10 * DAY)
    soon = ledger.expiring_soon(session, aoife.id, T0 + 350 * DAY)
    assert soon == [(T0 + 365 * DAY, 50), (T0 + 375 * DAY, 40)]


def test_expiry_disabled(session, program, aoife):
    from loyaltycli.store.program import load_program, set_setting

    set_setting(session, "expiry_days", "0")
    program = load_program(session)
    points.post_purchase(session, program, aoife, 4_000, at=T0 + 10 * DAY)
    assert ledger.expire_customer(session, aoife.id, T0 + 9000 * DAY) == 50   # only the welcome lot had a date


def test_milestone_once_per_calendar_year(session, program, aoife):
    points.post_purchase(session, program, aoife, 50_000, at=T0 + DAY)
    points.post_purchase(session, program, aoife, 50_000, at=T0 + 2 * DAY)
    points.post_purchase(session, program, aoife, 50_000, at=T0 + 365 * DAY)   # 2026: once more
    kinds = session.execute(select(LedgerEntry.bonus_key).where(LedgerEntry.kind == "milestone")).scalars().all()
    assert kinds == ["milestone:2025", "milestone:2026"]


def test_referrer_steps(session, program):
    from loyaltycli.store.program import load_program, set_setting

    set_setting(session, "referral_steps", "1:200,3:300")
    program = load_program(session)
    referrer = customers.enroll(session, program, "Referrer", at=T0)
    got = []
    for n in range(4):
        friend = customers.enroll(session, program, f"Friend {n}", referral_code=referrer.referral_code, at=T0)
        result = points.post_purchase(session, program, friend, 1_000, at=T0 + DAY)
        got.append([b.points for b in result.bonuses if b.customer_id == referrer.id])
    assert got == [[200], [200], [300], [300]]
