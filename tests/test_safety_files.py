"""Data safety, second round (issue 16): restore under the write lock, backup targets, a current .db
file, no database created by accident, disk full, read-only look at foreign files, temporary copies.

Races and kills run real processes (`python -m loyaltycli ...`) and real signals.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only


def run(*args, db, env=None, input=None, timeout=60):
    """`loyalty --db DB ARGS...` in a fresh process; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "loyaltycli", "--db", str(db), *map(str, args)],
                          capture_output=True, text=True, input=input, env=full_env, timeout=timeout)


def receipts_in(path: Path) -> set[str]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return {r[0] for r in conn.execute("SELECT receipt_id FROM purchase")}


def release(cli_db_path=None):
    from loyaltycli.store import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()
    dbmod._databases.clear()


@pytest.fixture
def filled(cli, db_path):
    """The test's database with a customer who buys (C000001) and ~40k ledger rows of another (so copies take
    a moment; a sale reads its own customer's rows for the balance it reports), checkpointed."""
    assert cli("enroll", "Aoife Byrne", "--email", "aoife@example.ie").exit_code == 0
    assert cli("enroll", "Filler", "--email", "filler@example.ie").exit_code == 0
    release()
    with closing(sqlite3.connect(db_path)) as conn:
        conn.executemany("INSERT INTO ledger (customer_id, kind, delta, at, note, recorded_at) "
                         "VALUES (2, 'award', 1, 1767225600000000, ?, 1767225600000000)",
                         [(f"filler row {i} " + "x" * 60,) for i in range(40000)])
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db_path


# -- 1. restore never loses an acknowledged sale ------------------------------------------------------------
def test_restore_while_a_till_sells_loses_no_acknowledged_sale(filled, tmp_path):
    db = filled
    backup = tmp_path / "before.db"
    assert run("backup", backup, db=db).returncode == 0
    out_file, err_file = tmp_path / "till.out", tmp_path / "till.err"
    with open(out_file, "w") as stdout, open(err_file, "w") as stderr:
        till = subprocess.Popen([sys.executable, "-m", "loyaltycli", "--db", str(db), "--json", "counter"],
                                stdin=subprocess.PIPE, stdout=stdout, stderr=stderr, text=True,
                                env={**os.environ, "LOYALTY_NOW": ""})

    def acknowledged_now() -> set[str]:
        return set(re.findall(r'"receipt_id": "(W-\d+)"', out_file.read_text()))

    # Up to 400 sales, fed a few ahead of the till's answers (it flushes each), while the restores run;
    # once they are done and 50 sales are acknowledged, the till is sent no more (the sales after the last
    # restore checked nothing more) and ends at the end of its input.
    restoring = threading.Event()
    restoring.set()

    def feed():
        sent = 0
        try:
            while sent < 400 and (restoring.is_set() or len(acknowledged_now()) < 50) and till.poll() is None:
                if sent - len(acknowledged_now()) < 20:
                    till.stdin.write(f"purchase C000001 1.00 --receipt W-{sent}\n")
                    till.stdin.flush()
                    sent += 1
                else:
                    time.sleep(0.01)
        finally:
            try:
                till.stdin.close()
            except BrokenPipeError:  # the till is gone: what it acknowledged is checked below
                pass

    feeder = threading.Thread(target=feed)
    feeder.start()
    restores = 0
    try:
        deadline = time.time() + 60
        while till.poll() is None and time.time() < deadline and restores < 4:
            result = run("restore", backup, "--yes", db=db)
            assert result.returncode == 0, result.stderr
            restores += 1
    finally:
        restoring.clear()
        feeder.join(timeout=120)
    till.wait(timeout=90)
    err = err_file.read_text()
    acknowledged = acknowledged_now()
    assert restores >= 2 and len(acknowledged) >= 50, (restores, len(acknowledged), err[-500:])
    kept = receipts_in(db)
    for aside in tmp_path.glob("loyalty.db.before-restore-*"):
        kept |= receipts_in(aside)
    assert acknowledged - kept == set()


# -- 2. backup targets ----------------------------------------------------------------------------------------
def test_backup_refuses_what_is_not_a_loyalty_backup(cli, db_path, tmp_path):
    assert cli("enroll", "Aoife Byrne").exit_code == 0
    document = tmp_path / "thesis.odt"
    document.write_bytes(b"my thesis, five years of work")
    result = cli("backup", str(document))
    assert (result.exit_code, result.stderr) == (
        1, f"error: {document} exists and is not a loyalty backup; refusing to replace it (give another name)\n")
    result = cli("backup", str(document), "--force")
    assert result.exit_code == 1 and document.read_bytes() == b"my thesis, five years of work"

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = cli("backup", str(fifo), "--force")
    assert (result.exit_code, result.stderr) == (1, f"error: {fifo} exists and is not a regular file; give another "
                                                    "name\n")
    link = tmp_path / "link.db"
    link.symlink_to(document)
    result = cli("backup", str(link), "--force")
    assert (result.exit_code, result.stderr) == (1, f"error: {link} is a symbolic link; give the backup file itself\n")
    assert document.read_bytes() == b"my thesis, five years of work"
    result = cli("backup", "/dev/null", "--force")
    assert result.exit_code == 1 and "not a regular file" in result.stderr

    # the live database's own -wal: never, even with --force
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.exists()
    result = cli("backup", str(wal), "--force")
    assert (result.exit_code, result.stderr) == (
        1, f"error: {wal} is the live database's own -wal file; give another file for the backup\n")

    good = tmp_path / "nightly.db"
    assert cli("backup", str(good)).exit_code == 0
    assert good.stat().st_mode & 0o777 == 0o600
    result = cli("backup", str(good))
    assert (result.exit_code, result.stderr) == (1, f"error: {good} already exists; add --force to replace that "
                                                    "backup\n")
    assert cli("enroll", "Brian Walsh").exit_code == 0
    assert cli.json("backup", str(good), "--force")["customers"] == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# -- 3. the .db file alone is current ------------------------------------------------------------------------
def test_the_db_file_alone_is_current_after_a_writing_command(tmp_path):
    db = tmp_path / "shop.db"
    assert run("init", db=db).returncode == 0
    for name in ("Aoife Byrne", "Brian Walsh", "Ciara Doyle"):
        assert run("enroll", name, db=db).returncode == 0
    assert run("purchase", "C000002", "12.50", db=db).returncode == 0
    usb = tmp_path / "usb" / "loyalty.db"
    usb.parent.mkdir()
    shutil.copyfile(db, usb)  # the file alone, as an owner copies it
    result = run("customer", "list", "--json", db=usb)
    assert result.returncode == 0, result.stderr
    assert '"C000003"' in result.stdout
    assert run("balance", "C000002", "--json", db=usb).stdout.count('"balance": 62') == 1


def test_restore_says_when_the_data_sits_in_a_wal_beside_the_file(cli, db_path, tmp_path):
    assert cli("enroll", "Aoife Byrne").exit_code == 0
    copy = tmp_path / "copy.db"
    assert cli("backup", str(copy)).exit_code == 0
    writer = sqlite3.connect(copy)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("UPDATE customer SET name = 'Changed' WHERE id = 1")
        writer.commit()  # the change sits in copy.db-wal while this connection stays open
        before = db_path.read_bytes()
        result = cli("restore", str(copy), "--yes")
    finally:
        writer.close()
    assert result.exit_code == 1
    assert result.stderr == (f"error: the latest data of {copy} sits in {copy}-wal beside it (the file alone is "
                             f"stale); make a proper copy with `loyalty --db {copy} backup COPY.db` and restore "
                             "that\n")
    assert db_path.read_bytes() == before


# -- 4. only init creates a database -------------------------------------------------------------------------
@pytest.mark.parametrize("args", [("balance", "C000001"), ("customer", "list"), ("enroll", "Aoife"),
                                  ("import", "{csv}", "--enroll-unknown"), ("db", "upgrade"), ("db", "check"),
                                  ("backup", "{tmp}/b.db"), ("export", "{tmp}/csv"), ("program", "show")])
def test_commands_other_than_init_never_create_a_database(cli, tmp_path, args):
    csv = tmp_path / "till.csv"
    csv.write_text("receipt_id,timestamp,customer,amount\nR-1,2026-06-01T10:00:00,new@example.ie,12.50\n")
    missing = tmp_path / "typo" / "loyalty.db"
    result = cli("--db", str(missing), *[a.format(tmp=tmp_path, csv=csv) for a in args])
    assert (result.exit_code, result.stderr) == (
        4, f"error: no database at {missing}; run `loyalty init` to create one (or check --db / LOYALTY_DB)\n")
    assert not missing.exists() and not missing.parent.exists()
    # init does not make the folder either: a typo would leave the shop's database astray
    result = cli("--db", str(missing), "init")
    assert (result.exit_code, result.stderr) == (
        4, f"error: folder {missing.parent} does not exist; create it first (mkdir -p {missing.parent}) or give "
           "another path\n")
    assert not missing.parent.exists()
    missing.parent.mkdir()
    assert cli("--db", str(missing), "init").exit_code == 0
    assert missing.exists()


def test_a_blank_database_name_is_refused(cli, tmp_path, monkeypatch):
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    for blank in (" ", ""):  # empty is blank too, not "the default database"
        monkeypatch.setenv("LOYALTY_DB", blank)
        result = cli("balance", "C000001")
        assert (result.exit_code, result.stderr) == (
            4, "error: the database name is blank (--db or LOYALTY_DB); give a file or a URL\n")
        result = cli("--db", blank, "init")
        assert (result.exit_code, result.stderr) == (
            4, "error: the database name is blank (--db or LOYALTY_DB); give a file or a URL\n")
    assert list(here.iterdir()) == []


def test_init_leaves_a_db_file_that_opens_alone(cli, tmp_path):
    import shutil

    shop = tmp_path / "shop.db"
    assert cli("--db", str(shop), "init").exit_code == 0
    assert cli("--db", str(shop), "enroll", "Ann", "--phone", "0851234567").exit_code == 0
    alone = tmp_path / "copy" / "shop.db"
    alone.parent.mkdir()
    shutil.copyfile(shop, alone)  # the .db alone, without its -wal
    assert cli("--db", str(alone), "balance", "C000001").exit_code == 0
    fresh = tmp_path / "fresh.db"
    assert cli("--db", str(fresh), "init").exit_code == 0
    shutil.copyfile(fresh, alone)
    assert cli("--db", str(alone), "customer", "list").exit_code == 0


# -- 5. disk full ---------------------------------------------------------------------------------------------
def _unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt && echo ok"],
                           capture_output=True, text=True)
    return probe.stdout.strip() == "ok"


@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -rm` to mount a small tmpfs")
def test_disk_full_says_so_with_exit_4_for_every_command(cli, db_path, tmp_path):
    assert cli("enroll", "Aoife Byrne", "--email", "aoife@example.ie").exit_code == 0
    release()
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    err = tmp_path / "err"
    script = f"""
mount -t tmpfs -o size=1m none {mnt}
cp {db_path} {mnt}/loyalty.db
L="{sys.executable} -m loyaltycli --db {mnt}/loyalty.db"
$L balance C000001 >/dev/null || exit 9
dd if=/dev/zero of={mnt}/fill bs=4k 2>/dev/null
for cmd in "purchase C000001 12.50" "enroll Brian" "backup {mnt}/b.db" "export {mnt}/csv"; do
  $L $cmd >/dev/null 2>{err}; echo "$cmd|$?|$(cat {err})"
done
ls -a {mnt} {mnt}/csv | tr '\\n' ' '
"""
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    lines = result.stdout.strip().splitlines()
    outcomes = {line.split("|")[0]: line.split("|")[1:] for line in lines if "|" in line}
    assert set(outcomes) == {"purchase C000001 12.50", "enroll Brian", f"backup {mnt}/b.db", f"export {mnt}/csv"}, \
        result.stdout + result.stderr
    for command, (code, message) in outcomes.items():
        assert code == "4", (command, message)
        assert message.startswith("error: disk full: "), (command, message)
    listing = lines[-1].split()
    assert "b.db" not in listing and not [name for name in listing if name.endswith(".tmp")], listing
    assert not [name for name in listing if name.endswith(".csv")], listing


# -- 13. temporary copies of killed backups and restores are removed --------------------------------------------
def _wait_for(predicate, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out")


def _kill_when(process, folder: Path, prefix: str) -> bool:
    """SIGKILL ``process`` as soon as a file named ``prefix...`` appears in ``folder``; False if it ended first."""
    while process.poll() is None:
        if any(name.startswith(prefix) for name in os.listdir(folder)):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
    return False


def test_killed_backup_and_restore_leave_no_copy_for_long(cli, filled, tmp_path):
    db = filled
    folder = tmp_path / "backups"
    folder.mkdir()
    good = folder / "good.db"
    assert run("backup", good, db=db).returncode == 0
    for _attempt in range(10):  # kill the backup while its copy is being written
        backup = subprocess.Popen([sys.executable, "-m", "loyaltycli", "--db", str(db), "backup",
                                   str(folder / "new.db")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if _kill_when(backup, folder, ".new.db.backup-"):
            break
        (folder / "new.db").unlink()
    assert list(folder.glob(".new.db.backup-*.tmp")), "the backup was never caught writing its copy"
    # a connection that shuts everyone else out holds the restore once its staged copy exists
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("PRAGMA locking_mode=EXCLUSIVE")
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("UPDATE customer SET consent = consent")
    try:
        restore = subprocess.Popen([sys.executable, "-m", "loyaltycli", "--db", str(db), "restore", str(good),
                                    "--yes"], env={**os.environ, "LOYALTY_BUSY_TIMEOUT": "30"},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(lambda: [p for p in tmp_path.glob(".loyalty.db.restore-*.tmp")
                           if p.stat().st_size >= good.stat().st_size])
        time.sleep(0.5)
        restore.send_signal(signal.SIGKILL)
        restore.wait()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert list(tmp_path.glob(".loyalty.db.restore-*.tmp"))
    assert run("backup", folder / "other.db", db=db).returncode == 0
    assert list(folder.glob(".*.tmp")) == []
    assert run("restore", good, "--yes", db=db).returncode == 0
    assert list(tmp_path.glob(".loyalty.db.*.tmp*")) == []


def test_a_refused_restore_leaves_no_copy_behind(cli, db_path, tmp_path):
    assert cli("enroll", "Aoife Byrne").exit_code == 0
    good = tmp_path / "good.db"
    assert cli("backup", str(good)).exit_code == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("--no-input", "restore", str(good))
    assert (result.exit_code, result.stderr) == (
        1, "error: restore cannot be undone; add --yes to confirm (there is no terminal to ask on)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# -- 15. foreign and newer files are looked at read-only ------------------------------------------------------
@pytest.mark.parametrize("kind", ["foreign", "newer"])
def test_a_foreign_or_newer_file_is_refused_without_being_touched(cli, db_path, tmp_path, kind):
    path = tmp_path / "other.db"
    if kind == "foreign":
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("CREATE TABLE notes (body TEXT)")
            conn.execute("INSERT INTO notes VALUES ('dear diary')")
            conn.commit()
    else:
        assert cli("backup", str(path)).exit_code == 0
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
            conn.commit()
    before = path.read_bytes()
    for args in (("balance", "C000001"), ("enroll", "Aoife"), ("init",), ("db", "upgrade")):
        result = cli("--db", str(path), *args)
        assert result.exit_code == 4, (args, result.stderr)
    assert path.read_bytes() == before  # still in rollback-journal mode: no switch to WAL
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("other")) == ["other.db"]
