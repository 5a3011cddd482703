"""Returns without a link (issue 12): a UCI-style cancellation (`C540004`, negative quantities, no invoice
number of ours) is matched to the same customer's latest earlier sale with the same SKU at the same unit
price and enough quantity not yet returned, and reverses that sale's points; only when nothing matches does
the documented fallback (the base rate: never more than a sale of that amount earned) apply."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from loyaltycli.store import storage
from loyaltycli.store.models import Customer, LedgerEntry, Purchase, PurchaseItem
from loyaltycli.engine.returns import ReturnMatcher, wanted
from loyaltycli.tillcsv.records import Line

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
DAY1 = HEADER + (
    "540001,23166,MEDIUM CERAMIC TOP STORAGE JAR,100,1/10/2011 10:00,1.04,12346,United Kingdom\n"
    "540002,23166,MEDIUM CERAMIC TOP STORAGE JAR,300,1/11/2011 10:00,1.04,12346,United Kingdom\n"
    "540003,22423,REGENCY CAKESTAND 3 TIER,40,1/12/2011 10:00,12.75,12346,United Kingdom\n"
    # 100 of 540002 (the latest sale with 100 of 23166 at 1.04 left), 16 minutes after the last sale
    "C540004,23166,MEDIUM CERAMIC TOP STORAGE JAR,-100,1/12/2011 10:16,1.04,12346,United Kingdom\n"
    "540010,23166,MEDIUM CERAMIC TOP STORAGE JAR,500,1/12/2011 11:00,1.04,13047,United Kingdom\n"
    # 250: no sale of 12346 has 250 left (540002: 200, 540001: 100; 13047's 500 are not theirs): fallback
    "C540005,23166,MEDIUM CERAMIC TOP STORAGE JAR,-250,1/13/2011 9:00,1.04,12346,United Kingdom\n"
    # another unit price: fallback
    "C540006,23166,MEDIUM CERAMIC TOP STORAGE JAR,-100,1/13/2011 9:30,0.85,12346,United Kingdom\n"
    # a return of a customer we do not know: never enrolls them
    "C540011,23166,MEDIUM CERAMIC TOP STORAGE JAR,-1,1/13/2011 9:40,1.04,99999,United Kingdom\n"
    # a return before the customer's first sale (which enrolls them): its sale predates us, skipped
    "C540012,23166,MEDIUM CERAMIC TOP STORAGE JAR,-1,1/10/2011 9:00,1.04,15000,United Kingdom\n"
    "540013,23166,MEDIUM CERAMIC TOP STORAGE JAR,10,1/11/2011 9:00,1.04,15000,United Kingdom\n"
)
DAY2 = HEADER + "C540020,23166,MEDIUM CERAMIC TOP STORAGE JAR,-200,1/20/2011 12:00,1.04,12346,United Kingdom\n"
DAY3 = HEADER + "C540021,23166,MEDIUM CERAMIC TOP STORAGE JAR,-100,1/21/2011 12:00,1.04,12346,United Kingdom\n"


def _import(cli, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    result = cli("import", path, "--preset", "uci-online-retail", "--source", "uk", "--enroll-unknown",
                 "--date-order", "MDY", "--json")
    return result.exit_code, json.loads(result.stdout)


def _notes(cli, key):
    return [(h["points"], h["note"]) for h in cli.json("history", key)]


def test_cancellations_find_their_sale_by_items(cli, tmp_path):
    for key, value in (("expiry_days", "0"), ("milestone_bonus", "0")):
        assert cli("program", "set", key, value).exit_code == 0
    code, data = _import(cli, tmp_path, "day1.csv", DAY1)
    # the two returns without a sale (a customer never seen; one before the customer was ours) are counted
    # apart and skipped (issue 25): nothing is rejected
    assert code == 0
    assert (data["sales"], data["refunds"], data["refunds_linked"], data["refunds_unlinked"]) == (5, 3, 1, 2)
    assert (data["rejected"], data["returns_without_sale"], data["customers_enrolled"]) == (0, 2, 3)
    # 12346: 104 + 312 + 510 (Bronze; 926.00 spent: Silver from then on)
    #   C540004 -> 540002: 312 x 104/312 = -104 (at the Silver rate of the moment it would be -130)
    #   C540005 nothing has 250 left: 260.00 at the base rate (never the Silver x1.25 of the day) = -260
    #   C540006 at 0.85, no such sale: 85.00 at the base rate = -85
    assert cli.json("balance", "12346")["balance"] == 50 + 104 + 312 + 510 - 104 - 260 - 85
    notes = _notes(cli, "12346")
    assert (-104, "refund of receipt 540002: 104.00") in notes
    assert (-260, "refund C540005: 260.00 (base rate x1, no sale linked)") in notes
    assert (-85, "refund C540006: 85.00 (base rate x1, no sale linked)") in notes
    assert cli.json("balance", "13047")["balance"] == 50 + 520
    assert cli.json("balance", "15000")["balance"] == 50 + 10  # one welcome bonus, at the sale
    assert cli("balance", "99999").exit_code != 0  # the return enrolled no one
    code, data = _import(cli, tmp_path, "day2.csv", DAY2)
    assert code == 0 and (data["refunds_linked"], data["refunds_unlinked"], data["customers_enrolled"]) == (1, 0, 0)
    # what is left of 540002 in the database: 300 - 100 returned by C540004 = 200: all of it now
    assert _notes(cli, "12346")[-1] == (-208, "refund of receipt 540002: 208.00")
    code, data = _import(cli, tmp_path, "day3.csv", DAY3)
    assert code == 0 and (data["refunds_linked"], data["refunds_unlinked"]) == (1, 0)
    # 540002 is all returned (its refunds' items say so): the next latest with 100 left is 540001
    assert _notes(cli, "12346")[-1] == (-104, "refund of receipt 540001: 104.00")
    assert cli.json("balance", "12346")["balance"] == 527 - 208 - 104


def test_matched_return_is_stored_linked_with_its_items(cli, tmp_path, database):
    _import(cli, tmp_path, "day1.csv", DAY1)
    with database.session() as s:
        sale_id = s.execute(select(Purchase.id).where(Purchase.receipt_id == "540002")).scalar_one()
        refund = s.execute(select(Purchase).where(Purchase.receipt_id == "C540004")).scalar_one()
        assert (refund.refund_of_id, refund.amount, refund.channel) == (sale_id, -10400, "online")
        items = s.execute(select(PurchaseItem.sku, PurchaseItem.quantity_milli, PurchaseItem.unit_price,
                                 PurchaseItem.amount).where(PurchaseItem.purchase_id == refund.id)).all()
        assert items == [("23166", -100_000, 104, -10400)]
        unlinked = s.execute(select(Purchase.refund_of_id).where(Purchase.receipt_id.in_(["C540005", "C540006"]))
                             ).scalars().all()
        assert unlinked == [None, None]
        assert s.execute(select(Customer).where(Customer.card == "99999")).first() is None
        welcome = s.execute(select(LedgerEntry.customer_id).where(LedgerEntry.kind == "welcome")).scalars().all()
        assert len(welcome) == 3  # 12346, 13047, 15000: never for a return


def test_same_file_cancellation_of_a_multi_line_invoice(cli, tmp_path):
    """The commonest UCI case: an invoice cancelled (some of its lines) minutes later, same file."""
    cli("program", "set", "expiry_days", "0")
    text = HEADER + (
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
        "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom\n"
        "536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:28,2.55,17850,United Kingdom\n"
        "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-6,12/1/2010 8:44,2.55,17850,United Kingdom\n"
        "C536379,71053,WHITE METAL LANTERN,-6,12/1/2010 8:44,3.39,17850,United Kingdom\n"
    )
    code, data = _import(cli, tmp_path, "cancel.csv", text)
    assert code == 0 and (data["refunds_linked"], data["refunds_unlinked"]) == (1, 0)
    # 536366 is later but has no 71053: the whole cancellation is of 536365 (35.64 -> 35 points), all of it
    assert _notes(cli, "17850")[-1] == (-35, "refund of receipt 536365: 35.64")
    assert cli.json("balance", "17850")["balance"] == 50 + 35 + 15 - 35


# -- library level -------------------------------------------------------------------------------------------
def test_matcher_latest_sale_with_enough_left():
    matcher = ReturnMatcher()
    matcher.add(1, 10, 100, [("A", 5000, 250), ("B", 1000, 100)])
    matcher.add(1, 11, 200, [("A", 2000, 250)])
    matcher.add(2, 12, 300, [("A", 9000, 250)])
    need = wanted([Line(1, [], -500, "A", -2000, 250)])
    assert need == {("A", 250): 2000}
    assert matcher.match(1, 150, need) == 10  # 11 is later than the return
    assert matcher.match(1, 250, need) == 11
    assert matcher.match(1, 250, need) == 10  # 11 has nothing left
    assert matcher.match(1, 250, {("A", 250): 2000}) is None  # 10 has 1000 left; 12 is another customer's
    assert matcher.match(1, 250, {("A", 300): 1000}) is None  # another price
    assert matcher.match(1, 250, {("A", 250): 1000, ("B", 100): 1000}, fits=lambda key: False) is None
    assert matcher.match(1, 250, {("A", 250): 1000, ("B", 100): 1000}) == 10
    assert wanted([Line(1, [], -500, "", -2000, 250)]) is None  # no SKU: never matched by items
    assert wanted([Line(1, [], 500, "A", 2000, 250)]) is None


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_returnable_sales_one_query_per_batch(cli, tmp_path, database):
    _import(cli, tmp_path, "day1.csv", DAY1)
    with database.session() as s:
        ids = {r: i for r, i in s.execute(select(Purchase.receipt_id, Purchase.id))}
        customers = {c: i for c, i in s.execute(select(Customer.card, Customer.id))}
        statements = []
        from sqlalchemy import event

        from loyaltycli import programs

        engine = s.get_bind()
        def seen(conn, cursor, sql, *rest):
            statements.append(sql)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            items, records = storage.returnable_sales(
                s, [customers["12346"], customers["13047"]], ["23166", "22423"],
                datetime(2011, 1, 12, 12, tzinfo=timezone.utc), rules=programs)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert items == {ids["540001"]: [("23166", 100_000, 104)], ids["540002"]: [("23166", 200_000, 104)],
                         ids["540003"]: [("22423", 40_000, 1275)], ids["540010"]: [("23166", 500_000, 104)]}
        assert (records[ids["540002"]].earned, records[ids["540002"]].refunded) == (312, 10400)
        assert sum("purchase_item" in sql and "GROUP BY" in sql for sql in statements) == 1
