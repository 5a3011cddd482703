"""Counter latency: whole-process time of one-shot commands against their floors, and the counter mode.

Run from a checkout with the project's venv:  python benchmarks/bench_counter.py [--runs 30]

Method
- A demo database (``loyalty init --demo``) in a temporary folder; LOYALTY_DB points at it.
- Each one-shot command and its floor (the bare interpreter importing the library the command cannot
  do without) run as subprocesses, interleaved round by round in a shuffled order, so that a busy
  machine slows both alike; the figures are the median wall time and the median CPU time (user +
  system, from getrusage) of ``--runs`` rounds after warm-up rounds. On a shared machine the CPU
  time is the steadier of the two.
- Bytecode caching is on (PYTHONDONTWRITEBYTECODE is removed), as for an installed package.
- A reference row times the floor itself with Python's cyclic garbage collector paused, as
  ``loyalty`` pauses it while it starts (loyaltycli/startup.py): the fair floor for that trick.
- Counter mode: ``run_line`` of the warm process (engine open, schema checked, Typer command built)
  timed in-process for ``balance`` and ``purchase``; median and 95th percentile.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LOYALTY = str(BIN / "loyalty") if (BIN / "loyalty").exists() else None


def loyalty(*args: str) -> list[str]:
    return [LOYALTY, *args] if LOYALTY else [sys.executable, "-m", "loyaltycli", *args]


def floor(module: str) -> list[str]:
    return [sys.executable, "-c", f"import {module}"]


def cases(receipts) -> list[tuple[str, list[str] | None, list[str]]]:
    """(name, command or None for a floor-only row, floor) in the order of the report."""
    return [
        ("loyalty --help", loyalty("--help"), floor("typer")),
        ("loyalty --version", loyalty("--version"), floor("typer")),
        # In another language: the catalog is opened when the first message is translated.
        ("LOYALTY_LANG=pt_PT loyalty --help", ["env", "LOYALTY_LANG=pt_PT", *loyalty("--help")], floor("typer")),
        ("loyalty balance C000001", loyalty("balance", "C000001"), floor("sqlmodel")),
        ("LOYALTY_LANG=pt_PT loyalty balance C000001", ["env", "LOYALTY_LANG=pt_PT", *loyalty("balance", "C000001")],
         floor("sqlmodel")),
        ("loyalty purchase C000001 12.50", lambda: loyalty("purchase", "C000001", "12.50",
                                                           "--receipt", next(receipts)), floor("sqlmodel")),
        # For reference: the floor itself with the cyclic GC paused as `loyalty` pauses it at startup.
        ("import sqlmodel, GC paused", [sys.executable, "-c", "import gc; gc.disable(); import sqlmodel"],
         floor("sqlmodel")),
    ]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], env: dict) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``argv``."""
    cpu = _cpu()
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed, _cpu() - cpu


def whole_process(env: dict, runs: int, warmup: int) -> list[tuple[str, tuple, str, tuple]]:
    """(command, (median wall, median CPU), floor, (median wall, median CPU)) per case."""
    counter = iter(f"BENCH-{i}" for i in range(10**6))
    table = cases(counter)
    jobs = {}
    for name, cmd, base in table:
        jobs[name] = cmd
        jobs["floor: " + " ".join(base[1:])] = base
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}
    for round_ in range(warmup + runs):
        order = list(jobs)
        random.shuffle(order)
        for name in order:
            argv = jobs[name]() if callable(jobs[name]) else jobs[name]
            took = run(argv, env)
            if round_ >= warmup:
                times[name].append(took)
    def medians(samples):
        return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)

    out = []
    for name, _cmd, base in table:
        floor_name = "floor: " + " ".join(base[1:])
        out.append((name, medians(times[name]), " ".join(["python", *base[1:]]), medians(times[floor_name])))
    return out


def counter_latency(runs: int) -> list[tuple[str, float, float, float]]:
    """Per-command time of the warm counter (in this process, against LOYALTY_DB)."""
    from loyaltycli.cli.dispatch import run_line

    lines = {
        "balance C000001": lambda i: "balance C000001",
        "purchase C000001 12.50": lambda i: f"purchase C000001 12.50 --receipt CNT-{i}",
    }
    out = []
    for label, make in lines.items():
        for i in range(5):  # warm: first command builds the Typer command and opens the engine
            code, text = run_line(make(-1 - i))
            assert code == 0, text
        samples, cpu = [], []
        for i in range(runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            code, text = run_line(make(i))
            samples.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert code == 0, text
        samples.sort()
        out.append((label, statistics.median(samples), samples[int(0.95 * (len(samples) - 1))],
                    statistics.median(cpu)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="measured rounds per command (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured rounds first (default 3)")
    parser.add_argument("--counter-runs", type=int, default=300, help="run_line calls per counter command")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench_counter_"))
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["LOYALTY_DB"] = str(workdir / "bench.db")
    env.pop("LOYALTY_NOW", None)
    try:
        subprocess.run(loyalty("init", "--demo"), env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
              f"{args.runs} rounds, median wall time")
        print(f"{'command':31} {'wall ms':>8} {'cpu ms':>7}  {'floor':25} {'wall ms':>8} {'cpu ms':>7}"
              f"  {'ratio wall':>10} {'ratio cpu':>9}")
        for name, took, base, base_took in whole_process(env, args.runs, args.warmup):
            print(f"{name:31} {took[0] * 1000:8.1f} {took[1] * 1000:7.1f}  {base:25} {base_took[0] * 1000:8.1f}"
                  f" {base_took[1] * 1000:7.1f}  {took[0] / base_took[0]:10.2f} {took[1] / base_took[1]:9.2f}")
        os.environ["LOYALTY_DB"] = env["LOYALTY_DB"]
        print(f"\ncounter mode (warm process, run_line, {args.counter_runs} calls each)")
        print(f"{'line':31} {'median ms':>10} {'p95 ms':>8} {'cpu ms':>8}")
        for label, median, p95, cpu in counter_latency(args.counter_runs):
            print(f"{label:31} {median * 1000:10.2f} {p95 * 1000:8.2f} {cpu * 1000:8.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
