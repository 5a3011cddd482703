"""A year of invoices shaped like the UCI "Online Retail" data set, in three date forms; imported and compared.

    python benchmarks/uci_year.py --out /tmp/uci                 # 541,909 rows, the three files only
    python benchmarks/uci_year.py --out /tmp/uci --rows 50000    # fewer rows
    python benchmarks/uci_year.py --out /tmp/uci --run           # and import each into its own database:
                                                                 # time, peak memory, ledgers compared

The real file (https://archive.ics.uci.edu/dataset/352/online+retail) is not available offline; this one has
its layout and its quirks: columns InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
CustomerID, Country; a year from 1 December 2010 to 9 December 2011 in shop hours; about 4,300 customers and
25,900 invoices for 541,909 rows (both scale with --rows); about 2% cancellations (`C` + the next invoice
number, negative quantities) that mirror some lines of an earlier sale of the same customer (same StockCode
and UnitPrice, part or all of the quantity), minutes to three weeks later; a fifth of the invoices without
CustomerID (anonymous); a few invoices whose lines are all priced 0.00 (samples, write-offs). And the quirks
of the real year (issue 25): invoices whose lines straddle a minute (their later lines a minute on), returns of
customers who bought nothing that year (their sales predate the file: counted as returns without sale), and
cancellations written with positive quantities (a `C` invoice is a return whatever its sign). Deterministic
for a seed. The same invoices are written three times: US (`12/1/2010 8:26`), ISO (`2010-12-01 08:26`) and
UK day-first (`01/12/2010 08:26`) dates.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-06-15T12:00:00+00:00"
HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
FULL_ROWS = 541_909
FULL_CUSTOMERS = 4_372
LINES_PER_INVOICE = 20.9
START = datetime(2010, 12, 1)
DAYS = 374  # to 9 December 2011
OPEN, CLOSE = 8 * 60 + 26, 20 * 60  # shop hours, minutes of the day
MAX_INVOICE = 900_000  # cents: under max_purchase (10,000.00), so that only 0.00 invoices are refused
FORMS = {
    "us": lambda t: f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}",
    "iso": lambda t: t.strftime("%Y-%m-%d %H:%M"),
    "uk": lambda t: t.strftime("%d/%m/%Y %H:%M"),
}
WORDS = ("WHITE HANGING HEART T-LIGHT HOLDER|METAL LANTERN|CREAM CUPID HEARTS COAT HANGER|KNITTED UNION FLAG "
         "HOT WATER BOTTLE|RED WOOLLY HOTTIE WHITE HEART|SET 7 BABUSHKA NESTING BOXES|GLASS STAR FROSTED "
         "T-LIGHT HOLDER|HAND WARMER UNION JACK|HAND WARMER RED POLKA DOT|ASSORTED COLOUR BIRD ORNAMENT|"
         "POPPY'S PLAYHOUSE BEDROOM|POPPY'S PLAYHOUSE KITCHEN|FELTCRAFT PRINCESS CHARLOTTE DOLL|IVORY KNITTED "
         "MUG COSY|BOX OF 6 ASSORTED COLOUR TEASPOONS|BOX OF VINTAGE JIGSAW BLOCKS|BOX OF VINTAGE ALPHABET "
         "BLOCKS|HOME BUILDING BLOCK WORD|LOVE BUILDING BLOCK WORD|RECIPE BOX WITH METAL HEART|DOORMAT NEW "
         "ENGLAND|JAM MAKING SET WITH JARS|RED COAT RACK PARIS FASHION|YELLOW COAT RACK PARIS FASHION|BLUE "
         "COAT RACK PARIS FASHION|BATH BUILDING BLOCK WORD|ALARM CLOCK BAKELIKE PINK|ALARM CLOCK BAKELIKE RED|"
         "ALARM CLOCK BAKELIKE GREEN|PANDA AND BUNNIES STICKER SHEET|STARS GIFT TAPE|INFLATABLE POLITICAL "
         "GLOBE|VINTAGE HEADS AND TAILS CARD GAME|SET/2 RED RETROSPOT TEA TOWELS|ROUND SNACK BOXES SET OF4 "
         "WOODLAND|SPACEBOY LUNCH BOX|LUNCH BOX I LOVE LONDON|CIRCUS PARADE LUNCH BOX|CHARLOTTE BAG DOLLY "
         "GIRL DESIGN|RED TOADSTOOL LED NIGHT LIGHT|REGENCY CAKESTAND 3 TIER|PARTY BUNTING|JUMBO BAG RED "
         "RETROSPOT|LUNCH BAG RED RETROSPOT|WHITE METAL LANTERN, LARGE").split("|")
COUNTRIES = ["United Kingdom"] * 18 + ["France", "Germany", "EIRE", "Spain", "Netherlands", "Belgium",
                                         "Switzerland", "Portugal", "Australia", "Norway"]
QUANTITIES = [1, 1, 2, 2, 3, 4, 6, 6, 8, 10, 12, 12, 12, 24, 24, 36, 48]


@dataclass
class Stats:
    rows: int = 0
    invoices: int = 0
    sales: int = 0  # invoices with a customer and a total above 0.00
    cancellations: int = 0
    anonymous_rows: int = 0
    zero_invoices: int = 0  # invoices with a customer whose lines are all 0.00: the only ones refused
    zero_rows: int = 0
    customers: int = 0
    straddling: int = 0  # invoices whose lines straddle a minute
    returns_without_sale: int = 0  # rows of returns of customers who bought nothing in the file
    positive_cancellations: int = 0  # cancellations written with positive quantities


def _price_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def generate(out: Path, rows: int = FULL_ROWS, seed: int = 2010, customers: int | None = None,
             forms: tuple[str, ...] = ("us", "iso", "uk")) -> tuple[dict[str, Path], Stats]:
    """Write the year in each date form (``out/online-retail-<form>.csv``); the files and what they hold."""
    rng = random.Random(seed)
    quirks = random.Random(seed + 1)  # the quirks of issue 25 drawn apart: the other invoices are drawn as before
    n_customers = customers or max(20, round(FULL_CUSTOMERS * rows / FULL_ROWS))
    ids = rng.sample(range(12346, 18288), min(n_customers, 18288 - 12346))
    country = {c: rng.choice(COUNTRIES) for c in ids}
    weights = [1 / (i + 1) ** 0.6 for i in range(len(ids))]  # a few wholesalers buy often
    skus = []
    for i in range(3684):
        code = f"{rng.randint(10002, 90214)}{rng.choice(['', '', '', 'A', 'B', 'C'])}"
        skus.append((code, f"{rng.choice(WORDS)}" + ("" if i < len(WORDS) else f" {i % 97}"),
                     rng.choice([29, 42, 55, 65, 85, 125, 145, 165, 195, 210, 250, 295, 375, 425, 495, 795, 1275])))
    skus = list({code: (code, name, price) for code, name, price in skus}.values())
    open_minutes = DAYS * (CLOSE - OPEN)
    gap = open_minutes / (rows / LINES_PER_INVOICE)
    stats = Stats(customers=len(ids))
    paths = {form: out / f"online-retail-{form}.csv" for form in forms}
    out.mkdir(parents=True, exist_ok=True)
    handles = {form: path.open("w", newline="", encoding="utf-8") for form, path in paths.items()}
    writers = {form: csv.writer(handle, lineterminator="\n") for form, handle in handles.items()}
    for w in writers.values():
        w.writerow(HEADER)
    number = 536365
    pending: list = []  # (open minute, seq, customer, lines) of cancellations to come
    seq = 0
    minute = 0.0

    def when(m: float) -> datetime:
        m = min(int(m), open_minutes - 1)
        return START + timedelta(days=m // (CLOSE - OPEN), minutes=OPEN + m % (CLOSE - OPEN))

    def emit(invoice: str, lines: list, at: datetime, customer: str, where: str, later: int | None = None) -> None:
        """``later``: the lines from this one on are written a minute on (the invoice straddles a minute)."""
        texts = {form: FORMS[form](at) for form in forms}
        nexts = {form: FORMS[form](at + timedelta(minutes=1)) for form in forms}
        for i, (sku, name, qty, price) in enumerate(lines):
            shown = nexts if later is not None and i >= later else texts
            for form, w in writers.items():
                w.writerow([invoice, sku, name, qty, shown[form], _price_text(price), customer, where])
        stats.rows += len(lines)
        stats.invoices += 1

    step = 0.0
    while stats.rows < rows:
        minute += step  # the first invoice opens the year (1 December 2010, 8:26)
        step = rng.expovariate(1 / gap)
        while pending and pending[0][0] <= minute and stats.rows < rows:
            due, _, customer, lines = heapq.heappop(pending)
            lines = lines[:rows - stats.rows]
            number += 1
            if stats.cancellations % 10 == 0:  # one in ten exported with positive quantities
                lines = [(sku, name, -qty, price) for sku, name, qty, price in lines]
                stats.positive_cancellations += 1
            emit(f"C{number}", lines, when(due), str(customer), country[customer])
            stats.cancellations += 1
        if quirks.random() < 0.004 and stats.rows < rows:  # a return of a customer whose sale predates the file
            sku, name, price = quirks.choice(skus)
            stranger = 18300 + quirks.randint(0, 99)
            number += 1
            emit(f"C{number}", [(sku, name, -quirks.choice(QUANTITIES), price)], when(minute), str(stranger),
                 "United Kingdom")
            stats.returns_without_sale += 1
        if stats.rows >= rows:
            break
        number += 1
        anonymous = rng.random() < 0.2
        customer = None if anonymous else rng.choices(ids, weights)[0]
        zero = rng.random() < 0.004
        lines, total = [], 0
        for _ in range(max(1, min(int(rng.expovariate(1 / LINES_PER_INVOICE)) + 1, 120))):
            sku, name, price = rng.choice(skus)
            qty = rng.choice(QUANTITIES)
            if zero:
                price = 0
            elif rng.random() < 0.01:
                price = 0  # a free line in a paid invoice (UCI has them)
            elif qty >= 12 and rng.random() < 0.5:
                price = max(1, price * 85 // 100)  # a bulk price: another unit price for the same SKU
            if total + qty * price > MAX_INVOICE:
                break
            total += qty * price
            lines.append((sku, name, qty, price))
        lines = lines[:rows - stats.rows]
        at = when(minute)
        later = None
        if len(lines) >= 2 and quirks.random() < 0.03:  # its lines straddle a minute
            later = quirks.randint(1, len(lines) - 1)
            stats.straddling += 1
        emit(str(number), lines, at, "" if anonymous else str(customer), country.get(customer, "United Kingdom"),
             later)
        if anonymous:
            stats.anonymous_rows += len(lines)
            continue
        if sum(q * p for _, _, q, p in lines) == 0:
            stats.zero_invoices += 1
            stats.zero_rows += len(lines)
            continue
        stats.sales += 1
        paid = [line for line in lines if line[3] > 0]
        if rng.random() < 0.021:  # cancelled later: some of its paid lines, some or all of each
            chosen = rng.sample(paid, rng.randint(1, min(len(paid), 4)))
            back = [(sku, name, -rng.randint(1, qty), price) for sku, name, qty, price in chosen]
            seq += 1
            delay = rng.choice([rng.uniform(1, 30), rng.uniform(30, 600), rng.uniform(600, 15 * (CLOSE - OPEN))])
            if minute + delay < open_minutes:
                heapq.heappush(pending, (minute + delay, seq, customer, back))
    for handle in handles.values():
        handle.close()
    return paths, stats


# -- the import of each form, compared ------------------------------------------------------------------
def run_import(path: Path, db: Path, source: str = "uk") -> dict:
    """``loyalty import`` of one file into a new database as a child process: its summary, wall time and peak
    memory (the child's rusage)."""
    env = dict(os.environ, LOYALTY_DB=str(db), LOYALTY_NOW=NOW, TZ="UTC")
    args = [sys.executable, "-m", "loyaltycli", "import", str(path), "--preset", "uci-online-retail",
            "--source", source, "--enroll-unknown", "--json", "--rejects", str(path) + ".rejects.csv"]
    import tempfile

    subprocess.run([sys.executable, "-m", "loyaltycli", "init"], env=env, check=True, capture_output=True)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # the child's own rusage: its peak RSS
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        child.returncode = code
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code not in (0, 3):
        raise SystemExit(f"import of {path} failed ({code}): {stderr.decode()[-500:]}")
    summary = json.loads(stdout)
    summary["seconds"] = round(elapsed, 1)
    summary["peak_mib"] = usage.ru_maxrss // 1024
    summary["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    return summary


def ledger_rows(db: Path, folder: Path) -> list[list[str]]:
    """The ledger as `loyalty export` writes it."""
    env = dict(os.environ, LOYALTY_DB=str(db), LOYALTY_NOW=NOW, TZ="UTC")
    subprocess.run([sys.executable, "-m", "loyaltycli", "export", str(folder)], env=env, check=True,
                   capture_output=True)
    with (folder / "ledger.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the files (and databases)")
    parser.add_argument("--rows", type=int, default=FULL_ROWS)
    parser.add_argument("--seed", type=int, default=2010)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--run", action="store_true", help="import each form into its own database and compare")
    args = parser.parse_args()
    started = time.perf_counter()
    paths, stats = generate(args.out, args.rows, args.seed, args.customers)
    print(f"generated {stats.rows:,} rows x 3 forms in {time.perf_counter() - started:.1f} s: {asdict(stats)}")
    if not args.run:
        return
    ledgers = {}
    for form, path in paths.items():
        db = args.out / f"{form}.db"
        db.unlink(missing_ok=True)
        Path(str(path) + ".rejects.csv").unlink(missing_ok=True)
        summary = run_import(path, db)
        print(f"{form}: {summary['seconds']} s ({summary['cpu_seconds']} s CPU), peak {summary['peak_mib']} MiB, "
              + ", ".join(f"{k} {summary[k]}" for k in ("read", "imported", "anonymous", "returns_without_sale",
                                                         "rejected", "sales",
                                                         "refunds", "refunds_linked", "refunds_unlinked",
                                                         "customers_enrolled", "points_awarded")))
        ledgers[form] = ledger_rows(db, args.out / f"export-{form}")
    same = ledgers["us"] == ledgers["iso"] == ledgers["uk"]
    header = ledgers["us"][0]
    cid, delta = header.index("customer_id"), header.index("delta")
    totals: dict[str, int] = {}
    for row in ledgers["us"][1:]:
        totals[row[cid]] = totals.get(row[cid], 0) + int(row[delta])
    below = sum(1 for v in totals.values() if v < 0)
    print(f"ledgers identical: {same} ({len(ledgers['us']) - 1:,} rows); customers below zero: {below}")


if __name__ == "__main__":
    main()
