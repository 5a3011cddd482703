"""Program settings: show, set, dump, load (all or nothing)."""

import json
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


@pytest.mark.parametrize("name", ["Gold, VIP", "Gold: VIP"])
def test_a_tier_name_with_a_comma_or_a_colon_is_refused_by_name(cli, tmp_path, name):
    """The tiers setting's text separates tiers by commas and their parts by colons: such a name in a program
    file is refused as what it is (not as a tier cut at the mark), and nothing is loaded."""
    path = tmp_path / "tiers.toml"
    path.write_text('welcome_bonus = 80\ntiers = [\n  { name = "Bronze", min_spend = "0", multiplier = "1" },\n'
                    f'  {{ name = "{name}", min_spend = "900", multiplier = "2" }},\n]\n')
    result = cli("program", "load", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: tiers: tier name {name!r} may not contain a comma or a colon"
    shown = cli.json("program", "show")
    assert shown["welcome_bonus"] == "50" and "VIP" not in shown["tiers"]


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
     "error: [[cards]] #1 (Tea): stamps must be 1 to 1000\n"),
    ("cards", '{ name = "Tea", stamps = 10, reward = "Free tea", expires_days = 0 }',
     "error: [[cards]] #1 (Tea): expires_days must be 1 to 36500\n"),
    ("cards", '{ name = "Tea", stamps = "ten", reward = "Free tea" }',
     "error: [[cards]] #1: stamps must be a whole number\n"),
    ("cards", '{ name = "Tea", stamps = 10 }', "error: [[cards]] #1: reward is missing\n"),
    ("cards", '{ name = "Tea", stamps = 10, reward = "Free tea", colour = "red" }',
     ("error: [[cards]] #1: unknown key 'colour'; the keys are name, stamps, reward, skus, per, min_amount, "
      "expires_days, active\n")),
    ("cards", '{ name = "Tea", stamps = 10, reward = "Free tea", per = "week" }',
     "error: [[cards]] #1 (Tea): per 'week' is not one of visit, item\n"),
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
    for table, refusal in (
            ('[[cards]]\nname = "coffee"\nstamps = 8\nreward = "Free coffee"\n',
             "error: [[cards]] #1 (coffee): a stamp card named 'Coffee' already exists with other terms (stamps: 10 "
             "here, 8 in the file); a file does not change a card's terms\n"),
            ('[[goals]]\nname = "Pastries"\nspend = "25.00"\nreward = "Free coffee"\n',
             "error: [[goals]] #1 (Pastries): a goal named 'Pastries' already exists with other terms (spend: 30.00 "
             "here, 25.00 in the file); a file does not change a goal's terms\n")):
        path.write_text("welcome_bonus = 80\n" + table, encoding="utf-8")
        result = cli("program", "load", str(path))
        assert (result.exit_code, result.stderr) == (1, refusal)
    assert cli.json("program", "show")["welcome_bonus"] == "50"
    assert cli.json("card", "list")[0]["stamps"] == 10 and cli.json("goal", "list")[0]["spend"] == "30.00"


def test_a_name_twice_in_one_file_is_refused_and_nothing_is_loaded(cli, tmp_path):
    path = tmp_path / "twice.toml"
    path.write_text('welcome_bonus = 80\n[[cards]]\nname = "Dup"\nstamps = 8\nreward = "Tea"\n'
                    '[[cards]]\nname = "DUP"\nstamps = 8\nreward = "Tea"\n', encoding="utf-8")
    result = cli("program", "load", str(path))
    assert (result.exit_code, result.stderr) == (
        1, "error: [[cards]] #2 (DUP): the same name as #1: each name once in a file\n")
    assert cli.json("card", "list") == [] and cli.json("program", "show")["welcome_bonus"] == "50"


def test_patterns_in_another_order_are_the_same_terms_and_a_difference_the_file_wrote_is_named_first(cli, tmp_path):
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee", "--sku", "CAP-*", "--sku",
               "LAT-*").exit_code == 0
    path = tmp_path / "same.toml"
    path.write_text('[[cards]]\nname = "coffee"\nstamps = 10\nreward = "Free coffee"\n'
                    'skus = ["LAT-*", "CAP-*", "LAT-*"]\n', encoding="utf-8")
    assert cli.json("program", "load", str(path))["cards_unchanged"] == ["Coffee"]
    # the file leaves skus out (its default: none) and writes other stamps: the stamps are what it is told
    path.write_text('[[cards]]\nname = "coffee"\nstamps = 11\nreward = "Free coffee"\n', encoding="utf-8")
    result = cli("program", "load", str(path))
    assert result.exit_code == 1 and "(stamps: 10 here, 11 in the file)" in result.stderr


def test_a_refusal_of_the_program_file_quotes_a_long_name_shortened(cli, tmp_path):
    path = tmp_path / "long.toml"
    name = "T" * 5000
    path.write_text(f'[[cards]]\nname = "{name}"\nstamps = 0\nreward = "Tea"\n', encoding="utf-8")
    result = cli("program", "load", str(path))
    assert result.exit_code == 1
    assert result.stderr == f"error: [[cards]] #1 ({'T' * 40}…): card name must be 1 to 100 characters\n"


def test_the_program_file_in_the_library(session):
    from loyaltycli.programs.cards import add_card
    from loyaltycli.programs.goals import add_goal, list_goals
    from loyaltycli.services import cards, program_file

    add_card(session, "Coffee", 10, "Free coffee", skus=["COF-*"], per="item", expires_days=30)
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


# -- the reward catalogue, membership plans and causes in the program file --------------------------------------

LISTINGS = (("reward", "list"), ("membership", "plan", "list"), ("cause", "list"))
# what customers did with each definition: counted in the listings, never carried by the file
USED = {("reward", "list"): {"redeemed": 0}, ("membership", "plan", "list"): {"members": 0},
        ("cause", "list"): {"donations": 0, "points": 0, "value": "0.00"}}


def _customers_use_it(cli, *db):
    """Ana (C000001) buys, redeems a catalogue reward, joins a plan and gives points to a cause; returns what
    each command answered (JSON)."""
    def run(*args):
        return cli.json(*db, *args)
    run("enroll", "Ana", "--phone", "0851234567", "--no-input")
    run("purchase", "C000001", "300.00", "--receipt", "R-1")
    return [run("redeem", "C000001", "--reward", "slice of cake"), run("membership", "join", "C000001", "Club"),
            run("donate", "C000001", "20", "--cause", "food bank"), run("balance", "C000001")]


def _shop_program(cli, db):
    """A shop's program in the database ``db``: a setting, rewards (one removed), membership plans and causes,
    and a customer who used them (which the file leaves out)."""
    def run(*args):
        result = cli("--db", str(db), *args)
        assert result.exit_code == 0, result.output + result.stderr
    run("init")
    run("program", "set", "min_redemption", "50")
    run("reward", "add", "Slice of cake", "--cost", "100")
    run("reward", "add", "Old mug", "--cost", "300")
    run("reward", "add", "Tote bag", "--cost", "60")
    run("reward", "remove", "Old mug")
    run("membership", "plan", "add", "Club", "--fee", "30.00", "--months", "12", "--multiplier", "2",
        "--perk", "free delivery")
    run("membership", "plan", "add", "Monthly", "--fee", "4.50", "--months", "1", "--multiplier", "1.5")
    run("cause", "add", "Food bank")
    run("cause", "add", "Animal shelter")
    return _customers_use_it(cli, "--db", str(db))


def test_dump_carries_rewards_plans_and_causes_and_load_makes_them_in_a_fresh_database(cli, tmp_path):
    """`program dump` then `program load` into a fresh database gives the same reward catalogue, plans and
    causes (their definitions: no customer's redemption, membership or donation), and a redemption, a
    membership and a donation then work on them as in the shop they came from."""
    source = tmp_path / "source.db"
    answers = _shop_program(cli, source)
    dumped = cli("--db", str(source), "program", "dump").stdout
    doc = tomllib.loads(dumped)
    assert doc["rewards"] == [{"name": "Slice of cake", "cost": 100}, {"name": "Tote bag", "cost": 60}]
    assert doc["plans"] == [
        {"name": "Club", "fee": "30.00", "months": 12, "multiplier": "2", "perk": "free delivery", "active": True},
        {"name": "Monthly", "fee": "4.50", "months": 1, "multiplier": "1.5", "perk": "", "active": True}]
    assert doc["causes"] == [{"name": "Food bank"}, {"name": "Animal shelter"}]
    assert "C000001" not in dumped and "Ana" not in dumped and "Old mug" not in dumped
    path = tmp_path / "program.toml"
    path.write_text(dumped, encoding="utf-8")

    result = cli("program", "load", str(path))  # the test's own database: fresh
    assert result.exit_code == 0, result.stderr
    assert ("2 rewards added (Slice of cake, Tote bag); 2 membership plans added (Club, Monthly); "
            "2 causes added (Food bank, Animal shelter)") in result.stdout
    for listing in LISTINGS:  # the same definitions, nobody's use of them yet
        assert cli.json(*listing) == [{**row, **USED[listing]} for row in cli.json("--db", str(source), *listing)]
    assert cli("program", "dump").stdout == dumped  # the same file again
    assert cli.json("customer", "list") == [] and cli.json("membership", "list") == []
    # the counter uses them at once, as in the shop they came from: the same answers, the same listings
    assert _customers_use_it(cli) == answers
    assert answers[1]["multiplier"] == "2" and answers[3]["balance"] == 50 + 300 - 100 - 20
    for listing in LISTINGS:
        assert cli.json(*listing) == cli.json("--db", str(source), *listing), listing
    assert cli.json("purchase", "C000001", "10.00")["points"] == 20  # the Club's x2


def test_loading_rewards_plans_and_causes_again_changes_nothing(cli, tmp_path):
    source = tmp_path / "source.db"
    _shop_program(cli, source)
    path = tmp_path / "program.toml"
    path.write_text(cli("--db", str(source), "program", "dump").stdout, encoding="utf-8")
    first = cli.json("program", "load", str(path))
    assert (first["rewards_added"], first["plans_added"], first["causes_added"]) == (
        ["Slice of cake", "Tote bag"], ["Club", "Monthly"], ["Food bank", "Animal shelter"])
    listings = [cli.json(*listing) for listing in LISTINGS]
    again = cli.json("program", "load", str(path))
    assert (again["rewards_added"], again["rewards_unchanged"]) == ([], ["Slice of cake", "Tote bag"])
    assert (again["plans_added"], again["plans_unchanged"]) == ([], ["Club", "Monthly"])
    assert (again["causes_added"], again["causes_unchanged"]) == ([], ["Food bank", "Animal shelter"])
    assert [cli.json(*listing) for listing in LISTINGS] == listings
    result = cli("program", "load", str(path))
    assert ("2 rewards already there (Slice of cake, Tote bag); 2 membership plans already there (Club, "
            "Monthly); 2 causes already there (Food bank, Animal shelter)") in result.stdout


def test_the_same_terms_written_another_way_are_the_same(cli, tmp_path):
    """A name in another case or spacing, an amount or multiplier written another way: the same definition."""
    assert cli("reward", "add", "Slice of cake", "--cost", "100").exit_code == 0
    assert cli("membership", "plan", "add", "Club", "--fee", "30", "--months", "12", "--multiplier", "2").exit_code == 0
    assert cli("cause", "add", "Food bank").exit_code == 0
    path = tmp_path / "program.toml"
    path.write_text('[[rewards]]\nname = "  SLICE  of cake"\ncost = 100\n'
                    '[[plans]]\nname = "club"\nfee = 30\nmonths = 12\nmultiplier = 2.0\nperk = " "\n'
                    '[[causes]]\nname = "food   BANK"\n', encoding="utf-8")
    loaded = cli.json("program", "load", str(path))
    assert (loaded["rewards_unchanged"], loaded["plans_unchanged"], loaded["causes_unchanged"]) == (
        ["Slice of cake"], ["Club"], ["Food bank"])
    assert (loaded["rewards_added"], loaded["plans_added"], loaded["causes_added"]) == ([], [], [])


def test_a_dump_without_rewards_plans_or_causes_looks_as_before_and_an_old_file_leaves_them_alone(cli, tmp_path):
    """A shop without any: no such lists in its dump. A file without them (written before dumps carried them):
    its settings load; the rewards, plans and causes in the database stay as they are."""
    before = tomllib.loads(cli("program", "dump").stdout)
    assert not {"rewards", "plans", "causes", "cards", "goals"} & set(before)
    assert cli("reward", "add", "Slice of cake", "--cost", "100").exit_code == 0
    assert cli("membership", "plan", "add", "Club", "--fee", "30", "--months", "12", "--multiplier", "2").exit_code == 0
    assert cli("cause", "add", "Food bank").exit_code == 0
    after = tomllib.loads(cli("program", "dump").stdout)
    assert {key: value for key, value in after.items() if key not in ("rewards", "plans", "causes")} == before
    import tomli_w

    path = tmp_path / "old.toml"
    path.write_text(tomli_w.dumps({**before, "welcome_bonus": 80}), encoding="utf-8")
    result = cli.json("program", "load", str(path))
    assert (result["rewards_added"], result["plans_added"], result["causes_added"]) == ([], [], [])
    assert cli.json("program", "show")["welcome_bonus"] == "80"
    assert [r["reward"] for r in cli.json("reward", "list")] == ["Slice of cake"]
    assert [p["plan"] for p in cli.json("membership", "plan", "list")] == ["Club"]
    assert [c["cause"] for c in cli.json("cause", "list")] == ["Food bank"]


GOOD = {"rewards": '{ name = "Good", cost = 500 }', "causes": '{ name = "Good" }',
        "plans": '{ name = "Good", fee = "1.00", months = 1, multiplier = "1" }'}


@pytest.mark.parametrize("section, entry, message", [
    ("rewards", '{ name = "Mug", cost = "100" }', "error: [[rewards]] #2: cost must be a whole number\n"),
    ("rewards", '{ name = "Mug" }', "error: [[rewards]] #2: cost is missing\n"),
    ("rewards", '{ name = "Mug", cost = 100, value = "5.00" }',
     "error: [[rewards]] #2: unknown key 'value'; the keys are name, cost\n"),
    ("rewards", '{ name = "Mug", cost = 0 }', "error: [[rewards]] #2 (Mug): cost must be a positive whole number "
                                              "of points\n"),
    ("rewards", '{ name = "Mug", cost = 60 }',
     "error: [[rewards]] #2 (Mug): cost 60 is below the minimum redemption (100 points); raise the cost or "
     "`loyalty program set min_redemption N`\n"),
    ("rewards", '{ name = "", cost = 100 }', "error: [[rewards]] #2 (): reward name must be 1 to 100 characters\n"),
    ("plans", '{ name = "Club", fee = "30.00", months = 12 }', "error: [[plans]] #2: multiplier is missing\n"),
    ("plans", '{ name = "Club", fee = "30.00", months = 0, multiplier = "2" }',
     "error: [[plans]] #2 (Club): months must be 1 to 120\n"),
    ("plans", '{ name = "Club", fee = "30.00", months = 12, multiplier = "20" }',
     "error: [[plans]] #2 (Club): multiplier '20' must be at most 10\n"),
    ("plans", '{ name = "Club", fee = "30.00", months = 12, multiplier = true }',
     'error: [[plans]] #2: multiplier must be a number such as "1.5"\n'),
    ("plans", '{ name = "Club", fee = "lots", months = 12, multiplier = "2" }',
     "error: [[plans]] #2 (Club): fee 'lots' is not a decimal amount like 12.50\n"),
    ("plans", '{ name = "Club", fee = "30.00", months = "12", multiplier = "2" }',
     "error: [[plans]] #2: months must be a whole number\n"),
    ("plans", '{ name = "Club", fee = "30.00", months = 12, multiplier = "2", members = 3 }',
     "error: [[plans]] #2: unknown key 'members'; the keys are name, fee, months, multiplier, perk, active\n"),
    ("causes", '{ name = "" }', "error: [[causes]] #2 (): cause name must be 1 to 100 characters\n"),
    ("causes", '{ name = 7 }', "error: [[causes]] #2: name must be text\n"),
    ("causes", '{ cause = "Food bank" }',
     "error: [[causes]] #2: unknown key 'cause'; the keys are name\n"),
])
def test_a_bad_reward_plan_or_cause_in_the_file_is_refused_and_nothing_is_loaded(cli, tmp_path, section, entry,
                                                                                 message):
    path = tmp_path / "bad.toml"
    # a good one of the kind before it (#1): added, then taken back with the rest
    path.write_text(f"welcome_bonus = 80\n{section} = [{GOOD[section]}, {entry}]\n", encoding="utf-8")
    result = cli("program", "load", str(path))
    assert (result.exit_code, result.stderr) == (1, message)
    assert cli.json("program", "show")["welcome_bonus"] == "50"
    assert [cli.json(*listing) for listing in LISTINGS] == [[], [], []]
    for value in ("3", '["Food bank"]', '"Food bank"'):
        path.write_text(f"welcome_bonus = 80\n{section} = {value}\n", encoding="utf-8")
        result = cli("program", "load", str(path))
        assert result.exit_code == 1 and f"{section} must be a list of [[{section}]] tables" in result.stderr
    assert cli.json("program", "show")["welcome_bonus"] == "50"


def test_a_reward_or_plan_of_the_same_name_with_other_terms_is_refused(cli, tmp_path):
    """A plan's terms are not changed by a file (members joined on them), nor a reward's cost (that is `reward
    remove` then `reward add`): one of the same name with other terms is refused, and nothing in the file is
    loaded, the definitions before it included."""
    assert cli("reward", "add", "Slice of cake", "--cost", "100").exit_code == 0
    assert cli("membership", "plan", "add", "Club", "--fee", "30.00", "--months", "12", "--multiplier", "2",
               "--perk", "free delivery").exit_code == 0
    path = tmp_path / "other.toml"
    path.write_text('welcome_bonus = 80\n[[causes]]\nname = "Food bank"\n'
                    '[[rewards]]\nname = "Tote bag"\ncost = 400\n'
                    '[[rewards]]\nname = "slice of cake"\ncost = 150\n', encoding="utf-8")
    result = cli("program", "load", str(path))
    assert (result.exit_code, result.stderr) == (
        1, "error: [[rewards]] #2 (slice of cake): a reward named 'Slice of cake' is already offered with other "
           "terms (cost: 100 here, 150 in the file); to change its cost, remove it first (`loyalty reward "
           "remove`)\n")
    for plan, difference in [('fee = "25.00"\nmonths = 12\nmultiplier = "2"\nperk = "free delivery"',
                              "fee: 30.00 here, 25.00 in the file"),
                             ('fee = "30.00"\nmonths = 12\nmultiplier = "2.5"\nperk = "free delivery"',
                              "multiplier: 2 here, 2.5 in the file"),
                             ('fee = "30.00"\nmonths = 12\nmultiplier = "2"',  # perk left out: none
                              "perk: free delivery here, none in the file"),
                             ('fee = "30.00"\nmonths = 12\nmultiplier = "2"\nperk = "free delivery"\nactive = false',
                              "active: true here, false in the file")]:
        path.write_text(f'welcome_bonus = 80\n[[rewards]]\nname = "Tote bag"\ncost = 400\n'
                        f'[[plans]]\nname = "CLUB"\n{plan}\n', encoding="utf-8")
        result = cli("program", "load", str(path))
        assert (result.exit_code, result.stderr) == (
            1, f"error: [[plans]] #1 (CLUB): a membership plan named 'Club' already exists with other terms "
               f"({difference}); a file does not change a plan's terms\n")
    assert cli.json("program", "show")["welcome_bonus"] == "50"
    assert [(r["reward"], r["cost"]) for r in cli.json("reward", "list")] == [("Slice of cake", 100)]
    assert [(p["plan"], p["fee"], p["multiplier"]) for p in cli.json("membership", "plan", "list")] == [
        ("Club", "30.00", "2")]
    assert cli.json("cause", "list") == []


def test_a_removed_reward_the_file_names_is_offered_again_at_the_files_cost(cli, tmp_path):
    """As `reward add` does: the catalogue of the file is what is on offer after it."""
    assert cli("reward", "add", "Slice of cake", "--cost", "100").exit_code == 0
    assert cli("reward", "remove", "Slice of cake").exit_code == 0
    path = tmp_path / "program.toml"
    path.write_text('[[rewards]]\nname = "Slice of cake"\ncost = 120\n', encoding="utf-8")
    assert cli.json("program", "load", str(path))["rewards_added"] == ["Slice of cake"]
    assert cli.json("program", "load", str(path))["rewards_unchanged"] == ["Slice of cake"]
    assert [(r["reward"], r["cost"]) for r in cli.json("reward", "list")] == [("Slice of cake", 120)]


def test_a_rewards_cost_is_checked_against_the_files_own_min_redemption(cli, tmp_path, monkeypatch):
    """The settings of the file load first: a reward the file's min_redemption allows is taken. The summary
    is in the language of the one who reads it."""
    path = tmp_path / "program.toml"
    path.write_text('min_redemption = 40\n[[rewards]]\nname = "Biscuit"\ncost = 40\n'
                    '[[causes]]\nname = "Banco alimentar"\n', encoding="utf-8")
    result = cli("program", "load", str(path))
    assert result.exit_code == 0, result.stderr
    assert "1 reward added (Biscuit); 1 cause added (Banco alimentar)" in result.stdout
    assert cli.json("reward", "list")[0]["cost"] == 40
    path.write_text('min_redemption = 40\n[[rewards]]\nname = "Biscuit"\ncost = 40\n[[rewards]]\nname = "Mug"\n'
                    'cost = 200\n[[causes]]\nname = "Banco alimentar"\n', encoding="utf-8")
    monkeypatch.setenv("LOYALTY_LANG", "pt_PT")
    result = cli("program", "load", str(path))
    assert result.exit_code == 0, result.stderr
    assert ("1 prémio adicionado (Mug); 1 prémio já existente (Biscuit); 1 causa já existente (Banco alimentar)"
            in result.stdout)


def test_rewards_plans_and_causes_in_the_program_file_in_the_library(session):
    from loyaltycli.services import donations, memberships, program_file, rewards
    from loyaltycli.store.program import load_program

    rewards.add_reward(session, load_program(session), "Slice of cake", 100)
    memberships.add_plan(session, "Max", 500, 1, "10")  # kept as 1E+1: the file says 10
    donations.add_cause(session, "Food bank")
    doc = tomllib.loads(program_file.dump(session))
    assert doc["rewards"] == [{"name": "Slice of cake", "cost": 100}]
    assert doc["plans"] == [{"name": "Max", "fee": "5.00", "months": 1, "multiplier": "10", "perk": "",
                             "active": True}]
    assert doc["causes"] == [{"name": "Food bank"}]
    doc["plans"].append({"name": "Paused", "fee": "1.00", "months": 3, "multiplier": 1.25, "active": False})
    doc["causes"].append({"name": "Library"})
    loaded = program_file.load(session, doc)
    assert (loaded["rewards_unchanged"], loaded["plans_unchanged"], loaded["plans_added"],
            loaded["causes_added"]) == (["Slice of cake"], ["Max"], ["Paused"], ["Library"])
    paused = memberships.all_plans(session)[-1]
    assert (paused.name, paused.fee, paused.months, paused.multiplier, paused.perk, paused.active) == (
        "Paused", 100, 3, "1.25", "", False)
    assert [p["plan"] for p in memberships.list_plans(session)] == ["Max"]  # not offered, as in the file
    assert [c.name for c in donations.all_causes(session)] == ["Food bank", "Library"]
    again = program_file.load(session, tomllib.loads(program_file.dump(session)))
    assert (again["plans_added"], again["plans_unchanged"]) == ([], ["Max", "Paused"])


def test_the_readmes_program_file_example_loads(cli, tmp_path):
    """The README's example of the lists of a program file is one that loads, and loads twice the same."""
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("```toml\n[[cards]]\n") + len("```toml\n")
    path = tmp_path / "example.toml"
    path.write_text(readme[start:readme.index("```", start)], encoding="utf-8")
    first, again = cli.json("program", "load", str(path)), cli.json("program", "load", str(path))
    for section in ("cards", "goals", "rewards", "plans", "causes"):
        assert len(first[f"{section}_added"]) == 1 and again[f"{section}_unchanged"] == first[f"{section}_added"]


def test_point_value_must_be_more_than_0_and_a_database_holding_0_refuses_what_needs_it(cli, tmp_path, database):
    refused = "point_value: must be more than 0 (the money one point is worth when redeemed)"
    result = cli("program", "set", "point_value", "0")
    assert (result.exit_code, result.stderr) == (1, f"error: {refused}\n")
    path = tmp_path / "zero.toml"
    path.write_text('point_value = "0.00"\nwelcome_bonus = 80\n', encoding="utf-8")
    result = cli("program", "load", str(path))
    assert result.exit_code == 1 and refused in result.stderr
    refused = "point_value is 0: points are worth nothing here; set it with `loyalty program set point_value AMOUNT`"
    assert cli.json("program", "show")["point_value"] == "0.05"
    # a database written before the check: what turns points into money says so, nothing is written
    from loyaltycli.store.models import ProgramSetting

    with database.session() as s:
        s.add(ProgramSetting(key="point_value", value="0.00"))
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2025-01-01")
    assert cli("purchase", "C000001", "120.00", "--at", "2025-03-01").exit_code == 0
    assert cli("cause", "add", "Food bank").exit_code == 0
    before = cli.json("history", "C000001")
    for args in (("redeem", "C000001", "100"), ("rebate", "--year", "2025", "--percent", "2"),
                 ("donate", "C000001", "100", "--cause", "Food bank")):
        result = cli(*args)
        assert (result.exit_code, result.stderr) == (1, f"error: {refused}\n"), args
    assert cli.json("history", "C000001") == before


def test_a_table_under_a_name_that_is_no_setting_is_said_to_be_unknown(cli, tmp_path):
    path = tmp_path / "odd.toml"
    path.write_text('welcome_bonus = 80\n[foo]\nbar = 1\n', encoding="utf-8")
    result = cli("program", "load", str(path))
    assert result.exit_code == 1 and "unknown setting 'foo'" in result.stderr
    path.write_text('welcome_bonus = 80\nwelcome_bonus_x = [1]\n', encoding="utf-8")
    assert "unknown setting 'welcome_bonus_x'" in cli("program", "load", str(path)).stderr
    path.write_text('welcome_bonus = [80]\n', encoding="utf-8")
    assert "welcome_bonus: expected a single value" in cli("program", "load", str(path)).stderr
    assert cli.json("program", "show")["welcome_bonus"] == "50"


def test_a_program_type_is_its_rule_module_alone(cli, monkeypatch):
    """A rule module that declares its settings and its notes (``SETTINGS``, ``NOTES``) is a program type:
    `program set`, `program show`, the program file, a sale and `history` know it, and nothing else changed.
    Once the module is gone, its rows keep their stored English and its stored setting is left alone."""
    import types
    import tomllib

    from loyaltycli.base.settings import whole_setting
    from loyaltycli.engine import notes, rules
    from loyaltycli.engine.note import Note
    from loyaltycli.store import program as program_store

    tip = Note("tip", "receipt {receipt}: {points} tip points")

    class Tips(rules.Rule):
        KEY = "tips"

        def __init__(self, points):
            self.points = points

        def sale(self, engine, event):
            event.out.rows.append(engine.row(event.account.id, "earn", self.points, event.at,
                                             engine.expires(event.at), tip.make(receipt=event.receipt_id,
                                                                                points=self.points)))
            event.out.earned += self.points

    module = types.ModuleType("loyaltycli.engine.rules.tips")
    module.ORDER, module.NOTES = 25, (tip,)
    module.SETTINGS = (whole_setting("tip_points", "0", "points for every sale (0: off)"),)
    module.build = lambda program: Tips(program.tip_points) if program.tip_points else None

    code = cli.json("enroll", "Aoife")["code"]
    with monkeypatch.context() as plugged:
        plugged.setattr(rules, "_FOUND", sorted([*rules.modules(), module], key=lambda m: m.ORDER))
        plugged.setattr(program_store, "_SETTINGS", None)
        plugged.setattr(notes, "_KINDS", None)
        assert cli.json("program", "show")["tip_points"] == "0"
        assert cli("program", "set", "tip_points", "7").stdout.strip() == "tip_points = 7"
        refused = cli("program", "set", "tip_points", "-1")
        assert refused.exit_code == 1 and "tip_points" in refused.stderr
        assert tomllib.loads(cli("program", "dump").stdout)["tip_points"] == 7
        assert cli.json("purchase", code, "12.00", "--receipt", "T1")["points"] == 12 + 7
        history = cli.json("history", code)
        assert [(e["points"], e["note"]) for e in history if e["kind"] == "earn"] == [
            (12, "receipt T1 12.00 store (Bronze x1)"), (7, "receipt T1: 7 tip points")]
        assert "receipt T1: 7 tip points" in cli("history", code).stdout
    assert "tip_points" not in cli.json("program", "show")
    assert cli.json("purchase", code, "12.00", "--receipt", "T2")["points"] == 12
    assert [e["note"] for e in cli.json("history", code) if e["points"] == 7] == ["receipt T1: 7 tip points"]
    assert "receipt T1: 7 tip points" in cli("history", code).stdout


def test_the_program_file_writes_rules_as_tables_and_still_reads_them_as_text(cli, tmp_path):
    """`program dump` writes item rules and earn rules as tables ([[item_rules]], [[earn_rules]]), as the tiers
    are, and `program load` reads them back; a file from before (the rules as a JSON text) still loads; a
    table without its fields is refused with the setting's name, and nothing changes."""
    assert cli("program", "rule", "add", "Croissants", "--sku", "CRO-*", "--points", "5").exit_code == 0
    assert cli("program", "rule", "add", "Coffee", "--sku", "COF-*", "--sku", "ESP-*", "--earn", "0.5").exit_code == 0
    dumped = cli("program", "dump").stdout
    doc = tomllib.loads(dumped)
    assert doc["item_rules"] == [{"name": "Croissants", "skus": ["CRO-*"], "points": 5, "per": "item"}]
    assert doc["earn_rules"] == [{"name": "Coffee", "skus": ["COF-*", "ESP-*"], "earn": "0.5"}]
    assert "[[item_rules]]" in dumped and '"[{' not in dumped
    assert cli("program", "rule", "remove", "Croissants").exit_code == 0
    assert cli("program", "rule", "remove", "Coffee").exit_code == 0
    path = tmp_path / "program.toml"
    path.write_text(dumped)
    assert cli("program", "load", str(path)).exit_code == 0
    assert tomllib.loads(cli("program", "dump").stdout) == doc

    path.write_text('earn_rules = "[{\\"name\\": \\"Tea\\", \\"skus\\": [\\"TEA-*\\"], \\"earn\\": \\"2\\"}]"\n')
    assert cli("program", "load", str(path)).exit_code == 0
    before = cli.json("program", "show")
    assert before["earn_rules"] == '[{"name": "Tea", "skus": ["TEA-*"], "earn": "2"}]'
    for text, message in [('welcome_bonus = 80\n[[item_rules]]\nname = "Buns"\nskus = ["BUN-*"]\n',
                           "error: item_rules: #1: points is missing"),
                          ('welcome_bonus = 80\n[[earn_rules]]\nname = "Tea"\nskus = ["TEA-*"]\nearn = "-1"\n',
                           "error: earn_rules: #1 (Tea): earn '-1' must be at least 0"),
                          ('welcome_bonus = 80\ntiers = [{ name = "A:B", min_spend = "0", multiplier = "1" }]\n',
                           "error: tiers: tier name 'A:B' may not contain a comma or a colon"),
                          ('welcome_bonus = 80\nreferral_steps = [1, 200]\n',
                           "error: referral_steps: expected a single value"),
                          # a table given wrong: refused as `program rule add` refuses it, not read another way
                          ('welcome_bonus = 80\n[[item_rules]]\nname = "Buns"\nskus = "BUN-*"\npoints = 50\n',
                           "error: item_rules: #1: skus must be a list of SKU patterns"),
                          ('[[item_rules]]\nname = "Buns"\nskus = ["BUN-*"]\npoints = 5\npre = "visit"\n',
                           "error: item_rules: #1: unknown key 'pre'; the keys are name, skus, points, per"),
                          ('[[item_rules]]\nname = "Buns"\nskus = ["BUN-*"]\npoints = true\n',
                           "error: item_rules: #1: points must be a whole number"),
                          ('[[earn_rules]]\nname = "Tea"\nskus = ["TEA-*"]\nearn = "1"\n'
                           '[[earn_rules]]\nname = "TEA"\nskus = ["CHA-*"]\nearn = "2"\n',
                           "error: earn_rules: #2 (TEA): the same name as a rule before it: each name once"),
                          ('[[earn_rules]]\nname = "Tea"\nskus = [" "]\nearn = "1"\n',
                           "error: earn_rules: #1 (Tea): give at least one --sku pattern (e.g. --sku 'CRO-*')")]:
        path.write_text(text)
        refused = cli("program", "load", str(path))
        assert (refused.exit_code, refused.stderr.strip()) == (1, message)
    assert cli.json("program", "show") == before
    refused = cli("program", "set", "item_rules", '[{"name": "X", "skus": "AB", "points": 3}]')
    assert refused.exit_code == 1 and "item_rules: #1: skus must be a list of SKU patterns" in refused.stderr
    assert cli.json("program", "show") == before


def test_a_refusal_in_the_file_names_keys_but_leaves_the_files_own_words_alone(cli, tmp_path):
    """`--cost` in a service's refusal is the file's `cost`; a name or value that holds the same word is shown
    as the file gave it."""
    path = tmp_path / "program.toml"
    path.write_text('[[rewards]]\nname = "Coffee --cost"\ncost = 50\n', encoding="utf-8")
    refused = cli("program", "load", str(path))
    assert refused.stderr == ("error: [[rewards]] #1 (Coffee --cost): cost 50 is below the minimum redemption "
                              "(100 points); raise the cost or `loyalty program set min_redemption N`\n")
    path.write_text('[[cards]]\nname = "Tea"\nstamps = 5\nreward = "Free tea"\nper = "--stamps"\n', encoding="utf-8")
    assert cli("program", "load", str(path)).stderr == (
        "error: [[cards]] #1 (Tea): per '--stamps' is not one of visit, item\n")
    path.write_text('[[cards]]\nname = "Tea"\nstamps = 0\nreward = "--"\n', encoding="utf-8")  # a part of an option
    assert cli("program", "load", str(path)).stderr == "error: [[cards]] #1 (Tea): stamps must be 1 to 1000\n"
    path.write_text('[[tiers]]\nname = "Base"\nmin_spend = "0"\nmultiplier = "1"\nnote = "x"\n', encoding="utf-8")
    assert cli("program", "load", str(path)).stderr == (
        "error: tiers: #1: unknown key 'note'; the keys are name, min_spend, multiplier\n")
    path.write_text('[[item_rules]]\nname = "Buns"\nskus = ["BUN-*"]\npoints = 5.0\n', encoding="utf-8")
    assert cli("program", "load", str(path)).stderr == "error: item_rules: #1: points must be a whole number\n"


def test_rules_stored_by_a_laxer_version_do_not_stop_adding_or_removing_another(cli):
    """`program rule add` and `remove` check the rule they change; rules stored before the whole list was
    checked (two names differing in case only) do not block them."""
    from loyaltycli.store.db import open_database
    from loyaltycli.store.models import ProgramSetting

    lax = '[{"name": "Tea", "skus": ["A"], "points": 1, "per": "item"}, {"name": "TEA", "skus": ["B"], "points": 2, "per": "item"}]'
    with open_database().session() as session:
        session.add(ProgramSetting(key="item_rules", value=json.dumps(lax)))
    assert cli("program", "rule", "add", "Other", "--sku", "X*", "--points", "1").exit_code == 0
    assert cli("program", "rule", "remove", "Other").exit_code == 0
    assert cli.json("program", "show")["item_rules"] == lax
    refused = cli("program", "set", "item_rules", lax)  # set whole by a person: checked whole
    assert refused.exit_code == 1 and "#2 (TEA): the same name as a rule before it" in refused.stderr
