"""Stamp cards, the rules added after the first cut: stamps shown in cashback mode, refunds by item,
stamp expiry with the card, and `report cards` over a period."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from cards_helpers import stamps

from loyaltycli.shop import clock


# -- 3. the cashback line shows the stamps, as the points line does ------------------------------------
def test_cashback_purchase_line_shows_the_stamps_earned(cafe):
    cli = cafe
    assert cli("program", "preset", "cashback", "--percent", "5").exit_code == 0
    result = cli("purchase", "C000001", "6.00", "--receipt", "R1", "--item", "COF-1:2:3.00")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "C000001: +0.30 credit for 6.00 (receipt R1); credit 0.80, tier Bronze; Coffee 2/10\n"
    assert cli.json("purchase", "C000001", "3.00", "--receipt", "R1b", "--item", "COF-1:1:3.00")["cards"] == [
        {"card": "Coffee", "stamps": 3, "stamps_needed": 10, "reward": "Free coffee", "vouchers": 0,
         "voucher_expires": [], "stamps_expire": None}]
    points_mode = cli("program", "preset", "points")
    assert points_mode.exit_code == 0
    result = cli("purchase", "C000001", "3.00", "--receipt", "R2", "--item", "COF-1:1:3.00")
    assert result.stdout.rstrip("\n").endswith("tier Bronze; Coffee 4/10")


# -- 2. a refund takes back the stamps its items earned -------------------------------------------------
def test_a_counter_refund_takes_back_the_stamps_of_the_items_it_names(cafe):
    cli = cafe
    assert cli("card", "add", "Bread", "--stamps", "8", "--reward", "Free loaf", "--sku", "BRD-*", "--per", "visit",
               "--min-amount", "3.00").exit_code == 0
    sale = cli("purchase", "C000001", "15.50", "--receipt", "M1", "--item", "COF-250:4:3.00", "--item", "BRD-1:1:3.50")
    assert sale.exit_code == 0, sale.stderr
    assert stamps(cli) == {"Coffee": (4, 0), "Bread": (1, 0)}
    one = cli.json("refund", "M1", "--item", "cof-250:1")  # at the sale's price: 3.00
    assert (one["amount"], one["points"]) == ("3.00", -2)  # points in proportion: 15 x 3.00 / 15.50 = 2.9
    assert stamps(cli) == {"Coffee": (3, 0), "Bread": (1, 0)}
    # 9.00 back naming no items of a sale of two products: no coffee is named, no stamp goes back
    assert cli("refund", "M1", "--amount", "9.00").exit_code == 0
    assert stamps(cli) == {"Coffee": (3, 0), "Bread": (1, 0)}
    # the loaf (3.50): nothing is left of the sale, every stamp it still holds goes back
    assert cli("refund", "M1", "--item", "BRD-1:1:3.50").exit_code == 0
    assert stamps(cli) == {"Coffee": (0, 0), "Bread": (0, 0)}
    notes = [r["note"] for r in cli.json("history", "C000001") if r["kind"] == "unstamp"]
    assert notes == ["-1 stamp: refund of receipt M1: 1 stamp taken back (Coffee 3/10)",
                     "-3 stamps: refund of receipt M1: 3 stamps taken back (Coffee 0/10)",
                     "-1 stamp: refund of receipt M1: 1 stamp taken back (Bread 0/8)"]
    assert cli("db", "check").exit_code == 0


def test_a_partial_refund_of_a_one_product_sale_is_read_as_that_many_items(cafe):
    cli = cafe
    cli("purchase", "C000001", "9.00", "--receipt", "P1", "--item", "COF-250:3:3.00")
    assert cli("refund", "P1", "--amount", "3.00").exit_code == 0  # one coffee of three
    assert stamps(cli) == {"Coffee": (2, 0)}
    assert cli("refund", "P1", "--amount", "1.50").exit_code == 0  # half a coffee: no item, no stamp
    assert stamps(cli) == {"Coffee": (2, 0)}
    assert cli("refund", "P1").exit_code == 0  # the rest
    assert stamps(cli) == {"Coffee": (0, 0)}


def test_a_refund_keeps_a_used_voucher_and_the_card_goes_below_zero(cafe):
    cli = cafe
    cli("purchase", "C000001", "33.00", "--receipt", "B1", "--item", "COF-250:11:3.00")
    assert stamps(cli) == {"Coffee": (1, 1)}
    assert cli("redeem", "C000001", "--voucher", "Free coffee").exit_code == 0
    assert cli("refund", "B1", "--item", "COF-250:4").exit_code == 0
    assert stamps(cli) == {"Coffee": (-3, 0)}
    kinds = [r["kind"] for r in cli.json("history", "C000001")]
    assert kinds.count("voucher") == 1 and kinds.count("voucher_used") == 1 and kinds.count("unstamp") == 1


@pytest.mark.parametrize("args, message", [
    (["--item", "TEA-1:1"], "error: item 'TEA-1:1' is not SKU:QTY (a SKU of the sale) or SKU:QTY:PRICE (e.g. COF-250:1)\n"),
    (["--item", "TEA-1:1:3.00"], "error: receipt R1 has no item TEA-1; its items: COF-250\n"),
    (["--item", "COF-250:3"], "error: item COF-250: 3 is more than receipt R1 sold (2)\n"),
    (["--item", "COF-250:1", "--amount", "2.00"], "error: items add up to 3.00 but the amount is 2.00\n"),
])
def test_refund_items_are_checked_and_nothing_changes(cafe, args, message):
    cli = cafe
    cli("purchase", "C000001", "6.00", "--receipt", "R1", "--item", "COF-250:2:3.00")
    result = cli("refund", "R1", *args)
    assert (result.exit_code, result.stderr) == (1, message)
    assert stamps(cli) == {"Coffee": (2, 0)}
    assert [r["kind"] for r in cli.json("history", "C000001")] == ["welcome", "earn", "stamp"]


def test_an_imported_return_takes_back_the_stamps_of_its_lines(cafe, tmp_path):
    cli = cafe
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price\n"
                    "T1,2026-06-01T09:00:00+00:00,C000001,9.00,store,COF-250,3,3.00\n"
                    "T1,2026-06-01T09:00:00+00:00,C000001,4.00,store,CRO-1,2,2.00\n"
                    "T1-R,2026-06-02T09:00:00+00:00,C000001,-6.00,store,COF-250,-2,3.00\n"
                    "T1-R,2026-06-02T09:00:00+00:00,C000001,-2.00,store,CRO-1,-1,2.00\n", encoding="utf-8")
    summary = cli.json("import", till)
    assert (summary["rejected"], summary["refunds"]) == (0, 1)
    assert stamps(cli) == {"Coffee": (1, 0)}  # two coffees back: two stamps (in proportion 3 x 8/13 = 1)


def test_library_refund_with_items(session):
    from loyaltycli.programs.cards import add_card
    from loyaltycli.services import cards, customers, points
    from loyaltycli.store.program import load_program

    add_card(session, "Coffee", 10, "Free coffee", skus=["COF-*"], per="item")
    program = load_program(session)
    customer = customers.enroll(session, program, "Ann", email="ann@example.ie")
    points.post_purchase(session, program, customer, 1_300, receipt_id="L1",
                         items=[points.parse_item("COF-1:3:3.00"), points.parse_item("CRO-1:2:2.00")])
    sale = points.find_sale(session, "L1")
    result = points.post_refund(session, program, sale, items=points.refund_items(session, sale, ["CRO-1:2"]))
    assert result.amount == 400
    assert cards.customer_cards(session, customer.id)[0]["stamps"] == 3  # croissants earn no coffee stamp
    points.post_refund(session, program, sale, items=points.refund_items(session, sale, ["COF-1:2"]))
    assert cards.customer_cards(session, customer.id)[0]["stamps"] == 1


# -- 4. `report cards`: the period, set-based ----------------------------------------------------------
def _report(cli, *args):
    return {r["card"]: r for r in cli.json("report", "cards", *args)}


def test_report_cards_counts_what_happened_in_the_period(cli):
    cli("card", "add", "Coffee", "--stamps", "2", "--reward", "Free coffee", "--sku", "COF-*", "--per", "item",
        "--expires-days", "10")
    cli("card", "add", "Tea", "--stamps", "5", "--reward", "Free tea", "--sku", "TEA-*", "--per", "item")
    cli("enroll", "Aoife Byrne", "--phone", "0851234567", "--at", "2026-04-01T09:00:00+00:00")
    cli("purchase", "C000001", "6.00", "--receipt", "M1", "--item", "COF-1:2:3.00", "--at", "2026-05-02T09:00:00+00:00")
    cli("purchase", "C000001", "9.00", "--receipt", "J1", "--item", "COF-1:3:3.00", "--at", "2026-06-01T09:00:00+00:00")
    assert cli("redeem", "C000001", "--voucher", "Free coffee", "--at", "2026-06-02T09:00:00+00:00").exit_code == 0
    assert cli("refund", "J1", "--item", "COF-1:1", "--at", "2026-06-03T09:00:00+00:00").exit_code == 0
    keys = ("started", "stamps", "stamps_taken_back", "stamps_expired", "completed", "vouchers_issued",
            "vouchers_used", "vouchers_expired", "vouchers_open")

    def figures(*args):
        return {card: tuple(r[k] for k in keys) for card, r in _report(cli, *args).items()}

    # June: 3 stamps, a card completed, its voucher used, a stamp back; May's voucher expired on 12 May
    assert figures("--from", "2026-06-01", "--to", "2026-07-01") == {"Coffee": (1, 3, 1, 0, 1, 1, 1, 0, 0),
                                                                     "Tea": (0, 0, 0, 0, 0, 0, 0, 0, 0)}
    assert figures("--from", "2026-05-01", "--to", "2026-06-01")["Coffee"] == (1, 2, 0, 0, 1, 1, 0, 1, 0)
    # up to 10 May the voucher of 2 May was still usable: open at the end of that period
    assert figures("--from", "2026-05-01", "--to", "2026-05-10")["Coffee"] == (1, 2, 0, 0, 1, 1, 0, 0, 1)
    # the default period (the 365 days up to now) holds it all
    assert figures()["Coffee"] == (1, 5, 1, 0, 2, 2, 1, 1, 0)
    csv = cli("report", "cards", "--from", "2026-06-01", "--csv").stdout.splitlines()
    assert csv == ["card,reward,stamps_needed,started,stamps,stamps_taken_back,stamps_expired,completed,"
                   "vouchers_issued,vouchers_used,vouchers_expired,vouchers_open",
                   "Coffee,Free coffee,2,1,3,1,0,1,1,1,0,0", "Tea,Free tea,5,0,0,0,0,0,0,0,0,0"]
    bad = cli("report", "cards", "--from", "2026-07-01", "--to", "2026-06-01")
    assert (bad.exit_code, bad.stderr) == (1, "error: --from must be before --to (the period is [from, to))\n")
    summary = cli.json("report", "summary", "--from", "2026-06-01", "--to", "2026-07-01")
    assert summary["cards"] == cli.json("report", "cards", "--from", "2026-06-01", "--to", "2026-07-01")


def test_cards_report_is_one_query_however_many_cards(session):
    from datetime import datetime, timezone

    from sqlalchemy import event

    from loyaltycli.programs.cards import add_card
    from loyaltycli.services import customers, points
    from loyaltycli.reports import sql as report_sql, aggregates as reports
    from loyaltycli.store.program import load_program

    for n in range(12):
        add_card(session, f"Card {n}", 3, f"Reward {n}", skus=[f"S{n}-*"], per="item")
    program = load_program(session)
    customer = customers.enroll(session, program, "Ann", email="ann@example.ie")
    for n in range(12):
        points.post_purchase(session, program, customer, 300 * (n + 1), receipt_id=f"R{n}",
                             items=[points.parse_item(f"S{n}-1:{n + 1}:3.00")])
    period = report_sql.make_period(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        data = reports.cards_report(session, program, period)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    assert len([s for s in statements if "card_ledger" in s]) == 1
    rows = {r["card"]: r for r in data["cards"]}
    assert (rows["Card 0"]["stamps"], rows["Card 0"]["completed"]) == (1, 0)
    assert (rows["Card 11"]["stamps"], rows["Card 11"]["completed"], rows["Card 11"]["vouchers_open"]) == (12, 4, 4)
    assert sum(r["vouchers_issued"] for r in data["cards"]) == sum(n // 3 for n in range(1, 13))


# -- 1. stamps expire with the card: a card not filled within --expires-days of its first stamp ------------
def test_engine_a_card_not_filled_in_time_expires_and_the_next_stamp_starts_a_new_one():
    from datetime import datetime, timedelta, timezone

    from loyaltycli.store.program import Program, settings as program_settings
    from loyaltycli.engine.account import Account
    from loyaltycli.engine.cards import CardRule
    from loyaltycli.engine.earning import Engine, Sale

    t0 = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
    day = timedelta(days=1)
    card = CardRule(1, "Coffee", 3, "Free coffee", ("COF-*",), 0, "item", 10)
    values = {key: setting.parse(setting.default) for key, setting in program_settings().items()}
    values.update(cards=(card,))
    engine = Engine(Program(values), timezone.utc, t0)
    a = Account(1, "C000001", t0 - 30 * day)
    a.reset(0)

    def rows(d):
        return [(r[2], r[4], r[5], r[6]) for r in d.card_rows]  # kind, delta, at, expires_at

    d1 = engine.sale(a, "R1", t0, 600, "store", items=[("COF-1", 2, 600)])
    assert rows(d1) == [("stamp", 2, t0, t0 + 10 * day)]
    # day 11: the card of day 0 was not filled by day 10: its 2 stamps expire (dated day 10), a new card starts
    d2 = engine.sale(a, "R2", t0 + 11 * day, 300, "store", items=[("COF-1", 1, 300)])
    assert rows(d2) == [("expire", -2, t0 + 10 * day, None), ("stamp", 1, t0 + 11 * day, t0 + 21 * day)]
    assert a.cards == {1: 1} and a.card_ends == {1: t0 + 21 * day}
    # day 12: filled (1 + 3 = 4): a voucher valid 10 days, and the extra stamp starts a new card today
    d3 = engine.sale(a, "R3", t0 + 12 * day, 900, "store", items=[("COF-1", 3, 900)])
    assert rows(d3) == [("stamp", 3, t0 + 12 * day, t0 + 22 * day), ("complete", -3, t0 + 12 * day, None),
                        ("voucher", 1, t0 + 12 * day, t0 + 22 * day)]
    # a refund at day 30 finds that card past its deadline: its stamp expires first, then R3's coffee goes back
    sale = Sale("R3", 1, "C000001", t0 + 12 * day, 900, d3.earned, given=d3.given)
    back = engine.refund(a, "R3/C1", t0 + 30 * day, 300, sale, items=[("COF-1", 1, 300)])
    assert rows(back) == [("expire", -1, t0 + 22 * day, None), ("unstamp", -1, t0 + 30 * day, None)]
    assert a.cards == {1: -1}


@pytest.fixture
def timed(cli):
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee", "--sku", "COF-*",
               "--per", "item", "--expires-days", "30").exit_code == 0
    for name, email in (("Counter Ann", "ann@example.ie"), ("Till Bob", "bob@example.ie")):
        assert cli("enroll", name, "--email", email, "--at", "2026-04-01T09:00:00+00:00").exit_code == 0
    return cli


def _card_rows(cli, key):
    return [(r["at"][:10], r["kind"], r["note"]) for r in cli.json("history", key) if r["kind"] in
            ("stamp", "unstamp", "expire", "complete", "voucher")]


def test_counter_and_import_expire_the_stamps_of_a_card_not_filled_in_time(timed, tmp_path):
    cli = timed
    sales = [("S1", "2026-05-01", 3), ("S2", "2026-06-05", 2)]
    lines = ["receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price"]
    for receipt, day, cups in sales:
        assert cli("purchase", "C000001", f"{cups * 3}.00", "--receipt", receipt, "--at", f"{day}T09:00:00+00:00",
                   "--item", f"COF-1:{cups}:3.00").exit_code == 0
        lines.append(f"T{receipt},{day}T09:00:00+00:00,bob@example.ie,{cups * 3}.00,store,COF-1,{cups},3.00")
    till = tmp_path / "till.csv"
    till.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli.json("import", till)["rejected"] == 0
    counter = _card_rows(cli, "C000001")
    assert counter == [
        ("2026-05-01", "stamp", "+3 stamps: receipt S1: 3 stamps on Coffee (Coffee 3/10)"),
        ("2026-05-31", "expire", "-3 stamps: 3 stamps on Coffee expired: the card was not filled within 30 days "
                                 "(Coffee 0/10)"),
        ("2026-06-05", "stamp", "+2 stamps: receipt S2: 2 stamps on Coffee (Coffee 2/10)")]
    assert [(at, kind) for at, kind, _ in _card_rows(cli, "C000002")] == [(at, kind) for at, kind, _ in counter]
    # 30 days after the first stamp (09:00 UTC), shown in the shop's zone (the suite runs in several)
    deadline = clock.local_text(datetime(2026, 7, 5, 9, tzinfo=timezone.utc))
    for key in ("C000001", "C000002"):
        [card] = cli.json("balance", key)["cards"]
        assert (card["stamps"], card["stamps_expire"]) == (2, deadline)
    report = _report(cli, "--from", "2026-05-01", "--to", "2026-07-01")["Coffee"]
    assert (report["stamps"], report["stamps_expired"], report["started"]) == (10, 6, 2)


def test_expire_writes_off_the_stamps_of_cards_past_their_deadline_once(timed):
    cli = timed
    cli("purchase", "C000001", "9.00", "--receipt", "S1", "--at", "2026-05-01T09:00:00+00:00", "--item", "COF-1:3:3.00")
    cli("purchase", "C000002", "6.00", "--receipt", "S2", "--at", "2026-06-01T09:00:00+00:00", "--item", "COF-1:2:3.00")
    # now is 15 June: Ann's card (deadline 31 May) shows no stamps even before `expire` writes the row
    assert stamps(cli, "C000001") == {"Coffee": (0, 0)}
    assert [k for _, k, _ in _card_rows(cli, "C000001")] == ["stamp"]
    assert cli.json("balance", "C000001")["cards"][0]["stamps_expire"] is None
    result = cli("expire")
    assert result.exit_code == 0
    assert result.stdout.endswith("; 3 stamps of 1 customer on stamp cards not filled in time\n")
    assert cli.json("expire")["stamps"] == 0  # run again: nothing more
    assert [(at, k) for at, k, _ in _card_rows(cli, "C000001")] == [("2026-05-01", "stamp"), ("2026-05-31", "expire")]
    assert stamps(cli, "C000002") == {"Coffee": (2, 0)}  # Bob's card runs until 1 July
    assert [k for _, k, _ in _card_rows(cli, "C000002")] == ["stamp"]
    assert cli("db", "check").exit_code == 0


def test_expire_as_of_a_past_day_and_card_add_help(timed):
    cli = timed
    cli("purchase", "C000001", "9.00", "--receipt", "S1", "--at", "2026-05-01T09:00:00+00:00", "--item", "COF-1:3:3.00")
    assert cli.json("expire", "--as-of", "2026-05-30")["stamps"] == 0
    assert cli.json("expire", "--as-of", "2026-05-31")["stamps"] == 3
    help_text = " ".join(cli("card", "add", "--help").stdout.split())
    assert "not filled within N days of its first stamp" in help_text


# -- 5. the "Done when": the counter, and the same sales from a till file ---------------------------
DONE_VISITS = [("V1", "01", [("COF-250", 2, "3.00"), ("CRO-1", 1, "2.00")]), ("V2", "02", [("COF-250", 1, "3.00")]),
               ("V3", "03", [("COF-250", 3, "3.00")]), ("V4", "04", [("COF-250", 1, "3.00")]),
               ("V5", "05", [("COF-250", 4, "3.00")])]  # 11 coffees over five visits, some in one purchase


def _stamp_rows(cli, key):
    return [(r["kind"], r["note"].split(":", 1)[0]) for r in cli.json("history", key)
            if r["kind"] in ("stamp", "unstamp", "complete", "voucher", "voucher_used")]


def test_done_when_ten_coffees_at_the_counter_and_from_a_till_file(cli, tmp_path):
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee", "--sku", "COF-*",
               "--per", "item").exit_code == 0
    for name, email in (("Counter Ann", "ann@example.ie"), ("Till Bob", "bob@example.ie")):
        assert cli("enroll", name, "--email", email, "--at", "2026-05-01T09:00:00+00:00").exit_code == 0
    lines = ["receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price"]
    after = []
    for receipt, day, items in DONE_VISITS:
        args = [a for sku, q, p in items for a in ("--item", f"{sku}:{q}:{p}")]
        total = sum(q * int(p.replace(".", "")) for _, q, p in items)
        sale = cli("purchase", "C000001", f"{total / 100:.2f}", "--receipt", receipt,
                   "--at", f"2026-06-{day}T09:00:00+00:00", *args)
        assert sale.exit_code == 0, sale.stderr
        after.append(stamps(cli)["Coffee"])
        lines += [f"T{receipt},2026-06-{day}T09:00:00+00:00,bob@example.ie,{q * int(p.replace('.', '')) / 100:.2f},"
                  f"store,{sku},{q},{p}" for sku, q, p in items]
    assert after == [(2, 0), (3, 0), (6, 0), (7, 0), (1, 1)]  # the tenth coffee: a voucher, 1 stamp carried over
    assert cli("redeem", "C000001", "--voucher", "Free coffee").exit_code == 0
    twice = cli("redeem", "C000001", "--voucher", "Free coffee")
    assert (twice.exit_code, twice.stderr) == (1, "error: C000001 has no voucher for Free coffee\n")
    refund = cli("refund", "V3", "--item", "COF-250:1", "--at", "2026-06-06T09:00:00+00:00")
    assert refund.exit_code == 0, refund.stderr
    assert stamps(cli) == {"Coffee": (0, 0)}  # the refunded coffee's stamp is taken back; the used voucher kept
    # the same sales and the return of one coffee, from the till
    lines.append("TV3-R,2026-06-06T09:00:00+00:00,bob@example.ie,-3.00,store,COF-250,-1,3.00")
    till = tmp_path / "till.csv"
    till.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = cli.json("import", till)
    assert (summary["rejected"], summary["refunds"], summary["refunds_linked"]) == (0, 1, 1)
    assert stamps(cli, "C000002") == {"Coffee": (0, 1)}  # one voucher waiting, the card at 0 after the return
    assert cli("redeem", "C000002", "--voucher", "Free coffee").exit_code == 0
    assert stamps(cli, "C000002") == {"Coffee": (0, 0)}
    expected = [("stamp", "+2 stamps"), ("stamp", "+1 stamp"), ("stamp", "+3 stamps"), ("stamp", "+1 stamp"),
                ("stamp", "+4 stamps"), ("complete", "-10 stamps"), ("voucher", "+1 voucher"),
                ("unstamp", "-1 stamp"), ("voucher_used", "-1 voucher")]  # in time order: the use is dated now
    assert _stamp_rows(cli, "C000001") == expected
    assert _stamp_rows(cli, "C000002") == expected
    # points: 8 + 3 + 9 + 3 + 12 = 35 and the welcome 50; the coffee back: 9 x 3.00 / 9.00 = 3
    assert cli.json("balance", "C000001")["balance"] == cli.json("balance", "C000002")["balance"] == 82
    report = _report(cli, "--from", "2026-06-01", "--to", "2026-07-01")["Coffee"]
    assert (report["started"], report["stamps"], report["stamps_taken_back"], report["completed"],
            report["vouchers_issued"], report["vouchers_used"], report["vouchers_open"]) == (2, 22, 2, 2, 2, 2, 0)
