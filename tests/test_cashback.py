"""Cashback preset: points are store credit in cents, percent of each amount."""

from __future__ import annotations

from decimal import Decimal

from loyaltycli.store import tiers as rules
from loyaltycli.store.program import apply_preset, load_program


def test_preset_cashback_and_back(cli):
    result = cli("program", "preset", "cashback", "--percent", "5")
    assert result.exit_code == 0
    assert result.stdout == ("program preset cashback: earn_mode = cashback, cashback_percent = 5, "
                             "point_value = 0.01, min_redemption = 1\n")
    shown = cli.json("program", "show")
    assert (shown["earn_mode"], shown["cashback_percent"], shown["point_value"], shown["min_redemption"]) == (
        "cashback", "5", "0.01", "1")
    cli("enroll", "Ann", "--email", "ann@example.ie")
    sale = cli("purchase", "C000001", "24.99", "--receipt", "R1")
    # floor(2499 x 5 / 100) = 124 cents; welcome 50 -> 174 cents of credit
    assert sale.stdout == "C000001: +1.24 credit for 24.99 (receipt R1); credit 1.74, tier Bronze\n"
    data = cli.json("purchase", "C000001", "19.99")  # floor(1999 x 0.05) = 99
    assert (data["points"], data["value"], data["balance"]) == (99, "0.99", 273)
    assert cli("balance", "C000001").stdout == "C000001 Ann: credit 2.73, tier Bronze\n"
    assert cli.json("balance", "C000001")["value"] == "2.73"
    # no minimum redemption: one cent may be spent
    assert cli.json("redeem", "C000001", "1") == {"code": "C000001", "points": 1, "value": "0.01",
                                                  "balance": 272, "reward": None, "currency": "EUR"}
    back = cli("program", "preset", "points")
    assert back.stdout == "program preset points: earn_mode = points, point_value = 0.05, min_redemption = 100\n"
    assert cli.json("purchase", "C000001", "24.99")["points"] == 24


def test_cashback_bonuses_are_shown_as_credit(cli):
    assert cli("program", "preset", "cashback", "--percent", "5").exit_code == 0
    cli("enroll", "Ann", "--email", "ann@example.ie")
    # the year's spend reaches 500.00: the 250-point milestone is 2.50 of credit (welcome 0.50 before)
    sale = cli("purchase", "C000001", "500.00", "--receipt", "R1")
    assert sale.stdout == "C000001: +25.00 credit + 2.50 milestone for 500.00 (receipt R1); credit 28.00, tier Silver\n"


def test_cashback_with_multipliers_and_fractions(session):
    apply_preset(session, "cashback", "2.5")
    program = load_program(session)
    assert rules.points_for_amount(program, 1999, Decimal(1)) == 49     # 49.975 -> 49
    assert rules.points_for_amount(program, 2499, Decimal(2)) == 124    # 124.95 -> 124
    assert rules.points_for_amount(program, 0, Decimal(1)) == 0


def test_preset_refusals(cli):
    bad = cli("program", "preset", "stamps")
    assert bad.exit_code == 1 and bad.stderr == "error: unknown preset 'stamps'; presets are points, cashback\n"
    pct = cli("program", "preset", "cashback", "--percent", "150")
    assert pct.exit_code == 1 and pct.stderr.startswith("error: cashback_percent:")
    assert cli.json("program", "show")["earn_mode"] == "points"  # nothing changed
    assert cli("program", "preset", "points", "--percent", "5").exit_code == 1


def test_earn_mode_setting_validates(cli):
    result = cli("program", "set", "earn_mode", "stamps")
    assert result.exit_code == 1
    assert result.stderr == "error: earn_mode: 'stamps' is not one of points, cashback\n"


def test_new_settings_survive_dump_and_load(cli, tmp_path):
    cli("program", "preset", "cashback", "--percent", "2.5")
    cli("program", "set", "birthday_bonus", "40")
    dumped = cli("program", "dump").stdout
    assert 'earn_mode = "cashback"' in dumped and 'cashback_percent = "2.5"' in dumped
    assert "birthday_bonus = 40" in dumped
    cli("program", "preset", "points")
    cli("program", "set", "birthday_bonus", "100")
    path = tmp_path / "program.toml"
    path.write_text(dumped, encoding="utf-8")
    assert cli("program", "load", str(path)).exit_code == 0
    shown = cli.json("program", "show")
    assert (shown["earn_mode"], shown["cashback_percent"], shown["birthday_bonus"], shown["point_value"]) == (
        "cashback", "2.5", "40", "0.01")


def test_a_bonus_on_the_sale_line_is_named_in_the_shops_language(cli, monkeypatch):
    cli("enroll", "Ana", "--email", "ana@example.pt")
    monkeypatch.setenv("LOYALTY_LANG", "pt_PT")
    sale = cli("purchase", "C000001", "500.00", "--receipt", "R1")
    assert sale.exit_code == 0, sale.stderr
    assert "+ 250 meta " in sale.stdout and "milestone" not in sale.stdout
    assert cli.json("history", "C000001")[-1]["kind"] == "milestone"  # JSON keeps the code
