"""Data safety, third round (issue 27): temporary copies, bounded memory, paths that are paths, and every
refusal clean. One section per finding; real processes and signals where the finding needed them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def loyalty(*args: str, db=None, env: dict | None = None, timeout: float = 120, **kwargs):
    """`python -m loyaltycli ARGS` as a real process (the test's environment: LOYALTY_DB, LOYALTY_NOW...)."""
    full = dict(os.environ, **(env or {}))
    if db is not None:
        full["LOYALTY_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "loyaltycli", *map(str, args)], capture_output=True,
                          text=True, env=full, cwd=str(ROOT), timeout=timeout, **kwargs)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def killed_at_fault(fault: str, *args: str, db=None) -> int:
    """Run `python -m loyaltycli ARGS` with the fault point ``fault`` set: it stops itself (SIGSTOP) there;
    then it is killed with SIGKILL. Returns its pid."""
    env = dict(os.environ, **{fault: "1"})
    if db is not None:
        env["LOYALTY_DB"] = str(db)
    proc = subprocess.Popen([sys.executable, "-m", "loyaltycli", *map(str, args)], env=env, cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.time() + 120
    while _state(proc.pid) != "T":
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < end
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    return proc.pid


def dispose_all() -> None:
    from loyaltycli.core import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()
    dbmod._databases.clear()


# -- 3. a --db value without scheme:// is a path, byte for byte ---------------------------------------------
@pytest.mark.sqlite_only
@pytest.mark.parametrize("name", ["shop?branch=1.db", "x%41.db", "a#b.db"])
def test_db_path_is_a_path_byte_for_byte(cli, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    assert cli("--db", name, "init").exit_code == 0
    assert cli("--db", name, "enroll", "Ana", "--phone", "0851234567").exit_code == 0
    assert (tmp_path / name).is_file()
    assert not (tmp_path / "shop").exists() and not (tmp_path / "xA.db").exists() and not (tmp_path / "a").exists()


@pytest.mark.sqlite_only
def test_two_branches_with_query_like_names_are_two_files(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for branch in ("1", "2"):
        assert cli("--db", f"shop?branch={branch}.db", "init").exit_code == 0
    assert cli("--db", "shop?branch=1.db", "enroll", "Ana", "--phone", "0851234567").exit_code == 0
    assert cli.json("--db", "shop?branch=2.db", "customer", "list") == []
    assert not (tmp_path / "shop").exists()


# -- 4. customer list --search with 100,000 characters -------------------------------------------------------
def test_huge_search_is_refused_in_one_line(cli):
    assert cli("enroll", "Ana", "--phone", "0851234567").exit_code == 0
    result = cli("customer", "list", "--search", "a" * 100_000)
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: --search text of 100000 characters is too long; give at most 200")
    assert cli.json("customer", "list", "--search", "an")[0]["name"] == "Ana"


def test_huge_key_prefix_finds_no_one(session):
    from loyaltycli.core.lookup import customers_starting_with

    assert customers_starting_with(session, "a" * 100_000) == []


# -- 5. a killed restore's staged copy: backup and export sweep it too ---------------------------------------
@pytest.mark.sqlite_only
@pytest.mark.parametrize("sweeper", ["backup", "export"])
def test_a_killed_restores_copy_is_swept_by_backup_and_export(cli, db_path, tmp_path, sweeper):
    assert cli("enroll", "Orla Secret", "--email", "orla.secret@example.ie").exit_code == 0
    assert cli("backup", tmp_path / "good.db").exit_code == 0
    dispose_all()
    pid = killed_at_fault("LOYALTY_FAULT_IN_RESTORE", "restore", tmp_path / "good.db", "--yes", db=db_path)
    staged = db_path.parent / f".{db_path.name}.restore-{pid}.tmp"
    assert b"orla.secret@example.ie" in staged.read_bytes()  # what the finding saw
    target = tmp_path / ("again.db" if sweeper == "backup" else "csv")
    result = loyalty(sweeper, target, db=db_path)
    assert result.returncode == 0, result.stderr
    assert not staged.exists()
    assert [p.name for p in db_path.parent.iterdir() if p.name.endswith(".tmp")] == []
