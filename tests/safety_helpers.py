"""Helpers shared by the data-safety tests: a full dump of a database file, a customer with points."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def dump(path: Path | str) -> dict[str, list[tuple]]:
    """Every row of every table (alembic_version included), in primary-key order."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


def balance_of(path: Path | str, code: str) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT COALESCE(SUM(l.delta), 0) FROM ledger l JOIN customer c ON c.id = l.customer_id "
                            "WHERE c.code = ?", (code,)).fetchone()[0]


def schema_of(path: Path | str) -> dict[str, object]:
    """Tables with their columns (name, type, notnull, pk) and indexes with their columns and uniqueness."""
    with closing(sqlite3.connect(path)) as conn:
        out = {}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                     "AND name NOT LIKE 'sqlite_%' ORDER BY name"):
            cols = tuple((r[1], r[2], r[3], r[5]) for r in conn.execute(f'PRAGMA table_info("{table}")'))
            idx = set()
            for r in conn.execute(f'PRAGMA index_list("{table}")'):
                names = tuple(c[2] for c in conn.execute(f'PRAGMA index_info("{r[1]}")'))
                idx.add((names, r[2], r[4]))  # columns, unique, partial
            fks = {(r[2], r[3], r[4]) for r in conn.execute(f'PRAGMA foreign_key_list("{table}")')}
            out[table] = (cols, frozenset(idx), frozenset(fks))
        return out
