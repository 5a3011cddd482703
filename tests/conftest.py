"""Every test gets its own database (LOYALTY_DB points at a temp file) and a pinned clock."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

NOW = "2026-06-15T12:00:00+00:00"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """An empty database at the newest schema, built once and copied for each test."""
    from loyaltycli.core.db import Database

    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database("sqlite:///" + str(path))
    database.ensure_schema()
    database.engine.dispose()
    return path


@pytest.fixture(autouse=True)
def db_path(tmp_path, monkeypatch, template_db):
    """Point the app at a fresh copy of the template database; pin 'now'."""
    path = tmp_path / "loyalty.db"
    shutil.copy(template_db, path)
    path.chmod(0o600)
    monkeypatch.setenv("LOYALTY_DB", str(path))
    monkeypatch.setenv("LOYALTY_NOW", NOW)
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield path
    from loyaltycli.core import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()
    dbmod._databases.clear()


@pytest.fixture
def database(db_path):
    from loyaltycli.core.db import open_database

    return open_database(str(db_path))


@pytest.fixture
def session(database):
    """A core-library session in one transaction, committed at the end of the test."""
    with database.session() as s:
        yield s


@pytest.fixture
def program(session):
    from loyaltycli.core.program import load_program

    return load_program(session)


class Cli:
    """Runs `loyalty ...` in-process with Typer's CliRunner."""

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
