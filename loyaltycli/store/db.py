"""Engine, pragmas, schema version check and one transaction per command."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from loyaltycli.base.files import reason as os_reason
from loyaltycli.base.errors import DatabaseUnavailable
from loyaltycli.i18n import _
from loyaltycli.store.waiters import WriteWaiters

# The newest migration this program knows, and every older one it can upgrade from.
SCHEMA_HEAD = "0011_instants"
KNOWN_REVISIONS = ("0001", "0002_shop", "0003_safety", "0004_consent", "0005_imports", "0006_cards",
                   "0007_taxid", "0008_pass", "0008_notes", "0008_rules", "0009_notify", "0008_safe", "0010_lean",
                   "0011_instants")

BUSY_TIMEOUT_SECONDS = float(os.environ.get("LOYALTY_BUSY_TIMEOUT", "15"))


class NotATime(DatabaseUnavailable):
    """A migration's refusal of a stored time it cannot convert exactly (0011_instants), in the shop's words
    (migrations are not scanned for messages). ``where``: (table, column, row, the value as shown)."""

    def __init__(self, table: str, column: str, row: int, value):
        self.where = (table, column, row, repr(value)[:60])
        super().__init__(_('cannot upgrade the database: {table}.{column} of row {row} holds {value}, which is not a time this program wrote; mend that row (or restore a backup) and run `loyalty db upgrade`; nothing was changed').format(
            table=table, column=column, row=row, value=self.where[3]))


def default_path() -> Path:
    """The default database file in the user's data directory."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("loyaltycli", appauthor=False)) / "loyalty.db"


def resolve_url(db: str | None = None) -> str:
    """--db, then LOYALTY_DB, then the default file; a plain path becomes a sqlite URL.

    A value without ``scheme://`` is a path byte for byte: its ``%``, ``?`` and ``#`` are quoted so that
    the URL names that very file (``shop?branch=1.db`` is not the file ``shop`` with a query)."""
    # Given but empty (--db "", LOYALTY_DB=) is refused as a blank name, not read as "the default".
    value = db if db is not None else os.environ.get("LOYALTY_DB")
    value = str(default_path()) if value is None else value
    if not value.strip():
        raise DatabaseUnavailable(_('the database name is blank (--db or LOYALTY_DB); give a file or a URL'))
    if "://" in value:
        # postgres:// (Heroku, Render, many hosts) and postgresql:// without a driver: ours is psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix):]
        return value
    return path_url(Path(value).expanduser().resolve())


def path_url(path: Path) -> str:
    """The sqlite URL of the file ``path``, whatever characters its name holds."""
    quoted = str(path).replace("%", "%25").replace("?", "%3F").replace("#", "%23")
    return "sqlite:///" + quoted


def _prepare_sqlite_file(url: str) -> None:
    """Create the file's folder and the file itself, readable by its owner only."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    path = Path(database)
    if path.exists():
        return
    if path.parent == default_path().parent:  # the user data directory: made on first use
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    elif not path.parent.is_dir():  # a typo in a folder name would otherwise leave a database astray
        import shlex

        raise DatabaseUnavailable(_('folder {folder} does not exist; create it first (mkdir -p {quoted}) or give '
                                    'another path').format(folder=_shown(path.parent), quoted=shlex.quote(str(path.parent))))
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def sqlite_file(url: str) -> Path | None:
    """The file behind a sqlite URL (None for other backends and in-memory databases)."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def temp_base(url: str) -> Path:
    """The file that a database's temporary data is kept beside (``.NAME.TAG-PID.tmp``, 0600): the SQLite
    file, or for a server database the default file's place in the user's data directory."""
    path = sqlite_file(str(url))
    return path if path is not None else default_path()


def temp_path(url: str, tag: str) -> Path:
    """A new temporary file's name beside the database of ``url``, owned by this process (where every run
    finds it: a killed run's is removed by the next; see Database.sweep)."""
    from loyaltycli.base.files import temp_beside

    base = temp_base(url)
    base.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return temp_beside(base, tag)


def _preflight_sqlite(path: Path, label: str, create: bool, url_label: str) -> None:
    """Look at a SQLite file read-only before any connection that may write to it (WAL mode, -wal and
    -shm files): refuse a missing file (unless creating), a foreign file and a newer schema unchanged."""
    import sqlite3
    from contextlib import closing
    from urllib.parse import quote

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        if create:
            return
        raise DatabaseUnavailable(_('no database at {label}; run `loyalty init` to create one (or check --db / LOYALTY_DB)').format(label=label)) from None
    except OSError as exc:
        raise DatabaseUnavailable(_('cannot use database {label}: {value}').format(label=label, value=os_reason(exc))) from None
    if path.is_dir():
        raise DatabaseUnavailable(_('{label} is a folder, not a database file').format(label=label))
    if size == 0:
        if create:
            return
        raise DatabaseUnavailable(_('no database at {label} (the file is empty); run `loyalty init` to create one').format(label=label))
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise DatabaseUnavailable(_('cannot read database {label}: {value}').format(label=label, value=os_reason(exc))) from None
    if head != b"SQLite format 3\x00":
        raise DatabaseUnavailable(_('the database cannot be used: {label} is not a SQLite file (nothing was changed)').format(label=label))
    uri = "file:" + quote(os.fsencode(path.absolute())) + "?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)) as conn:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
            if "alembic_version" not in tables:
                if tables:
                    raise DatabaseUnavailable(
                        _('{url_label} is not a loyaltycli database (it has tables but no schema version)').format(url_label=url_label))
                if not create:
                    raise DatabaseUnavailable(_('no database at {label} (the file has no tables); run `loyalty init` to create one').format(label=label))
                return
            versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.Error as exc:
        message = str(exc)
        if "locked" in message or "busy" in message:
            return  # a writer holds it: the engine's own busy timeout decides
        from loyaltycli.base.files import disk_full_error, no_space

        if "disk" in message and no_space(path.parent):  # SQLite could not even create its -shm file
            raise disk_full_error(f"cannot open {label}") from None
        raise DatabaseUnavailable(_('the database cannot be used: {message}').format(message=message)) from None
    if len(versions) == 1 and versions[0] not in KNOWN_REVISIONS:
        raise DatabaseUnavailable(_('the database schema ({versions}) is newer than this program ({schema_head}); upgrade loyaltycli').format(versions=versions[0], schema_head=SCHEMA_HEAD))


class Database:
    """One database: an engine whose transactions each hold one command.

    ``create``: whether this handle may create the database (only `loyalty init` and `db copy`'s target
    do; every other command refuses a missing database with exit 4)."""

    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        self.create = create
        self.is_sqlite = url.startswith("sqlite")
        self.waiters = WriteWaiters(None)  # a file database: its own (_make_engine)
        self.engine = self._make_engine(url)
        self._checked = False
        self.wrote = False  # a write transaction committed since the last checkpoint
        self.swept: list[Path] = []  # temporary files of killed runs removed when this handle was opened

    @property
    def temp_base(self) -> Path:
        return temp_base(self.url)

    def sweep(self) -> list[Path]:
        """Remove the temporary files that killed runs (restores, imports) left beside the database."""
        from loyaltycli.base.files import DATABASE_TEMP_TAGS, remove_stale_temps

        removed = remove_stale_temps(self.temp_base.parent, DATABASE_TEMP_TAGS)
        self.swept.extend(removed)
        return removed

    def writers_waiting(self, session: Session) -> bool:
        """True while another writer waits for a lock this session's transaction holds (or may hold): on
        SQLite a till's BEGIN IMMEDIATE (WriteWaiters), on PostgreSQL any lock not granted yet."""
        if self.is_sqlite:
            return self.waiters.any()
        return bool(session.execute(text("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)")).scalar())

    @property
    def safe_url(self) -> str:
        """The URL to show people: every password in it masked (also ``?password=``)."""
        from loyaltycli.base.files import mask_secrets

        try:
            return mask_secrets(make_url(self.url).render_as_string(hide_password=True))
        except Exception:  # noqa: BLE001  a malformed URL is shown with its secrets masked
            return mask_secrets(self.url)

    def checkpoint(self) -> None:
        """After a command that wrote: copy the WAL into the database file (passive: never waits for
        anyone), and empty the WAL when nobody else is reading, so the .db file alone is current."""
        if not self.is_sqlite or not self.wrote:
            return
        self.wrote = False
        import sqlite3

        try:
            with self.engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                busy, log, done = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if busy == 0 and log >= 0 and log == done:
                    raw.execute("PRAGMA busy_timeout=0")
                    try:
                        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    finally:
                        raw.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        except (sqlite3.Error, DBAPIError):
            pass  # another process holds the file; its own checkpoint (or the next command's) does it

    def _make_engine(self, url: str) -> Engine:
        if not self.is_sqlite:
            try:
                parsed = make_url(url)
                connect_args = {}
                if parsed.get_backend_name() == "postgresql":
                    # Like SQLite's busy timeout: a till waiting for another till's row lock (or for an
                    # unreachable server) gives up with exit 4 instead of hanging.
                    # Settings in the URL (?options=-csearch_path%3Dshop2&connect_timeout=5) win.
                    given = parsed.query.get("options") or ""
                    connect_args = {
                        "connect_timeout": parsed.query.get("connect_timeout") or max(1, int(BUSY_TIMEOUT_SECONDS)),
                        "options": f"-c lock_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)} {given}".strip()}
                # A server restart must not break a till that stays open (`counter`): test pooled
                # connections before use (one round trip; SQLite needs none).
                return create_engine(parsed, pool_pre_ping=bool(connect_args), connect_args=connect_args)
            except ModuleNotFoundError as exc:
                raise DatabaseUnavailable(
                    _("cannot use database {safe_url}: the driver is not installed ({exc}); install it with `pip install -e '.[postgres]'` and use a postgresql+psycopg:// URL").format(safe_url=self.safe_url, exc=exc)) from exc
            except Exception as exc:  # malformed URL, unknown dialect
                from sqlalchemy.exc import ArgumentError, NoSuchModuleError

                from loyaltycli.base.files import mask_secrets

                if isinstance(exc, (NoSuchModuleError, ArgumentError)):
                    raise DatabaseUnavailable(
                        _('cannot use database {safe_url}: not a kind of database loyalty knows; give a file path (shop.db), sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DATABASE').format(safe_url=self.safe_url)) from exc
                raise DatabaseUnavailable(_('cannot use database {safe_url}: {mask_secrets}').format(safe_url=self.safe_url, mask_secrets=mask_secrets(exc))) from exc
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # We issue BEGIN ourselves (below), so that writers can take the lock up front.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.close()

        waiters = WriteWaiters(sqlite_file(url))
        self.waiters = waiters

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # A writer takes SQLite's write lock at BEGIN: two tills never read the same balance
            # and both spend it. While it waits for the lock it says so (WriteWaiters): a long import
            # then commits at once and lets it in.
            write = conn.get_execution_options().get("loyalty_write", True)
            if not write:
                conn.exec_driver_sql("BEGIN")
                return
            with waiters.waiting():
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    # -- schema ---------------------------------------------------------------------------
    def schema_version(self) -> str | None:
        """The alembic revision of the database, or None for an empty one."""
        try:
            with self.engine.connect() as conn:
                if self.is_sqlite:
                    conn = conn.execution_options(loyalty_write=False)
                    has = conn.exec_driver_sql(
                        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
                    ).first()
                else:
                    has = conn.execute(text(
                        "SELECT 1 FROM information_schema.tables WHERE table_name='alembic_version'"
                        " AND table_schema = current_schema()")).first()
                if not has:
                    others = self._table_count(conn)
                    if others:
                        raise DatabaseUnavailable(
                            _('{safe_url} is not a loyaltycli database (it has tables but no schema version)').format(safe_url=self.safe_url))
                    return None
                return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except DBAPIError as exc:
            raise _unavailable(exc) from exc

    def _table_count(self, conn) -> int:
        if self.is_sqlite:
            return conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'").scalar()
        return conn.execute(text(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")).scalar()

    def _preflight(self, create: bool) -> None:
        """Before the first connection: a SQLite file is looked at read-only (a missing, foreign or newer
        file is refused and left as it is); a new one is created (0600) only when ``create``."""
        path = sqlite_file(self.url)
        if path is None:
            return
        _preflight_sqlite(path, _shown(path), create, self.safe_url)
        if create:
            try:
                _prepare_sqlite_file(self.url)
            except OSError as exc:
                raise DatabaseUnavailable(_('cannot create database file: {value}').format(value=os_reason(exc))) from exc

    def ensure_schema(self, create: bool | None = None) -> None:
        """Create a new database (only when ``create``), upgrade an old one, refuse a newer one."""
        if self._checked:
            return
        create = self.create if create is None else create
        self._preflight(create)
        self.sweep()  # what a killed restore or import left (personal data): any run removes it
        version = self.schema_version()
        if version == SCHEMA_HEAD:
            self._checked = True
            return
        if version is None:
            if not create:
                raise DatabaseUnavailable(_('no loyaltycli database at {safe_url}; run `loyalty init` to create one').format(safe_url=self.safe_url))
            self._create()
        elif version in KNOWN_REVISIONS:
            self.upgrade()
        else:
            raise DatabaseUnavailable(
                _('the database schema ({version}) is newer than this program ({schema_head}); upgrade loyaltycli').format(version=version, schema_head=SCHEMA_HEAD))
        self._checked = True

    def _create(self) -> None:
        from sqlmodel import SQLModel

        from loyaltycli.store import models  # noqa: F401  (registers the tables)

        try:
            with self.engine.begin() as conn:
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(7412001)"))
                # Another process may have created it while we waited for the lock.
                exists = conn.execute(text(
                    "SELECT 1 FROM sqlite_master WHERE name='alembic_version'" if self.is_sqlite else
                    "SELECT 1 FROM information_schema.tables WHERE table_name='alembic_version' "
                    "AND table_schema = current_schema()")).first()
                if exists:
                    return
                SQLModel.metadata.create_all(conn)
                conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                                  "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": SCHEMA_HEAD})
                self.wrote = True  # `init` leaves the .db file current on its own (checkpoint_all)
        except DBAPIError as exc:
            raise _unavailable(exc) from exc

    def upgrade(self) -> tuple[str | None, str]:
        """Run the Alembic migrations up to the newest; returns (from, to)."""
        from loyaltycli.store.migrations import run_upgrade

        self._preflight(self.create)
        before = self.schema_version()
        if before is None:
            if not self.create:
                raise DatabaseUnavailable(_('no loyaltycli database at {safe_url}; run `loyalty init` to create one').format(safe_url=self.safe_url))
            self._create()
            return None, SCHEMA_HEAD
        if before not in KNOWN_REVISIONS:
            raise DatabaseUnavailable(
                _('the database schema ({before}) is newer than this program ({schema_head}); upgrade loyaltycli').format(before=before, schema_head=SCHEMA_HEAD))
        if before != SCHEMA_HEAD:
            try:
                run_upgrade(self.engine)
            except DBAPIError as exc:
                raise _unavailable(exc) from exc
            self.wrote = True
        self._checked = True
        return before, SCHEMA_HEAD

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """One transaction: commits when the block ends, rolls back on any error."""
        self.ensure_schema()
        session = Session(self.engine, expire_on_commit=False, autoflush=True)
        try:
            session.connection(execution_options={"loyalty_write": write})
            yield session
            session.commit()
            if write:
                self.wrote = True
        except DBAPIError as exc:
            session.rollback()
            raise _unavailable(exc) from exc
        except BaseException as exc:
            session.rollback()
            mapped = _unavailable(exc) if _driver_error(exc) else exc  # raw cursors (store/storage.py)
            if mapped is not exc:
                raise mapped from exc
            raise
        finally:
            session.close()


def _shown(path) -> str:
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def _driver_error(exc: BaseException) -> bool:
    """An error of the database driver itself (not wrapped by SQLAlchemy): sqlite3's, or psycopg's."""
    import sqlite3

    if isinstance(exc, sqlite3.Error):
        return True
    return type(exc).__module__.startswith("psycopg") and hasattr(exc, "sqlstate")


def _unavailable(exc: Exception) -> Exception:
    """Locked, full, read-only or unreadable databases exit 4; anything else is re-raised as it is.
    ``exc``: SQLAlchemy's DBAPIError, or the driver's own error (raw cursors)."""
    import sqlite3

    from loyaltycli.base.files import disk_full, disk_full_error, mask_secrets

    orig = getattr(exc, "orig", None)
    message = mask_secrets(str(orig) if orig is not None else str(exc))
    lowered = message.lower()
    if disk_full(exc):
        return disk_full_error("the database could not grow")
    # "file is not a database" arrives as a plain DatabaseError, not an OperationalError.
    raw = orig if orig is not None else exc
    unusable = isinstance(exc, OperationalError) or (
        isinstance(exc, DatabaseError) and not isinstance(exc, IntegrityError)) or (
        isinstance(raw, sqlite3.DatabaseError) and not isinstance(raw, sqlite3.IntegrityError))
    if unusable and any(word in lowered for word in (
            "locked", "busy", "unable to open", "not a database", "disk i/o", "malformed",
            "readonly", "read-only", "connection", "could not connect", "does not exist", "no such table",
            "no such column",
            # PostgreSQL: server unreachable, login refused, another till's lock held too long
            "resolve host", "authentication", "password", "timeout", "server closed", "terminating",
            "deadlock", "too many clients")):
        hint = ""
        if "locked" in lowered or "busy" in lowered or "timeout" in lowered:
            hint = (f" (another till or program held it longer than {BUSY_TIMEOUT_SECONDS:g} s; nothing was "
                    "changed, try again)")
        return DatabaseUnavailable(_('the database cannot be used: {splitlines}{hint}').format(splitlines=message.splitlines()[0], hint=hint))
    return exc


_databases: dict[str, Database] = {}


def open_database(db: str | None = None, *, create: bool = False) -> Database:
    """The Database for --db / LOYALTY_DB / the default, one per URL per process. Only ``create`` (`init`)
    may create it; otherwise a missing database is refused (exit 4)."""
    url = resolve_url(db)
    if url not in _databases:
        _databases[url] = Database(url, create=create)
    elif create:
        _databases[url].create = True
    return _databases[url]


def checkpoint_all() -> None:
    """Checkpoint every database this process wrote to (called when a command ends)."""
    for database in list(_databases.values()):
        database.checkpoint()
