"""Earning by product (engine/rules/by_product.py): `program rule add NAME --sku PATTERN --earn RATE`."""

from __future__ import annotations

from decimal import Decimal

import pytest

HEADER = "receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price\n"


def test_portions_first_matching_rule_wins_and_the_rest_earns_at_the_programs_rate():
    from loyaltycli.engine.rules.by_product import EarnRule, portions

    rules = (EarnRule("coffee", ("CAF-*",), Decimal(0)), EarnRule("all C", ("C*",), Decimal(2)))
    items = [("CAF-1", 2, 600), ("CAK-1", 1, 350), ("X", 1, 350)]
    assert portions(rules, 1_300, items) == [(350, None), (600, Decimal(0)), (350, Decimal(2))]
    assert portions(rules, 1_300, [("X", 1, 1_300)]) == [(1_300, None)]


@pytest.fixture
def cafe_rules(cli):
    assert cli("enroll", "Ann", "--card", "6000100000001", "--at", "2026-05-01T09:00:00", "--no-input").exit_code == 0
    assert cli("enroll", "Bob", "--card", "6000100000002", "--at", "2026-05-01T09:00:00", "--no-input").exit_code == 0
    assert cli("program", "rule", "add", "Coffee earns stamps only", "--sku", "CAF-*", "--earn", "0").exit_code == 0
    assert cli("program", "rule", "add", "Cakes double", "--sku", "CAK-*", "--earn", "2").exit_code == 0
    return cli


def test_coffee_earns_no_spend_points_cakes_double_at_the_counter_and_in_an_import(cafe_rules, tmp_path):
    cli = cafe_rules
    sale = cli.json("purchase", "C000001", "13.00", "--item", "CAF-1:2:3.00", "--item", "CAK-1:1:3.50",
                    "--item", "X:1:3.50", "--receipt", "A1", "--at", "2026-06-02T10:00:00")
    assert sale["points"] == 3 + 2 * 3  # 3.50 of X at 1, 3.50 of cake at 2, the coffee at 0
    assert cli.json("purchase", "C000001", "6.00", "--item", "CAF-1:2:3.00", "--receipt", "A2",
                    "--at", "2026-06-02T11:00:00")["points"] == 0
    assert cli.json("refund", "A1", "--at", "2026-06-03T10:00:00")["points"] == -9
    till = tmp_path / "till.csv"
    till.write_text(HEADER + "B1,2026-06-02T10:00:00,6000100000002,,store,CAF-1,2,3.00\n"
                             "B1,2026-06-02T10:00:00,6000100000002,,store,CAK-1,1,3.50\n"
                             "B1,2026-06-02T10:00:00,6000100000002,,store,X,1,3.50\n"
                             "B2,2026-06-02T11:00:00,6000100000002,,store,CAF-1,2,3.00\n"
                             "B1-R,2026-06-03T10:00:00,6000100000002,-13.00,store,,,\n")
    assert cli.json("import", till)["rejected"] == 0
    assert cli.json("balance", "C000002")["balance"] == cli.json("balance", "C000001")["balance"] == 50


def test_rule_add_list_remove_and_refusals(cafe_rules):
    cli = cafe_rules
    rules = cli.json("program", "rule", "list")
    assert [(r["name"], r["earn"]) for r in rules] == [("Coffee earns stamps only", "0"), ("Cakes double", "2")]
    for args, message in [([], "give --points (bonus points) or --earn RATE"),
                          (["--earn", "1", "--points", "3"], "give --points (bonus points) or --earn RATE"),
                          (["--earn", "-1"], "--earn"), (["--earn", "abc"], "--earn")]:
        result = cli("program", "rule", "add", "New", "--sku", "N-*", *args)
        assert result.exit_code != 0 and message in result.stderr and "Traceback" not in result.stderr
    again = cli("program", "rule", "add", "cakes DOUBLE", "--sku", "Z", "--earn", "1")
    assert again.exit_code != 0 and "already exists" in again.stderr
    assert cli("program", "rule", "remove", "cakes double").exit_code == 0
    missing = cli("program", "rule", "remove", "cakes double")
    assert missing.exit_code != 0 and "unknown rule 'cakes double'" in missing.stderr
    assert [r["name"] for r in cli.json("program", "rule", "list")] == ["Coffee earns stamps only"]
    assert "Example: loyalty program rule add" in cli("program", "rule", "add", "--help").stdout
    assert "Example: loyalty program rule remove" in cli("program", "rule", "remove", "--help").stdout
