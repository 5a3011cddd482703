"""Program settings: show, set, dump, load (all or nothing)."""

import tomllib

import pytest

from loyaltycli.base.errors import InvalidInput, NotFound
from loyaltycli.store.program import load_program, load_toml, set_setting


def test_defaults_are_specs(cli):
    data = cli.json("program", "show")
    assert data["tiers"] == "Bronze:0.00:1.0,Silver:500.00:1.25,Gold:1500.00:1.5"
    assert (data["welcome_bonus"], data["point_value"], data["min_redemption"], data["expiry_days"]) == (
        "50", "0.05", "100", "365")
    assert (data["milestone_spend"], data["milestone_bonus"], data["referral_steps"]) == ("500.00", "250", "1:200,5:300")
    assert "welcome_bonus" in cli("program", "show").stdout


def test_set_validates_and_changes_nothing_on_refusal(cli):
    assert cli("program", "set", "welcome_bonus", "75").stdout.strip() == "welcome_bonus = 75"
    for key, value, message in [("welcome_bonus", "-1", "out of range"), ("welcome_bonus", "lots", "not a whole"),
                                ("point_value", "0.001", "more than 2 decimals"),
                                ("tiers", "Gold:100:2", "the first tier must start at 0"),
                                ("tiers", "A:0:1,A:5:2", "unique"), ("nope", "1", "unknown setting 'nope'")]:
        result = cli("program", "set", key, value)
        assert result.exit_code == 1 and message in result.stderr, (key, result.stderr)
    assert cli.json("program", "show")["welcome_bonus"] == "75"
    assert cli.json("enroll", "Aoife")["balance"] == 75


def test_dump_and_load_round_trip(cli, tmp_path):
    cli("program", "set", "tiers", "Member:0:1,VIP:1000:2")
    dumped = cli("program", "dump").stdout
    doc = tomllib.loads(dumped)
    assert doc["tiers"] == [{"name": "Member", "min_spend": "0.00", "multiplier": "1"},
                            {"name": "VIP", "min_spend": "1000.00", "multiplier": "2"}]
    cli("program", "set", "tiers", "Bronze:0:1")
    path = tmp_path / "program.toml"
    path.write_text(dumped)
    assert cli("program", "load", str(path)).exit_code == 0
    assert cli.json("program", "show")["tiers"] == "Member:0.00:1,VIP:1000.00:2"


def test_load_is_all_or_nothing(cli, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('welcome_bonus = 80\nmin_redemption = "many"\n')
    result = cli("program", "load", str(path))
    assert result.exit_code == 1 and "min_redemption" in result.stderr
    assert cli.json("program", "show")["welcome_bonus"] == "50"
    path.write_text("welcome_bonus = [")
    result = cli("program", "load", str(path))
    assert result.exit_code == 1 and "is not valid TOML" in result.stderr
    result = cli("program", "load", str(tmp_path / "missing.toml"))
    assert result.exit_code == 1 and "cannot read" in result.stderr


def test_core_settings(session):
    assert set_setting(session, "Earn-Rate", "2") == "2"
    assert load_program(session).earn_rate == 2
    with pytest.raises(NotFound):
        set_setting(session, "colour", "red")
    with pytest.raises(InvalidInput, match="tiers"):
        load_toml(session, {"tiers": [{"name": "x"}]})
    program = load_program(session)
    assert program.tier_for_spend(149_999).name == "Silver" and program.tier_for_spend(150_000).name == "Gold"
    assert program.next_tier(0).name == "Silver" and program.next_tier(150_000) is None
