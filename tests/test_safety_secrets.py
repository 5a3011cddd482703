"""Data safety, second round (issue 16): the counter's history, the rejects file, secrets in messages,
files that are not regular files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from safety_helpers import dump

CSV = ("receipt_id,timestamp,customer,amount\n"
       "R-1,2026-06-01T10:00:00,C000001,12.50\n"
       "R-2,2026-06-01T11:00:00,secret.person@example.ie,7.00\n")


@pytest.fixture
def aoife(cli):
    assert cli("enroll", "Aoife Byrne", "--email", "aoife@example.ie").exit_code == 0


# -- 11. the counter's history ----------------------------------------------------------------------------------
def test_counter_history_is_owner_only_and_keeps_no_personal_data(tmp_path):
    from loyaltycli.cli import counter

    path = tmp_path / "data" / "counter_history"
    path.parent.mkdir()
    # an older history, world-readable, with personal data in it
    path.write_text("\n# old\n+enroll 'Siobhan Keane' --phone 0851234567\n\n# old\n+balance C000001\n"
                    "\n# old\n+balance siobhan@example.ie\n")
    path.chmod(0o644)
    session = counter.prompt_session(path)
    assert path.stat().st_mode & 0o777 == 0o600
    for line in ("purchase C000001 12.50 --receipt R-9", "enroll 'Niamh Byrne' --email niamh@example.ie",
                 "balance 0871234567", "award C000002 20 --reason 'Niamh was upset'", "history C000003 --json",
                 "refund R-9 --amount 2.50"):
        session.history.append_string(line)
    kept = [line[1:] for line in path.read_text().splitlines() if line.startswith("+")]
    assert kept == ["balance C000001", "purchase C000001 12.50 --receipt R-9", "history C000003 --json",
                    "refund R-9 --amount 2.50"]
    assert path.stat().st_mode & 0o777 == 0o600
    # this session still recalls everything typed today (memory only)
    assert "enroll 'Niamh Byrne' --email niamh@example.ie" in session.history.get_strings()


def test_counter_history_cleaning_uses_a_temp_file_of_its_own_and_removes_a_stale_one(tmp_path):
    from loyaltycli.cli import counter
    from loyaltycli.base.files import temp_beside

    path = tmp_path / "data" / "counter_history"
    path.parent.mkdir()
    path.write_text("\n# old\n+balance C000001\n")
    # a counter killed while it rewrote the file (pid 2**22 + 1 is above Linux's pid_max: never alive)
    stale = path.with_name(f".counter_history.history-{2**22 + 1}.tmp")
    stale.write_text("+enroll 'Siobhan Keane'\n")
    counter.prompt_session(path)
    assert not stale.exists() and not temp_beside(path, "history").exists()
    assert sorted(p.name for p in path.parent.iterdir()) == ["counter_history"]
    assert [line[1:] for line in path.read_text().splitlines() if line.startswith("+")] == ["balance C000001"]


# -- 12. the rejects file ----------------------------------------------------------------------------------------
def test_rejects_file_refuses_a_planted_link_and_changes_nothing(cli, db_path, tmp_path, aoife):
    till = tmp_path / "till.csv"
    till.write_text(CSV)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "till.csv.rejects.csv").symlink_to(victim)
    before = dump(db_path)
    result = cli("import", str(till))
    assert (result.exit_code, result.stderr) == (
        1, f"error: the rejects file {tmp_path}/till.csv.rejects.csv is a symbolic link; refusing to write through "
           "it (remove it or give --rejects FILE)\n")
    assert victim.read_text() == "keep me" and dump(db_path) == before


def test_rejects_file_is_new_and_owner_only_unless_force(cli, db_path, tmp_path, aoife):
    till = tmp_path / "till.csv"
    till.write_text(CSV)
    mine = tmp_path / "notes.csv"
    mine.write_text("my own notes")
    before = dump(db_path)
    result = cli("import", str(till), "--rejects", str(mine))
    assert (result.exit_code, result.stderr) == (
        1, f"error: the rejects file {mine} already exists; remove it, give another --rejects FILE, or add --force "
           "to replace it\n")
    assert mine.read_text() == "my own notes" and dump(db_path) == before

    result = cli("import", str(till))
    assert result.exit_code == 3
    rejects = tmp_path / "till.csv.rejects.csv"
    assert rejects.stat().st_mode & 0o777 == 0o600
    assert "secret.person@example.ie" in rejects.read_text()
    # the default rejects file of an earlier run is ours: a re-run may replace it
    assert cli("import", str(till)).exit_code == 3
    assert cli("import", str(till), "--rejects", str(mine), "--force").exit_code == 3
    assert mine.stat().st_mode & 0o777 == 0o600 and "secret.person" in mine.read_text()


# -- 14. secrets -------------------------------------------------------------------------------------------------
def test_passwords_are_masked_in_every_url_shown():
    from loyaltycli.base.files import mask_secrets

    assert mask_secrets("postgresql+psycopg://shop:s3cret@db/loyalty?password=s3cret&sslmode=require") == \
        "postgresql+psycopg://shop:***@db/loyalty?password=***&sslmode=require"
    assert mask_secrets("PGPASSWORD=s3cret HOME=/root") == "PGPASSWORD=*** HOME=/root"


def test_a_postgresql_database_shows_its_url_with_the_password_masked():
    # Without the driver (`.[test]` alone) a PostgreSQL URL is refused before a Database exists; that
    # refusal masks the password too (tests/test_postgres.py::test_missing_driver_says_how_to_install_it).
    pytest.importorskip("psycopg")
    from loyaltycli.store.db import Database

    database = Database("postgresql+psycopg://shop@db.example/loyalty?password=s3cret&connect_timeout=1")
    assert "s3cret" not in database.safe_url and "password=***" in database.safe_url


@pytest.mark.parametrize("url", ["postgresql+psycopg://shop:s3cret@[bad/loyalty",
                                 "postgresql+psycopg://shop@127.0.0.1:1/loyalty?password=s3cret&connect_timeout=1",
                                 "nosuchdialect://shop:s3cret@host/db?password=s3cret"])
def test_a_bad_database_url_is_never_echoed_with_its_password(cli, url):
    result = cli("--db", url, "balance", "C000001")
    assert result.exit_code == 4, result.stderr
    assert "s3cret" not in result.stderr and result.stderr.count("\n") == 1


def test_an_import_of_a_non_csv_file_quotes_no_secret(tmp_path):
    env = {**os.environ, "PGPASSWORD": "s3cret-pg", "SHOP_API_TOKEN": "tok-s3cret",
           "LOYALTY_DB": str(tmp_path / "x.db")}
    subprocess.run([sys.executable, "-m", "loyaltycli", "init"], env=env, check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "loyaltycli", "import", "/proc/self/environ"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "s3cret" not in result.stderr and "HOME" not in result.stderr
    # refused before a byte is read: it reads but is no regular file (issue 27 item 11)
    assert "not a regular file" in result.stderr


# -- 16. files that are not regular files ------------------------------------------------------------------------
def test_import_refuses_devices_and_pipes_at_once(cli, db_path, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path, kind in (("/dev/zero", "a device"), (str(fifo), "a pipe")):
        result = cli("import", path)
        assert (result.exit_code, result.stderr) == (1, f"error: {path} is {kind}; give a CSV file\n")
