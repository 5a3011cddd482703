"""Loyalty data is personal data: every file we write is readable by its owner only."""

from __future__ import annotations

import os
import stat

import pytest


@pytest.fixture
def open_umask():
    """A permissive umask, as on many shop PCs: our files must be 0600 anyway."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_database_file_is_owner_only(cli, tmp_path, open_umask, monkeypatch):
    # the default place: the user data directory is made on first use, owner-only
    monkeypatch.delenv("LOYALTY_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = cli("init")
    assert result.exit_code == 0, result.output
    default = tmp_path / "data" / "loyaltycli" / "loyalty.db"
    assert mode(default) == 0o600
    assert mode(default.parent) == 0o700
    target = tmp_path / "shop" / "new.db"  # a folder given by hand must exist (init refuses a typo)
    target.parent.mkdir()
    result = cli("--db", str(target), "init")
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600
    # the WAL and shared-memory files SQLite creates next to it take the database's mode
    cli("--db", str(target), "enroll", "Aoife Byrne")
    for extra in (target.with_name("new.db-wal"), target.with_name("new.db-shm")):
        if extra.exists():
            assert mode(extra) == 0o600, extra


@pytest.mark.sqlite_only  # backup and restore copy SQLite files
def test_backup_restore_and_export_files_are_owner_only(cli, tmp_path, db_path, open_umask):
    cli("enroll", "Aoife Byrne", "--email", "aoife@example.ie")
    backup = tmp_path / "nightly.db"
    assert cli("backup", str(backup)).exit_code == 0
    assert mode(backup) == 0o600
    # a backup over an existing, world-readable file leaves it owner-only too
    backup.chmod(0o644)
    assert cli("backup", str(backup), "--force").exit_code == 0
    assert mode(backup) == 0o600

    assert cli("export", str(tmp_path / "csv")).exit_code == 0
    files = list((tmp_path / "csv").iterdir())
    from sqlmodel import SQLModel

    from loyaltycli.store import models  # noqa: F401  every table, one file each

    assert len(files) == len(SQLModel.metadata.tables)
    assert all(mode(f) == 0o600 for f in files)
    assert mode(tmp_path / "csv") == 0o700

    assert cli("restore", str(backup), "--yes").exit_code == 0
    assert mode(db_path) == 0o600
    aside = list(tmp_path.glob("loyalty.db.before-restore-*"))
    assert len(aside) == 1 and mode(aside[0]) == 0o600
