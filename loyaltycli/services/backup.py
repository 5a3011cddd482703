"""Backups (SQLite's online backup API), restore with validation, CSV export of every table.

Every file written here is readable by its owner only (0600): loyalty data is personal data.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import sqlite3
from contextlib import closing
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from loyaltycli.shop import clock
from loyaltycli.base import files
from loyaltycli.base.errors import DatabaseUnavailable, InvalidInput
from loyaltycli.i18n import gettext

SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables a file must have to be taken for a loyaltycli database.
REQUIRED_TABLES = {"customer", "ledger", "purchase", "program_setting", "alembic_version"}


def sqlite_path(database) -> Path:
    """The file behind a SQLite Database; other backends have their own tools."""
    if not database.is_sqlite:
        raise InvalidInput(gettext('backup and restore work on SQLite files; for PostgreSQL use pg_dump and pg_restore (`loyalty export DIR` works on both)'))
    name = make_url(database.url).database
    if not name or name == ":memory:":
        raise InvalidInput(gettext('an in-memory database cannot be backed up'))
    return Path(name)


def shown(path) -> str:
    """A path as text that can always be printed (undecodable bytes of a file name as \\xNN escapes)."""
    return files.shown(path)


def _read_only_uri(path: Path) -> str:
    """A read-only SQLite URI for any file name ('?', '#', '%' and undecodable bytes included)."""
    from urllib.parse import quote

    return "file:" + quote(os.fsencode(Path(path).absolute())) + "?mode=ro"


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600, exclusively (no file or link may be there)."""
    files.create_private_empty(path)


def _temp_beside(path: Path, tag: str) -> Path:
    return files.temp_beside(path, tag)


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
    """A file system error the user can fix (a bad path) becomes one line: ``what(path): reason``; a full
    disk says so (exit 4)."""
    def decorate(func):
        @functools.wraps(func)
        def wrapper(database, path, *args, **kwargs):
            try:
                return func(database, path, *args, **kwargs)
            except (OSError, sqlite3.Error) as exc:
                if files.disk_full(exc):
                    raise files.disk_full_error(what(path)) from None
                if isinstance(exc, sqlite3.Error):
                    raise DatabaseUnavailable(gettext('{what}: {exc}').format(what=what(path), exc=exc)) from None
                raise InvalidInput(gettext('{what}: {value}').format(what=what(path), value=files.reason(exc))) from None
        return wrapper
    return decorate


def _known_version(database) -> str:
    """The schema version of the live database; refuses foreign or newer files (exit 4)."""
    from loyaltycli.store.db import KNOWN_REVISIONS, SCHEMA_HEAD

    version = database.schema_version()
    if version is None:
        raise DatabaseUnavailable(gettext('{url} is empty; nothing to back up (run `loyalty init`)').format(url=database.url))
    if version not in KNOWN_REVISIONS:
        raise DatabaseUnavailable(gettext('the database schema ({version}) is newer than this program ({schema_head}); upgrade loyaltycli').format(version=version, schema_head=SCHEMA_HEAD))
    return version


@_os_errors(lambda dest: "cannot write the backup")
def backup(database, dest: str | Path, *, force: bool = False) -> dict:
    """Write a consistent copy of the live database to ``dest`` (a file, or a folder to put a dated file in).

    The copy is made beside the target (0600) and renamed into place, so a crash never leaves half a
    backup. A target that exists is replaced only when it is a loyalty backup and ``force`` is given;
    links, devices, pipes and the database's own files are never written to."""
    source = sqlite_path(database)
    database.ensure_schema()  # like every command: upgrades; refuses a missing, newer or foreign file
    version = _known_version(database)
    dest = Path(dest).expanduser()
    if dest.is_dir() and not dest.is_symlink():
        dest = dest / f"loyalty-{clock.now():%Y%m%d-%H%M%S}.db"
    if not dest.parent.is_dir():
        raise InvalidInput(gettext('folder {parent} does not exist; create it first').format(parent=shown(dest.parent)))
    _refuse_own_file(source, dest)
    _check_backup_target(dest, force)
    files.remove_stale_temps(dest.parent, ("backup",))
    temp = _temp_beside(dest, "backup")
    try:
        _copy_online(source, temp)
        facts = inspect_file(temp)
        os.replace(temp, dest)
    except sqlite3.Error as exc:
        if files.disk_full(exc):
            raise files.disk_full_error(f"cannot write the backup {shown(dest)}") from None
        raise DatabaseUnavailable(gettext('backup failed: {exc}').format(exc=exc)) from None
    finally:
        _remove(temp)
    return {"file": shown(dest), "bytes": dest.stat().st_size, "schema": version, **facts}


def _own_files(database_file: Path) -> list[Path]:
    return [Path(str(database_file) + suffix) for suffix in ("", "-wal", "-shm", "-journal")]


def _refuse_own_file(database_file: Path, dest: Path) -> None:
    """The live database's own files (the .db, its -wal, -shm, -journal) are never a backup target."""
    resolved = dest.resolve()
    for own in _own_files(database_file):
        same = own.resolve() == resolved
        if not same and own.exists() and dest.exists():
            try:
                same = os.path.samefile(own, dest)
            except OSError:
                same = False
        if same and own == database_file:
            raise InvalidInput(gettext('the backup cannot be the database itself; give another file'))
        if same:
            raise InvalidInput(gettext("{dest} is the live database's own {name} file; give another file for the backup").format(dest=shown(dest), name=own.name[len(database_file.name):]))


def _check_backup_target(dest: Path, force: bool) -> None:
    """A target that exists must be a regular file holding a loyalty backup, and ``force`` given."""
    import stat

    try:
        info = os.lstat(dest)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise InvalidInput(gettext('{dest} is a symbolic link; give the backup file itself').format(dest=shown(dest)))
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(gettext('{dest} exists and is not a regular file; give another name').format(dest=shown(dest)))
    try:
        inspect_file(dest)
    except InvalidInput:
        raise InvalidInput(gettext('{dest} exists and is not a loyalty backup; refusing to replace it (give another name)').format(dest=shown(dest))) from None
    if not force:
        raise InvalidInput(gettext('{dest} already exists; add --force to replace that backup').format(dest=shown(dest)))


def inspect_file(path: Path, name: str | Path | None = None) -> dict:
    """Validate a would-be loyaltycli database file: SQLite, our schema, integrity_check ok.

    Returns counts of customers and ledger rows; raises InvalidInput saying what is wrong."""
    from loyaltycli.store.db import KNOWN_REVISIONS, SCHEMA_HEAD

    path = Path(path)
    label = shown(name or path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise InvalidInput(gettext('cannot read {label}: {value}').format(label=label, value=files.reason(exc))) from None
    if head != SQLITE_MAGIC:
        raise InvalidInput(gettext('{label} is not a SQLite database').format(label=label))
    try:
        with closing(sqlite3.connect(_read_only_uri(path), uri=True)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            missing = REQUIRED_TABLES - tables
            if missing:
                raise InvalidInput(gettext('{label} is not a loyaltycli database (no {missing} table)').format(label=label, missing=', '.join(sorted(missing))))
            versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
            if len(versions) != 1:
                raise InvalidInput(gettext('{label} has no single schema version').format(label=label))
            if versions[0] not in KNOWN_REVISIONS:
                raise InvalidInput(gettext('{label} has schema {versions}, newer than this program ({schema_head}); upgrade loyaltycli first').format(label=label, versions=versions[0], schema_head=SCHEMA_HEAD))
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                first = " ".join(problems[0].split())
                raise InvalidInput(gettext('{label} is damaged: integrity_check found {count} problems, the first: {first}').format(label=label, count=len(problems), first=first[:200]))
            customers = conn.execute("SELECT count(*) FROM customer").fetchone()[0]
            rows = conn.execute("SELECT count(*) FROM ledger").fetchone()[0]
    except sqlite3.Error as exc:
        raise InvalidInput(gettext('{label} cannot be read as a database: {exc}').format(label=label, exc=exc)) from None
    return {"schema": versions[0], "customers": customers, "ledger_rows": rows}


def check_restore_source(database, source: str | Path) -> Path:
    """The backup file to restore, after the checks that need no copy: a regular file, not the database
    itself, no newer data in a ``-wal`` beside it."""
    target = sqlite_path(database)
    source = files.regular_file(Path(source).expanduser(), "backup file")
    if target.exists() and source.resolve() == target.resolve():
        raise InvalidInput(gettext('that file is the database itself; give a backup file'))
    wal = Path(str(source) + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise InvalidInput(gettext('the latest data of {source} sits in {wal} beside it (the file alone is stale); make a proper copy with `loyalty --db {source} backup COPY.db` and restore that').format(source=shown(source), wal=shown(wal)))
    return source


@_os_errors(lambda source: "restore failed")
def restore(database, source: str | Path, *, confirm=None) -> dict:
    """Replace the live database with a validated copy of ``source``; the replaced database is kept aside
    as ``<db>.before-restore-<timestamp>``.

    The write lock is held from the moment the current database is copied aside until the restored one is
    in place (one transaction), so a sale a till was told succeeded is in one of the two. ``confirm``
    (optional) is called with the backup's facts before anything changes; False cancels."""
    from loyaltycli.store.db import BUSY_TIMEOUT_SECONDS

    target = sqlite_path(database)
    source = check_restore_source(database, source)
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise InvalidInput(gettext('cannot create the folder of {target}: {value}').format(target=shown(target), value=files.reason(exc))) from None
    files.remove_stale_temps(target.parent, ("restore", "aside"))
    staged = _temp_beside(target, "restore")
    aside = None
    try:
        # Validate a private copy, never the caller's file in place (it might change under us).
        with open(source, "rb") as src, files.create_private(staged) as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        facts = inspect_file(staged, source)
        facts["backup_time"] = clock.iso(datetime.fromtimestamp(source.stat().st_mtime, tz=timezone.utc))
        if confirm is not None and not confirm(facts):
            from loyaltycli.base.errors import Cancelled

            raise Cancelled(gettext('restore cancelled; nothing was changed'))
        _upgrade_staged(staged, source, facts["schema"])
        database.engine.dispose()
        if not target.exists() or target.stat().st_size == 0:  # an empty new file has nothing to keep
            os.replace(staged, target)
            os.chmod(target, 0o600)
        else:
            aside = _aside_name(target)
            _swap_locked(target, staged, aside, BUSY_TIMEOUT_SECONDS)
    except BaseException:
        if aside is not None and aside.exists() and not _target_replaced(target, staged):
            _remove(aside)  # a refused or failed restore leaves no copy of the database behind
        raise
    finally:
        _remove(staged)
    database._checked = False
    return {"file": shown(source), "database": shown(target), "kept_aside": shown(aside) if aside else None,
            **facts}


def _upgrade_staged(staged: Path, source: Path, schema: str) -> None:
    """The staged copy of a backup taken by an older loyaltycli (``schema``: its version), upgraded to this
    program's schema before it replaces anything: tills and kiosks left open (which checked the schema when
    they started) never read rows of an older schema (0011_instants: times as text)."""
    from loyaltycli.store.db import SCHEMA_HEAD, Database, NotATime, resolve_url

    if schema == SCHEMA_HEAD:
        return
    staged_db = Database(resolve_url(str(staged)), create=False)
    try:
        staged_db.upgrade()
    except NotATime as refused:  # the backup's own row: said of the backup, not of the live database
        table, column, row, value = refused.where
        raise InvalidInput(gettext('cannot restore {file}: {table}.{column} of row {row} holds {value}, which is not a time this program wrote; mend that row in the backup or restore another; nothing was changed').format(
            file=shown(source), table=table, column=column, row=row, value=value)) from None
    finally:
        staged_db.engine.dispose()
    with closing(sqlite3.connect(os.fsencode(staged))) as conn:  # one file again, as a backup is (opened in WAL mode)
        conn.execute("PRAGMA journal_mode=DELETE")


def _target_replaced(target: Path, staged: Path) -> bool:
    return not staged.exists()


def _swap_locked(target: Path, staged: Path, aside: Path, timeout: float) -> None:
    """Under the database's write lock: copy it aside (consistently), then replace its content with the
    staged backup in one transaction. A target that is no readable database is kept aside byte for byte
    and replaced as a file."""
    try:
        conn = sqlite3.connect(os.fsencode(target), timeout=timeout, isolation_level=None)
    except sqlite3.Error:
        conn = None
    if conn is not None:
        try:
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("ATTACH DATABASE ? AS restored", (_read_only_uri(staged),))
            from loyaltycli.store.waiters import WriteWaiters

            with WriteWaiters(target).waiting():  # an import running says so and gives the lock back soon
                conn.execute("BEGIN IMMEDIATE")  # tills wait from here until COMMIT
        except sqlite3.Error as exc:
            conn.close()
            if _locked(exc):
                raise DatabaseUnavailable(gettext('the database is busy (another program held the write lock longer than {timeout:g} s); nothing was restored, try again').format(timeout=timeout)) from None
            conn = None
    if conn is None:
        # Not a readable database (that may be why we restore): keep its bytes as they are.
        with open(target, "rb") as src, files.create_private(aside) as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        _remove(target)
        os.replace(staged, target)
        os.chmod(target, 0o600)
        return
    try:
        # A reader's snapshot under our lock is the last committed state: nobody can commit after it.
        _copy_online(target, aside)
        _replace_content(conn, "restored")
        conn.execute("COMMIT")
        _remove(staged)  # marks the swap as done
    except BaseException:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        raise
    finally:
        conn.close()
    os.chmod(target, 0o600)


def _locked(exc: Exception) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _replace_content(conn, schema: str) -> None:
    """Inside the open transaction: drop everything in main, recreate the schema of ``schema`` and copy
    its rows (the backup is ours and validated: plain tables, indexes, triggers, views)."""
    def quote(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    for kind in ("view", "trigger", "table"):
        for (name,) in conn.execute("SELECT name FROM main.sqlite_master WHERE type = ? "
                                    "AND name NOT LIKE 'sqlite_%'", (kind,)).fetchall():
            conn.execute(f"DROP {kind.upper()} IF EXISTS main.{quote(name)}")
    objects = conn.execute(f"SELECT type, name, sql FROM {schema}.sqlite_master WHERE sql IS NOT NULL "
                           "AND name NOT LIKE 'sqlite_%'").fetchall()
    order = {"table": 0, "index": 1, "trigger": 2, "view": 3}
    tables = [name for kind, name, _ in objects if kind == "table"]
    for kind, _name, sql in sorted(objects, key=lambda o: order.get(o[0], 9)):
        if kind == "table":
            conn.execute(sql)
    for name in tables:
        conn.execute(f"INSERT INTO main.{quote(name)} SELECT * FROM {schema}.{quote(name)}")
    for kind, _name, sql in sorted(objects, key=lambda o: order.get(o[0], 9)):
        if kind != "table":
            conn.execute(sql)
    has_sequence = conn.execute(f"SELECT 1 FROM {schema}.sqlite_master WHERE name = 'sqlite_sequence'").fetchone()
    if has_sequence and conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        conn.execute("DELETE FROM main.sqlite_sequence")
        conn.execute(f"INSERT INTO main.sqlite_sequence SELECT * FROM {schema}.sqlite_sequence")
    version = conn.execute(f"PRAGMA {schema}.user_version").fetchone()[0]
    conn.execute(f"PRAGMA main.user_version = {int(version)}")


def _aside_name(target: Path) -> Path:
    stamp = f"{clock.now():%Y%m%dT%H%M%SZ}"
    aside = target.with_name(f"{target.name}.before-restore-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = target.with_name(f"{target.name}.before-restore-{stamp}-{n}")
    return aside


# Secrets stay in the database (and its backups): an export is for spreadsheets and accountants.
NOT_EXPORTED = {("pass_key", "secret")}


@_os_errors(lambda folder: f"cannot export to {shown(folder)[:100]}")
def export(database, folder: str | Path) -> dict:
    """Write every table as ``<table>.csv`` (header row; values as stored: cents, UTC times) into ``folder``,
    all from one read transaction. A failed export takes away the folders it made."""

    from loyaltycli.store import models  # noqa: F401  (registers the tables)

    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(gettext('{folder} is a file; give a folder for the CSV files').format(folder=shown(folder)))
    made = [p for p in (folder, *folder.parents) if not p.exists()]  # what a failed export takes away again
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise InvalidInput(gettext('cannot create {folder}: {value}').format(folder=shown(folder), value=files.reason(exc))) from None
    try:
        return _export_into(database, folder)
    except BaseException:
        for path in made:  # innermost first: an empty folder we made is not left behind
            try:
                path.rmdir()
            except OSError:
                break
        raise


def _export_into(database, folder: Path) -> dict:
    from sqlmodel import SQLModel

    from loyaltycli.store import models  # noqa: F401  (registers the tables)

    files.remove_stale_temps(folder, ("export",))
    counts = {}
    with database.session(write=False) as session:
        for table in SQLModel.metadata.sorted_tables:
            path = folder / f"{table.name}.csv"
            temp = _temp_beside(path, "export")
            try:
                with files.create_private(temp) as raw, \
                        io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:
                    writer = csv.writer(fh, lineterminator="\n")
                    writer.writerow([c.name for c in table.columns])
                    n = 0
                    hidden = [i for i, c in enumerate(table.columns) if (table.name, c.name) in NOT_EXPORTED]
                    result = session.execute(select(table).order_by(*table.primary_key.columns))
                    for row in result:
                        row = [None if i in hidden else v for i, v in enumerate(row)]
                        writer.writerow([_csv_value(v) for v in row])
                        n += 1
                os.replace(temp, path)
            except OSError as exc:
                if files.disk_full(exc):
                    raise files.disk_full_error(f"cannot write {shown(path)}") from None
                raise InvalidInput(gettext('cannot write {path}: {value}').format(path=shown(path), value=files.reason(exc))) from None
            finally:
                _remove(temp)
            counts[table.name] = n
    return {"folder": shown(folder), "tables": counts}


def _csv_value(value):
    """A stored value as an export cell: times ISO, booleans 0/1, text that a spreadsheet would run as a
    formula escaped (base/spreadsheet.py)."""
    if value is None:
        return ""
    if isinstance(value, str):
        from loyaltycli.base.spreadsheet import safe_cell

        return safe_cell(value)
    if isinstance(value, datetime):
        return clock.iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value
