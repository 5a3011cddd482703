"""Time `loyalty import` against `sqlite3 .import` of the same till file, and its peak memory.

    python benchmarks/bench_import.py                 # 1,000,000 rows (takes minutes)
    python benchmarks/bench_import.py --rows 100000   # quicker
    python benchmarks/bench_import.py --rows 100000 --keep /tmp/bench   # keep the files
    python benchmarks/bench_import.py --repeat 3      # each command three times, taking turns
    python benchmarks/bench_import.py --new-customers # nobody enrolled first: the import enrolls them all
    python benchmarks/bench_import.py --one-line      # one line per receipt
    python benchmarks/bench_import.py --unsorted      # the file's tenths in reverse order: the spill path
    python benchmarks/bench_import.py --shape all --rows 300000   # every shape, and the UCI-shaped year

Each shape prints the import, its write floor (bench_write_floor.py: the same rows stored with no rules,
same schema, same transactions) and `sqlite3 .import` of the same file, as CPU seconds and ratios; and the
bare read (bench_bare_read.py: Python reading the same file into rows and doing nothing else, libraries
loaded): floor + bare read, as a multiple of the floor ("least x"), is the least any import in Python could
cost.

It generates a deterministic till file (receipts of 1 to 5 lines over five years, about 2% of them
refunded later with an `-R` receipt at its own time), enrolls the customers it names (not timed), then runs each
command as a child process and reads the child's own rusage (os.wait4) for its peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
NOW = "2026-06-15T12:00:00+00:00"
SKUS = [(f"SKU-{i:04d}", random.Random(i).randint(150, 4500)) for i in range(400)]


def generate(path: Path, rows: int, customers: int, seed: int = 7, one_line: bool = False) -> int:
    """Write ``rows`` till lines; returns the number of receipts."""
    rng = random.Random(seed)
    start = datetime(2021, 6, 1, 8, 0, tzinfo=timezone.utc)
    span = (datetime(2026, 6, 1, tzinfo=timezone.utc) - start).total_seconds()
    # receipts are spread evenly over five years: average 3 lines each
    receipts = max(1, rows if one_line else rows // 3)
    step = span / receipts
    written = 0
    count = 0
    pending_refunds: list[tuple[float, str, str, str, int, str, str]] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["receipt_id", "timestamp", "customer", "amount", "channel", "sku", "quantity", "unit_price"])
        t = 0.0
        while written < rows:
            t += step * rng.uniform(0.5, 1.5)
            while pending_refunds and pending_refunds[0][0] <= t and written < rows:
                due, rid, _, key, cents, channel, sku = pending_refunds.pop(0)
                # the refund at its own time: the file stays in time order, as a till's export is
                when = (start + timedelta(seconds=due)).strftime("%Y-%m-%dT%H:%M:%S")
                out.writerow([rid + "-R", when, key, f"-{cents // 100}.{cents % 100:02d}", channel, sku, -1,
                              f"{cents // 100}.{cents % 100:02d}"])
                written += 1
            count += 1
            rid = f"B{count:08d}"
            when = (start + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S")
            key = f"7{rng.randrange(customers):012d}"
            channel = "store" if rng.random() < 0.8 else "online"
            n = 1 if one_line else min(rng.randint(1, 5), rows - written)
            first_price = None
            for _ in range(n):
                sku, price = SKUS[rng.randrange(len(SKUS))]
                qty = rng.randint(1, 3)
                first_price = first_price or (sku, price)
                out.writerow([rid, when, key, f"{qty * price // 100}.{qty * price % 100:02d}", channel, sku, qty,
                              f"{price // 100}.{price % 100:02d}"])
                written += 1
            if first_price and rng.random() < 0.02:  # a later refund of one unit of the first line
                sku, price = first_price
                pending_refunds.append((t + step * rng.randint(5, 500), rid, when, key, price, channel, sku))
                pending_refunds.sort()
    return count


def unsort(path: Path) -> None:
    """Rewrite the file with its tenths (cut at receipt boundaries) in reverse order: each receipt's lines
    stay together but the file is out of time order, so the import sets every receipt aside first
    (store/spill.py) before applying them oldest first."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    cuts = [0]
    for k in range(1, 10):
        i = len(body) * k // 10
        while 0 < i < len(body) and body[i][0] == body[i - 1][0]:
            i += 1
        cuts.append(i)
    cuts.append(len(body))
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(header)
        for low, high in reversed(list(zip(cuts, cuts[1:]))):
            out.writerows(body[low:high])


def enroll(db: Path, customers: int) -> None:
    """Enroll the customers the file names (card numbers), with their welcome bonus (not timed)."""
    os.environ["LOYALTY_DB"] = str(db)
    from sqlalchemy import insert

    from loyaltycli.shop import clock
    from loyaltycli.store.db import open_database
    from loyaltycli.store.models import Customer, LedgerEntry

    database = open_database(str(db))
    database.ensure_schema(create=True)  # a new file, as `loyalty init` makes it
    at = datetime(2021, 1, 1, tzinfo=timezone.utc)
    with database.session() as session:
        if not customers:
            return
        rows = [{"id": i + 1, "code": f"C{i + 1:06d}", "card": f"7{i:012d}", "consent": True, "status": "active",
                 "referral_code": secrets.token_hex(5).upper()[:8] + str(i), "enrolled_at": at}
                for i in range(customers)]
        session.execute(insert(Customer.__table__), rows)
        session.execute(insert(LedgerEntry.__table__), [
            {"customer_id": i + 1, "kind": "welcome", "delta": 50, "at": at, "expires_at": at + clock.DAY * 365,
             "bonus_key": "welcome", "note": "welcome bonus", "recorded_at": at} for i in range(customers)])
    database.engine.dispose()


def run_child(args: list[str], env: dict | None = None) -> tuple[float, int, int, float]:
    """(seconds, peak RSS in MB, exit code, CPU seconds) of one child process."""
    began = time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - began
    out = child.stdout.read().decode()
    err = child.stderr.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 3):
        print(out, err, file=sys.stderr)
    return elapsed, usage.ru_maxrss // 1024, code, usage.ru_utime + usage.ru_stime


SHAPES = {  # name: (one line per receipt, every customer new)
    "lines3": (False, False),
    "lines3-new": (False, True),
    "one-line": (True, False),
}


def clean(*paths: Path) -> None:
    for path in paths:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


def floor_child(folder: Path, rows: int, batch_rows: int) -> float:
    """bench_write_floor.py in a child of its own (the rows it holds would be every later child's peak RSS)."""
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("bench_write_floor.py")), str(folder),
                          "--file-rows", str(rows), "--batch-rows", str(batch_rows)],
                         check=True, capture_output=True, text=True).stdout
    return float(out.split("write floor: ")[1].split("s cpu")[0])


def bare_child(till: Path, uci: bool) -> float:
    """bench_bare_read.py over the same file: the whole process's CPU seconds (reading it and nothing else)."""
    bare = [sys.executable, str(Path(__file__).with_name("bench_bare_read.py")), str(till)]
    _, _, code, cpu = run_child(bare + ["--uci"] if uci else bare)
    if code != 0:  # a crashed child's CPU is not the bare read's
        raise SystemExit(f"bench_bare_read.py failed on {till} (exit {code})")
    return cpu


def run_shape(name: str, folder: Path, args) -> dict:
    """One shape: its file, the import (and its re-run), its write floor and `sqlite3 .import`, CPU seconds."""
    from loyaltycli.store.batches import BATCH_ROWS, LOCK_GAP_SECONDS, LONG_HOLD_SECONDS

    folder.mkdir(parents=True, exist_ok=True)
    till = folder / "till.csv"
    db, plain = folder / "loyalty.db", folder / "plain.db"
    clean(db, plain)
    began = time.perf_counter()
    loyalty = [sys.executable, "-m", "loyaltycli", "import", str(till), "--source", "bench", "--json"]
    env = dict(os.environ, LOYALTY_DB=str(db), LOYALTY_NOW=NOW)
    if name == "uci":
        from uci_year import generate as uci_generate

        files, _ = uci_generate(folder, rows=args.uci_rows, forms=("uk",))
        shutil.move(files["uk"], till)
        rows = args.uci_rows
        receipts = None
        subprocess.run([sys.executable, __file__, "--enroll-only", str(db), "--customers", "0"], check=True)
        loyalty += ["--preset", "uci-online-retail", "--enroll-unknown"]
        env["TZ"] = "UTC"
    else:
        one_line, new = SHAPES[name]
        rows = args.rows
        receipts = generate(till, rows, args.customers, one_line=one_line)
        if args.unsorted:  # in a child: the file held in memory would become every later child's peak RSS
            subprocess.run([sys.executable, __file__, "--unsort-only", str(till)], check=True)
        # in a child of its own: a forked child's peak RSS starts from its parent's, so the parent stays small
        subprocess.run([sys.executable, __file__, "--enroll-only", str(db), "--customers",
                        str(0 if new else args.customers)], check=True)
        if new:
            loyalty.append("--enroll-unknown")
    print(f"[{name}] generated {rows:,} rows ({receipts or '?'} receipts, {till.stat().st_size / 1e6:.0f} MB) "
          f"in {time.perf_counter() - began:.1f}s", flush=True)
    template = folder / "enrolled.db"
    shutil.copyfile(db, template)
    # The machine's speed drifts from minute to minute: the commands take turns (A B A B), and each one's
    # fastest run (by CPU time) is compared with the other's.
    sqlite_runs, import_runs, floor_runs, bare_runs = [], [], [], []
    for _ in range(args.repeat):
        clean(db, plain)
        shutil.copyfile(template, db)
        sqlite_runs.append(run_child(["sqlite3", str(plain), ".mode csv", f".import {till} till"]))
        import_runs.append(run_child(loyalty, env))
        # the floor in the import's transactions: it commits every LONG_HOLD_SECONDS (or BATCH_ROWS rows)
        # when no till waits, so about one transaction per that much of its wall time
        commits = max(-(-rows // BATCH_ROWS), round(import_runs[-1][0] / (LONG_HOLD_SECONDS + LOCK_GAP_SECONDS)))
        floor_runs.append(floor_child(folder, rows, max(1, rows // max(1, commits))))
        bare_runs.append(bare_child(till, name == "uci"))
    sqlite_s, sqlite_mb, _, sqlite_cpu = min(sqlite_runs, key=lambda run: run[3])
    import_s, import_mb, code, import_cpu = min(import_runs, key=lambda run: run[3])
    floor_cpu = min(floor_runs)
    bare_cpu = min(bare_runs)
    rerun_s, rerun_mb, rerun_code, rerun_cpu = run_child(loyalty, env)

    import sqlite3

    con = sqlite3.connect(db)
    purchases, items, ledger_rows, points = con.execute(
        "SELECT (SELECT count(*) FROM purchase), (SELECT count(*) FROM purchase_item), (SELECT count(*) FROM ledger), "
        "(SELECT sum(delta) FROM ledger)").fetchone()
    con.close()
    if args.repeat > 1:
        print(f"[{name}] {args.repeat} runs each; CPU seconds: sqlite3 {sorted(round(r[3], 2) for r in sqlite_runs)}, "
              f"loyalty {sorted(round(r[3], 2) for r in import_runs)}, floor {sorted(round(r, 2) for r in floor_runs)}, "
              f"bare read {sorted(round(r, 2) for r in bare_runs)}")
    print(f"[{name}] sqlite3 .import     : {sqlite_s:7.2f}s (cpu {sqlite_cpu:6.2f}s)  peak RSS {sqlite_mb} MB")
    print(f"[{name}] write floor         :          (cpu {floor_cpu:6.2f}s)  {floor_cpu / sqlite_cpu:.1f}x sqlite3")
    print(f"[{name}] bare read           :          (cpu {bare_cpu:6.2f}s)  floor + bare read = "
          f"{(floor_cpu + bare_cpu) / floor_cpu:.2f}x floor: the least any import in Python could cost")
    print(f"[{name}] loyalty import      : {import_s:7.2f}s (cpu {import_cpu:6.2f}s)  peak RSS {import_mb} MB  "
          f"exit {code}  {import_cpu / sqlite_cpu:.1f}x sqlite3, {import_cpu / floor_cpu:.2f}x floor")
    print(f"[{name}] loyalty import again: {rerun_s:7.2f}s (cpu {rerun_cpu:6.2f}s)  peak RSS {rerun_mb} MB  "
          f"exit {rerun_code}  (everything skipped)")
    print(f"[{name}] database: {purchases:,} purchases, {items:,} line items, {ledger_rows:,} ledger rows, "
          f"{points:,} points", flush=True)
    return {"shape": name, "rows": rows, "sqlite": sqlite_cpu, "floor": floor_cpu, "import": import_cpu,
            "bare": bare_cpu, "peak_mb": import_mb, "rerun": rerun_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--uci-rows", type=int, default=541_909, help="rows of the UCI-shaped year (shape uci)")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="folder to keep the files in")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (the fastest counts)")
    parser.add_argument("--shape", action="append", choices=[*SHAPES, "uci", "all"],
                        help="lines3 (default), lines3-new, one-line, uci (the UCI-shaped year), all; repeatable")
    parser.add_argument("--new-customers", action="store_true",
                        help="enroll nobody first: the import enrolls every customer (--shape lines3-new)")
    parser.add_argument("--one-line", action="store_true", help="one line per receipt (--shape one-line)")
    parser.add_argument("--unsorted", action="store_true",
                        help="the file's tenths in reverse order (out of time order: the spill path)")
    parser.add_argument("--enroll-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--unsort-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.unsort_only:
        unsort(args.unsort_only)
        return
    if args.enroll_only:
        enroll(args.enroll_only, args.customers)
        return
    shapes = args.shape or []
    if args.new_customers:
        shapes.append("lines3-new")
    if args.one_line:
        shapes.append("one-line")
    if "all" in shapes:
        shapes = [*SHAPES, "uci"]
    shapes = list(dict.fromkeys(shapes or ["lines3"]))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_import_"))
    os.environ["LOYALTY_NOW"] = NOW
    results = [run_shape(name, folder / name if len(shapes) > 1 else folder, args) for name in shapes]
    print(f"\n{'shape':12} {'rows':>9} {'sqlite3 s':>9} {'floor s':>8} {'import s':>9} {'x sqlite3':>9} "
          f"{'x floor':>8} {'floor x':>8} {'bare s':>7} {'least x':>8} {'peak MB':>8}")
    for r in results:
        print(f"{r['shape']:12} {r['rows']:>9,} {r['sqlite']:>9.2f} {r['floor']:>8.2f} {r['import']:>9.2f} "
              f"{r['import'] / r['sqlite']:>9.1f} {r['import'] / r['floor']:>8.2f} {r['floor'] / r['sqlite']:>8.1f} "
              f"{r['bare']:>7.2f} {(r['floor'] + r['bare']) / r['floor']:>8.2f} {r['peak_mb']:>8}")
    print(machine())
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


def machine() -> str:
    """The machine the figures were taken on: its processor, CPUs, load, and how fast it runs plain Python
    (the ratios to `sqlite3` move with that: a machine slow at Python beside C gives larger ones)."""
    model = "unknown processor"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    began = time.process_time()
    total = 0
    for i in range(5_000_000):
        total += i
    loop = time.process_time() - began
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"machine: {model}, {os.cpu_count()} CPUs, load {load:.1f}; Python {sys.version.split()[0]}, "
            f"5,000,000 additions in a loop {loop:.2f} s CPU")


if __name__ == "__main__":
    main()
