"""One stored program setting read without opening the database for use (the words of a usage error are
drawn in the shop's language before any command runs: cli/language.py)."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from loyaltycli.store.db import resolve_url, sqlite_file

PEEK_SECONDS = 2  # the longest a PostgreSQL server is waited for when peeking


def peek_setting(db: str | None, key: str) -> str | None:
    """One stored program setting of the database named by ``db`` (--db), LOYALTY_DB or the default, read
    without opening the database for use: read-only, no schema check or upgrade, nothing created, no wait
    for a lock (SQLite) and at most PEEK_SECONDS for a server (PostgreSQL). None when it cannot be read so
    (no file, locked, unreachable, no such table): for words drawn on the way out (a usage error), never
    for a command's work."""
    import json
    import sqlite3

    try:
        url = resolve_url(db)
        if url.startswith("postgresql"):
            return _peek_server(url, key)
        path = sqlite_file(url)
        if path is None or not path.is_file():
            return None
        # a log being written beside it is read with it (its -wal and -shm there); else the file alone, as
        # immutable, which makes neither
        path = path.absolute()
        live = all(path.with_name(path.name + side).exists() for side in ("-wal", "-shm"))
        connection = sqlite3.connect(f"{path.as_uri()}?{'mode=ro' if live else 'immutable=1'}", uri=True,
                                     timeout=0)
        try:
            row = connection.execute("SELECT value FROM program_setting WHERE key = ?", (key,)).fetchone()
        finally:
            connection.close()
        value = json.loads(row[0]) if row is not None else None
        return value if isinstance(value, str) else None
    except Exception:  # noqa: BLE001  best effort: the words of an error, never its cause
        return None


def _peek_server(url: str, key: str) -> str | None:
    import json

    import psycopg

    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    given = parsed.query.get("options") or ""  # the URL's own (a search_path) are kept
    with psycopg.connect(conninfo, connect_timeout=PEEK_SECONDS,
                         options=f"-c statement_timeout={PEEK_SECONDS * 1000} -c default_transaction_read_only=on "
                                 f"{given}".strip()) as connection:
        row = connection.execute("SELECT value FROM program_setting WHERE key = %s", (key,)).fetchone()
    value = json.loads(row[0]) if row is not None else None
    return value if isinstance(value, str) else None
