"""Migrations: an old database is upgraded with every row kept; migrations match models.py; a newer or
foreign file is refused with exit 4 and one clear line."""

from __future__ import annotations

from loyaltycli.store.db import SCHEMA_HEAD

import os
import sqlite3
from contextlib import closing

import pytest
from sqlalchemy import create_engine

from safety_helpers import as_0011, dump, execute, schema_of

NEWER = f"error: the database schema (ffff) is newer than this program ({SCHEMA_HEAD}); upgrade loyaltycli\n"


def oldest_revision() -> str:
    from alembic.script import ScriptDirectory

    from loyaltycli.store.migrations import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return list(script.walk_revisions())[-1].revision


def migrated_db(path, revision: str) -> None:
    from loyaltycli.store.migrations import run_upgrade

    engine = create_engine("sqlite:///" + str(path))
    run_upgrade(engine, revision)
    engine.dispose()


OLD_ROWS = """
INSERT INTO customer (id, code, name, phone, email, card, birthday, consent, referral_code, enrolled_at, status)
  VALUES (1, 'C000001', 'Aoife Byrne', '+353851234567', 'aoife@example.ie', NULL, '1990-04-01', 1, 'ABCDEFGH',
          '2025-01-10 09:00:00.000000', 'active'),
         (2, 'C000002', 'Brian Walsh', NULL, NULL, 'CARD-0002', NULL, 0, 'HJKMNPQR',
          '2025-02-01 10:00:00.000000', 'active');
INSERT INTO referral (id, referee_id, referrer_id, code, at) VALUES (1, 2, 1, 'ABCDEFGH', '2025-02-01 10:00:00.000000');
INSERT INTO purchase (id, customer_id, source, receipt_id, at, amount, channel)
  VALUES (1, 1, 'counter', 'R-1', '2025-03-01 12:00:00.000000', 2450, 'store');
INSERT INTO purchase_item (id, purchase_id, sku, quantity, unit_price, amount) VALUES (1, 1, 'COF-250', 1, 2450, 2450);
INSERT INTO ledger (id, customer_id, kind, delta, at, expires_at, purchase_id, bonus_key, note, recorded_at)
  VALUES (1, 1, 'welcome', 50, '2025-01-10 09:00:00.000000', '2026-01-10 09:00:00.000000', NULL, 'welcome',
          'welcome bonus', '2025-01-10 09:00:00.000000'),
         (2, 1, 'earn', 24, '2025-03-01 12:00:00.000000', '2026-03-01 12:00:00.000000', 1, NULL, 'receipt R-1',
          '2025-03-01 12:00:00.000000');
INSERT INTO program_setting (key, value) VALUES ('welcome_bonus', '75');
INSERT INTO survey_response (id, customer_id, at, nps, comment) VALUES (1, 1, '2025-03-02 10:00:00.000000', 9, 'lovely');
"""


def test_oldest_schema_upgrades_to_newest_with_every_row_kept(tmp_path, cli):
    from loyaltycli.store.db import SCHEMA_HEAD, Database
    from loyaltycli.store.migrations import head_revision

    path = tmp_path / "old.db"
    migrated_db(path, oldest_revision())
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(OLD_ROWS)
        conn.commit()
    before = dump(path)
    assert len(before["ledger"]) == 2 and len(before["customer"]) == 2

    result = cli("--db", str(path), "db", "upgrade")
    assert result.exit_code == 0, result.output
    after = dump(path)
    assert after["alembic_version"] == [(head_revision(),)] == [(SCHEMA_HEAD,)]
    for table, rows in before.items():
        rows = as_0011(rows)  # 0011_instants: times as microseconds
        if table == "purchase_item":  # 0005_imports: quantities in thousandths (quantity_milli)
            rows = [(i, p, sku, quantity * 1000, *rest) for i, p, sku, quantity, *rest in rows]
        if table == "customer":  # 0002_shop adds the search key, backfilled from the name
            assert [row[len(rows[0])] for row in after[table]] == ["aoife byrne", "brian walsh"]
        if table != "alembic_version":
            # columns added by later revisions come last, empty on old rows
            assert [row[:len(rows[0])] if rows else row for row in after[table]] == rows, table
    # and the program reads the old rows: balance 74, the shop's own welcome bonus setting (all expired by now)
    assert cli.json("--db", str(path), "history", "aoife@example.ie")[-1]["balance"] == 74
    assert cli.json("--db", str(path), "balance", "aoife@example.ie")["balance"] == 0
    db = Database("sqlite:///" + str(path))
    assert db.upgrade() == (SCHEMA_HEAD, SCHEMA_HEAD)
    db.engine.dispose()


def test_migrations_produce_exactly_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from loyaltycli.store import models  # noqa: F401

    path = tmp_path / "migrated.db"
    migrated_db(path, "head")
    engine = create_engine("sqlite:///" + str(path))
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diffs == []


def test_new_database_and_migrated_database_have_the_same_schema(tmp_path, template_db):
    """A database created fresh (create_all) equals one built by the migrations: tables, columns, indexes."""
    path = tmp_path / "migrated.db"
    migrated_db(path, "head")
    assert schema_of(path) == schema_of(template_db)


@pytest.fixture
def newer_db(db_path):
    execute(db_path, "UPDATE alembic_version SET version_num = 'ffff'")
    return db_path


@pytest.mark.parametrize("args", [
    ("balance", "C000001"), ("customer", "list"), ("enroll", "Aoife Byrne"), ("purchase", "C000001", "5.00"),
    ("init",), ("db", "upgrade"), ("db", "check"), ("program", "show"), ("backup", "{tmp}/b.db"),
    ("export", "{tmp}/csv"), ("customer", "merge", "C000001", "C000002", "--yes"), ("customer", "forget", "C000001", "--yes"),
])
def test_newer_database_exits_4_on_every_command(cli, newer_db, tmp_path, args):
    if args[0] == "backup" and "://" in str(newer_db):
        pytest.skip("backup refuses PostgreSQL before it opens the database (exit 1, see test_postgres.py)")
    before = dump(newer_db)
    result = cli(*[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 4
    assert result.stderr == NEWER
    assert dump(newer_db) == before


def test_foreign_sqlite_file_exits_4(cli, tmp_path):
    path = tmp_path / "notes.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
    for args in (("balance", "C1"), ("init",), ("backup", str(tmp_path / "b.db")), ("db", "check")):
        result = cli("--db", str(path), *args)
        assert result.exit_code == 4, args
        assert result.stderr == f"error: sqlite:///{path} is not a loyaltycli database (it has tables but no " \
                                "schema version)\n"


@pytest.mark.parametrize("content", [os.urandom(4096), b"hello, this is not a database\n" * 10,
                                     b"SQLite format 3\x00" + b"\xff" * 2000])
def test_random_bytes_file_exits_4_with_one_line(cli, tmp_path, content):
    """Regression: 'file is not a database' used to exit 1 as an internal error."""
    path = tmp_path / "garbage.db"
    path.write_bytes(content)
    for args in (("balance", "C1"), ("init",), ("customer", "list"), ("export", str(tmp_path / "csv"))):
        result = cli("--db", str(path), *args)
        assert result.exit_code == 4, (args, result.stderr)
        assert result.stderr.startswith("error: the database cannot be used: ")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert path.read_bytes() == content


@pytest.mark.sqlite_only  # the message is SQLite's
def test_a_table_missing_from_the_schema_exits_4(cli, db_path):
    """Regression: a damaged schema used to end as 'internal error' (exit 1)."""
    assert cli("enroll", "Aoife Byrne").exit_code == 0
    from loyaltycli.store import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("DROP TABLE redemption")
        conn.execute("DROP TABLE donation")
        conn.execute("DROP TABLE ledger")
        conn.commit()
    result = cli("balance", "C000001")
    assert result.exit_code == 4
    assert result.stderr == "error: the database cannot be used: no such table: ledger\n"
