"""The least a Python import can spend on a till file: read it, and nothing else.

    python benchmarks/bench_bare_read.py till.csv            # bench_import.py's till files
    python benchmarks/bench_bare_read.py till.csv --uci      # the UCI-shaped year (day-first dates)

One process that loads the libraries `loyalty import` needs to open a database (SQLAlchemy, SQLModel), then
reads every row of the file with the standard `csv` module, turns each time into microseconds since 1970,
each amount, price and quantity into whole numbers, and builds the tuples an import would hand to SQLite
(a purchase and a ledger row per receipt, an item per line), thrown away a block at a time. No rules, no
checks, no customers looked up, no database, no rejects. `bench_import.py` runs it beside each shape's
import: its whole-process CPU added to the write floor is the least any import in Python could cost, so it
shows how far "at most 2x the floor" is reachable at all.
"""

from __future__ import annotations

import argparse
import csv
import time
from datetime import datetime
from decimal import Decimal

EPOCH = datetime(1970, 1, 1)
_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1) - EPOCH
BLOCK = 5000


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


def read_till(path: str) -> int:
    """bench_import.py's format: receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price."""
    purchases, ledger, items = [], [], []
    last = None
    rows = 0
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for receipt_id, when, customer, amount, channel, sku, quantity, price in reader:
            rows += 1
            if receipt_id != last:
                last = receipt_id
                us = (datetime.fromisoformat(when) - EPOCH) // _MICROSECOND
                cents = _cents(amount)
                purchases.append((None, customer, "bench", receipt_id, us, cents, channel, None, path, rows))
                ledger.append((customer, "earn", cents // 100, us, None, len(purchases), None, None, "", us, "earn",
                               receipt_id))
            items.append((len(purchases), sku, int(quantity) * 1000, _cents(price)))
            if len(items) >= BLOCK:
                purchases.clear()
                ledger.clear()
                items.clear()
    return rows


def read_uci(path: str) -> int:
    """The UCI-shaped year: InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
    (dates day first, 01/12/2010 08:26; a time read once however many lines repeat it)."""
    purchases, items = [], []
    times: dict[str, int] = {}
    last = None
    rows = 0
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for invoice, sku, description, quantity, when, price, customer, _country in reader:
            rows += 1
            us = times.get(when)
            if us is None:
                day, month, rest = when.split("/", 2)
                year, clock = rest.split(" ")
                hour, minute = clock.split(":")
                us = times[when] = (datetime(int(year), int(month), int(day), int(hour), int(minute))
                                    - EPOCH) // _MICROSECOND
            if invoice != last:
                last = invoice
                purchases.append((None, customer, "bench", invoice, us, path, rows))
            items.append((len(purchases), sku, description, int(quantity) * 1000, _cents(price)))
            if len(items) >= BLOCK:
                purchases.clear()
                items.clear()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--uci", action="store_true", help="the UCI-shaped year's columns and dates")
    args = parser.parse_args()
    began = time.process_time()
    import sqlalchemy  # noqa: F401  what `loyalty import` loads to open a database
    import sqlmodel  # noqa: F401

    loaded = time.process_time()
    rows = (read_uci if args.uci else read_till)(args.file)
    done = time.process_time()
    print(f"bare read: {rows} rows; libraries {loaded - began:.2f}s cpu, loop {done - loaded:.2f}s cpu")


if __name__ == "__main__":
    main()
