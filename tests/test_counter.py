"""`loyalty counter`: the warm session's line runner, its completion, the prompt loop and piped lines."""

from __future__ import annotations

import json

import pytest

from loyaltycli.cli import counter, dispatch
from loyaltycli.cli.dispatch import run_line, suggest


@pytest.fixture
def aoife(cli):
    result = cli("enroll", "Aoife Murphy", "--email", "aoife@example.ie", "--card", "6000-1234", "--no-input")
    assert result.exit_code == 0, result.output
    return "C000001"


def test_balance_line_answers_like_the_cli(aoife):
    assert run_line("balance C000001") == (0, "C000001 Aoife Murphy: 50 points (worth 2.50), tier Bronze\n")
    # the same customer by e-mail, with the `loyalty` prefix people type out of habit
    assert run_line("loyalty balance aoife@example.ie")[1] == \
        "C000001 Aoife Murphy: 50 points (worth 2.50), tier Bronze\n"


def test_purchase_line_records_the_sale(aoife, database):
    code, out = run_line("purchase C000001 12.50 --receipt R-1")
    assert (code, out) == (0, "C000001: +12 points for 12.50 (receipt R-1); balance 62, tier Bronze\n")
    from loyaltycli.store import ledger
    from loyaltycli.services.points import find_sale

    with database.session(write=False) as session:
        sale = find_sale(session, "R-1")
        assert sale.amount == 1250
        assert ledger.balance(session, sale.customer_id) == 62
    assert run_line("balance C000001")[1].startswith("C000001 Aoife Murphy: 62 points")


def test_bad_lines_report_and_the_session_goes_on(aoife):
    assert run_line("balance nobody") == (
        1, "error: unknown customer 'nobody'; try `loyalty customer list --search nobody`\n")
    code, out = run_line("purchase C000001")
    assert code == 2 and "Missing argument 'AMOUNT'" in out
    code, out = run_line("bogus")
    assert code == 2 and "No such command 'bogus'" in out
    assert run_line('enroll "Brid') == (2, "error: cannot read the line (a quote is not closed); close the quotes\n")
    assert run_line("counter") == (
        2, "error: already at the counter; type a command such as `balance C000001`\n")
    assert run_line("purchase C000001 -5")[0] == 1
    assert run_line("   ") == (0, "")
    code, out = run_line("purchase --help")
    assert code == 0 and out.startswith("Usage: loyalty purchase [OPTIONS]")
    # after all of that, the counter still serves
    assert run_line("purchase C000001 10.00 --receipt R-2")[0] == 0
    assert run_line("balance C000001")[1].startswith("C000001 Aoife Murphy: 60 points")


def test_duplicate_receipt_changes_nothing(aoife):
    assert run_line("purchase C000001 10.00 --receipt R-7")[0] == 0
    code, out = run_line("purchase C000001 99.00 --receipt R-7")
    assert code == 1
    assert out == "error: receipt R-7 was already recorded (source counter); nothing changed\n"
    assert run_line("balance C000001")[1].startswith("C000001 Aoife Murphy: 60 points")


def test_options_hold_for_one_line_only(aoife):
    code, out = run_line("balance C000001 --json")
    assert code == 0
    assert json.loads(out) == {"code": "C000001", "name": "Aoife Murphy", "balance": 50, "tier": "Bronze",
                               "value": "2.50", "currency": "EUR", "expiring_soon": []}
    assert run_line("balance C000001")[1] == "C000001 Aoife Murphy: 50 points (worth 2.50), tier Bronze\n"


def test_counter_options_pass_to_every_line(aoife, tmp_path, cli, db_path):
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "init").exit_code == 0
    assert cli("--db", str(other), "enroll", "Brid Walsh", "--no-input").exit_code == 0
    assert run_line("balance C000001", base_args=["--db", str(other)])[1].startswith("C000001 Brid Walsh: 50")
    # the line's own --db wins over the counter's
    own = db_path  # the test's database (conftest): a file, or a PostgreSQL URL
    assert run_line(f"balance C000001 --db {own}", base_args=["--db", str(other)])[1] \
        .startswith("C000001 Aoife Murphy")


def test_piped_lines_run_one_by_one(aoife, cli):
    result = cli("counter", input="balance C000001\npurchase C000001 20.00 --receipt P-1\nbalance nobody\n"
                                  "balance aoife@example.ie\n")
    assert result.exit_code == 1  # the last failing line's code
    assert result.stdout.splitlines() == [
        "C000001 Aoife Murphy: 50 points (worth 2.50), tier Bronze",
        "C000001: +20 points for 20.00 (receipt P-1); balance 70, tier Bronze",
        "C000001 Aoife Murphy: 70 points (worth 3.50), tier Bronze",
    ]
    assert result.stderr == ("line 3: error: unknown customer 'nobody'; try `loyalty customer list --search "
                             "nobody`\n")


def test_piped_lines_stop_at_exit(aoife, cli):
    result = cli("counter", input="purchase C000001 20.00 --receipt P-1\nexit\npurchase C000001 30.00\n")
    assert result.exit_code == 0
    assert run_line("balance C000001")[1].startswith("C000001 Aoife Murphy: 70 points")


def test_prompt_loop_runs_lines_until_exit_and_keeps_history(aoife, tmp_path, capsys):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    history = tmp_path / "data" / "counter_history"
    with create_pipe_input() as keys:
        # a line, Ctrl-C (clears the line, stays), a bad line, a sale, exit, and a line never run
        keys.send_text("balance C000001\r\x03bogus\rpurchase C000001 10.00 --receipt K-1\rexit\r")
        keys.send_text("purchase C000001 500.00\r")
        session = counter.prompt_session(history, input=keys, output=DummyOutput())
        assert counter.serve(session) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        "C000001 Aoife Murphy: 50 points (worth 2.50), tier Bronze",
        "C000001: +10 points for 10.00 (receipt K-1); balance 60, tier Bronze",
    ]
    assert "No such command 'bogus'" in out.err
    lines = [line[1:] for line in history.read_text().splitlines() if line.startswith("+")]
    assert lines == ["balance C000001", "bogus", "purchase C000001 10.00 --receipt K-1", "exit"]
    assert run_line("balance C000001")[1].startswith("C000001 Aoife Murphy: 60 points")


def test_prompt_loop_ends_on_ctrl_d(aoife, tmp_path, capsys):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    with create_pipe_input() as keys:
        keys.send_text("balance C000001\rhelp\r\x04")
        session = counter.prompt_session(tmp_path / "h", input=keys, output=DummyOutput())
        assert counter.serve(session) == 0
    out = capsys.readouterr().out
    assert out.startswith("C000001 Aoife Murphy: 50 points (worth 2.50), tier Bronze\nUsage: loyalty [OPTIONS]")
    assert "  counter " in out


def test_history_lives_in_the_user_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert counter.history_path() == tmp_path / "loyaltycli" / "counter_history"


# -- completion -------------------------------------------------------------------------------------
def texts(found):
    return [s.text for s in found]


def test_completes_command_names():
    word, found = suggest("ba")
    assert word == "ba" and texts(found) == ["backup", "balance"]
    assert {"purchase", "balance", "customer", "exit", "quit"} <= set(texts(suggest("")[1]))
    assert "counter" in texts(suggest("co")[1])
    assert texts(suggest("customer s")[1]) == ["show", "suggest"]
    assert suggest("nosuch thing ")[1] == []


def test_completes_customers_by_code_name_email_card(aoife, cli):
    assert cli("enroll", "Brid Murray", "--no-input").exit_code == 0
    assert texts(suggest("balance aoi")[1]) == ["C000001"]
    assert texts(suggest("balance mur")[1]) == ["C000001", "C000002"]  # a later word of the name
    assert texts(suggest("purchase aoife@ex")[1]) == ["C000001"]
    assert texts(suggest("balance 6000-12")[1]) == ["C000001"]
    assert texts(suggest("balance c2")[1]) == ["C000002"]  # short form of the code
    assert texts(suggest("customer show C00000")[1]) == ["C000001", "C000002"]
    first = suggest("balance aoi")[1][0]
    assert (first.display, first.meta) == ("C000001 Aoife Murphy", "aoife@example.ie")
    # only the KEY argument completes to customers, not the amount; a LIKE wildcard is a plain character
    assert suggest("purchase C000001 1")[1] == []
    assert suggest("balance %")[1] == [] and suggest("balance _")[1] == []


def test_merged_and_forgotten_customers_are_not_offered(aoife, database):
    from loyaltycli.services.lookup import customers_starting_with
    from loyaltycli.store.models import Customer

    with database.session() as session:
        session.get(Customer, 1).status = "forgotten"
    with database.session(write=False) as session:
        assert customers_starting_with(session, "aoi") == []
    assert suggest("balance aoi")[1] == []


def test_completes_options_after_a_dash():
    word, found = suggest("purchase C000001 12.50 --re")
    assert word == "--re" and texts(found) == ["--receipt"]
    assert "--json" in texts(suggest("balance C000001 --")[1])
    # an option's value is not taken for the customer argument
    assert dispatch._argument_at(dispatch.root_command().commands["purchase"], ["--receipt", "R1"]).name == "key"


def test_prompt_completer_replaces_the_typed_word(aoife):
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    completions = list(counter.make_completer().get_completions(Document("balance aoi"), CompleteEvent()))
    assert [(c.text, c.start_position, c.display_text, c.display_meta_text) for c in completions] == [
        ("C000001", -3, "C000001 Aoife Murphy", "aoife@example.ie")]


def test_lookup_in_the_core_by_prefix_with_a_limit(session, program):
    from loyaltycli.services import customers
    from loyaltycli.services.lookup import customers_starting_with

    for name in ("Aoife Murphy", "Brid Murray", "Cian O'Murchu", "Dara Mur_phy"):
        customers.enroll(session, program, name)
    session.flush()
    # a word of the name must start with it: "O'Murchu" does not
    assert [m.code for m in customers_starting_with(session, "MUR")] == ["C000001", "C000002", "C000004"]
    assert [m.code for m in customers_starting_with(session, "mur", limit=1)] == ["C000001"]
    assert [m.name for m in customers_starting_with(session, "mur_")] == ["Dara Mur_phy"]  # _ is literal
    assert [m.code for m in customers_starting_with(session, "c3")] == ["C000003"]
    assert customers_starting_with(session, "  ") == []


def test_help_in_piped_lines_shows_the_command_list_as_at_the_prompt(aoife, cli):
    result = cli("counter", input="help\nbalance C000001\n")
    assert result.exit_code == 0, result.stderr
    assert "Commands" in result.stdout and "purchase" in result.stdout
    assert result.stdout.splitlines()[-1] == "C000001 Aoife Murphy: 50 points (worth 2.50), tier Bronze"
