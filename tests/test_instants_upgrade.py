"""0011_instants (issue 26) from the outside: a database at 0010_lean, whose times are text, is upgraded by
the CLI with its times as microseconds; a time the migration cannot convert exactly stops the upgrade in one
line with nothing changed; and a backup of the older schema restored under a process that already checked
the schema is upgraded before it replaces anything."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine

from safety_helpers import dump

pytestmark = pytest.mark.sqlite_only  # SQLite's own storage of times; PostgreSQL keeps its timestamps

ROWS = """
INSERT INTO customer (id, code, name, consent, referral_code, enrolled_at, status, search_key)
  VALUES (1, 'C000001', 'Ana Sousa', 1, 'ABCDEFGH', '2026-01-10 09:00:00.000000', 'active', 'ana sousa');
INSERT INTO purchase (id, customer_id, source, receipt_id, at, amount, channel)
  VALUES (1, 1, 'counter', 'R-1', '2026-03-29 00:59:59.999999', 2450, 'store');
INSERT INTO ledger (id, customer_id, kind, delta, at, expires_at, purchase_id, bonus_key, note, recorded_at)
  VALUES (1, 1, 'welcome', 50, '2026-01-10 09:00:00.000000', '2027-01-10 09:00:00.000000', NULL, 'welcome', '',
          '2026-01-10 09:00:00.000000'),
         (2, 1, 'earn', 24, '2026-03-29 00:59:59.999999', '2027-03-29 00:59:59.999999', 1, NULL, '',
          '2026-03-29 00:59:59.999999');
"""


def _us(text: str) -> int:
    """Microseconds since 1970 of a naive UTC text, by whole days, seconds and microseconds."""
    since = datetime.fromisoformat(text) - datetime(1970, 1, 1)
    return since.days * 86_400_000_000 + since.seconds * 1_000_000 + since.microseconds


def _schema(path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()


def at_0010(path, rows: str = ROWS):
    from loyaltycli.store.migrations import run_upgrade

    engine = create_engine("sqlite:///" + str(path))
    run_upgrade(engine, "0010_lean")
    engine.dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(rows)
        conn.commit()
    return path


def test_the_cli_upgrades_text_times_to_microseconds_and_reads_them_back(tmp_path, cli):
    path = at_0010(tmp_path / "old.db")
    result = cli("--db", str(path), "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert result.stdout == "schema 0010_lean -> 0011_instants\n"
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT at, expires_at, recorded_at FROM ledger ORDER BY id").fetchall() == [
            (_us("2026-01-10 09:00:00"), _us("2027-01-10 09:00:00"), _us("2026-01-10 09:00:00")),
            (_us("2026-03-29 00:59:59.999999"), _us("2027-03-29 00:59:59.999999"), _us("2026-03-29 00:59:59.999999"))]
        assert conn.execute("SELECT typeof(enrolled_at) FROM customer").fetchone() == ("integer",)
    history = cli.json("--db", str(path), "history", "C000001")
    assert [(row["at"], row["balance"]) for row in history] == [
        ("2026-01-10T09:00:00+00:00", 50), ("2026-03-29T00:59:59+00:00", 74)]
    assert cli("--db", str(path), "db", "check").exit_code == 0
    # the indexes holding a time, dropped and built again around the update, are the ones it had
    fresh = at_0010(tmp_path / "fresh.db", rows="")
    assert cli("--db", str(fresh), "db", "upgrade").exit_code == 0
    assert _schema(path) == _schema(fresh)


@pytest.mark.parametrize("table, column, value", [
    ("ledger", "expires_at", "never"),                         # NULL to strftime: the points would never expire
    ("purchase", "at", "2026-03-01 13:00:00+01:00"),           # an offset strftime's substring would ignore
    ("ledger", "recorded_at", "2026-03-01 12:00:00.1234567"),  # more digits than microseconds
    ("customer", "enrolled_at", 46000.5),                      # a number that is not microseconds
    ("ledger", "expires_at", "now"),                           # strftime's word: the moment of the upgrade
    ("purchase", "at", "2026-02-30 10:00:00"),                 # strftime's 2 March
    ("ledger", "expires_at", "2026-13-01 10:00:00.000000"),    # no such month: NULL to strftime (and to date())
    ("customer", "enrolled_at", "2026-01-00 10:00:00.000000"), # no such day
])
def test_a_time_the_migration_cannot_read_exactly_stops_the_upgrade_with_nothing_changed(
        tmp_path, cli, table, column, value):
    path = at_0010(tmp_path / "old.db")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = 1", (value,))
        conn.commit()
    before, schema = dump(path), _schema(path)
    result = cli("--db", str(path), "db", "upgrade")
    assert result.exit_code == 4
    assert result.stderr == (
        f"error: cannot upgrade the database: {table}.{column} of row 1 holds {value!r}, which is not a time "
        "this program wrote; mend that row (or restore a backup) and run `loyalty db upgrade`; nothing was "
        "changed\n")
    assert dump(path) == before  # still 0010_lean, every row as it was
    assert _schema(path) == schema  # and every index (those of a time are built again as the rows change)


def test_a_backup_of_the_older_schema_is_upgraded_before_it_replaces_the_database(tmp_path, cli, db_path):
    """A till that checked the schema when it started (the Database below) reads the restored rows as
    times: the staged backup was upgraded before the swap, not after by whoever opens it next."""
    from loyaltycli.store import ledger
    from loyaltycli.store.db import Database, resolve_url

    backup = at_0010(tmp_path / "old-backup.db")
    with closing(sqlite3.connect(backup)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    till = Database(resolve_url(str(db_path)))  # its own engine, as another process's (not the CLI's cached one)
    with till.session(write=False) as session:  # the till's schema checked, at the newest
        assert ledger.history(session, 1) == []
    result = cli("restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    with till.session(write=False) as session:
        assert [(row["at"], row["balance"]) for row in ledger.history(session, 1)] == [
            (datetime(2026, 1, 10, 9, tzinfo=timezone.utc), 50),
            (datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=timezone.utc), 74)]
    till.engine.dispose()
    with closing(sqlite3.connect(backup)) as conn:  # the user's backup file itself is left as it was
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0010_lean",)
        assert conn.execute("SELECT typeof(at) FROM purchase").fetchone() == ("text",)


def test_a_backup_holding_a_time_that_is_not_one_is_refused_in_the_backups_name(tmp_path, cli, db_path):
    backup = at_0010(tmp_path / "old-backup.db")
    with closing(sqlite3.connect(backup)) as conn:
        conn.execute("UPDATE ledger SET expires_at = 'never' WHERE id = 2")
        conn.commit()
        conn.execute("PRAGMA journal_mode=DELETE")
    before = dump(db_path)
    result = cli("restore", str(backup), "--yes")
    assert (result.exit_code, result.stderr) == (1, (
        f"error: cannot restore {backup}: ledger.expires_at of row 2 holds 'never', which is not a time this "
        "program wrote; mend that row in the backup or restore another; nothing was changed\n"))
    assert dump(db_path) == before
    assert sorted(p.name for p in db_path.parent.iterdir() if p.name.startswith((".", db_path.name))) == [
        db_path.name]  # no copy set aside, no temporary file left


def test_the_suites_guard_refuses_a_time_bound_past_the_columns_type(session):
    """tests/conftest.py's listener: a time that reaches SQLite as DateTime's text or as a bare datetime
    (compared with an INTEGER column, silently wrong) fails the test that sends it; through the column's type
    it is fine."""
    from sqlalchemy import DateTime, func, literal, select

    from loyaltycli.store.models import Purchase

    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    for wrong in (literal(at.replace(tzinfo=None), DateTime), literal(at)):
        with pytest.raises(AssertionError, match="a time bound as text on SQLite"):
            session.execute(select(func.count()).where(Purchase.at < wrong))
        session.rollback()
    assert session.execute(select(func.count()).where(Purchase.at < at)).scalar() == 0
