"""Helpers shared by the data-safety tests: a full dump of a database, a customer's balance, the schema.

They take the test's ``db_path`` as it comes: a SQLite file's path, or a database URL (PostgreSQL),
and read through SQLAlchemy, so the same assertions hold on both backends.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import MetaData, Table, create_engine, inspect, text
from sqlalchemy.pool import NullPool


def _url(path: Path | str) -> str:
    path = str(path)
    return path if "://" in path else "sqlite:///" + path


_engines: dict = {}


@contextmanager
def _connect(path: Path | str):
    """A connection to the test's database. The engine (without a pool: nothing stays open between
    calls) is kept per URL, so its compiled statements are too: the fuzz tests dump hundreds of times."""
    url = _url(path)
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        yield conn


def _select_all(conn, name: str) -> str:
    """SELECT every row of table ``name`` in key order (the key from the models, else from the database)."""
    from sqlmodel import SQLModel

    from loyaltycli.store import models  # noqa: F401  (registers the program's tables)

    if name == "alembic_version":  # Alembic's one-column table: reflecting it cost half of every dump
        return 'SELECT * FROM "alembic_version" ORDER BY "version_num"'
    table = SQLModel.metadata.tables.get(name)
    if table is None:  # a table the test added
        table = Table(name, MetaData(), autoload_with=conn)
    order = [c.name for c in (list(table.primary_key.columns) or list(table.columns))]
    return f'SELECT * FROM "{name}" ORDER BY ' + ", ".join(f'"{c}"' for c in order)


def dump(path: Path | str) -> dict[str, list[tuple]]:
    """Every row of every table (alembic_version included), in primary-key order."""
    with _connect(path) as conn:
        return {name: [tuple(r) for r in conn.exec_driver_sql(_select_all(conn, name))]
                for name in sorted(inspect(conn).get_table_names())}


_TIME_TEXT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?$")


def as_0011(rows: list[tuple]) -> list[tuple]:
    """Rows dumped before 0011_instants as they read after it: every stored time text ('2026-03-01
    12:00:00.000000', naive UTC) as microseconds since 1970."""
    from loyaltycli.base.instants import microseconds

    def value(v):
        return microseconds(datetime.fromisoformat(v)) if isinstance(v, str) and _TIME_TEXT.match(v) else v

    return [tuple(map(value, row)) for row in rows]


def balance_of(path: Path | str, code: str) -> int:
    with _connect(path) as conn:
        return int(conn.execute(text("SELECT COALESCE(SUM(l.delta), 0) FROM ledger l JOIN customer c "
                                     "ON c.id = l.customer_id WHERE c.code = :code"), {"code": code}).scalar())


def schema_of(path: Path | str) -> dict[str, object]:
    """Tables with their columns (name, type, nullable, pk) and indexes with their columns and uniqueness."""
    with _connect(path) as conn:
        insp = inspect(conn)
        out = {}
        for table in sorted(insp.get_table_names()):
            pk = set(insp.get_pk_constraint(table).get("constrained_columns") or [])
            cols = tuple((c["name"], str(c["type"]), c["nullable"], c["name"] in pk)
                         for c in insp.get_columns(table))
            idx = set()
            for i in insp.get_indexes(table):
                where = (i.get("dialect_options") or {})
                partial = any(k.endswith("_where") and v is not None for k, v in where.items())
                idx.add((tuple(i["column_names"]), bool(i["unique"]), partial))
            for u in insp.get_unique_constraints(table):
                idx.add((tuple(u["column_names"]), True, False))
            fks = {(tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                   for f in insp.get_foreign_keys(table)}
            out[table] = (cols, frozenset(idx), frozenset(fks))
        return out


def query(path: Path | str, sql: str) -> tuple:
    """The first row of ``sql`` (plain, backend-neutral SQL) on the test's database."""
    with _connect(path) as conn:
        return tuple(conn.execute(text(sql)).one())


def execute(path: Path | str, *statements: str) -> None:
    """Run ``statements`` (plain SQL) in one committed transaction, behind the program's back."""
    with _connect(path) as conn, conn.begin():
        for sql in statements:
            conn.execute(text(sql))
