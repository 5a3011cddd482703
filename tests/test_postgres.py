"""PostgreSQL for a chain: the things SQLite forgives and PostgreSQL does not, and row locking.

The first tests run on whichever backend the suite runs on (SQLite, or PostgreSQL when
LOYALTY_TEST_PG_URL is set); the ones marked `needs_pg` only on PostgreSQL.
"""

from __future__ import annotations


import multiprocessing
import os

import pytest

PG_URL = os.environ.get("LOYALTY_TEST_PG_URL")
needs_pg = pytest.mark.skipif(not PG_URL, reason="needs a PostgreSQL server: set LOYALTY_TEST_PG_URL")


# -- both backends ---------------------------------------------------------------------------------

def test_amounts_and_balances_beyond_32_bits(cli):
    """PostgreSQL's INTEGER stops at 2,147,483,647: cents and points are 64-bit, and sums come back as
    whole numbers (PostgreSQL sums BIGINT into NUMERIC)."""
    cli("enroll", "Big Spender", "--at", "2026-06-01T09:00")
    cli("program", "set", "max_purchase", "1000000000")
    first = cli.json("purchase", "C000001", "999999999.99", "--receipt", "A", "--at", "2026-06-14T12:00")
    # Bronze x1: 999,999,999 points, + 250 milestone; + 50 welcome
    assert (first["points"], first["balance"]) == (999_999_999, 1_000_000_299)
    second = cli.json("purchase", "C000001", "999999999.99", "--receipt", "B")
    # a day later at Gold x1.5: floor(999,999,999 x 1.5) = 1,499,999,998
    assert (second["points"], second["balance"], second["earn_tier"]) == (1_499_999_998, 2_500_000_297, "Gold")
    listed = cli.json("customer", "list")
    assert listed == [{"code": "C000001", "name": "Big Spender", "phone": None, "email": None, "card": None,
                       "balance": 2_500_000_297, "tier": "Gold", "spend": "1999999999.98", "currency": "EUR"}]
    assert type(listed[0]["balance"]) is int
    refund = cli.json("refund", "B")
    assert (refund["amount"], refund["points"], refund["balance"]) == ("999999999.99", -1_499_999_998,
                                                                        1_000_000_299)


def test_core_sums_are_ints(cli, database):
    from loyaltycli.shop import clock
    from loyaltycli.store import ledger, tiers as rules
    from loyaltycli.store.program import load_program

    cli("enroll", "Aoife Byrne")
    cli("purchase", "C000001", "12.34")
    with database.session(write=False) as session:
        program = load_program(session)
        balance = ledger.balance(session, 1)
        spend = rules.qualifying_spend(session, program, 1, clock.now(), inclusive=True)
    assert (balance, type(balance)) == (62, int)
    assert (spend, type(spend)) == (1234, int)


def test_search_treats_underscore_and_percent_literally(cli):
    cli("enroll", "Ann Murphy", "--email", "ann_m@example.ie")
    cli("enroll", "Anne Murphy", "--email", "annxm@example.ie")
    assert [c["code"] for c in cli.json("customer", "list", "--search", "ann_m")] == ["C000001"]
    assert [c["code"] for c in cli.json("customer", "list", "--search", "ANN")] == ["C000001", "C000002"]
    assert cli.json("customer", "list", "--search", "%") == []


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_times_with_an_offset_are_stored_and_shown_in_utc(cli):
    cli("enroll", "Aoife Byrne", "--at", "2026-05-01T09:00")
    cli("purchase", "C000001", "10.00", "--receipt", "R-1", "--at", "2026-06-01T10:00:00+02:00")
    rows = cli.json("history", "C000001")
    assert [(r["at"], r["kind"], r["points"]) for r in rows] == [
        ("2026-05-01T09:00:00+00:00", "welcome", 50), ("2026-06-01T08:00:00+00:00", "earn", 10)]
    # the stored time compares correctly with a later refund and with the tier window
    assert cli.json("refund", "R-1", "--at", "2026-06-01T08:30:00+00:00")["points"] == -10
    assert cli("refund", "R-1", "--at", "2026-06-01T07:59:00+00:00").exit_code == 1


def test_unreachable_server_exits_4():
    pytest.importorskip("psycopg")
    from typer.testing import CliRunner

    from loyaltycli.cli import app

    # nothing listens on port 1: the connection is refused at once
    result = CliRunner().invoke(app, ["--db", "postgresql+psycopg://till@127.0.0.1:1/shop", "balance", "C1"])
    assert result.exit_code == 4
    assert result.stderr.startswith("error: the database cannot be used: connection failed:")
    assert "Connection refused" in result.stderr


def test_missing_driver_says_how_to_install_it(cli, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if `.[postgres]` was not installed
    result = cli("--db", "postgresql+psycopg://till:secret@127.0.0.1/shop", "balance", "C1")
    assert result.exit_code == 4
    assert result.stderr == ("error: cannot use database postgresql+psycopg://till:***@127.0.0.1/shop: the driver "
                             "is not installed (import of psycopg halted; None in sys.modules); install it with "
                             "`pip install -e '.[postgres]'` and use a postgresql+psycopg:// URL\n")


def test_unknown_driver_exits_4_without_showing_the_password(cli):
    result = cli("--db", "postgresql+nosuchdriver://till:secret@127.0.0.1/shop", "balance", "C1")
    assert result.exit_code == 4
    assert result.stderr.startswith("error: cannot use database postgresql+nosuchdriver://till:***@127.0.0.1/shop")
    assert "secret" not in result.stderr


# -- PostgreSQL only ---------------------------------------------------------------------------------

TILLS = 16


def _till(url: str, barrier, results) -> None:
    """One till process: connect, wait for the others, then redeem 100 points through the CLI."""
    from typer.testing import CliRunner

    from loyaltycli.cli import app
    from loyaltycli.store import db as dbmod

    dbmod._databases.clear()  # the parent's engine is not ours to use
    database = dbmod.open_database(url)
    database.ensure_schema()
    with database.engine.connect():
        pass  # a warm connection in the pool: all tills start their transaction together
    barrier.wait(timeout=30)
    result = CliRunner().invoke(app, ["redeem", "C000001", "100"])
    results.put((result.exit_code, result.stdout, result.stderr))


@needs_pg
def test_sixteen_tills_redeem_from_one_balance(cli, db_path):
    """SELECT ... FOR UPDATE on the customer row: 1,250 points cover exactly 12 redemptions of 100."""
    cli("enroll", "Aoife Byrne")
    assert cli.json("award", "C000001", "1200", "--reason", "opening balance")["balance"] == 1250
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(TILLS), context.Queue()
    tills = [context.Process(target=_till, args=(str(db_path), barrier, results)) for _ in range(TILLS)]
    for till in tills:
        till.start()
    outcomes = [results.get(timeout=60) for _ in tills]
    for till in tills:
        till.join(timeout=30)

    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0] * 12 + [1] * 4
    balances_after = sorted(int(out.rsplit("balance ", 1)[1]) for code, out, _ in outcomes if code == 0)
    assert balances_after == list(range(50, 1250, 100))  # each saw the one before it: 1150, 1050, ... 50
    refusals = {err for code, _, err in outcomes if code == 1}
    assert refusals == {"error: C000001 has 50 points; 100 needed\n"}
    assert cli.json("balance", "C000001")["balance"] == 50
    kinds = [row["kind"] for row in cli.json("history", "C000001")]
    assert kinds.count("redeem") == 12


@needs_pg
def test_a_till_waiting_too_long_for_a_lock_exits_4(cli, db_path, monkeypatch):
    from sqlalchemy import create_engine, text

    from loyaltycli.store import db as dbmod

    cli("enroll", "Aoife Byrne")
    cli("award", "C000001", "500", "--reason", "x")
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_SECONDS", 0.3)
    dbmod._databases.clear()
    other_till = create_engine(str(db_path))
    try:
        with other_till.begin() as conn:
            conn.execute(text("SELECT id FROM customer WHERE id = 1 FOR UPDATE"))
            result = cli("redeem", "C000001", "100")
        assert result.exit_code == 4
        assert result.stderr.startswith("error: the database cannot be used: canceling statement due to lock "
                                        "timeout")
    finally:
        other_till.dispose()
    assert cli.json("balance", "C000001")["balance"] == 550  # nothing was redeemed


def _init(url: str, results) -> None:
    from typer.testing import CliRunner

    from loyaltycli.cli import app
    from loyaltycli.store import db as dbmod

    dbmod._databases.clear()
    result = CliRunner().invoke(app, ["--db", url, "init"])
    results.put((result.exit_code, result.stderr))


@needs_pg
def test_tills_creating_the_schema_at_once_create_it_once(pg_server):
    """The advisory lock: the first till creates the tables, the others wait and find them there."""
    url = pg_server.create(f"{pg_server.prefix}_fresh_server")
    try:
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        tills = [context.Process(target=_init, args=(url, results)) for _ in range(6)]
        for till in tills:
            till.start()
        outcomes = [results.get(timeout=60) for _ in tills]
        for till in tills:
            till.join(timeout=30)
        assert outcomes == [(0, "")] * 6
        from sqlalchemy import create_engine, text
        from sqlmodel import SQLModel

        from loyaltycli.store import models  # noqa: F401  every table, and alembic_version

        from loyaltycli.store.db import SCHEMA_HEAD

        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [SCHEMA_HEAD]
            assert conn.execute(text("SELECT count(*) FROM information_schema.tables "
                                     "WHERE table_schema = 'public'")).scalar() == len(SQLModel.metadata.tables) + 1
        engine.dispose()
    finally:
        pg_server.drop(f"{pg_server.prefix}_fresh_server")


@needs_pg
def test_each_test_gets_its_own_empty_database(db_path, database):
    """The conftest mechanism itself: LOYALTY_DB is this test's PostgreSQL database, empty, ids from 1."""
    from sqlalchemy import func, select

    from loyaltycli.store.models import Customer

    assert os.environ["LOYALTY_DB"] == db_path
    assert database.engine.dialect.name == "postgresql"
    with database.session() as s:
        assert s.execute(select(func.count()).select_from(Customer)).scalar_one() == 0


@needs_pg
def test_a_test_using_the_database_as_a_file_is_skipped(db_path):
    """On PostgreSQL, db_path is a URL; using it as a Path means the test is about the SQLite file."""
    assert db_path.startswith("postgresql")
    for use_as_file in (lambda: db_path.stat(), lambda: db_path.parent, lambda: db_path.exists(),
                        lambda: db_path / "x"):
        with pytest.raises(pytest.skip.Exception, match="SQLite-only: the test uses the database file"):
            use_as_file()
    with pytest.raises(AttributeError):
        db_path.no_such_attribute


@needs_pg
def test_the_migration_builds_the_same_schema_as_a_new_database(pg_server, db_path):
    """`db upgrade` on a chain's server runs the Alembic migrations: they must build exactly what a new
    database gets (columns, types, nullability, indexes, constraints)."""
    from sqlalchemy import create_engine

    from loyaltycli.store.migrations import run_upgrade

    shape = [
        "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') "
        "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2",
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace ORDER BY 1",
        "SELECT version_num FROM alembic_version"]
    name = f"{pg_server.prefix}_migrated"
    migrated = create_engine(pg_server.create(name))
    created = create_engine(str(db_path))
    try:
        run_upgrade(migrated)
        with migrated.connect() as a, created.connect() as b:
            for sql in shape:
                assert a.exec_driver_sql(sql).all() == b.exec_driver_sql(sql).all(), sql
            amount = a.exec_driver_sql("SELECT data_type FROM information_schema.columns "
                                       "WHERE table_name = 'purchase' AND column_name = 'amount'").scalar()
            assert amount == "bigint"
    finally:
        migrated.dispose()
        created.dispose()
        pg_server.drop(name)
