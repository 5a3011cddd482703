"""Stamp cards, the rules added after the first cut: stamps shown in cashback mode, refunds by item,
stamp expiry with the card, and `report cards` over a period."""

from __future__ import annotations

import pytest


@pytest.fixture
def cafe(cli):
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee", "--sku", "COF-*",
               "--per", "item").exit_code == 0
    assert cli("enroll", "Aoife Byrne", "--phone", "0851234567", "--at", "2026-05-01T09:00:00+00:00").exit_code == 0
    return cli


def cards_of(cli, key="C000001"):
    return {c["card"]: (c["stamps"], c["vouchers"]) for c in cli.json("balance", key)["cards"]}


# -- 3. the cashback line shows the stamps, as the points line does ------------------------------------
def test_cashback_purchase_line_shows_the_stamps_earned(cafe):
    cli = cafe
    assert cli("program", "preset", "cashback", "--percent", "5").exit_code == 0
    result = cli("purchase", "C000001", "6.00", "--receipt", "R1", "--item", "COF-1:2:3.00")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "C000001: +0.30 credit for 6.00 (receipt R1); credit 0.80, tier Bronze; Coffee 2/10\n"
    assert cli.json("purchase", "C000001", "3.00", "--receipt", "R1b", "--item", "COF-1:1:3.00")["cards"] == [
        {"card": "Coffee", "stamps": 3, "stamps_needed": 10, "reward": "Free coffee", "vouchers": 0,
         "voucher_expires": []}]
    points_mode = cli("program", "preset", "points")
    assert points_mode.exit_code == 0
    result = cli("purchase", "C000001", "3.00", "--receipt", "R2", "--item", "COF-1:1:3.00")
    assert result.stdout.rstrip("\n").endswith("tier Bronze; Coffee 4/10")
