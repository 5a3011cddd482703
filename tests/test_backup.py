"""backup (online, consistent while another process writes), restore (validated, old one kept aside),
export (CSV per table) and db check (recomputes and reports every difference)."""

from __future__ import annotations

from loyaltycli.store.db import SCHEMA_HEAD

import csv
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing

import pytest


from safety_helpers import balance_of, dump


SHOP = [("enroll", "Aoife Byrne", "--email", "aoife@example.ie"), ("enroll", "Brian Walsh", "--phone", "+353851234567"),
        ("purchase", "C000001", "240.00", "--receipt", "R-1"), ("purchase", "C000002", "35.50", "--receipt", "R-2"),
        ("refund", "R-1", "--amount", "40.00"), ("redeem", "C000001", "100")]


@pytest.fixture(scope="module")
def shop_file(tmp_path_factory, template_db):
    """Two customers with purchases, a refund and a redemption, built once through the CLI."""
    from typer.testing import CliRunner

    from loyaltycli.cli import app
    from loyaltycli.store import db as dbmod

    path = tmp_path_factory.mktemp("shop") / "shop.db"
    path.write_bytes(template_db.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOYALTY_NOW", "2026-06-15T12:00:00+00:00")
        mp.setenv("TZ", "UTC")
        for args in SHOP:
            assert CliRunner().invoke(app, ["--db", str(path), *args]).exit_code == 0, args
        dbmod.open_database(str(path)).engine.dispose()
        dbmod._databases.pop(dbmod.resolve_url(str(path)), None)
    with closing(sqlite3.connect(path)) as conn:  # one self-contained file to copy
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def shop(cli, shop_file, db_path):
    """A copy of the shop as the test's database: C000001 has 50 + 240 - 40 - 100 = 150 points."""
    close_connections()
    for extra in ("-wal", "-shm"):
        db_path.with_name(db_path.name + extra).unlink(missing_ok=True)
    db_path.write_bytes(shop_file.read_bytes())
    assert balance_of_current(cli, "C000001") == 150


def close_connections():
    """Let go of this process's pooled connections (as a new process would start without them)."""
    from loyaltycli.store import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()


def balance_of_current(cli, code):
    return cli.json("balance", code)["balance"]


def test_backup_is_a_complete_self_contained_copy(cli, shop, db_path, tmp_path):
    target = tmp_path / "backup.db"
    info = cli.json("backup", str(target))
    assert info["file"] == str(target)
    assert info["customers"] == 2 and info["ledger_rows"] == 6 and info["schema"] == SCHEMA_HEAD
    assert dump(target) == dump(db_path)
    # no WAL needed beside it: the copy is in rollback-journal mode, one file to carry away
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not (tmp_path / "backup.db-wal").exists()
    assert cli("--db", str(target), "balance", "C000001", "--json").exit_code == 0


def test_backup_into_a_folder_names_the_file_by_time(cli, shop, tmp_path):
    folder = tmp_path / "nightly"
    folder.mkdir()
    result = cli("backup", str(folder))
    assert result.exit_code == 0
    assert result.stdout == f"backed up 2 customers and 6 ledger rows to {folder}/loyalty-20260615-120000.db " \
                            f"({(folder / 'loyalty-20260615-120000.db').stat().st_size} bytes)\n"


def test_backup_refuses_missing_folder_and_the_database_itself(cli, shop, db_path, tmp_path):
    result = cli("backup", str(tmp_path / "nope" / "b.db"))
    assert result.exit_code == 1
    assert result.stderr == f"error: folder {tmp_path / 'nope'} does not exist; create it first\n"
    before = dump(db_path)
    result = cli("backup", str(db_path))
    assert result.exit_code == 1
    assert result.stderr == "error: the backup cannot be the database itself; give another file\n"
    assert dump(db_path) == before


WRITER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    end = time.time() + float(sys.argv[2])
    n = 0
    print("ready", flush=True)
    while time.time() < end:
        n += 1
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute("INSERT INTO purchase (customer_id, source, receipt_id, at, amount, channel) "
                           "VALUES (1, 'till2', ?, '2026-06-01 10:00:00', 1000, 'store')", (f"W-{n}",))
        conn.execute("INSERT INTO ledger (customer_id, kind, delta, at, purchase_id, note, recorded_at) "
                     "VALUES (1, 'earn', 10, '2026-06-01 10:00:00', ?, 'w', '2026-06-01 10:00:00')",
                     (cur.lastrowid,))
        conn.execute("COMMIT")
    print(n)
""")


def test_backup_is_consistent_while_another_process_writes(cli, shop, db_path, tmp_path, database):
    """Every backup taken during a stream of two-row transactions holds whole transactions only."""
    from loyaltycli.services.backup import backup

    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), "1.5"], stdout=subprocess.PIPE,
                              text=True)
    assert writer.stdout.readline().strip() == "ready"
    seen = []
    for i in range(5):
        info = backup(database, tmp_path / f"b{i}.db")
        with closing(sqlite3.connect(info["file"])) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            purchases = conn.execute("SELECT count(*) FROM purchase WHERE source='till2'").fetchone()[0]
            earned = conn.execute("SELECT count(*) FROM ledger WHERE note='w'").fetchone()[0]
        assert purchases == earned
        seen.append(purchases)
        time.sleep(0.1)
    out, _ = writer.communicate(timeout=30)
    assert writer.returncode == 0
    assert seen == sorted(seen) and seen[-1] > 0
    total = int(out.strip())
    assert balance_of(db_path, "C000001") == 150 + 10 * total


def test_restore_brings_back_the_backup_and_keeps_the_replaced_database(cli, shop, db_path, tmp_path):
    backup = tmp_path / "b.db"
    assert cli("backup", str(backup)).exit_code == 0
    saved = dump(db_path)
    assert cli("purchase", "C000002", "100.00", "--receipt", "R-3").exit_code == 0
    changed = dump(db_path)

    result = cli("restore", str(backup), "--yes")
    assert result.exit_code == 0, result.stderr
    aside = tmp_path / "loyalty.db.before-restore-20260615T120000Z"
    assert result.stdout == (f"restored 2 customers and 6 ledger rows from {backup}; the previous database is "
                             f"kept as {aside}\n")
    assert dump(db_path) == saved
    assert dump(aside) == changed
    assert cli.json("balance", "C000002")["balance"] == 50 + 35
    # the restored database takes new work normally, and a second restore keeps a second copy
    assert cli("purchase", "C000002", "10.00", "--receipt", "R-4").exit_code == 0
    assert cli("restore", str(backup), "--yes").exit_code == 0
    assert (tmp_path / "loyalty.db.before-restore-20260615T120000Z-2").exists()


def test_restore_replaces_an_unreadable_database(cli, shop, db_path, tmp_path):
    backup = tmp_path / "b.db"
    assert cli("backup", str(backup)).exit_code == 0
    saved = dump(db_path)
    garbage = os.urandom(8192)
    close_connections()
    for extra in ("-wal", "-shm"):
        (tmp_path / f"loyalty.db{extra}").unlink(missing_ok=True)
    db_path.write_bytes(garbage)
    assert cli("balance", "C000001").exit_code == 4
    result = cli("restore", str(backup), "--yes")
    assert result.exit_code == 0, result.stderr
    assert dump(db_path) == saved
    assert (tmp_path / "loyalty.db.before-restore-20260615T120000Z").read_bytes() == garbage
    assert cli.json("balance", "C000001")["balance"] == 150


def _corrupt_copy(source, target):
    """A SQLite file with our tables whose b-tree pages are damaged."""
    data = bytearray(source.read_bytes())
    with closing(sqlite3.connect(source)) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name='ix_ledger_customer_at'").fetchone()[0]
    start = (root - 1) * page
    data[start + 8:start + 200] = b"\x07" * 192
    target.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", ["random", "text", "foreign", "newer", "corrupt", "missing", "folder"])
def test_restore_refuses_a_bad_file_and_changes_nothing(cli, shop, db_path, tmp_path, kind):
    bad = tmp_path / "bad.db"
    expected = None
    if kind == "random":
        bad.write_bytes(os.urandom(4096))
        expected = f"error: {bad} is not a SQLite database\n"
    elif kind == "text":
        bad.write_text("receipt_id,amount\nR-1,12.50\n")
        expected = f"error: {bad} is not a SQLite database\n"
    elif kind == "foreign":
        with closing(sqlite3.connect(bad)) as conn:
            conn.execute("CREATE TABLE notes (body TEXT)")
            conn.commit()
        expected = f"error: {bad} is not a loyaltycli database (no alembic_version, customer, ledger, " \
                   "program_setting, purchase table)\n"
    elif kind == "newer":
        assert cli("backup", str(bad)).exit_code == 0
        with closing(sqlite3.connect(bad)) as conn:
            conn.execute("UPDATE alembic_version SET version_num='ffff'")
            conn.commit()
        expected = f"error: {bad} has schema ffff, newer than this program ({SCHEMA_HEAD}); upgrade loyaltycli first\n"
    elif kind == "corrupt":
        good = tmp_path / "good.db"
        assert cli("backup", str(good)).exit_code == 0
        _corrupt_copy(good, bad)
    elif kind == "missing":
        expected = f"error: backup file {bad} does not exist\n"
    elif kind == "folder":
        bad.mkdir()
        expected = f"error: {bad} is a folder; give a backup file\n"
    before = dump(db_path)
    result = cli("restore", str(bad), "--yes")
    assert result.exit_code == 1
    if expected:
        assert result.stderr == expected
    else:
        assert result.stderr.startswith(f"error: {bad}") and ("damaged" in result.stderr or
                                                              "cannot be read" in result.stderr)
    assert result.stderr.count("\n") == 1
    assert dump(db_path) == before
    assert not list(tmp_path.glob("loyalty.db.before-restore-*"))
    assert not list(tmp_path.glob(".loyalty.db.restore-*"))


def test_export_writes_every_table_as_csv(cli, shop, tmp_path):
    from sqlmodel import SQLModel

    folder = tmp_path / "out"
    info = cli.json("export", str(folder))
    names = {t.name for t in SQLModel.metadata.sorted_tables}
    assert {p.stem for p in folder.iterdir()} == names
    assert info["tables"]["customer"] == 2 and info["tables"]["ledger"] == 6 and info["tables"]["purchase"] == 3
    with open(folder / "purchase.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["receipt_id"], r["amount"], r["at"]) for r in rows] == [
        ("R-1", "24000", "2026-06-15T12:00:00+00:00"), ("R-2", "3550", "2026-06-15T12:00:00+00:00"),
        ("R-1/C1", "-4000", "2026-06-15T12:00:00+00:00")]
    with open(folder / "ledger.csv", newline="") as fh:
        ledger = list(csv.DictReader(fh))
    assert [int(r["delta"]) for r in ledger] == [50, 50, 240, 35, -40, -100]
    with open(folder / "customer.csv", newline="") as fh:
        customers = list(csv.DictReader(fh))
    assert customers[0]["email"] == "aoife@example.ie" and customers[1]["email"] == ""
    # exporting again replaces the files; a file where the folder should be is refused
    assert cli("export", str(folder)).exit_code == 0
    (tmp_path / "f").write_text("x")
    result = cli("export", str(tmp_path / "f"))
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'f'} is a file; give a folder for the CSV files\n"


def test_db_check_passes_on_a_consistent_database(cli, shop):
    result = cli("db", "check")
    assert result.exit_code == 0
    from loyaltycli.services.check import CHECKS

    assert result.stdout == f"database OK: {len(CHECKS)} checks passed\n"
    data = cli.json("db", "check")
    assert data["ok"] is True and data["problems"] == []


def raw(db_path, *statements):
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        for sql in statements:
            conn.execute(sql)
        conn.commit()


def test_db_check_reports_every_difference(cli, shop, db_path):
    raw(db_path,
        # a ledger row pointing at a purchase that is gone
        "INSERT INTO ledger (customer_id, kind, delta, at, purchase_id, note, recorded_at) "
        "VALUES (2, 'earn', 5, '2026-06-01', 999, 'x', '2026-06-01')",
        # an expiry row larger than its lot (lot 2 is C000002's 50-point welcome)
        "INSERT INTO ledger (customer_id, kind, delta, at, lot_id, note, recorded_at) "
        "VALUES (2, 'expire', -60, '2026-06-01', 2, 'x', '2026-06-01')",
        # the same bonus twice (only possible once the unique index is gone)
        "DROP INDEX uq_ledger_bonus",
        "INSERT INTO ledger (customer_id, kind, delta, at, bonus_key, note, recorded_at) "
        "VALUES (2, 'welcome', 50, '2026-06-01', 'welcome', 'x', '2026-06-01')",
        # a redemption that does not match its ledger row, and a redeem row without redemption
        "UPDATE redemption SET points = 90",
        "INSERT INTO ledger (customer_id, kind, delta, at, note, recorded_at) "
        "VALUES (1, 'redeem', -100, '2026-06-01', 'x', '2026-06-01')",
        # more refunded than sold
        "INSERT INTO purchase (customer_id, source, receipt_id, at, amount, channel, refund_of_id) "
        "VALUES (2, 'counter', 'R-2/R9', '2026-06-15', -5000, 'store', 2)",
        )
    result = cli("db", "check", "--json")
    assert result.exit_code == 1
    import json

    problems = [(p["check"], p["detail"]) for p in json.loads(result.stdout)["problems"]]
    assert problems == [
        ("integrity", "ledger row 7 points at a missing purchase row"),
        ("ledger_links", "ledger row 7 references missing purchase 999"),
        ("expiry", "60 points expired from ledger row 2, which earned only 50"),
        ("bonuses", "bonus welcome was written 2 times to customer 2"),
        ("redemptions", "redemption 1 is 90 points but its ledger row 6 is -100"),
        ("redemptions", "ledger row 10 redeems 100 points but has no redemption record"),
        ("refunds", "receipt R-2 (purchase 2) of 3550 cents has 5000 cents refunded"),
    ]
    table = cli("db", "check")
    assert table.exit_code == 1 and "7 problems" in table.stdout
    assert table.stderr == ("error: db check found 7 problems (listed above); restore a good backup or correct "
                            "them with new ledger rows\n")


def test_check_database_from_the_library(session, program):
    from loyaltycli.services import customers, points
    from loyaltycli.services.check import check_database

    aoife = customers.enroll(session, program, "Aoife Byrne")
    points.post_purchase(session, program, aoife, 12000, receipt_id="R-1")
    assert check_database(session) == []
    from loyaltycli.store.models import Customer

    aoife.status = "forgotten"
    session.flush()
    found = check_database(session)
    assert [(p.check, p.detail) for p in found] == [("forgotten", "C000001 is forgotten but still holds personal data")]
    aoife.status = "active"
    assert isinstance(aoife, Customer)


def test_db_check_reports_a_damaged_file(cli, shop, db_path, tmp_path):
    good = tmp_path / "good.db"
    assert cli("backup", str(good)).exit_code == 0
    damaged = tmp_path / "damaged.db"
    _corrupt_copy(good, damaged)
    result = cli("--db", str(damaged), "db", "check", "--json")
    assert result.exit_code == 1
    import json

    problems = json.loads(result.stdout)["problems"]
    assert problems[-1] == {"check": "integrity", "detail": "the file is damaged, other checks skipped: restore "
                                                            "the latest good backup (`loyalty restore FILE`)"}
    assert len(problems) >= 2 and all(p["check"] == "integrity" for p in problems)


@pytest.mark.sqlite_only  # backup and restore copy SQLite files
def test_backup_restore_and_export_from_the_library(database, session, program, tmp_path):
    from loyaltycli.services import customers
    from loyaltycli.services.backup import backup, export, inspect_file, restore

    customers.enroll(session, program, "Aoife Byrne")
    session.commit()
    info = backup(database, tmp_path / "b.db")
    assert (info["customers"], info["ledger_rows"]) == (1, 1)
    assert inspect_file(tmp_path / "b.db") == {"schema": SCHEMA_HEAD, "customers": 1, "ledger_rows": 1}
    assert export(database, tmp_path / "csv")["tables"]["customer"] == 1
    restored = restore(database, tmp_path / "b.db")
    assert restored["kept_aside"].endswith("loyalty.db.before-restore-20260615T120000Z")


def test_restore_into_a_new_database(cli, shop, db_path, tmp_path):
    backup = tmp_path / "b.db"
    assert cli("backup", str(backup)).exit_code == 0
    fresh = tmp_path / "elsewhere" / "new.db"
    result = cli("--db", str(fresh), "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"restored 2 customers and 6 ledger rows from {backup}\n"
    assert dump(fresh) == dump(db_path)
    assert not list(fresh.parent.glob("*.before-restore-*"))
    assert cli.json("--db", str(fresh), "balance", "C000001")["balance"] == 150


@pytest.mark.sqlite_only
def test_a_restore_waiting_for_the_lock_says_so_to_an_import(cli, shop, db_path, tmp_path):
    """A running import gives the write lock back at its next block when a writer waits (store/db.py
    WriteWaiters); `restore` (a real process) says that it waits too, as tills do, instead of waiting out
    the import's long transaction."""
    from loyaltycli.store.waiters import WriteWaiters

    backup = tmp_path / "b.db"
    assert cli("backup", str(backup)).exit_code == 0
    importer = WriteWaiters(db_path)
    assert importer.any() is False  # the import's wait file, made as an import makes it
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the import's transaction, holding the lock
    env = dict(os.environ, LOYALTY_DB=str(db_path), LOYALTY_NOW="2026-06-15T12:00:00+00:00",
               LOYALTY_BUSY_TIMEOUT="60")
    restore = subprocess.Popen([sys.executable, "-m", "loyaltycli", "restore", str(backup), "--yes"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not importer.any() and time.monotonic() < deadline and restore.poll() is None:
            time.sleep(0.05)
        assert importer.any() is True, restore.stderr.read() if restore.poll() is not None else "not seen"
    finally:
        holder.execute("COMMIT")
        holder.close()
        out, err = restore.communicate(timeout=60)
    assert restore.returncode == 0, err
    assert out.startswith("restored 2 customers")
    assert importer.any() is False
