"""A till's wait while the back office works: real `loyalty purchase` processes timed during an import, a
backup and a restore, against the same command on an idle database.

Run from a checkout with the project's venv:  python benchmarks/bench_till_wait.py [--rows 60000] [--sales 40]
On PostgreSQL (an empty database; no backup and restore phases, which are SQLite's file copies):
    python benchmarks/bench_till_wait.py --db postgresql+psycopg://USER@127.0.0.1:PORT/DBNAME

Method
- A database in a temporary folder: `loyalty init`, then a till file of ``--rows`` rows (bench_import's
  generator: ~3 lines a receipt, card-number customers) imported with --enroll-unknown (not timed).
- A "till" runs ``--sales`` `loyalty purchase CUSTOMER 12.50` processes one after another; each one's wall
  time, start of the process to its exit, is its wait (interpreter start-up included, as at a real till).
- Phases, in this order: idle; an import of another file of ``--rows`` rows (under another --source)
  running; idle; `loyalty backup` run over and over; `loyalty restore --yes` of that backup run over and
  over; idle; a process that only burns CPU ("cpu"). The idle samples are pooled: they are the baseline
  measured in the same run, on the same (possibly loaded) machine, around the busy phases. The "cpu" phase
  tells how much of a busy phase's extra wait is the CPU the back-office process takes (on a machine with
  few, shared cores) rather than waiting for the database.
- Reported per phase: sales timed, median, 95th percentile and maximum wait, and the extra over the idle
  baseline (p95 - idle p95, max - idle max). A sale that fails is counted and shown (none should).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_import import generate  # noqa: E402  (the same till files as the import benchmark)

BIN = Path(sys.executable).parent
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "40"))  # backups (restores) run over and over this long
LOYALTY = [str(BIN / "loyalty")] if (BIN / "loyalty").exists() else [sys.executable, "-m", "loyaltycli"]


def run(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*LOYALTY, *args], env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"loyalty {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def sales(env: dict, count: int, customers: list[str], busy=None) -> tuple[list[float], int]:
    """``count`` purchases one after another (while ``busy()`` is true, if given); their waits, failures."""
    waits, failed = [], 0
    for n in range(count):
        if busy is not None and not busy():
            break
        began = time.perf_counter()
        result = run(env, "purchase", customers[n % len(customers)], "12.50", check=False)
        waits.append(time.perf_counter() - began)
        failed += result.returncode != 0
        if result.returncode != 0:
            print(f"  sale failed ({result.returncode}): {result.stderr.strip()}", file=sys.stderr)
    return waits, failed


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000, help="rows of each till file (default 60000)")
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--sales", type=int, default=40, help="sales timed per idle phase (default 40)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--db", help="a PostgreSQL URL of an empty database (default: a SQLite file in the folder)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-till-wait-"))
    env = {k: v for k, v in os.environ.items() if k not in ("LOYALTY_NOW", "PYTHONDONTWRITEBYTECODE")}
    env["LOYALTY_DB"] = args.db or str(folder / "shop.db")
    on_file = not args.db
    env["LOYALTY_OPERATOR"] = "bench"
    first, second = folder / "base.csv", folder / "tonight.csv"
    generate(first, args.rows, args.customers, seed=7)
    generate(second, args.rows, args.customers, seed=11)
    second.write_text(second.read_text().replace("\nB", "\nT"))  # tonight's receipts: ids of their own
    run(env, "init")
    began = time.perf_counter()
    run(env, "import", str(first), "--enroll-unknown", "--source", "base")
    size = f"database {os.path.getsize(folder / 'shop.db') / 1e6:.1f} MB" if on_file else "PostgreSQL"
    print(f"set-up: {args.rows} rows imported in {time.perf_counter() - began:.1f} s; {size}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    customers = [f"C{n:06d}" for n in range(1, 201)]
    if on_file:
        run(env, "backup", str(folder / "good.db"))

    phases: dict[str, list[float]] = {}
    failures: dict[str, int] = {}

    def record(name: str, waits: list[float], failed: int) -> None:
        phases.setdefault(name, []).extend(waits)
        failures[name] = failures.get(name, 0) + failed

    record("idle", *sales(env, args.sales, customers))
    # an import running: sales until it ends
    started = time.perf_counter()
    job = subprocess.Popen([*LOYALTY, "import", str(second), "--enroll-unknown", "--source", "tonight"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    record("import", *sales(env, 10_000, customers, busy=lambda: job.poll() is None))
    job.wait()
    import_seconds = time.perf_counter() - started
    if job.returncode not in (0, 3):
        raise SystemExit(f"the import failed: {job.stderr.read()}")
    job.stderr.close()
    record("idle", *sales(env, args.sales, customers))
    # backups and restores over and over, while the till sells
    for name, command in (("backup", ["backup", str(folder / "copy.db"), "--force"]),
                          ("restore", ["restore", str(folder / "good.db"), "--yes"])) if on_file else ():
        stop = time.perf_counter()
        jobs = 0

        def again() -> bool:
            nonlocal job, jobs
            if job.poll() is not None:
                jobs += 1
                if job.returncode != 0:
                    raise SystemExit(f"{name} failed: {job.stderr.read()}")
                job.stderr.close()
                if time.perf_counter() - stop > PHASE_SECONDS:
                    return False
                job = subprocess.Popen([*LOYALTY, *command], env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True)
            return True

        job = subprocess.Popen([*LOYALTY, *command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
        record(name, *sales(env, 10_000, customers, busy=again))
        job.wait()
        print(f"{name}: {jobs} runs while the till sold")
        for path in folder.glob("shop.db.before-restore-*"):
            path.unlink()
    record("idle", *sales(env, args.sales, customers))
    # a process that only burns CPU, as long as a backup phase: what the till loses to a busy CPU alone,
    # with no lock to wait for (the import, backup and restore each keep one CPU busy too)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    stop = time.perf_counter()
    record("cpu", *sales(env, 10_000, customers, busy=lambda: time.perf_counter() - stop < PHASE_SECONDS))
    burner.kill()
    burner.wait()

    idle = phases["idle"]
    print(f"import of {args.rows} rows took {import_seconds:.1f} s while the till sold")
    print(f"{'phase':<8} {'sales':>5} {'median':>8} {'p95':>8} {'max':>8} {'p95 extra':>10} {'max extra':>10} "
          f"{'failed':>6}")
    for name in ("idle", "cpu", "import", "backup", "restore"):
        if name not in phases:
            continue  # no backup and restore phases on PostgreSQL
        waits = phases[name]
        print(f"{name:<8} {len(waits):>5} {statistics.median(waits):>7.2f}s {p95(waits):>7.2f}s {max(waits):>7.2f}s "
              f"{p95(waits) - p95(idle):>+9.2f}s {max(waits) - max(idle):>+9.2f}s {failures.get(name, 0):>6}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if args.keep:
        print(f"kept: {folder}")
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
