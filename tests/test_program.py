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


def test_load_names_every_setting_it_loaded(cli, tmp_path):
    """`loaded` names each setting, an empty one too (it was listed as "" when its value was empty)."""
    path = tmp_path / "program.toml"
    path.write_text('welcome_bonus = 80\nshop_name = ""\n')
    assert cli.json("program", "load", str(path))["loaded"] == ["welcome_bonus", "shop_name"]
    dumped = tomllib.loads(cli("program", "dump").stdout)
    path.write_text(cli("program", "dump").stdout)
    assert sorted(cli.json("program", "load", str(path))["loaded"]) == sorted(dumped)


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


# -- stamp cards and goals in the program file ------------------------------------------------------------------


def _cafe_program(cli, db):
    """A café's program in the database ``db``: settings, two stamp cards and two goals, and a customer with
    stamps and progress of their own (which the file leaves out)."""
    def run(*args):
        result = cli("--db", str(db), *args)
        assert result.exit_code == 0, result.output + result.stderr
    run("init", "--country", "PT")
    run("program", "set", "welcome_bonus", "75")
    run("card", "add", "Café", "--stamps", "10", "--reward", "Café grátis", "--sku", "COF-*", "--sku", "ESP-?",
        "--per", "item", "--expires-days", "90")
    run("card", "add", "Pão", "--stamps", "8", "--reward", "Pão grátis", "--sku", "BRD-*", "--per", "visit",
        "--min-amount", "3,00")
    run("goal", "add", "Pastelaria", "--spend", "30,00", "--sku", "PAS-*", "--per", "month", "--reward", "Café grátis")
    run("goal", "add", "Ano", "--spend", "500,00", "--per", "year", "--reward", "Jantar")
    run("enroll", "Ana", "--phone", "912345678", "--no-input")
    run("purchase", "C000001", "12,00", "--item", "COF-1:2:3,00", "--item", "PAS-1:1:6,00", "--receipt", "R-1")


def test_dump_carries_stamp_cards_and_goals_and_load_makes_them_in_a_fresh_database(cli, tmp_path):
    """`program dump` then `program load` into a fresh database gives the same stamp cards and goals (their
    definitions; no customer's stamps or progress), and the rules use them at once."""
    source = tmp_path / "source.db"
    _cafe_program(cli, source)
    dumped = cli("--db", str(source), "program", "dump").stdout
    doc = tomllib.loads(dumped)
    assert doc["cards"] == [
        {"name": "Café", "stamps": 10, "reward": "Café grátis", "skus": ["COF-*", "ESP-?"], "per": "item",
         "min_amount": "0.00", "expires_days": 90, "active": True},
        {"name": "Pão", "stamps": 8, "reward": "Pão grátis", "skus": ["BRD-*"], "per": "visit",
         "min_amount": "3.00", "active": True}]
    assert doc["goals"] == [
        {"name": "Pastelaria", "spend": "30.00", "reward": "Café grátis", "skus": ["PAS-*"], "per": "month",
         "active": True},
        {"name": "Ano", "spend": "500.00", "reward": "Jantar", "skus": [], "per": "year", "active": True}]
    assert "C000001" not in dumped and "Ana" not in dumped  # definitions only: no customer data
    path = tmp_path / "program.toml"
    path.write_text(dumped, encoding="utf-8")

    result = cli("program", "load", str(path))  # the test's own database: fresh
    assert result.exit_code == 0, result.stderr
    assert "2 stamp cards added (Café, Pão)" in result.stdout and "2 goals added (Pastelaria, Ano)" in result.stdout
    for listing in (("card", "list"), ("goal", "list")):
        assert cli.json(*listing) == cli.json("--db", str(source), *listing), listing
    assert cli.json("program", "show") == cli.json("--db", str(source), "program", "show")
    assert cli("program", "dump").stdout == dumped  # the same file again
    assert cli.json("customer", "list") == []  # nobody came with it
    # the rules read them: stamps and progress from the first sale
    assert cli("enroll", "Rui", "--phone", "912345679", "--no-input").exit_code == 0
    sale = cli.json("purchase", "C000001", "15,00", "--item", "COF-1:2:3,00", "--item", "PAS-1:1:6,00",
                    "--item", "BRD-1:1:3,00")
    assert {c["card"]: c["stamps"] for c in sale["cards"]} == {"Café": 2, "Pão": 1}
    assert {g["goal"]: g["spend"] for g in cli.json("balance", "C000001")["goals"]} == {
        "Pastelaria": "6.00", "Ano": "15.00"}


def test_loading_the_same_file_again_changes_nothing(cli, tmp_path):
    source = tmp_path / "source.db"
    _cafe_program(cli, source)
    path = tmp_path / "program.toml"
    path.write_text(cli("--db", str(source), "program", "dump").stdout, encoding="utf-8")
    assert cli("program", "load", str(path)).exit_code == 0
    again = cli.json("program", "load", str(path))
    assert (again["cards_added"], again["cards_unchanged"]) == ([], ["Café", "Pão"])
    assert (again["goals_added"], again["goals_unchanged"]) == ([], ["Pastelaria", "Ano"])
    assert [c["card"] for c in cli.json("card", "list")] == ["Café", "Pão"]
    assert [g["goal"] for g in cli.json("goal", "list")] == ["Pastelaria", "Ano"]


def test_a_dump_without_cards_or_goals_still_loads_and_leaves_them_alone(cli, tmp_path):
    """A file written before dumps carried stamp cards and goals: its settings load; the cards and goals in
    the database stay as they are (a file changes what it names, as with settings)."""
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee").exit_code == 0
    assert cli("goal", "add", "Pastries", "--spend", "30.00", "--reward", "Free coffee").exit_code == 0
    old = {key: value for key, value in tomllib.loads(cli("program", "dump").stdout).items()
           if key not in ("cards", "goals")}
    old["welcome_bonus"] = 80
    import tomli_w

    path = tmp_path / "old.toml"
    path.write_text(tomli_w.dumps(old), encoding="utf-8")
    result = cli.json("program", "load", str(path))
    assert (result["cards_added"], result["goals_added"]) == ([], [])
    assert cli.json("program", "show")["welcome_bonus"] == "80"
    assert [c["card"] for c in cli.json("card", "list")] == ["Coffee"]
    assert [g["goal"] for g in cli.json("goal", "list")] == ["Pastries"]


@pytest.mark.parametrize("section, entry, message", [
    ("cards", '{ name = "Tea", stamps = 0, reward = "Free tea" }',
     "error: [[cards]] #1 (Tea): --stamps must be 1 to 1000\n"),
    ("cards", '{ name = "Tea", stamps = "ten", reward = "Free tea" }',
     "error: [[cards]] #1: stamps must be a whole number\n"),
    ("cards", '{ name = "Tea", stamps = 10 }', "error: [[cards]] #1: reward is missing\n"),
    ("cards", '{ name = "Tea", stamps = 10, reward = "Free tea", colour = "red" }',
     ("error: [[cards]] #1: unknown key 'colour'; the keys are name, stamps, reward, skus, per, min_amount, "
      "expires_days, active\n")),
    ("cards", '{ name = "Tea", stamps = 10, reward = "Free tea", per = "week" }',
     "error: [[cards]] #1 (Tea): --per 'week' is not one of visit, item\n"),
    ("goals", '{ name = "Cakes", spend = "lots", reward = "Free cake" }',
     "error: [[goals]] #1 (Cakes): spend 'lots' is not a decimal amount like 12.50\n"),
    ("goals", '{ name = "Cakes", spend = "30.00", reward = "Free cake", skus = "CAK-*" }',
     "error: [[goals]] #1: skus must be a list of SKU patterns\n"),
])
def test_a_bad_card_or_goal_in_the_file_is_refused_and_nothing_is_loaded(cli, tmp_path, section, entry, message):
    path = tmp_path / "bad.toml"
    path.write_text(f"welcome_bonus = 80\n{section} = [{entry}]\n", encoding="utf-8")
    result = cli("program", "load", str(path))
    assert (result.exit_code, result.stderr) == (1, message)
    assert cli.json("program", "show")["welcome_bonus"] == "50"
    assert cli.json("card", "list") == [] and cli.json("goal", "list") == []
    path.write_text(f"welcome_bonus = 80\n{section} = 3\n", encoding="utf-8")
    result = cli("program", "load", str(path))
    assert result.exit_code == 1 and f"{section} must be a list of [[{section}]] tables" in result.stderr


def test_a_card_or_goal_of_the_same_name_with_other_terms_is_refused(cli, tmp_path):
    """A stamp card's or goal's terms are not changed by a file (customers hold stamps and progress on them):
    one of the same name with other terms is refused, and nothing in the file is loaded."""
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee").exit_code == 0
    assert cli("goal", "add", "Pastries", "--spend", "30.00", "--reward", "Free coffee").exit_code == 0
    path = tmp_path / "other.toml"
    path.write_text('welcome_bonus = 80\n[[cards]]\nname = "coffee"\nstamps = 8\nreward = "Free coffee"\n',
                    encoding="utf-8")
    result = cli("program", "load", str(path))
    assert result.exit_code == 1
    assert result.stderr == ("error: [[cards]] #1 (coffee): a stamp card named 'Coffee' already exists with other "
                             "terms (stamps: 10 here, 8 in the file); a file does not change a card's terms\n")
    path.write_text('welcome_bonus = 80\n[[goals]]\nname = "Pastries"\nspend = "25.00"\nreward = "Free coffee"\n',
                    encoding="utf-8")
    result = cli("program", "load", str(path))
    assert result.exit_code == 1
    assert result.stderr == ("error: [[goals]] #1 (Pastries): a goal named 'Pastries' already exists with other "
                             "terms (spend: 30.00 here, 25.00 in the file); a file does not change a goal's terms\n")
    assert cli.json("program", "show")["welcome_bonus"] == "50"
    assert cli.json("card", "list")[0]["stamps"] == 10 and cli.json("goal", "list")[0]["spend"] == "30.00"


def test_the_program_file_in_the_library(session):
    from loyaltycli.programs.goals import add_goal, list_goals
    from loyaltycli.services import cards, program_file

    cards.add_card(session, "Coffee", 10, "Free coffee", skus=["COF-*"], per="item", expires_days=30)
    add_goal(session, "Pastries", 3_000, "Free coffee", skus=["PAS-*"])
    doc = tomllib.loads(program_file.dump(session))
    assert [c["name"] for c in doc["cards"]] == ["Coffee"] and [g["name"] for g in doc["goals"]] == ["Pastries"]
    doc["cards"].append({"name": "Tea", "stamps": 5, "reward": "Free tea"})
    loaded = program_file.load(session, doc)
    assert (loaded["cards_added"], loaded["cards_unchanged"], loaded["goals_unchanged"]) == (
        ["Tea"], ["Coffee"], ["Pastries"])
    tea = cards.list_cards(session)[-1]
    assert (tea.name, tea.stamps, tea.per, tea.skus, tea.min_amount, tea.expires_days) == (
        "Tea", 5, "visit", "", 0, None)
    assert len(list_goals(session)) == 1
