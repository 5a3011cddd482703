"""Backups (SQLite's online backup API), restore with validation, CSV export of every table.

Every file written here is readable by its owner only (0600): loyalty data is personal data.
"""

from __future__ import annotations

import csv
import functools
import os
import sqlite3
from contextlib import closing
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from loyaltycli.core import clock
from loyaltycli.core.errors import DatabaseUnavailable, InvalidInput

SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables a file must have to be taken for a loyaltycli database.
REQUIRED_TABLES = {"customer", "ledger", "purchase", "program_setting", "alembic_version"}


def sqlite_path(database) -> Path:
    """The file behind a SQLite Database; other backends have their own tools."""
    if not database.is_sqlite:
        raise InvalidInput("backup and restore work on SQLite files; for PostgreSQL use pg_dump and pg_restore "
                           "(`loyalty export DIR` works on both)")
    name = make_url(database.url).database
    if not name or name == ":memory:":
        raise InvalidInput("an in-memory database cannot be backed up")
    return Path(name)


def shown(path) -> str:
    """A path as text that can always be printed (undecodable bytes of a file name as \\xNN escapes)."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def _read_only_uri(path: Path) -> str:
    """A read-only SQLite URI for any file name ('?', '#', '%' and undecodable bytes included)."""
    from urllib.parse import quote

    return "file:" + quote(os.fsencode(Path(path).absolute())) + "?mode=ro"


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (replacing what is there)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _temp_beside(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}.tmp")


def _remove(path: Path) -> None:
    for p in (path, Path(str(path) + "-wal"), Path(str(path) + "-shm"), Path(str(path) + "-journal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _copy_online(source: Path, dest: Path) -> None:
    """Copy a live database into ``dest`` (a new 0600 file) in one consistent step, then make the copy a
    self-contained file (no WAL beside it)."""
    _private_file(dest)
    with closing(sqlite3.connect(_read_only_uri(source), uri=True, timeout=30)) as src, \
            closing(sqlite3.connect(os.fsencode(dest))) as dst:
        # pages=-1: the whole database in one step, under one read snapshot (writers carry on in WAL mode).
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")


def _os_errors(what):
    """A file system error the user can fix (a full disk, a bad path) becomes one line: ``what(path): reason``."""
    def decorate(func):
        @functools.wraps(func)
        def wrapper(database, path):
            try:
                return func(database, path)
            except OSError as exc:
                raise InvalidInput(f"{what(path)}: {exc.strerror or exc}") from None
        return wrapper
    return decorate


def _known_version(database) -> str:
    """The schema version of the live database; refuses foreign or newer files (exit 4)."""
    from loyaltycli.core.db import KNOWN_REVISIONS, SCHEMA_HEAD

    version = database.schema_version()
    if version is None:
        raise DatabaseUnavailable(f"{database.url} is empty; nothing to back up (run `loyalty init`)")
    if version not in KNOWN_REVISIONS:
        raise DatabaseUnavailable(f"the database schema ({version}) is newer than this program ({SCHEMA_HEAD}); "
                                  "upgrade loyaltycli")
    return version


@_os_errors(lambda dest: "cannot write the backup")
def backup(database, dest: str | Path) -> dict:
    """Write a consistent copy of the live database to ``dest`` (a file, or a folder to put a dated file in).

    The copy is made beside the target and renamed into place, so a crash never leaves half a backup."""
    source = sqlite_path(database)
    database.ensure_schema()  # like every command: creates or upgrades; refuses a newer or foreign file
    version = _known_version(database)
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / f"loyalty-{clock.now():%Y%m%d-%H%M%S}.db"
    if not dest.parent.is_dir():
        raise InvalidInput(f"folder {shown(dest.parent)} does not exist; create it first")
    if dest.exists() and dest.resolve() == source.resolve():
        raise InvalidInput("the backup cannot be the database itself; give another file")
    temp = _temp_beside(dest, "backup")
    try:
        _copy_online(source, temp)
        facts = inspect_file(temp)
        os.replace(temp, dest)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"backup failed: {exc}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot write {shown(dest)}: {exc.strerror or exc}") from None
    finally:
        _remove(temp)
    return {"file": shown(dest), "bytes": dest.stat().st_size, "schema": version, **facts}


def inspect_file(path: Path, name: str | Path | None = None) -> dict:
    """Validate a would-be loyaltycli database file: SQLite, our schema, integrity_check ok.

    Returns counts of customers and ledger rows; raises InvalidInput saying what is wrong."""
    from loyaltycli.core.db import KNOWN_REVISIONS, SCHEMA_HEAD

    path = Path(path)
    label = shown(name or path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise InvalidInput(f"cannot read {label}: {exc.strerror or exc}") from None
    if head != SQLITE_MAGIC:
        raise InvalidInput(f"{label} is not a SQLite database")
    try:
        with closing(sqlite3.connect(_read_only_uri(path), uri=True)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            missing = REQUIRED_TABLES - tables
            if missing:
                raise InvalidInput(f"{label} is not a loyaltycli database (no {', '.join(sorted(missing))} table)")
            versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
            if len(versions) != 1:
                raise InvalidInput(f"{label} has no single schema version")
            if versions[0] not in KNOWN_REVISIONS:
                raise InvalidInput(f"{label} has schema {versions[0]}, newer than this program ({SCHEMA_HEAD}); "
                                   "upgrade loyaltycli first")
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                first = " ".join(problems[0].split())
                raise InvalidInput(f"{label} is damaged: integrity_check found {len(problems)} problems, "
                                   f"the first: {first[:200]}")
            customers = conn.execute("SELECT count(*) FROM customer").fetchone()[0]
            rows = conn.execute("SELECT count(*) FROM ledger").fetchone()[0]
    except sqlite3.Error as exc:
        raise InvalidInput(f"{label} cannot be read as a database: {exc}") from None
    return {"schema": versions[0], "customers": customers, "ledger_rows": rows}


@_os_errors(lambda source: "restore failed")
def restore(database, source: str | Path) -> dict:
    """Replace the live database with a validated copy of ``source``; the replaced database is kept aside
    as ``<db>.before-restore-<timestamp>``."""
    target = sqlite_path(database)
    source = Path(source).expanduser()
    if not source.is_file():
        raise InvalidInput(f"{shown(source)} is not a file")
    if target.exists() and source.resolve() == target.resolve():
        raise InvalidInput("that file is the database itself; give a backup file")
    staged = _temp_beside(target, "restore")
    try:
        # Validate a private copy, never the caller's file in place (it might change under us).
        _private_file(staged)
        with open(source, "rb") as src, open(staged, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        facts = inspect_file(staged, source)
        database.engine.dispose()
        aside = _aside_name(target)
        if target.exists() and target.stat().st_size > 0:  # an empty new file has nothing to keep
            _keep_aside(target, aside)
        else:
            aside = None
        _install(staged, target)
    except OSError as exc:
        raise InvalidInput(f"restore failed: {exc.strerror or exc}") from None
    finally:
        _remove(staged)
    database._checked = False
    return {"file": shown(source), "database": shown(target), "kept_aside": shown(aside) if aside else None,
            **facts}


def _aside_name(target: Path) -> Path:
    stamp = f"{clock.now():%Y%m%dT%H%M%SZ}"
    aside = target.with_name(f"{target.name}.before-restore-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = target.with_name(f"{target.name}.before-restore-{stamp}-{n}")
    return aside


def _keep_aside(target: Path, aside: Path) -> None:
    """Copy the current database aside (consistently, if it is readable at all; else byte for byte)."""
    try:
        _copy_online(target, aside)
        return
    except sqlite3.Error:
        _remove(aside)
    # Not a readable database (that may be why we restore): keep its bytes as they are.
    _private_file(aside)
    with open(target, "rb") as src, open(aside, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)


def _install(staged: Path, target: Path) -> None:
    """Write the staged copy into the target through SQLite's backup API (so other processes see a proper
    transaction); a target that is not a readable database is replaced as a file."""
    if not target.exists():
        _private_file(target)
    try:
        with closing(sqlite3.connect(os.fsencode(staged))) as src, \
                closing(sqlite3.connect(os.fsencode(target), timeout=30)) as dst:
            dst.execute("PRAGMA journal_mode=WAL")
            src.backup(dst, pages=-1)
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems == ["ok"]:
            os.chmod(target, 0o600)
            return
    except sqlite3.Error:
        pass
    _remove(target)
    os.replace(staged, target)
    os.chmod(target, 0o600)


@_os_errors(lambda folder: f"cannot export to {shown(folder)[:100]}")
def export(database, folder: str | Path) -> dict:
    """Write every table as ``<table>.csv`` (header row; values as stored: cents, UTC times) into ``folder``,
    all from one read transaction."""
    from sqlmodel import SQLModel

    from loyaltycli.core import models  # noqa: F401  (registers the tables)

    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{shown(folder)} is a file; give a folder for the CSV files")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise InvalidInput(f"cannot create {shown(folder)}: {exc.strerror or exc}") from None
    counts = {}
    with database.session(write=False) as session:
        for table in SQLModel.metadata.sorted_tables:
            path = folder / f"{table.name}.csv"
            temp = _temp_beside(path, "export")
            try:
                _private_file(temp)
                with open(temp, "w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh, lineterminator="\n")
                    writer.writerow([c.name for c in table.columns])
                    n = 0
                    result = session.execute(select(table).order_by(*table.primary_key.columns))
                    for row in result:
                        writer.writerow([_csv_value(v) for v in row])
                        n += 1
                os.replace(temp, path)
            except OSError as exc:
                raise InvalidInput(f"cannot write {shown(path)}: {exc.strerror or exc}") from None
            finally:
                _remove(temp)
            counts[table.name] = n
    return {"folder": shown(folder), "tables": counts}


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value
