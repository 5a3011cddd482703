"""How long SQLite alone takes to store what an import writes: the floor under `loyalty import`.

    python benchmarks/bench_import.py --keep /tmp/bench          # makes /tmp/bench/loyalty.db and enrolled.db
    python benchmarks/bench_write_floor.py /tmp/bench

It copies the purchases, line items and ledger rows that the import wrote (loyalty.db) into a fresh copy
of the database as it was before the import (enrolled.db), in one transaction per table, two ways:
from Python with `executemany` (rows already computed: no CSV, no rules), and inside SQLite with
`INSERT ... SELECT` from temporary tables (no Python at all), in the importer's batches (transactions of
about 100,000 file rows). Both keep the schema's indexes and foreign keys, the importer's page cache and
pragmas. The CPU seconds it prints are what any import
into this schema through Python's sqlite3 module must spend before reading a single line.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import time
from pathlib import Path

from bench_import import run_child  # noqa: E402  (this folder is on the path when run as a script)

TABLES = {
    "purchase": "id, customer_id, source, receipt_id, at, amount, channel, refund_of_id, import_file, import_line",
    "purchase_item": "purchase_id, sku, quantity_milli, unit_price, amount",
    "ledger": "customer_id, kind, delta, at, expires_at, purchase_id, lot_id, bonus_key, note, recorded_at",
}
WHERE = {"ledger": "WHERE kind <> 'welcome'"}
BATCH_PURCHASES = 33_000  # the enrolled database has the welcome rows already


def in_batches(con: sqlite3.Connection, batches, write) -> dict[str, float]:
    """CPU seconds per table (and for the commits) of ``write(table, columns, low, high)`` per batch."""
    spent = dict.fromkeys(TABLES, 0.0)
    spent["commit"] = 0.0
    for low, high in batches:
        con.execute("BEGIN IMMEDIATE")
        for table, columns in TABLES.items():
            began = time.process_time()
            write(table, columns, low, high)
            spent[table] += time.process_time() - began
        began = time.process_time()
        con.execute("COMMIT")
        spent["commit"] += time.process_time() - began
    return spent


def report(how: str, spent: dict, rows: dict, scale: float) -> None:
    for table, seconds in spent.items():
        count = f"{len(rows[table]):>10,} rows" if table in rows else " " * 15
        print(f"{how:15} {table:14} {count}  {seconds:6.2f}s cpu")
    total = sum(spent.values())
    print(f"{how:15} {'all':14} {'':15}  {total:6.2f}s cpu  = {total / scale:.1f}x sqlite3 .import")


def fresh(folder: Path, name: str) -> sqlite3.Connection:
    target = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(folder / "enrolled.db", target)
    con = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "cache_size=-32768"):
        con.execute(f"PRAGMA {pragma}")
    return con


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder kept by bench_import.py --keep")
    args = parser.parse_args()
    plain = args.folder / "floor_plain.db"
    plain.unlink(missing_ok=True)
    _, _, _, sqlite_cpu = run_child(["sqlite3", str(plain), ".mode csv", f".import {args.folder / 'till.csv'} till"])
    plain.unlink(missing_ok=True)
    print(f"sqlite3 .import of till.csv: {sqlite_cpu:.2f}s cpu (for scale)")
    source = sqlite3.connect(args.folder / "loyalty.db")
    rows = {table: source.execute(f"SELECT {columns} FROM {table} {WHERE.get(table, '')} ORDER BY rowid").fetchall()
            for table, columns in TABLES.items()}
    source.close()

    # as the importer does: batches of about 100,000 file rows (a third as many purchases), each one
    # transaction with its purchases, their line items and their ledger rows
    ids = [row[0] for row in rows["purchase"]]
    bounds = [ids[i] for i in range(0, len(ids), BATCH_PURCHASES)] + [ids[-1] + 1]
    batches = list(zip(bounds, bounds[1:]))
    key = {"purchase": 0, "purchase_item": 0, "ledger": 5}  # the column holding the purchase id

    con = fresh(args.folder, "floor_executemany.db")

    def from_python(table: str, columns: str, low: int, high: int) -> None:
        chunk = [row for row in rows[table] if low <= row[key[table]] < high]
        con.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(columns.split(',')))})",
                        chunk)

    report("executemany", in_batches(con, batches, from_python), rows, sqlite_cpu)
    con.close()

    con = fresh(args.folder, "floor_insert_select.db")
    con.execute("PRAGMA temp_store=MEMORY")
    con.execute(f"ATTACH '{args.folder / 'loyalty.db'}' AS src")
    for table, columns in TABLES.items():
        con.execute(f"CREATE TEMP TABLE copy_{table} AS SELECT {columns} FROM src.{table} {WHERE.get(table, '')} "
                    "ORDER BY rowid")

    def within_sqlite(table: str, columns: str, low: int, high: int) -> None:
        column = columns.split(", ")[key[table]]
        con.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM copy_{table} "
                    f"WHERE {column} >= ? AND {column} < ?", (low, high))

    report("insert..select", in_batches(con, batches, within_sqlite), rows, sqlite_cpu)
    con.close()
    for name in ("floor_executemany.db", "floor_insert_select.db"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.folder / name) + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
