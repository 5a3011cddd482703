"""0010_lean (issue 26): a database written at the previous head is upgraded with every row kept and the
same indexes a new database gets; receipts stay unique per source (in exact case) and the counter's
look-ups of purchases and ledger rows go through an index, never a scan of the table."""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import closing

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from safety_helpers import as_0011, dump

PREVIOUS_HEAD = "0008_safe"

ROWS = """
INSERT INTO customer (id, code, name, consent, referral_code, enrolled_at, status, search_key)
  VALUES (1, 'C000001', 'Aoife Byrne', 1, 'ABCDEFGH', '2026-01-10 09:00:00.000000', 'active', 'aoife byrne'),
         (2, 'C000002', 'Brian Walsh', 0, 'HJKMNPQR', '2026-02-01 10:00:00.000000', 'active', 'brian walsh');
INSERT INTO purchase (id, customer_id, source, receipt_id, at, amount, channel, refund_of_id, import_file, import_line)
  VALUES (1, 1, 'counter', 'R-1', '2026-03-01 12:00:00.000000', 2450, 'store', NULL, NULL, NULL),
         (2, 1, 'till', 'r-1', '2026-03-02 12:00:00.000000', 1000, 'store', NULL, 'till.csv', 2),
         (3, 1, 'till', 'R-1', '2026-03-02 12:30:00.000000', 1500, 'store', NULL, 'till.csv', 3),
         (4, 1, 'counter', 'R-1/C1', '2026-03-03 12:00:00.000000', -450, 'store', 1, NULL, NULL),
         (5, 2, 'counter', 'R-2', '2026-03-04 12:00:00.000000', 800, 'online', NULL, NULL, NULL);
INSERT INTO purchase_item (id, purchase_id, sku, quantity_milli, unit_price, amount)
  VALUES (1, 1, 'COF-250', 2000, 1225, 2450), (2, 4, 'COF-250', -1000, 450, -450);
INSERT INTO ledger (id, customer_id, kind, delta, at, expires_at, purchase_id, bonus_key, note, recorded_at)
  VALUES (1, 1, 'welcome', 50, '2026-01-10 09:00:00.000000', '2027-01-10 09:00:00.000000', NULL, 'welcome', '',
          '2026-01-10 09:00:00.000000'),
         (2, 1, 'earn', 24, '2026-03-01 12:00:00.000000', '2027-03-01 12:00:00.000000', 1, NULL, '', '2026-03-01 12:00:00.000000'),
         (3, 1, 'earn', 10, '2026-03-02 12:00:00.000000', '2027-03-02 12:00:00.000000', 2, NULL, '', '2026-03-02 12:00:00.000000'),
         (4, 1, 'earn', 15, '2026-03-02 12:30:00.000000', '2027-03-02 12:30:00.000000', 3, NULL, '', '2026-03-02 12:30:00.000000'),
         (5, 1, 'refund', -4, '2026-03-03 12:00:00.000000', NULL, 4, NULL, '', '2026-03-03 12:00:00.000000'),
         (6, 2, 'earn', 8, '2026-03-04 12:00:00.000000', '2027-03-04 12:00:00.000000', 5, NULL, '', '2026-03-04 12:00:00.000000');
"""


def indexes(path) -> dict[str, str]:
    """Every index the schema declares (name: its CREATE INDEX, blanks folded), and the tables' own."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
    return {name: (table, " ".join((sql or "(constraint)").split())) for name, table, sql in rows}


@pytest.fixture
def previous_head_db(tmp_path):
    from loyaltycli.store.migrations import run_upgrade

    path = tmp_path / "previous.db"
    engine = create_engine("sqlite:///" + str(path))
    run_upgrade(engine, PREVIOUS_HEAD)
    engine.dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(ROWS)
        conn.commit()
    return path


def test_the_previous_head_is_upgraded_with_every_row_kept_and_the_new_indexes(previous_head_db, template_db, cli):
    from loyaltycli.store.db import SCHEMA_HEAD

    before = dump(previous_head_db)
    old = indexes(previous_head_db)
    assert {"ix_purchase_receipt_ci", "ix_purchase_refund_of_id", "ix_ledger_purchase_id"} <= set(old)
    assert any(name.startswith("sqlite_autoindex_purchase") for name in old)  # the UNIQUE constraint's

    result = cli("--db", str(previous_head_db), "db", "upgrade")
    assert result.exit_code == 0, result.output
    after = dump(previous_head_db)
    assert after.pop("alembic_version") == [(SCHEMA_HEAD,)]
    before.pop("alembic_version")
    # every row of every table, ids included (0011_instants: times as microseconds since 1970)
    assert after == {table: as_0011(rows) for table, rows in before.items()}
    # the same indexes as a new database, partial ones included, and nothing else
    assert indexes(previous_head_db) == indexes(template_db)
    lean = indexes(previous_head_db)
    assert "ix_purchase_receipt_ci" not in lean and not any(n.startswith("sqlite_autoindex_purchase") for n in lean)
    assert lean["uq_purchase_receipt"][1].endswith("ON purchase (upper(receipt_id), source, receipt_id)")
    assert lean["ix_purchase_refund_of_id"][1].endswith("WHERE refund_of_id IS NOT NULL")
    assert lean["ix_ledger_purchase_id"][1].endswith("WHERE purchase_id IS NOT NULL")
    with closing(sqlite3.connect(previous_head_db)) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    check = cli("--db", str(previous_head_db), "db", "check")
    assert check.exit_code == 0, check.output
    # and the program reads and writes the upgraded rows: refunds by receipt, in the source that has it
    assert cli("--db", str(previous_head_db), "refund", "R-2").exit_code == 0
    assert cli.json("--db", str(previous_head_db), "balance", "C000002")["balance"] == 0
    refunded = cli("--db", str(previous_head_db), "refund", "R-1", "--source", "counter")
    assert refunded.exit_code == 0, refunded.output
    with closing(sqlite3.connect(previous_head_db)) as conn:
        ids = [r[0] for r in conn.execute("SELECT receipt_id FROM purchase WHERE refund_of_id = 1 ORDER BY id")]
    assert ids == ["R-1/C1", "R-1/C2"]


def test_foreign_keys_are_on_again_after_an_upgrade(previous_head_db):
    from loyaltycli.store.db import Database

    database = Database("sqlite:///" + str(previous_head_db))
    database.upgrade()
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.engine.dispose()


def test_receipts_stay_unique_per_source_in_their_exact_case(template_db, tmp_path):
    import shutil

    path = tmp_path / "u.db"
    shutil.copy(template_db, path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("INSERT INTO customer (id, code, consent, referral_code, enrolled_at, status) "
                     "VALUES (1, 'C000001', 0, 'ABCDEFGH', '2026-01-01 00:00:00.000000', 'active')")
        insert = ("INSERT INTO purchase (customer_id, source, receipt_id, at, amount, channel) "
                  "VALUES (1, ?, ?, '2026-03-01 12:00:00.000000', 100, 'store')")
        conn.execute(insert, ("till", "ab-1"))
        conn.execute(insert, ("till", "AB-1"))   # another case: another receipt, as before 0010
        conn.execute(insert, ("other", "ab-1"))  # another source
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert, ("till", "ab-1"))


def test_the_counters_lookups_of_purchases_and_ledger_rows_use_an_index(db_path, cli):
    """Every statement of a sale, its refunds (whole, by item, typed in another case), its slip, a
    balance and a history is looked at with EXPLAIN QUERY PLAN: none scans purchase, purchase_item or
    ledger whole."""
    if not str(db_path).endswith(".db"):
        pytest.skip("SQLite's query plans")
    seen: list[tuple[str, object]] = []

    def statement(conn, cursor, text, params, context, executemany):
        if not executemany and text.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((text, params))

    assert cli("enroll", "Aoife Byrne", "--phone", "0851234567").exit_code == 0
    event.listen(Engine, "before_cursor_execute", statement)
    try:
        for line in (("purchase", "C000001", "24.50", "--receipt", "R-1", "--item", "COF-250:2:12.25"),
                     ("purchase", "C000001", "10.00", "--receipt", "R-2"),
                     ("refund", "R-1", "--item", "COF-250:1"), ("refund", "r-1"), ("refund", "R-2", "--amount", "1.00"),
                     ("slip", "R-1"), ("balance", "C000001"), ("history", "C000001")):
            result = cli(*line)
            assert result.exit_code == 0, (line, result.output)
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
    assert len(seen) > 20
    scans = []
    with closing(sqlite3.connect(db_path)) as conn:
        for text, params in seen:
            plan = [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + text, params or ())]
            scans += [(step, text) for step in plan
                      if re.match(r"SCAN (purchase|purchase_item|ledger)\b", step) and "INDEX" not in step]
    assert scans == []


PG_URL = os.environ.get("LOYALTY_TEST_PG_URL")


@pytest.mark.skipif(not PG_URL, reason="needs a PostgreSQL server: set LOYALTY_TEST_PG_URL")
def test_postgresql_at_the_previous_head_is_upgraded_with_every_row_kept(pg_server, cli):
    """On PostgreSQL the unique constraint and the look-up index give way to the one unique index; rows,
    `db check` and the receipts' uniqueness are as before."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from loyaltycli.store.db import SCHEMA_HEAD
    from loyaltycli.store.migrations import run_upgrade

    name = f"{pg_server.prefix}_lean"
    url = pg_server.create(name)
    engine = create_engine(url)
    try:
        run_upgrade(engine, PREVIOUS_HEAD)
        with engine.begin() as conn:
            for statement in ROWS.strip().split(";"):
                if statement.strip():
                    conn.exec_driver_sql(statement.replace(", 1, 'ABCDEFGH'", ", true, 'ABCDEFGH'")
                                         .replace(", 0, 'HJKMNPQR'", ", false, 'HJKMNPQR'"))
        table_rows = "SELECT * FROM {} ORDER BY id"
        with engine.connect() as conn:
            before = {t: conn.exec_driver_sql(table_rows.format(t)).all() for t in ("purchase", "ledger")}
        result = cli("--db", url, "db", "upgrade")
        assert result.exit_code == 0, result.output
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == SCHEMA_HEAD
            for table, rows in before.items():
                assert conn.exec_driver_sql(table_rows.format(table)).all() == rows
            names = {row[0] for row in conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'purchase'")}
            assert "uq_purchase_receipt" in names and "ix_purchase_receipt_ci" not in names
            assert "uq_purchase_source_receipt" not in names
        check = cli("--db", url, "db", "check")
        assert check.exit_code == 0, check.output
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO purchase (customer_id, source, receipt_id, at, amount, channel) "
                              "VALUES (1, 'till', 'r-1', '2026-03-05 12:00:00', 100, 'store')"))
    finally:
        engine.dispose()
        pg_server.drop(name)
