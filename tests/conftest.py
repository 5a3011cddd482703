"""Every test gets its own database and a pinned clock.

By default the database is a temp SQLite file. With LOYALTY_TEST_PG_URL set (a SQLAlchemy URL of a
PostgreSQL server we may create databases on, e.g. postgresql+psycopg://postgres@127.0.0.1:54329/postgres),
every test gets a fresh, empty PostgreSQL database instead (tests/pg_testdb.py); tests
marked ``@pytest.mark.sqlite_only`` (file permissions, backup API, raw file bytes) are skipped there.

Tests marked ``@pytest.mark.dialect_free("why")`` are skipped on PostgreSQL too: their outcome cannot depend
on the database's dialect nor on the machine's zone (the PostgreSQL pass of .ci/run also runs under
Europe/Bucharest): they open no database and read no clock, or they check what a browser makes of pages
whose path through the database other tests, named in ``covered_by``, check on PostgreSQL. .ci/run runs
them in its SQLite pass, just before; LOYALTY_TEST_ALL_DIALECTS=1 runs them anyway.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
from datetime import datetime

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

NOW = "2026-06-15T12:00:00+00:00"


PG_URL = os.environ.get("LOYALTY_TEST_PG_URL") or None
ALL_DIALECTS = os.environ.get("LOYALTY_TEST_ALL_DIALECTS") == "1"
# The fixtures that reach the test's database (the CLI and the library alike; ``db_path`` is every test's, so
# only a test that asks for it by name counts as using it).
DATABASE_FIXTURES = {"cli", "database", "session", "program", "cafe", "pg_server"}


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: the test checks something only SQLite has (a file); "
                                       "skipped when the suite runs on PostgreSQL")
    config.addinivalue_line("markers", "shop_zone(name): the shop's `timezone` setting is NAME before the test "
                                       "starts, so times typed or imported without an offset are read in "
                                       "that zone whatever the machine's (LOYALTY_TEST_TZ)")
    config.addinivalue_line("markers", "pacing: the test measures an import's pacing (store/batches.py), so the "
                                       "pause between its transactions is the real one, not zero")
    config.addinivalue_line("markers", "dialect_free(reason, covered_by=None): the outcome cannot depend on the "
                                       "database dialect nor the machine's zone (REASON says why); skipped when "
                                       "the suite runs on PostgreSQL, as .ci/run runs it on SQLite just before. "
                                       "A test that uses the database fixtures names in COVERED_BY the test(s) "
                                       "that check its data path on PostgreSQL")


# On SQLite a time column holds microseconds (store/models.UTCDateTime): a time bound as text there compares
# with it silently wrong (every integer sorts before every text). Any statement SQLAlchemy sends to SQLite with
# a parameter that reads as a stored time of old ('2026-03-01 12:00:00.000000'), or a datetime that reached the
# driver unconverted (its type lost on the way: sqlite3 would write it as text), is refused in every test.
# The text is exactly SQLAlchemy's SQLite DateTime form (a datetime bound through the wrong type, e.g. a literal
# without the column's); a customer's key that merely looks like a time ('9999-12-31T23:59') is no such thing.
_TIME_TEXT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def _refuse_time_text(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name != "sqlite":
        return
    rows = parameters if isinstance(parameters, list) else [parameters]  # (insertmanyvalues: one row)
    for row in rows:
        for value in (row.values() if isinstance(row, dict) else row or ()):
            if isinstance(value, str) and _TIME_TEXT.fullmatch(value) or isinstance(value, datetime):
                raise AssertionError(f"a time bound as text on SQLite ({value!r}): bind it through the column's "
                                     f"type (UTCDateTime), in {statement[:200]}")


event.listen(Engine, "before_cursor_execute", _refuse_time_text)


def pytest_report_header(config):
    return f"loyaltycli database backend: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


def _covered_by(marker) -> tuple[str, ...]:
    covered_by = marker.kwargs.get("covered_by") or ()
    return (covered_by,) if isinstance(covered_by, str) else tuple(covered_by)


def _check_dialect_free(item, marker, tests: set[str], free: set[str]) -> None:
    """A ``dialect_free`` mark says why; one on a test that reaches the database names the tests that check
    that data path on PostgreSQL: tests of the suite (checked when their file is collected) that are not
    dialect-free themselves."""
    if not marker.args or not str(marker.args[0]).strip():
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.dialect_free needs its reason")
    uses = DATABASE_FIXTURES & set(item.fixturenames)
    if "db_path" in inspect.signature(item.function).parameters:
        uses.add("db_path")
    if uses and not _covered_by(marker):
        raise pytest.UsageError(f"{item.nodeid}: dialect_free, yet it uses the database ({', '.join(sorted(uses))}): "
                                "name the tests that check its data path on PostgreSQL (covered_by=...)")
    files = {test.split("::")[0] for test in tests}
    for test in _covered_by(marker):
        if test.split("::")[0] in files and test not in tests:
            raise pytest.UsageError(f"{item.nodeid}: covered_by names {test}, which is not a test of the suite")
        if test in free:
            raise pytest.UsageError(f"{item.nodeid}: covered_by names {test}, itself dialect-free")


# The modules of real processes, pseudo-terminals and browsers, costliest first (CPU of the SQLite pass): run
# before the rest, so that pytest-xdist's workers (`--dist worksteal`, pyproject.toml) end on short tests
# instead of one of them finishing a long one alone. Only the order: a module missing here runs after them.
HEAVY_FIRST = ("test_till_words.py", "test_safety_files.py", "test_safety_round3.py", "test_kiosk_browser.py",
               "test_import_rules.py", "test_i18n.py", "test_kiosk_server.py", "test_prompts.py",
               "test_import_tills.py", "test_every_screen_local.py", "test_readme.py", "test_fuzz.py",
               "test_concurrency.py", "test_slips.py", "test_startup.py", "test_notify.py", "test_cli_counter.py")


def _heavy_first(item) -> int:
    name = item.nodeid.split("::")[0].rsplit("/", 1)[-1]
    return HEAVY_FIRST.index(name) if name in HEAVY_FIRST else len(HEAVY_FIRST)


def pytest_collection_modifyitems(config, items):
    items.sort(key=_heavy_first)  # stable: a module's tests keep their order and stay together
    tests = {item.nodeid.split("[")[0] for item in items}
    free = {item.nodeid.split("[")[0] for item in items if item.get_closest_marker("dialect_free")}
    for item in items:
        if (marker := item.get_closest_marker("dialect_free")) is not None:
            _check_dialect_free(item, marker, tests, free)
    if not PG_URL:
        return
    skip = pytest.mark.skip(reason="SQLite-only test (LOYALTY_TEST_PG_URL is set)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)
        elif not ALL_DIALECTS and (marker := item.get_closest_marker("dialect_free")) is not None:
            item.add_marker(pytest.mark.skip(reason=f"dialect-free, ran in the SQLite pass: {marker.args[0]}"))


class PgDatabaseUrl(str):
    """``db_path`` on PostgreSQL: the test database's URL. A test that uses it as a Path (``.stat()``,
    ``.parent``, ``/``) checks something only the SQLite file has: it is skipped, as if marked
    ``sqlite_only``. (``open()``, ``os.fspath()`` and ``sqlite3.connect()`` take it as a plain string
    and fail: such tests need the marker.)"""

    def _skip(self, *args, **kwargs):
        pytest.skip("SQLite-only: the test uses the database file (LOYALTY_TEST_PG_URL is set)")

    __truediv__ = _skip

    def __getattr__(self, name):
        from pathlib import Path

        if hasattr(Path, name):
            self._skip()
        raise AttributeError(name)


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL test server with its template database (None when testing on SQLite)."""
    if not PG_URL:
        yield None
        return
    from pg_testdb import PgTestServer

    server = PgTestServer(PG_URL)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """An empty SQLite database at the newest schema, built once and copied for each test."""
    from loyaltycli.store.db import Database

    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database("sqlite:///" + str(path))
    database.ensure_schema()
    database.engine.dispose()
    return path


@pytest.fixture(autouse=True)
def no_import_pacing(request, monkeypatch):
    """An in-process import starts its next transaction at once instead of LOCK_GAP_SECONDS after the last
    commit (a pause that lets tills in; about 40 s of sleep over the suite, imports with --batch-rows 2 most):
    no till sells meanwhile in these tests. Tests marked ``pacing`` keep the real pause, and so do imports
    run as child processes (tests/test_import_tills.py measures a till's wait during one)."""
    if request.node.get_closest_marker("pacing") is None:
        from loyaltycli.store import batches

        monkeypatch.setattr(batches, "LOCK_GAP_SECONDS", 0.0)


@pytest.fixture(autouse=True)
def db_path(request, tmp_path, monkeypatch):
    """Point the app at a fresh copy of the template database; pin 'now'.

    On SQLite this is the Path of the test's file; on PostgreSQL it is the URL (a str) of the test's
    own database (emptied or dropped afterwards, see pg_testdb.py), and a test using it as a file is
    skipped there.
    """
    pg_server = request.getfixturevalue("pg_server")
    if pg_server is not None:
        name = pg_server.checkout()
        path = PgDatabaseUrl(pg_server.url(name))
        monkeypatch.setenv("LOYALTY_DB", path)
    else:
        name = None
        path = tmp_path / "loyalty.db"
        shutil.copy(request.getfixturevalue("template_db"), path)
        path.chmod(0o600)
        monkeypatch.setenv("LOYALTY_DB", str(path))
    monkeypatch.setenv("LOYALTY_NOW", NOW)
    monkeypatch.setenv("LOYALTY_PRESETS_DIR", str(tmp_path / "user-presets"))  # never the user's own folder
    # Nor the user's data folder (the counter's history): each test has its own, so tests running side by
    # side (pytest -n) never share a file.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
    # The machine's zone: UTC unless LOYALTY_TEST_TZ names another (.ci/run's PostgreSQL pass runs under
    # Europe/Bucharest); tests that need a zone of their own set it (tests/test_timezone.py), and tests
    # whose expected instants are UTC say so with @pytest.mark.shop_zone("UTC").
    monkeypatch.setenv("TZ", os.environ.get("LOYALTY_TEST_TZ", "UTC"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    # Terminal tests (pexpect: tests/test_prompts.py, test_till_words.py, test_i18n.py) run prompt_toolkit in
    # a pseudo-terminal that never answers its cursor-position request (CPR): each questionary question then
    # waited a second for the answer before giving up, ~8 s of sleep per enrolment. What it draws is the same
    # either way (without an answer it draws as for a terminal without CPR), so tell it not to ask.
    monkeypatch.setenv("PROMPT_TOOLKIT_NO_CPR", "1")
    # Output piped, as by a script: no terminal size (pytest-xdist's workers set COLUMNS=80 and LINES=24;
    # tests of the fitted layout set their own).
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    # Messages in English (the source language), whatever the machine's locale; i18n tests set another.
    monkeypatch.setenv("LOYALTY_LANG", "en")
    from loyaltycli import i18n
    from loyaltycli.shop import clock
    from loyaltycli.base import place

    i18n.reset()
    place.set_loader(None)  # no shop's place or zone left over from the test before
    zone = request.node.get_closest_marker("shop_zone")
    if zone is not None:
        from loyaltycli.store.db import open_database
        from loyaltycli.store.program import set_setting

        shop = open_database(str(path))
        with shop.session() as s:
            set_setting(s, "timezone", zone.args[0])
        shop.engine.dispose()  # SQLite: checkpointed into the file, so a copy of the file has it too
        clock.use_zone(zone.args[0])  # in force for library calls too, as after load_program
    yield path
    from loyaltycli.store import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()
    dbmod._databases.clear()
    if name is not None:
        pg_server.checkin(name)


@pytest.fixture
def database(db_path):
    from loyaltycli.store.db import open_database

    return open_database(str(db_path))


@pytest.fixture
def session(database):
    """A core-library session in one transaction, committed at the end of the test."""
    with database.session() as s:
        yield s


@pytest.fixture
def program(session):
    from loyaltycli.store.program import load_program

    return load_program(session)


def _build_once() -> None:
    """Typer turns the app into a Click command on every ``CliRunner.invoke``: about four fifths of the CPU
    of an in-process `purchase` (57 ms against 11 ms). Build each app's Click command once per test
    session instead. The command holds no state of an invocation: the global options, the language (help
    is translated when drawn, cli/language.py), the shop's place and clock are reset by every invocation's
    root callback and by the ``db_path`` fixture."""
    import typer.testing

    build = typer.testing._get_command
    built: dict[int, tuple] = {}  # id(app) -> (app, command): the app is kept, so its id is never reused

    def get_command(app):
        if id(app) not in built:
            built[id(app)] = (app, build(app))
        return built[id(app)][1]

    typer.testing._get_command = get_command


_build_once()


class Cli:
    """Runs `loyalty ...` in-process with Typer's CliRunner (the Click command built once, above)."""

    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        from loyaltycli.cli import app

        return self.runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    def json(self, *args: str):
        import json

        result = self(*args, "--json")
        assert result.exit_code == 0, result.output + result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def cli():
    return Cli()


@pytest.fixture
def cafe(cli):
    """A stamp-card shop (tests/test_cards*.py): a coffee card of 10 stamps, one per COF-* item, and one
    customer, Aoife (C000001)."""
    assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee", "--sku", "COF-*",
               "--per", "item").exit_code == 0
    assert cli("enroll", "Aoife Byrne", "--phone", "0851234567", "--at", "2026-05-01T09:00:00+00:00").exit_code == 0
    return cli
