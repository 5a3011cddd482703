"""Stamp cards, item rules and visit points: the engine alone (pure) and through the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cards_helpers import stamps

from loyaltycli.store.program import Program, settings as program_settings
from loyaltycli.engine.account import Account
from loyaltycli.engine.cards import C_DELTA, C_KIND, CardRule, ItemRule, stamps_for
from loyaltycli.engine.earning import DELTA, KIND, Engine, Sale

UTC = timezone.utc
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
COFFEE = CardRule(1, "Coffee", 10, "Free coffee", ("COF-*",), 0, "item", None)
BREAD = CardRule(2, "Bread", 8, "Free loaf", ("BRD-*",), 300, "visit", 30)


def engine(cards=(COFFEE,), **changes) -> Engine:
    values = {key: setting.parse(setting.default) for key, setting in program_settings().items()}
    values.update(changes, cards=tuple(cards))
    return Engine(Program(values), UTC, T0)


def account() -> Account:
    a = Account(1, "C000001", T0 - timedelta(days=30))
    a.reset(0)
    return a


def cards_of(decision) -> list[tuple]:
    return [(r[1], r[C_KIND], r[C_DELTA]) for r in decision.card_rows]


# -- the engine ---------------------------------------------------------------------------------------
def test_stamps_per_item_unit_of_matching_skus_and_per_visit_above_the_minimum():
    items = [("COF-250", 3, 900), ("cof-1", 1, 300), ("CRO-1", 2, 400)]
    assert stamps_for(COFFEE, 1600, items) == 4  # patterns match any case; croissants do not count
    assert stamps_for(COFFEE, 1600, []) == 0
    assert stamps_for(BREAD, 300, [("BRD-1", 3, 300)]) == 1  # one per visit, however many loaves
    assert stamps_for(BREAD, 299, [("BRD-1", 1, 299)]) == 0  # below the minimum
    assert stamps_for(BREAD, 900, [("COF-1", 3, 900)]) == 0  # no matching item
    anything = CardRule(3, "Visits", 5, "Cake", (), 200, "visit")
    assert stamps_for(anything, 200, []) == 1 and stamps_for(anything, 199, []) == 0


def test_a_full_card_becomes_a_voucher_and_the_extra_stamps_carry_over():
    e, a = engine(), account()
    first = e.sale(a, "R1", T0, 2_100, "store", items=[("COF-1", 7, 2_100)])
    assert cards_of(first) == [(1, "stamp", 7)] and a.cards == {1: 7} and first.stamps == {1: 7}
    second = e.sale(a, "R2", T0 + timedelta(hours=1), 1_200, "store", items=[("COF-1", 4, 1_200)])
    assert cards_of(second) == [(1, "stamp", 4), (1, "complete", -10), (1, "voucher", 1)]
    assert a.cards == {1: 1}
    # 25 stamps at once: two vouchers, 5 left (6 with the one held)
    third = e.sale(a, "R3", T0 + timedelta(hours=2), 7_500, "store", items=[("COF-1", 25, 7_500)])
    assert [k for _, k, _ in cards_of(third)].count("voucher") == 2 and a.cards == {1: 6}
    # stamps are not points: the points rows are the spend's alone
    assert [(r[KIND], r[DELTA]) for r in third.rows] == [("earn", 75)]


def test_several_cards_at_once_and_a_voucher_expires_with_the_card_setting():
    e, a = engine((COFFEE, BREAD)), account()
    d = e.sale(a, "R1", T0, 600, "store", items=[("COF-1", 1, 300), ("BRD-1", 1, 300)])
    assert cards_of(d) == [(1, "stamp", 1), (2, "stamp", 1)]
    a.cards[2] = 7
    d = e.sale(a, "R2", T0, 300, "store", items=[("BRD-1", 1, 300)])
    voucher = d.card_rows[-1]
    assert voucher[C_KIND] == "voucher" and voucher[6] == T0 + timedelta(days=30)


def test_a_refund_takes_back_the_stamps_of_its_items_and_may_go_below_zero():
    e, a = engine((COFFEE, BREAD)), account()
    d = e.sale(a, "R1", T0, 1_550, "store", items=[("COF-1", 4, 1_200), ("BRD-1", 1, 350)])
    assert d.stamps == {1: 4, 2: 1}
    a.cards[1] = 1  # meanwhile the card filled and was used: 1 stamp left
    sale = Sale("R1", 1, "C000001", T0, 1_550, d.earned, given=d.given)
    # one coffee of four (3.00 of 15.50): its stamp, not 4 x 300 / 1550 = 0 in proportion
    part = e.refund(a, "R1/C1", T0 + timedelta(hours=1), 300, sale, items=[("COF-1", 1, 300)])
    assert cards_of(part) == [(1, "unstamp", -1)] and a.cards == {1: 0, 2: 1}
    assert sale.taken["cards"] == {1: 1}
    # 9.00 back naming no items: no coffee stamp; what is left (3.50) still earns the bread visit
    nameless = e.refund(a, "R1/C2", T0 + timedelta(hours=2), 900, sale)
    assert cards_of(nameless) == [] and a.cards == {1: 0, 2: 1}
    # the last 3.50: nothing left of the sale, every stamp it still holds goes back
    rest = e.refund(a, "R1/C3", T0 + timedelta(hours=3), 350, sale)
    assert cards_of(rest) == [(1, "unstamp", -3), (2, "unstamp", -1)] and a.cards == {1: -3, 2: 0}
    assert sale.taken["cards"] == {1: 4, 2: 1}


def test_a_refund_of_items_takes_back_at_most_what_they_earned_and_the_visit_stamp_below_the_minimum():
    e, a = engine((COFFEE, BREAD)), account()
    d = e.sale(a, "R1", T0, 950, "store", items=[("COF-1", 2, 600), ("BRD-1", 1, 350)])
    sale = Sale("R1", 1, "C000001", T0, 950, d.earned, given=d.given)
    # a croissant-free refund of 3 coffees claims more than the 2 stamps the sale gave: 2 go back
    back = e.refund(a, "R1/C1", T0, 650, sale, items=[("COF-1", 3, 650)])
    assert cards_of(back) == [(1, "unstamp", -2)]
    # 3.00 left, below the bread card's 3.00 minimum? no: 3.00 is the minimum, the stamp stays
    assert cards_of(e.refund(a, "R1/C2", T0, 1, sale)) == [(2, "unstamp", -1)]  # 2.99 left: below it
    assert a.cards == {1: 0, 2: 0}


def test_item_rules_and_visit_points_are_earn_rows_on_top_of_the_spend():
    rules = (ItemRule("Croissant bonus", ("CRO-*",), 5, "item"), ItemRule("Cake day", ("CAK-*",), 20, "visit"))
    e, a = engine((), item_rules=rules, earn_per_visit=10, visit_min_amount=200), account()
    d = e.sale(a, "R1", T0, 1_000, "store", items=[("CRO-1", 3, 600), ("CAK-1", 2, 400)])
    assert [(r[KIND], r[DELTA]) for r in d.rows] == [("earn", 10), ("earn", 10), ("earn", 15), ("earn", 20)]
    assert d.earned == 55
    small = e.sale(a, "R2", T0, 150, "store")  # below the visit minimum, no items: 1 point of spend only
    assert small.earned == 1
    sale = Sale("R1", 1, "C000001", T0, 1_000, d.earned)
    assert e.refund(a, "R1/C1", T0, 1_000, sale).earned == -55  # a full refund reverses all of it


# -- through the CLI ---------------------------------------------------------------------------------
def test_ten_coffees_over_several_visits_give_one_voucher_used_once_and_a_refund_takes_its_stamp(cafe):
    cli = cafe
    visits = [("V1", 2), ("V2", 1), ("V3", 3), ("V4", 1), ("V5", 4)]  # 11 coffees, some in one purchase
    for n, (receipt, cups) in enumerate(visits):
        at = f"2026-06-0{n + 1}T09:00:00+00:00"
        result = cli("purchase", "C000001", f"{cups * 3}.00", "--receipt", receipt, "--at", at,
                     "--item", f"COF-250:{cups}:3.00")
        assert result.exit_code == 0, result.stderr
    assert stamps(cli) == {"Coffee": (1, 1)}
    data = cli.json("balance", "C000001")
    assert data["balance"] == 50 + 33  # stamps never count as points
    assert "Coffee 1/10, 1 voucher: Free coffee" in cli("balance", "C000001").stdout
    used = cli("redeem", "C000001", "--voucher", "free coffee")
    assert used.exit_code == 0 and "used a voucher for Free coffee" in used.stdout
    again = cli("redeem", "C000001", "--voucher", "Free coffee")
    assert again.exit_code == 1 and again.stderr == "error: C000001 has no voucher for Free coffee\n"
    assert stamps(cli) == {"Coffee": (1, 0)}
    refund = cli("refund", "V3", "--amount", "3.00")  # one coffee of three
    assert refund.exit_code == 0
    assert stamps(cli) == {"Coffee": (0, 0)}
    cli("refund", "V5")  # four coffees back: the card goes below zero; the used voucher is kept
    assert stamps(cli) == {"Coffee": (-4, 0)}
    assert cli.json("balance", "C000001")["balance"] == 50 + 33 - 3 - 12
    kinds = [r["kind"] for r in cli.json("history", "C000001")]
    assert kinds.count("stamp") == 5 and kinds.count("voucher") == 1 and kinds.count("voucher_used") == 1
    assert kinds.count("unstamp") == 2
    assert sum(r["points"] for r in cli.json("history", "C000001")) == 50 + 33 - 15
    shown = cli.json("customer", "show", "C000001")
    assert shown["balance"] == 68 and shown["cards"][0]["stamps"] == -4
    report = {r["card"]: r for r in cli.json("report", "cards")}["Coffee"]
    assert (report["started"], report["completed"], report["vouchers_issued"], report["vouchers_used"],
            report["vouchers_expired"]) == (1, 1, 1, 1, 0)
    assert cli("db", "check").exit_code == 0


def test_an_expired_voucher_is_refused(cli):
    cli("card", "add", "Bread", "--stamps", "2", "--reward", "Free loaf", "--per", "visit", "--min-amount", "3.00",
        "--expires-days", "7")
    cli("enroll", "Aoife Byrne", "--phone", "0851234567", "--at", "2026-05-01T09:00:00+00:00")
    for day in ("01", "02"):
        cli("purchase", "C000001", "3.50", "--at", f"2026-06-{day}T09:00:00+00:00")
    cli("purchase", "C000001", "2.99", "--at", "2026-06-03T09:00:00+00:00")  # below the minimum: no stamp
    assert stamps(cli) == {"Bread": (0, 0)}  # the voucher expired on the 9th (now is the 15th): not usable
    refused = cli("redeem", "C000001", "--voucher", "Free loaf")
    assert refused.exit_code == 1
    assert refused.stderr == "error: C000001's voucher for Free loaf expired on 2026-06-09\n"
    report = cli.json("report", "cards")[0]
    assert report["vouchers_issued"] == 1 and report["vouchers_expired"] == 1 and report["vouchers_open"] == 0


def test_card_add_refuses_bad_values_and_changes_nothing(cli):
    cases = [
        (["Coffee", "--stamps", "0", "--reward", "x"], "error: --stamps must be 1 to 1000\n"),
        (["Coffee", "--stamps", "10", "--reward", "x", "--per", "week"], "error: --per 'week' is not one of visit, item\n"),
        (["Coffee", "--stamps", "10", "--reward", " "], 'error: --reward must be 1 to 200 characters (e.g. "Free coffee")\n'),
        (["Coffee", "--stamps", "10", "--reward", "x", "--expires-days", "0"], "error: --expires-days must be 1 to 36500\n"),
    ]
    for args, message in cases:
        result = cli("card", "add", *args)
        assert (result.exit_code, result.stderr) == (1, message)
    assert cli.json("card", "list") == []
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee").exit_code == 0
    dup = cli("card", "add", "coffee", "--stamps", "5", "--reward", "y")
    assert dup.exit_code == 1 and "already exists" in dup.stderr
    assert [c["card"] for c in cli.json("card", "list")] == ["Coffee"]
    unknown = cli("redeem", "C000001", "--voucher", "Free cake")
    assert unknown.exit_code == 1


def test_voucher_with_points_is_refused(cafe):
    result = cafe("redeem", "C000001", "100", "--voucher", "Free coffee")
    assert result.exit_code == 1 and "--voucher uses a stamp-card voucher" in result.stderr


def test_item_rule_and_visit_points_at_the_counter(cli):
    assert cli("program", "rule", "add", "Croissant bonus", "--sku", "CRO-*", "--points", "5",
               "--per", "item").exit_code == 0
    assert cli("program", "set", "earn_per_visit", "10").exit_code == 0
    assert cli("program", "set", "visit_min_amount", "2.00").exit_code == 0
    cli("enroll", "Aoife Byrne", "--phone", "0851234567")
    out = cli.json("purchase", "C000001", "7.00", "--receipt", "R1", "--item", "CRO-1:2:2.50", "--item", "COF-1:1:2.00")
    assert out["points"] == 7 + 10 + 10 and out["balance"] == 50 + 27
    assert cli.json("purchase", "C000001", "1.50", "--receipt", "R2")["points"] == 1  # below the visit minimum
    assert cli.json("refund", "R1")["points"] == -27
    assert cli.json("balance", "C000001")["balance"] == 51
    rules = cli.json("program", "rule", "list")
    assert rules == [{"name": "Croissant bonus", "skus": "CRO-*", "points": 5, "per": "item", "earn": None}]
    bad = cli("program", "rule", "add", "Nothing", "--sku", "X-*", "--points", "0")
    assert (bad.exit_code, bad.stderr) == (1, "error: --points must be 1 to 1000000\n")


# -- the same sales at the counter and from a till file ------------------------------------------------
VISITS = [  # (receipt, day, [(sku, qty, unit price)])
    ("V1", "01", [("COF-250", 2, "3.00"), ("BRD-1", 1, "3.50")]),
    ("V2", "02", [("COF-250", 1, "3.00")]),
    ("V3", "03", [("COF-250", 3, "3.00"), ("CRO-1", 2, "2.00"), ("BRD-1", 1, "3.50")]),
    ("V4", "04", [("CRO-1", 1, "2.00")]),
    ("V5", "05", [("COF-250", 5, "3.00")]),
]
REFUNDS = [("V3", "06", "COF-250", 1, "3.00"), ("V5", "07", "COF-250", 5, "3.00")]  # a part, then a whole sale


def _cents(text):
    return int(text.replace(".", ""))


def _state(cli, key):
    balance = cli.json("balance", key)
    history = [(r["kind"], r["points"], r["note"].split(": ", 1)[0]) for r in cli.json("history", key)]
    return balance["balance"], balance["cards"], [(k, p) for k, p, _ in history]


def test_the_same_sales_imported_from_a_till_file_give_the_same_stamps_vouchers_and_points(cli, tmp_path):
    cli("card", "add", "Coffee", "--stamps", "5", "--reward", "Free coffee", "--sku", "COF-*", "--per", "item")
    cli("card", "add", "Bread", "--stamps", "2", "--reward", "Free loaf", "--sku", "BRD-*", "--per", "visit",
        "--min-amount", "3.00", "--expires-days", "30")
    cli("program", "rule", "add", "Croissant bonus", "--sku", "CRO-*", "--points", "5")
    cli("program", "set", "earn_per_visit", "10")
    cli("program", "set", "visit_min_amount", "5.00")
    for name, email in (("Counter Ann", "ann@example.ie"), ("Till Bob", "bob@example.ie")):
        assert cli("enroll", name, "--email", email, "--at", "2026-05-01T09:00:00+00:00").exit_code == 0
    lines = ["receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price"]
    for receipt, day, items in VISITS:
        total = sum(q * _cents(p) for _, q, p in items)
        args = [a for sku, q, p in items for a in ("--item", f"{sku}:{q}:{p}")]
        result = cli("purchase", "C000001", f"{total / 100:.2f}", "--receipt", receipt,
                     "--at", f"2026-06-{day}T09:00:00+00:00", *args)
        assert result.exit_code == 0, result.stderr
        for sku, q, p in items:
            # the till numbers its receipts its own way (the same ids as the counter's would be refused as the
            # same export under another source)
            lines.append(f"T{receipt},2026-06-{day}T09:00:00+00:00,bob@example.ie,{q * _cents(p) / 100:.2f},store,"
                         f"{sku},{q},{p}")
    for receipt, day, sku, q, p in REFUNDS:
        amount = f"{q * _cents(p) / 100:.2f}"
        assert cli("refund", receipt, "--item", f"{sku}:{q}", "--at", f"2026-06-{day}T09:00:00+00:00").exit_code == 0
        lines.append(f"T{receipt}-R,2026-06-{day}T09:00:00+00:00,bob@example.ie,-{amount},store,{sku},-{q},{p}")
    till = tmp_path / "till.csv"
    till.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = cli.json("import", till)
    assert summary["rejected"] == 0 and summary["refunds"] == 2
    counter, imported = _state(cli, "C000001"), _state(cli, "C000002")
    assert counter == imported
    balance, cards, _ = counter
    # coffees 2+1+3+5 = 11: two vouchers and 1 stamp; one coffee back of V3: its stamp, all of V5: 5 back;
    # bread: 2 visits of 3.00 or more, one voucher (V3's 13.50 left still earns its visit stamp)
    assert {c["card"]: (c["stamps"], c["vouchers"]) for c in cards} == {"Coffee": (-5, 2), "Bread": (0, 1)}
    # spend 10.00+3.00+16.50+2.00+15.00 = 46 points (units per sale: 9+3+16+2+15 = 45), visits of 5.00+: 3 x 10,
    # croissants 3 x 5; refunds: 3.00 of 16.50 (floor(16+10+10)*300/1650 = 6), all of V5 (15+10 = 25)
    assert balance == 50 + 45 + 30 + 15 - 6 - 25
    report = {r["card"]: r for r in cli.json("report", "cards")}
    assert report["Coffee"]["vouchers_issued"] == 4 and report["Bread"]["vouchers_issued"] == 2


def test_a_merge_moves_stamps_and_usable_vouchers(cafe):
    cli = cafe
    cli("enroll", "Aoife B", "--email", "aoife@example.ie", "--at", "2026-05-01T09:00:00+00:00")
    cli("purchase", "C000002", "39.00", "--receipt", "D1", "--item", "COF-1:13:3.00")  # a voucher and 3 stamps
    cli("purchase", "C000001", "6.00", "--receipt", "K1", "--item", "COF-1:2:3.00")
    result = cli("customer", "merge", "C000001", "C000002", "--yes")
    assert result.exit_code == 0, result.stderr
    assert stamps(cli, "C000001") == {"Coffee": (5, 1)}
    assert stamps(cli, "C000002") == {"Coffee": (0, 0)}
    assert cli("redeem", "C000001", "--voucher", "Free coffee").exit_code == 0
    report = cli.json("report", "cards")[0]
    assert (report["vouchers_issued"], report["vouchers_used"], report["vouchers_open"]) == (1, 1, 0)
    assert cli.json("balance", "C000001")["balance"] == 50 + 50 + 39 + 6  # points moved as before


def test_the_demo_cafe_runs_a_coffee_card_shown_in_report_cards_and_the_summary(cli, monkeypatch):
    monkeypatch.setenv("LOYALTY_NOW", "2026-12-01T12:00:00+00:00")
    assert cli("init", "--demo").exit_code == 0
    [coffee] = cli.json("report", "cards", "--from", "2020-01-01")  # all of it
    assert coffee["card"] == "Coffee" and coffee["vouchers_issued"] == coffee["completed"] > 0
    assert coffee["vouchers_issued"] == coffee["vouchers_used"] + coffee["vouchers_expired"] + coffee["vouchers_open"]
    assert coffee["vouchers_used"] > 0 and coffee["stamps_expired"] > 0  # cards not filled within the year
    [year] = cli.json("report", "cards")
    assert cli.json("report", "summary")["cards"] == [year]
    csv = cli("report", "cards", "--csv").stdout.splitlines()
    assert csv[0].startswith("card,reward,stamps_needed,started") and csv[1].startswith("Coffee,Free coffee,10,")
    assert cli("db", "check").exit_code == 0


def test_db_check_reports_a_voucher_used_twice(cafe, database):
    from sqlalchemy import text

    cli = cafe
    cli("purchase", "C000001", "30.00", "--receipt", "R1", "--item", "COF-1:10:3.00")
    assert cli("redeem", "C000001", "--voucher", "Free coffee").exit_code == 0
    with database.session() as s:  # a second use of the same voucher written past the rules
        s.execute(text("INSERT INTO card_ledger (customer_id, card_id, kind, unit, delta, at, voucher_id, note, "
                       "recorded_at) SELECT customer_id, card_id, kind, unit, delta, at, voucher_id, note, recorded_at "
                       "FROM card_ledger WHERE kind = 'voucher_used'"))
    result = cli("db", "check")
    assert result.exit_code != 0 and "was used or moved 2 times" in result.stdout + result.stderr


def test_a_card_name_or_reward_with_a_control_character_is_refused(cli):
    """Stored free text carries no terminal escapes (issue 13), stamp cards included."""
    bad = cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free \x1b[31mcoffee")
    assert bad.exit_code == 1
    assert "reward contains a control character (\\x1b); type plain text" in bad.stderr
    assert cli("card", "add", "Cof\x07fee", "--stamps", "10", "--reward", "Free coffee").exit_code == 1
    assert cli.json("card", "list") == []
