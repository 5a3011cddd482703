"""Data safety, third round (issue 27): temporary copies, bounded memory, paths that are paths, and every
refusal clean. One section per finding; real processes and signals where the finding needed them."""

from __future__ import annotations

import os
import subprocess
import sys
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
