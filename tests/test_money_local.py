"""Money shown and typed the shop's way (Babel): tables, messages, every amount option; JSON unchanged
plus a `currency` key."""

from __future__ import annotations

import pytest


@pytest.fixture
def lisbon(cli):
    assert cli("init", "--country", "PT").exit_code == 0
    assert cli("enroll", "Álvaro", "--phone", "912345678", "--at", "2026-01-01T09:00", "--no-input").exit_code == 0
    return "C000001"


@pytest.fixture
def dublin(cli):
    assert cli("init", "--country", "IE").exit_code == 0
    assert cli("enroll", "Aoife", "--at", "2026-01-01T09:00", "--no-input").exit_code == 0
    return "C000001"


def test_a_decimal_comma_at_the_counter(cli, lisbon):
    result = cli("purchase", lisbon, "12,50", "--receipt", "R1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "C000001: +12 points for 12,50\xa0€ (receipt R1); balance 62, tier Bronze\n"
    data = cli.json("purchase", lisbon, "1.234,56 €", "--receipt", "R2")
    assert (data["amount"], data["currency"]) == ("1234.56", "EUR")


@pytest.mark.parametrize("typed", ["12,50", "12,50 €", "€12,50", "12.50 EUR", "12.50"])
def test_amount_shapes_in_portugal(cli, lisbon, typed):
    assert cli.json("purchase", lisbon, typed)["amount"] == "12.50"


@pytest.mark.parametrize("typed,message", [
    ("1.234", "amount '1.234' could be 1 234,00 € or 1.234; write 1234 or 1,23"),
    ("12 USD", "amount '12 USD' is in USD; this shop counts in EUR"),
    ("12,50 lei", "is in RON; this shop counts in EUR"),
    ("12,345", "has more than 2 decimals"),
])
def test_amounts_refused_in_portugal(cli, lisbon, typed, message):
    result = cli("purchase", lisbon, typed)
    assert result.exit_code == 1
    assert message in result.stderr, result.stderr
    assert cli.json("balance", lisbon)["balance"] == 50


def test_refusals_give_their_examples_the_shops_way(cli, lisbon):
    for args, message in (
            (("purchase", lisbon, "abc"), "amount 'abc' is not a decimal amount like 12,50"),
            (("purchase", lisbon, "5,00", "--item", "X:abc:5,00"), "quantity 'abc' is not a number like 2 or 0,750"),
            (("purchase", lisbon, "5,00", "--item", "X:-1:5,00"), "quantity must be 0,001 to 100\u00a0000"),
            (("enroll", "--phone", "12"), "add the country code, e.g. +351...")):
        result = cli(*args)
        assert result.exit_code == 1 and message in result.stderr, (args, result.stderr)
    assert cli.json("balance", lisbon)["balance"] == 50  # nothing changed


def test_an_english_locale_refuses_2_500_and_shows_euro_first(cli, dublin):
    result = cli("purchase", dublin, "2,500")
    assert result.exit_code == 1
    assert "amount '2,500' could be €2,500.00 or €2.50" in result.stderr
    assert cli.json("balance", dublin)["balance"] == 50
    result = cli("purchase", dublin, "12.50", "--receipt", "R1")
    assert "for €12.50 (receipt R1)" in result.stdout
    assert cli.json("purchase", dublin, "1,234.50", "--receipt", "R2")["amount"] == "1234.50"


def test_bucharest_shows_lei_and_takes_ron(cli):
    cli("init", "--country", "RO")
    cli("enroll", "Ștefan", "--at", "2026-01-01T09:00", "--no-input")
    result = cli("purchase", "C000001", "149,90 lei", "--receipt", "R1")
    assert result.exit_code == 0, result.stderr
    assert "for 149,90\xa0lei" in result.stdout
    assert cli.json("purchase", "C000001", "12.50 RON")["amount"] == "12.50"
    result = cli("purchase", "C000001", "12,50 €")
    assert result.exit_code == 1 and "is in EUR; this shop counts in RON" in result.stderr


def test_every_amount_option_reads_the_locale(cli, lisbon):
    assert cli.json("purchase", lisbon, "40,00", "--receipt", "R1", "--item", "COF-250:2:20,00")["amount"] == "40.00"
    refund = cli.json("refund", "R1", "--amount", "10,00")
    assert refund["amount"] == "10.00" and refund["currency"] == "EUR"
    result = cli("refund", "R1", "--amount", "2,500")  # comma is the decimal mark here: 3 decimals
    assert result.exit_code == 1 and "has more than 2 decimals" in result.stderr
    cli("award", lisbon, "500", "--reason", "gift")
    redeemed = cli.json("redeem", lisbon, "100", "--basket", "30,00")
    assert redeemed["value"] == "5.00"
    result = cli("redeem", lisbon, "100", "--basket", "1.234")
    assert result.exit_code == 1 and "could be" in result.stderr
    plan = cli.json("membership", "plan", "add", "Clube", "--fee", "30,00", "--months", "12", "--multiplier", "2")
    assert plan["fee"] == "30.00"


def test_tables_show_local_money_and_csv_stays_plain(cli, lisbon):
    cli("purchase", lisbon, "1234,50", "--receipt", "R1")
    table = cli("customer", "list").stdout
    assert "1234,50\xa0€" in table or "1\xa0234,50\xa0€" in table, table
    csv_out = cli("customer", "list", "--csv").stdout
    assert "1234.50" in csv_out
    rows = cli.json("customer", "list")
    assert rows[0]["spend"] == "1234.50" and rows[0]["currency"] == "EUR"
    report = cli("report", "channels").stdout
    assert "1\xa0234,50\xa0€" in report, report


def test_plain_amounts_without_a_locale(cli):
    cli("enroll", "Ann", "--at", "2026-01-01T09:00", "--no-input")
    result = cli("purchase", "C000001", "12.50", "--receipt", "R1")
    assert "for 12.50 (receipt R1)" in result.stdout
    result = cli("purchase", "C000001", "2,500")
    assert result.exit_code == 1 and "could be 2500.00 or 2.50" in result.stderr


def test_babel_is_not_imported_without_a_locale(cli):
    import subprocess
    import sys

    code = ("import sys; from loyaltycli.base import money, place; place.activate({}); "
            "money.parse_money('12.50'); money.format_money(1250); print('babel' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_refused_amount_is_quoted_as_it_was_typed(cli):
    """In a decimal-comma shop the message quotes '2,500' (what the person typed), not the dot form it was
    turned into before the checks."""
    assert cli("init", "--country", "RO").exit_code == 0
    assert cli("enroll", "Ana", "--no-input").exit_code == 0
    result = cli("purchase", "C000001", "2,500")
    assert result.exit_code == 1 and result.stderr == "error: amount '2,500' has more than 2 decimals\n"
    result = cli("purchase", "C000001", "1.234,567 lei")
    assert result.exit_code == 1 and "'1.234,567 lei' has more than 2 decimals" in result.stderr
