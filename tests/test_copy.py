"""`loyalty db copy --to`: every table into an empty database, ids kept, all or nothing."""

from __future__ import annotations

from loyaltycli.store.db import SCHEMA_HEAD

import os

import pytest
from sqlalchemy import select, text


PG_URL = os.environ.get("LOYALTY_TEST_PG_URL")


def fill_shop(cli, database):
    """A small shop whose rows use every self-reference: expiry rows name their lot, a refund names its
    sale, and a merged customer points at a customer enrolled after it."""
    assert cli("enroll", "Aoife Byrne", "--phone", "0851234567", "--email", "aoife@example.ie",
               "--at", "2025-01-01T10:00").exit_code == 0
    assert cli("enroll", "Brian Walsh", "--card", "12345678", "--at", "2025-01-02T10:00").exit_code == 0
    assert cli("enroll", "Ciara Dunne", "--at", "2025-01-03T10:00").exit_code == 0
    assert cli("purchase", "C000001", "120.00", "--receipt", "R-1", "--at", "2025-01-10T12:00",
               "--item", "COF-250:2:60.00").exit_code == 0
    assert cli("purchase", "C000002", "30.00", "--receipt", "R-2").exit_code == 0
    assert cli("refund", "R-1", "--amount", "20.00", "--at", "2025-01-11T12:00").exit_code == 0
    assert cli("purchase", "C000001", "300.00", "--receipt", "R-3").exit_code == 0
    # welcome 50 and R-1's 120 less the 20 refunded expired: two expiry rows, then the redemption
    assert cli("redeem", "C000001", "100").exit_code == 0
    from loyaltycli.store.models import Customer

    with database.session() as s:
        first, third = s.get(Customer, 1), s.get(Customer, 3)
        first.status, first.merged_into_id = "merged", third.id
        third.merged_into_id = None


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, ordered by key."""
    from loyaltycli.store.copy import tables
    from loyaltycli.store.db import Database

    database = Database(url)
    try:
        with database.engine.connect() as conn:
            return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                    for t in tables()}
    finally:
        database.engine.dispose()


# each enrolment records the customer's membership answer: a consent_record row
EXPECTED_ROWS = {"customer": 3, "purchase": 4, "purchase_item": 1, "ledger": 10, "redemption": 1, "consent_record": 3}


def test_copy_to_new_sqlite_file_keeps_every_row(cli, database, tmp_path):
    fill_shop(cli, database)
    target = tmp_path / "copy.db"

    result = cli.json("db", "copy", "--to", str(target))

    counts = {row["table"]: row["rows"] for row in result["tables"]}
    for name, rows in EXPECTED_ROWS.items():
        assert counts[name] == rows
    assert result["rows"] == sum(counts.values()) == 22
    assert result["target"] == "sqlite:///" + str(target)
    assert dump("sqlite:///" + str(target)) == dump(database.url)
    kinds = [row[2] for row in dump("sqlite:///" + str(target))["ledger"]]
    assert kinds == ["welcome", "welcome", "welcome", "earn", "earn", "refund", "earn", "expire", "expire",
                     "redeem"]
    # the copy is a working database: C000002 has welcome 50 + 30 earned, the welcome points expired by now
    assert cli.json("--db", str(target), "history", "C000002")[-1]["balance"] == 80
    assert cli.json("--db", str(target), "balance", "C000002")["balance"] == 30
    # C000001 (merged now) kept 50 + 120 - 20 refunded + 300 - 30 - 120 expired - 100 redeemed
    from loyaltycli.store import ledger
    from loyaltycli.store.db import Database

    copied = Database("sqlite:///" + str(target))
    with copied.session() as s:
        assert ledger.balance(s, 1) == 200
    copied.engine.dispose()
    assert cli.json("--db", str(target), "history", "C000003")[-1]["balance"] == 50


def test_copy_refuses_a_target_with_data_and_changes_nothing(cli, database, tmp_path):
    fill_shop(cli, database)
    target = tmp_path / "busy.db"
    assert cli("--db", str(target), "init").exit_code == 0
    assert cli("--db", str(target), "enroll", "Someone Else").exit_code == 0

    result = cli("db", "copy", "--to", str(target))

    assert result.exit_code == 1
    assert result.stderr == (f"error: sqlite:///{target} is not empty (table customer has rows); "
                             "copy into a new, empty database\n")
    assert {name: len(rows) for name, rows in dump("sqlite:///" + str(target)).items()
            if rows} == {"customer": 1, "ledger": 1, "pass_key": 1, "consent_record": 1}


def test_copy_refuses_a_database_of_another_program(cli, database, tmp_path):
    import sqlite3

    target = tmp_path / "other.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE stock (sku TEXT)")

    result = cli("db", "copy", "--to", str(target))

    assert result.exit_code == 1
    assert result.stderr == (f"error: sqlite:///{target} already has tables of another program; "
                             "copy into a new, empty database\n")


def test_copy_refuses_itself(cli, database):
    result = cli("db", "copy", "--to", database.url)
    assert result.exit_code == 1
    assert result.stderr == "error: the target is the database being copied; give another --to URL\n"


def test_a_blank_target_is_bad_input(cli, database):
    for blank in ("", "   "):  # found by test_fuzz under Europe/Lisbon: it exited 4, as if no database could be used
        result = cli("db", "copy", "--to", blank)
        assert (result.exit_code, result.stderr) == (1, "error: --to is blank; give the target database: a file or a URL\n")


def test_a_failed_copy_leaves_the_target_empty(cli, database, tmp_path, monkeypatch):
    from loyaltycli.store import copy

    fill_shop(cli, database)
    real = copy._copy_table

    def failing(src, dst, table):
        if table.name == "redemption":  # the last table: everything else is already inserted
            raise copy.LoyaltyError("disk full (simulated)")
        return real(src, dst, table)

    monkeypatch.setattr(copy, "_copy_table", failing)
    target = tmp_path / "half.db"
    with pytest.raises(copy.LoyaltyError):
        copy.copy_database(database, str(target))

    assert all(rows == [] for rows in dump("sqlite:///" + str(target)).values())
    monkeypatch.setattr(copy, "_copy_table", real)
    assert copy.copy_database(database, str(target))["rows"] == 22  # and it can be retried


@pytest.mark.skipif(not PG_URL, reason="needs a PostgreSQL server: set LOYALTY_TEST_PG_URL")
def test_copy_sqlite_shop_to_postgresql(cli, tmp_path, monkeypatch, pg_server):
    from loyaltycli.store.db import Database

    shop = tmp_path / "shop.db"
    monkeypatch.setenv("LOYALTY_DB", str(shop))
    database = Database("sqlite:///" + str(shop))
    assert cli("init").exit_code == 0
    fill_shop(cli, database)
    # a brand-new database without any table: copy creates the schema
    name = f"{pg_server.prefix}_copy_target"
    target = pg_server.create(name)
    try:
        result = cli.json("db", "copy", "--to", target)
        assert result["rows"] == 23  # the 22 of fill_shop and the card key `init` made
        assert dump(target) == dump(database.url)
        # ids continue after the copied ones (sequences were moved past them)
        enrolled = cli.json("--db", target, "enroll", "Dara Quinn")
        assert enrolled["code"] == "C000004"
        # 30 + 10 points: Brian's welcome 50 of 2025-01-02 has expired (not written off: spendable)
        assert cli.json("--db", target, "purchase", "C000002", "10.00", "--receipt", "R-4")["balance"] == 40
        with Database(target).engine.connect() as conn:
            assert conn.execute(text("SELECT max(id) FROM ledger")).scalar() == 12
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
        again = cli("db", "copy", "--to", target)
        assert again.exit_code == 1
        assert "is not empty (table customer has rows)" in again.stderr
    finally:
        from loyaltycli.store import db as dbmod

        for db in dbmod._databases.values():
            db.engine.dispose()
        dbmod._databases.clear()
        pg_server.drop(name)
