"""Goals (engine/rules/goals.py): spend on SKU patterns in a calendar month gives a voucher; refunds take the
progress back; the counter and the import give the same goals' ledger."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

HEADER = "receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price\n"


@pytest.fixture
def bakery(cli):
    assert cli("goal", "add", "Pastries", "--spend", "30.00", "--sku", "PAS-*", "--per", "month",
               "--reward", "Free coffee").exit_code == 0
    assert cli("enroll", "Ann", "--card", "6000100000001", "--at", "2026-05-01T09:00:00", "--no-input").exit_code == 0
    assert cli("enroll", "Bob", "--card", "6000100000002", "--at", "2026-05-01T09:00:00", "--no-input").exit_code == 0
    return cli


def goals(cli, key="C000001"):
    return {g["goal"]: (g["spend"], g["vouchers"]) for g in cli.json("balance", key).get("goals", [])}


def test_engine_progress_in_the_sales_month_a_voucher_once_and_a_refund_takes_progress_back():
    from loyaltycli.store.program import Program, settings as program_settings
    from loyaltycli.engine.account import Account
    from loyaltycli.engine.earning import Engine, Sale
    from loyaltycli.engine.rules.goals import GoalRule

    utc = timezone.utc
    values = {key: s.parse(s.default) for key, s in program_settings().items()}
    values["goals"] = (GoalRule(1, "Pastries", 3_000, "Free coffee", ("PAS-*",)),)
    e = Engine(Program(values), utc, datetime(2026, 6, 1, tzinfo=utc))
    a = Account(1, "C000001", datetime(2026, 1, 1, tzinfo=utc))
    a.reset(0)
    t = datetime(2026, 5, 3, 10, tzinfo=utc)
    d1 = e.sale(a, "R1", t, 2_340, "store", items=[("PAS-1", 2, 1_840), ("COF-1", 1, 500)])
    assert [(r[2], r[3], r[4]) for r in d1.writes["goal_ledger"]] == [("progress", "2026-05", 1_840)]
    d2 = e.sale(a, "R2", t + timedelta(days=1), 1_200, "store", items=[("PAS-2", 1, 1_200)])
    assert [(r[2], r[4]) for r in d2.writes["goal_ledger"]] == [("progress", 1_200), ("voucher", 1)]
    d3 = e.sale(a, "R3", t + timedelta(days=2), 5_000, "store", items=[("PAS-2", 1, 5_000)])
    assert [r[2] for r in d3.writes["goal_ledger"]] == ["progress"]  # once a month
    d4 = e.sale(a, "R4", t + timedelta(days=30), 1_000, "store", items=[("PAS-2", 1, 1_000)])
    assert d4.writes["goal_ledger"][0][3] == "2026-06"  # a new month starts from nothing
    assert a.state["goals"][(1, "2026-06")] == [1_000, False]
    sale = Sale("R1", 1, "C000001", t, 2_340, d1.earned, given=d1.given)
    back = e.refund(a, "R1/1", t + timedelta(days=40), 1_170, sale)  # half the amount: half the progress
    assert [(r[2], r[3], r[4]) for r in back.writes["goal_ledger"]] == [("unprogress", "2026-05", -920)]
    back = e.refund(a, "R1/2", t + timedelta(days=41), 1_170, sale)  # the rest: all of it
    assert [r[4] for r in back.writes["goal_ledger"]] == [-920]
    assert a.state["goals"][(1, "2026-05")][0] == 8_040 - 1_840


def test_history_shows_a_goals_progress_voucher_and_its_use_in_the_readers_language(bakery):
    cli = bakery
    assert cli("program", "set", "country", "PT").exit_code == 0
    cli("purchase", "C000001", "31.00", "--item", "PAS-1:1:31.00", "--receipt", "R1", "--at", "2026-06-02T10:00:00")
    cli("refund", "R1", "--amount", "1.00", "--at", "2026-06-02T11:00:00")
    cli("redeem", "C000001", "--voucher", "Free coffee", "--at", "2026-06-03T10:00:00")
    rows = [(r["kind"], r["points"], r["note"]) for r in cli.json("history", "C000001") if r["points"] == 0]
    assert rows == [("progress", 0, "Pastries +31.00 (2026-06)"),
                    ("voucher", 0, "Pastries reached (2026-06): a voucher for Free coffee"),
                    ("unprogress", 0, "Pastries -1.00 (2026-06)"),
                    ("voucher_used", 0, "Pastries: voucher for Free coffee used")]  # scripts: English, as typed
    shown = cli("history", "C000001", "--lang", "pt_PT").stdout
    for text in ("Pastries +31,00\u00a0€ (2026-06)", "Pastries -1,00\u00a0€ (2026-06)",
                 "Pastries atingido (2026-06): um vale para Free coffee", "Pastries: vale para Free coffee usado"):
        assert text in shown, (text, shown)


def test_a_voucher_is_found_whichever_program_type_gave_it(bakery):
    cli = bakery
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee", "--sku", "COF-*").exit_code == 0
    cli("purchase", "C000001", "31.00", "--item", "PAS-1:1:31.00", "--receipt", "R1", "--at", "2026-06-02T10:00:00")
    used = cli.json("redeem", "C000001", "--voucher", "Free coffee", "--at", "2026-06-03T10:00:00")
    assert (used["goal"], used["vouchers_left"]) == ("Pastries", 0)  # the goal's, though a card gives it too
    again = cli("redeem", "C000001", "--voucher", "Free coffee")
    assert again.exit_code == 1 and "C000001 has no voucher for Free coffee" in again.stderr
    unknown = cli("redeem", "C000001", "--voucher", "Nada")
    assert unknown.exit_code == 1
    assert "no stamp card or goal gives 'Nada'; see `loyalty card list` and `loyalty goal list`" in unknown.stderr


def test_vouchers_left_counts_every_program_type_giving_the_reward(bakery):
    """A card's voucher and a goal's for the same reward: using one says the other is left."""
    cli = bakery
    assert cli("card", "add", "Coffee", "--stamps", "2", "--reward", "Free coffee", "--sku", "COF-*",
               "--per", "item").exit_code == 0
    cli("purchase", "C000001", "33.00", "--item", "PAS-1:1:31.00", "--item", "COF-1:2:1.00", "--receipt", "R1",
        "--at", "2026-06-02T10:00:00")
    first = cli.json("redeem", "C000001", "--voucher", "Free coffee", "--at", "2026-06-03T10:00:00")
    assert (first.get("card"), first.get("goal"), first["vouchers_left"]) == ("Coffee", None, 1)
    said = cli("redeem", "C000001", "--voucher", "Free coffee", "--at", "2026-06-03T10:01:00")
    assert said.stdout.strip() == "C000001: used a voucher for Free coffee (Pastries goal); 0 left"
    assert "no voucher for Free coffee" in cli("redeem", "C000001", "--voucher", "Free coffee").stderr


@pytest.mark.shop_zone("UTC")
def test_goal_at_the_counter_shown_by_balance_and_customer_show_refund_and_report(bakery):
    cli = bakery
    cli("program", "set", "locale", "pt_PT")
    cli("purchase", "C000001", "23.40", "--item", "PAS-1:2:9.20", "--item", "COF-1:1:5.00",
        "--receipt", "R1", "--at", "2026-06-02T10:00:00")
    assert goals(cli) == {"Pastries": ("18.40", 0)}
    assert "Pastries 18,40\u00a0€ of 30,00\u00a0€" in cli("balance", "C000001").stdout
    assert "Pastries 18,40\u00a0€ of 30,00\u00a0€" in cli("customer", "show", "C000001").stdout
    sold = cli("purchase", "C000001", "12.00", "--item", "PAS-2:1:12.00", "--receipt", "R2", "--at", "2026-06-03T10:00:00")
    assert goals(cli) == {"Pastries": ("30.40", 1)}
    # the sale that reaches the goal says so at the till (the goal's line, as `balance` shows it)
    assert sold.stdout.rstrip().endswith("; Pastries 30,40\u00a0€ of 30,00\u00a0€, 1 voucher: Free coffee"), sold.stdout
    coffee = cli.json("purchase", "C000001", "2.00", "--item", "COF-1:1:2.00", "--at", "2026-06-03T11:00:00")
    assert "goals" not in coffee  # a sale that moved no goal names none
    assert cli("refund", "R2", "--at", "2026-06-04T10:00:00").exit_code == 0  # all of it back; the voucher kept
    assert goals(cli) == {"Pastries": ("18.40", 1)}
    used = cli.json("redeem", "C000001", "--voucher", "Free coffee", "--at", "2026-06-05T10:00:00")
    assert (used["goal"], used["vouchers_left"]) == ("Pastries", 0)
    assert goals(cli) == {"Pastries": ("18.40", 0)}
    again = cli("redeem", "C000001", "--voucher", "Free coffee")
    assert again.exit_code == 1 and "C000001 has no voucher for Free coffee" in again.stderr
    assert cli.json("customer", "show", "C000001")["goals"][0]["target"] == "30.00"
    report = cli.json("report", "goals", "--from", "2026-06-01", "--to", "2026-07-01")
    assert report == [{"goal": "Pastries", "reward": "Free coffee", "target": "30.00", "per": "month",
                       "active": True, "customers": 1, "spend": "18.40", "vouchers_issued": 1, "vouchers_used": 1,
                       "currency": "EUR"}]


@pytest.mark.shop_zone("UTC")
def test_the_same_sales_imported_give_the_counters_goals_ledger(bakery, database, tmp_path):
    from sqlalchemy import select

    from loyaltycli.store.models import GoalEntry

    cli = bakery
    cli("purchase", "C000001", "23.40", "--item", "PAS-1:2:9.20", "--item", "COF-1:1:5.00",
        "--receipt", "A1", "--at", "2026-06-02T10:00:00")
    cli("purchase", "C000001", "12.00", "--item", "PAS-2:1:12.00", "--receipt", "A2", "--at", "2026-06-03T10:00:00")
    assert cli("refund", "A1", "--amount", "9.20", "--at", "2026-06-04T10:00:00").exit_code == 0
    till = tmp_path / "till.csv"
    till.write_text(HEADER + "B1,2026-06-02T10:00:00,6000100000002,,store,PAS-1,2,9.20\n"
                             "B1,2026-06-02T10:00:00,6000100000002,,store,COF-1,1,5.00\n"
                             "B2,2026-06-03T10:00:00,6000100000002,12.00,store,PAS-2,1,12.00\n"
                             "B1-R,2026-06-04T10:00:00,6000100000002,-9.20,store,,,\n")
    assert cli.json("import", till)["rejected"] == 0
    with database.session(write=False) as s:
        rows = s.execute(select(GoalEntry.customer_id, GoalEntry.kind, GoalEntry.period, GoalEntry.delta)
                         .order_by(GoalEntry.id)).all()
    assert [r[1:] for r in rows if r[0] == 1] == [r[1:] for r in rows if r[0] == 2]
    assert goals(cli, "C000002") == goals(cli) == {"Pastries": ("23.17", 1)}  # 18.40 x 9.20 / 23.40 back


def test_goal_add_refuses_bad_values_and_changes_nothing(cli):
    assert cli("goal", "add", "Pastries", "--spend", "30.00", "--reward", "Free coffee", "--sku", "PAS-*").exit_code == 0
    for args, message in [(["--spend", "0"], "--spend must be more than zero"),
                          (["--spend", "30.00", "--per", "week"], "--per 'week' is not one of month, year"),
                          (["--spend", "abc"], "--spend")]:
        result = cli("goal", "add", "Cakes", "--reward", "Free coffee", *args)
        assert result.exit_code != 0 and message in result.stderr and "Traceback" not in result.stderr
    again = cli("goal", "add", "pastries", "--spend", "10", "--reward", "X")
    assert again.exit_code != 0 and "already exists" in again.stderr
    assert [g["goal"] for g in cli.json("goal", "list")] == ["Pastries"]
    assert "Example: loyalty goal add" in cli("goal", "add", "--help").stdout


def test_goal_and_card_lists_give_skus_as_a_list_in_json_and_joined_elsewhere(cli):
    assert cli("goal", "add", "Pastries", "--spend", "30.00", "--reward", "Free coffee", "--sku", "PAS-*",
               "--sku", "CAKE-*").exit_code == 0
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee", "--sku", "COF-*", "--sku", "ESP-*",
               "--per", "item").exit_code == 0
    for noun, name in (("goal", "Pastries"), ("card", "Coffee")):
        [row] = cli.json(noun, "list")
        assert row[noun] == name and isinstance(row["skus"], list) and len(row["skus"]) == 2
        csv_text = cli(noun, "list", "--csv").stdout
        assert " ".join(row["skus"]) in csv_text
        assert " ".join(row["skus"]) in cli(noun, "list").stdout.replace("\n", " ") or row["skus"][0] in cli(noun, "list").stdout


def test_goal_list_shows_the_spend_the_shops_way_and_json_keeps_it_plain(cli, monkeypatch):
    assert cli("program", "set", "country", "PT").exit_code == 0
    assert cli("goal", "add", "Pastelaria", "--spend", "20,00", "--reward", "Café").exit_code == 0
    assert cli.json("goal", "list")[0]["spend"] == "20.00"
    monkeypatch.setenv("COLUMNS", "120")
    assert "20,00\u00a0€" in cli("goal", "list").stdout
