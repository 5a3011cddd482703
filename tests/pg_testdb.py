"""Test databases on a PostgreSQL server (LOYALTY_TEST_PG_URL), one fresh and empty per test.

Creating a database, even from a template, costs about half a second; emptying one costs a few
milliseconds. So a test's database is handed back after the test: if its schema is still exactly the
template's, every row is deleted and every sequence restarted and it is handed to the next test; if
the test changed the schema (or left a lock behind), the database is dropped and a new one cloned.
"""

from __future__ import annotations

import itertools
import os

# Everything a test could have changed about the schema: tables, views, columns, indexes, the schema
# version. Rows and sequence positions are reset instead.
FINGERPRINT_SQL = """
SELECT md5(concat_ws('|',
  (SELECT string_agg(table_schema || '.' || table_name || '.' || column_name || ':' || data_type
                     || ':' || is_nullable || ':' || coalesce(column_default, ''), ','
                     ORDER BY table_schema, table_name, column_name)
     FROM information_schema.columns
    WHERE table_schema NOT IN ('pg_catalog', 'information_schema')),
  (SELECT string_agg(schemaname || '.' || indexdef, ',' ORDER BY schemaname, indexdef)
     FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')),
  (SELECT string_agg(conname || ':' || pg_get_constraintdef(oid), ',' ORDER BY conname)
     FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
  (SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace),
  (SELECT string_agg(version_num, ',') FROM public.alembic_version)))
"""


class PgTestServer:
    """Creates, recycles and drops this run's databases (names unique to the process)."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        self.base = make_url(url)
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"loyalty_t{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self.counter = itertools.count(1)
        self.ready: list[str] = []
        self.fingerprint: str | None = None

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create(self, name: str, template: str = "template0") -> str:
        """A new database (from ``template``); returns its URL."""
        self.drop(name)
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    # -- the template and the per-test databases --------------------------------------------------
    def start(self) -> None:
        """Build the template: an empty database at the newest schema."""
        from loyaltycli.store.db import Database

        database = Database(self.create(self.template))
        database.ensure_schema()
        database.engine.dispose()
        self.fingerprint = self._inspect(self.template)

    def checkout(self) -> str:
        """The name of an empty database at the newest schema, for one test."""
        if self.ready:
            return self.ready.pop()
        name = f"{self.prefix}_{next(self.counter)}"
        self.create(name, self.template)
        return name

    def checkin(self, name: str) -> None:
        """Empty the test's database for the next test, or drop it if the test changed its schema."""
        try:
            fingerprint = self._inspect(name, reset=True)
        except Exception:  # noqa: BLE001  a lock left behind, a dropped table...: start afresh
            fingerprint = None
        if fingerprint == self.fingerprint:
            self.ready.append(name)
        else:
            self.drop(name)

    def stop(self) -> None:
        for name in self.ready + [self.template]:
            self.drop(name)
        self.ready.clear()
        self.admin.dispose()

    def _inspect(self, name: str, reset: bool = False) -> str:
        """The schema's fingerprint; with ``reset``, an unchanged schema is also emptied."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        engine = create_engine(self.url(name), poolclass=NullPool, isolation_level="AUTOCOMMIT",
                               connect_args={"options": "-c lock_timeout=2000 -c statement_timeout=10000"})
        try:
            with engine.connect() as conn:
                fingerprint = conn.exec_driver_sql(FINGERPRINT_SQL).scalar()
                if reset and fingerprint == self.fingerprint:
                    rows = conn.exec_driver_sql(_count_sql()).scalar()
                    conn.exec_driver_sql(_reset_sql() if rows <= SMALL else _truncate_sql())
                return fingerprint
        finally:
            engine.dispose()


# Up to this many rows, DELETE (milliseconds) beats TRUNCATE (a tenth of a second); beyond it, foreign
# keys without an index behind them (ledger.lot_id) make DELETE slow.
SMALL = 2000


def _tables() -> list:
    from sqlmodel import SQLModel

    from loyaltycli.store import models  # noqa: F401  (registers the tables)

    return list(SQLModel.metadata.sorted_tables)


def _count_sql() -> str:
    """Rows in the program's tables, counted up to SMALL + 1 per table."""
    return "SELECT " + " + ".join(f'(SELECT count(*) FROM (SELECT 1 FROM public."{t.name}" LIMIT {SMALL + 1}) x)'
                                  for t in _tables())


def _truncate_sql() -> str:
    return "TRUNCATE " + ", ".join(f'public."{t.name}"' for t in _tables()) + " RESTART IDENTITY"


def _reset_sql() -> str:
    """Delete every row (children first) and restart every sequence, in one transaction."""
    statements = [f'DELETE FROM public."{table.name}"' for table in reversed(_tables())]
    statements.append("SELECT setval(c.oid, 1, false) FROM pg_class c "
                      "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace")
    return "BEGIN; " + "; ".join(statements) + "; COMMIT"
