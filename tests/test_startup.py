"""What a fresh process imports: help and version stay clear of the database layer and Rich; the counter
commands stay clear of prompts, migrations, validators and Rich. (Timing lives in benchmarks/.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, sys
sys.argv = ["loyalty", *json.loads(sys.argv[1])]
from loyaltycli.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def probe(*args: str) -> tuple[dict, str]:
    """Run `loyalty ARGS` in a fresh interpreter; its exit code, top-level modules and stdout."""
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True,
                          text=True, timeout=60)
    report = json.loads(done.stderr.rsplit("PROBE ", 1)[1])
    report["packages"] = {name.split(".")[0] for name in report["modules"]}
    return report, done.stdout


HEAVY_FOR_HELP = {"sqlalchemy", "sqlmodel", "pydantic", "rich", "questionary", "prompt_toolkit", "alembic",
                  "phonenumbers", "email_validator", "markdown_it", "pygments", "flask", "werkzeug", "jinja2",
                  "waitress"}
NOT_AT_THE_COUNTER = {"questionary", "prompt_toolkit", "alembic", "phonenumbers", "email_validator", "rich",
                      "markdown_it", "pygments", "flask", "werkzeug", "jinja2", "waitress"}


@pytest.mark.dialect_free("help, version, completion and a mistyped command open no database")
@pytest.mark.parametrize("args", [["--help"], ["--version"], []])
def test_help_and_version_import_no_database_layer_and_no_rich(args):
    report, out = probe(*args)
    assert report["code"] in (0, 2)  # `loyalty` alone shows the help (no_args_is_help)
    assert HEAVY_FOR_HELP.isdisjoint(report["packages"]), HEAVY_FOR_HELP & report["packages"]
    if args == ["--version"]:
        assert out == "loyalty 0.1.0\n"
    elif args:
        assert "purchase" in out and "counter" in out and "Usage: loyalty" in out


@pytest.mark.dialect_free("help, version, completion and a mistyped command open no database")
def test_help_lists_every_command_of_every_module():
    import re

    from loyaltycli.cli import app

    report, out = probe("--help")
    names = [c.name for c in app.registered_commands if not c.hidden] + [g.name for g in app.registered_groups]
    assert "counter" in names and "balance" in names
    for name in names:
        assert re.search(rf"^  {re.escape(name)}(\s|$)", out, re.M), name


def test_balance_imports_nothing_needless(cli):
    assert cli("enroll", "Aoife Murphy", "--email", "aoife@example.ie", "--no-input").exit_code == 0
    report, out = probe("balance", "C000001")
    assert report["code"] == 0
    assert out == "C000001 Aoife Murphy: 50 points (worth 2.50), tier Bronze\n"
    assert NOT_AT_THE_COUNTER.isdisjoint(report["packages"]), NOT_AT_THE_COUNTER & report["packages"]
    # SQLite needs none of SQLAlchemy's PostgreSQL dialect (nor the drivers' modules it pulls in)
    if not os.environ.get("LOYALTY_TEST_PG_URL"):
        assert "sqlalchemy.dialects.postgresql" not in report["modules"]


def test_purchase_imports_nothing_needless(cli):
    assert cli("enroll", "Aoife Murphy", "--no-input").exit_code == 0
    report, out = probe("purchase", "C000001", "12.50", "--receipt", "R-1")
    assert report["code"] == 0
    assert out == "C000001: +12 points for 12.50 (receipt R-1); balance 62, tier Bronze\n"
    assert NOT_AT_THE_COUNTER.isdisjoint(report["packages"]), NOT_AT_THE_COUNTER & report["packages"]
    # SQLite needs none of SQLAlchemy's PostgreSQL dialect (nor the drivers' modules it pulls in)
    if not os.environ.get("LOYALTY_TEST_PG_URL"):
        assert "sqlalchemy.dialects.postgresql" not in report["modules"]


@pytest.mark.dialect_free("help, version, completion and a mistyped command open no database")
def test_one_shot_builds_only_the_named_command():
    from loyaltycli.cli import _app_for, app

    def names(view):
        return [c.name for c in view.registered_commands] + [g.name for g in view.registered_groups]

    assert names(_app_for(["balance", "C000001"])) == ["balance"]
    assert names(_app_for(["--db", "shop.db", "--json", "purchase", "C1", "5"])) == ["purchase"]
    assert names(_app_for(["C1", "--json"])) == names(app)  # not a command: the full app answers
    assert names(_app_for(["customer", "show", "C1"])) == ["customer"]
    assert _app_for(["balanc"]) is app
    # the root's help: every command and group by name and help alone (no parameters to build)
    for listing in (_app_for(["--help"]), _app_for([])):
        assert listing is not app and names(listing) == [c.name or c.callback.__name__ for c in app.registered_commands] + [
            g.name for g in app.registered_groups]
        assert all(not c.callback.__code__.co_varnames for c in listing.registered_commands)
    assert names(_app_for(["import", "inspect", "till.csv"])) == ["import inspect"]
    assert app.registered_commands and len(names(app)) > 2  # the root app itself is untouched


@pytest.mark.dialect_free("help, version, completion and a mistyped command open no database")
def test_a_mistyped_command_still_gets_a_suggestion():
    done = subprocess.run([sys.executable, "-m", "loyaltycli", "balanc", "C000001"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "No such command 'balanc'. Did you mean 'balance'?" in done.stderr


@pytest.mark.dialect_free("help, version, completion and a mistyped command open no database")
def test_shell_completion_imports_no_database_layer(monkeypatch):
    monkeypatch.setenv("_LOYALTY_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "loyalty bal")
    monkeypatch.setenv("COMP_CWORD", "1")
    report, out = probe()
    assert out.split() == ["balance"]
    assert {"sqlalchemy", "sqlmodel", "rich", "questionary", "alembic"}.isdisjoint(report["packages"])


GC_PROBE = """
import gc, json, sys
sys.argv = ["loyalty", *json.loads(sys.argv[1])]
seen = {}
import loyaltycli.cli.options as options
real = options.database
def spy():
    seen["at_database"] = gc.isenabled()  # paused through the command's imports
    return real()
options.database = spy
from loyaltycli.startup import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nPROBE " + json.dumps({"at_database": seen.get("at_database"), "enabled": gc.isenabled(),
                                           "frozen": gc.get_freeze_count()}))
"""


def test_the_collector_waits_for_startup_then_resumes(cli):
    assert cli("enroll", "Aoife Murphy", "--no-input").exit_code == 0
    done = subprocess.run([sys.executable, "-c", GC_PROBE, json.dumps(["balance", "C000001"])],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout == "C000001 Aoife Murphy: 50 points (worth 2.50), tier Bronze\n", done.stderr
    report = json.loads(done.stderr.rsplit("PROBE ", 1)[1])
    assert report["at_database"] is False  # still paused when the command asks for its database
    assert report["enabled"] is True  # then collecting again, as for long commands
    assert report["frozen"] > 10_000  # with the startup objects frozen out of its sight


@pytest.mark.dialect_free("help, version, completion and a mistyped command open no database")
def test_a_library_user_keeps_its_collector_setting():
    import gc

    from loyaltycli.startup import resume_gc

    gc.disable()
    try:
        resume_gc()  # main() did not pause it: not ours to turn on
        assert not gc.isenabled()
    finally:
        gc.enable()


def _cpu_of(argv: list[str], env: dict) -> float:
    """CPU seconds (user + system) of one run of ``argv``, from the OS's accounting of the finished child."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="CPU accounting of children as on Linux")
def test_help_costs_at_most_one_and_a_half_times_importing_typer(tmp_path):
    """`loyalty --help` against its floor, `python -c 'import typer'`, measured here, in turn (A B A B...):
    the median of the pairs' CPU ratios under 1.5 (issue 28's goal). Both run with warm bytecode caches of
    their own (one cache folder for both, filled by a first run of each): PYTHONDONTWRITEBYTECODE would
    otherwise compile our modules at every start and not Typer's, which pip compiled at install."""
    import statistics

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
    ours = [sys.executable, "-m", "loyaltycli", "--help"]
    floor = [sys.executable, "-c", "import typer"]
    for argv in (ours, floor, ours, floor):  # warm-up: the caches written, the files in the OS's cache
        _cpu_of(argv, env)
    ratios = []
    for _pair in range(9):
        a = _cpu_of(ours, env)
        b = _cpu_of(floor, env)
        ratios.append(a / max(b, 1e-3))
    assert statistics.median(ratios) < 1.5, sorted(round(r, 2) for r in ratios)
