"""How long SQLite alone takes to store what an import writes: the floor under `loyalty import`.

    python benchmarks/bench_import.py --keep /tmp/bench          # makes /tmp/bench/loyalty.db and enrolled.db
    python benchmarks/bench_write_floor.py /tmp/bench [--batch-rows 100000]

It copies every row the import wrote (loyalty.db: customers it enrolled, purchases, line items, ledger rows,
anything else) into a fresh copy of the database as it was before the import (enrolled.db), from Python
with `executemany` (rows already computed: no CSV, no rules), in transactions of about ``--batch-rows``
file rows each (the import's own, when no till waits: store/batches.py BATCH_ROWS), each holding its
purchases, their line items, their ledger rows and the customers they name. It keeps the schema's indexes
and foreign keys, the importer's page cache and pragmas. The CPU seconds it prints are what any import into
this schema, in those transactions, must spend before reading a single line. bench_import.py prints it
beside each shape's import.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loyaltycli.store.batches import BATCH_ROWS  # noqa: E402

# tables in the order a transaction fills them (foreign keys); any other table that grew comes last
ORDER = ("customer", "purchase", "purchase_item", "ledger")
SKIP = ("import_run", "import_file", "sqlite_sequence", "alembic_version")


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in con.execute(f"PRAGMA main.table_info({table})")]


def new_rows(folder: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Per table, (columns, rows) that loyalty.db holds beyond enrolled.db, by rowid."""
    con = sqlite3.connect(folder / "loyalty.db")
    con.execute(f"ATTACH '{folder / 'enrolled.db'}' AS before")
    out = {}
    tables = [r[0] for r in con.execute("SELECT name FROM main.sqlite_master WHERE type='table'")]
    for table in tables:
        if table in SKIP:
            continue
        high = con.execute(f"SELECT coalesce(max(rowid), 0) FROM before.{table}").fetchone()[0]
        columns = _columns(con, table)
        rows = con.execute(f"SELECT {', '.join(columns)} FROM main.{table} WHERE rowid > ? ORDER BY rowid",
                           (high,)).fetchall()
        if rows:
            out[table] = (columns, rows)
    con.close()
    return out


def fresh(folder: Path, name: str) -> sqlite3.Connection:
    target = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(folder / "enrolled.db", target)
    con = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "cache_size=-32768"):
        con.execute(f"PRAGMA {pragma}")
    return con


def transactions(tables: dict, file_rows: int, batch_rows: int) -> list[dict[str, list]]:
    """The rows cut into the import's transactions: by purchase id, each with the customers its purchases
    name (not yet written) and the ledger rows of its purchases and of those customers."""
    purchases = tables.get("purchase", ([], []))[1]
    count = max(1, -(-file_rows // max(1, batch_rows)))
    per = max(1, -(-len(purchases) // count))
    customers = tables.get("customer", (None, []))[1]
    by_customer_id = {row[0]: row for row in customers}
    ledger_cols, ledger = tables.get("ledger", (["purchase_id", "customer_id"], []))
    p_i, c_i = ledger_cols.index("purchase_id"), ledger_cols.index("customer_id")
    item_rows = tables.get("purchase_item", (None, []))[1]
    item_p = tables["purchase_item"][0].index("purchase_id") if item_rows else 0
    out = []
    written: set[int] = set()
    items_at = 0
    ledger_by_purchase: dict[int, list] = {}
    ledger_by_customer: dict[int, list] = {}
    for row in ledger:
        if row[p_i] is None:
            ledger_by_customer.setdefault(row[c_i], []).append(row)
        else:
            ledger_by_purchase.setdefault(row[p_i], []).append(row)
    for start in range(0, max(1, len(purchases)), per):
        chunk = purchases[start:start + per]
        ids = {row[0] for row in chunk}
        batch: dict[str, list] = {"customer": [], "purchase": chunk, "purchase_item": [], "ledger": []}
        for row in chunk:
            cid = row[1]
            if cid in by_customer_id and cid not in written:
                written.add(cid)
                batch["customer"].append(by_customer_id[cid])
                batch["ledger"].extend(ledger_by_customer.pop(cid, []))
            batch["ledger"].extend(ledger_by_purchase.pop(row[0], []))
        while items_at < len(item_rows) and item_rows[items_at][item_p] in ids:
            batch["purchase_item"].append(item_rows[items_at])
            items_at += 1
        out.append(batch)
    last = out[-1]
    last["customer"].extend(row for row in customers if row[0] not in written)
    last["purchase_item"].extend(item_rows[items_at:])
    for rest in (*ledger_by_customer.values(), *ledger_by_purchase.values()):
        last["ledger"].extend(rest)
    for table, (_, rows) in tables.items():
        if table not in ORDER:
            last[table] = rows
    return out


def write_floor(folder: Path, file_rows: int, batch_rows: int = BATCH_ROWS) -> tuple[float, int, dict]:
    """(CPU seconds, transactions, rows per table) of storing loyalty.db's new rows into enrolled.db."""
    tables = new_rows(folder)
    batches = transactions(tables, file_rows, batch_rows)
    con = fresh(folder, "floor.db")
    sql = {table: f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
           for table, (cols, _) in tables.items()}
    began = time.process_time()
    for batch in batches:
        con.execute("BEGIN IMMEDIATE")
        for table in [*ORDER, *(t for t in batch if t not in ORDER)]:
            if batch.get(table):
                con.executemany(sql[table], batch[table])
        con.execute("COMMIT")
    spent = time.process_time() - began
    con.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(folder / "floor.db") + suffix).unlink(missing_ok=True)
    return spent, len(batches), {table: len(rows) for table, (_, rows) in tables.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder kept by bench_import.py --keep")
    parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS, help="file rows per transaction")
    parser.add_argument("--file-rows", type=int, help="the till file's rows (default: counted)")
    args = parser.parse_args()
    file_rows = args.file_rows
    if file_rows is None:
        with (args.folder / "till.csv").open("rb") as handle:
            file_rows = sum(1 for _ in handle) - 1
    spent, count, rows = write_floor(args.folder, file_rows, args.batch_rows)
    print(f"write floor: {spent:.2f}s cpu in {count} transactions; rows {rows}")


if __name__ == "__main__":
    main()
