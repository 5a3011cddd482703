"""Times the all-customer runs of the program types: expire, rebate, birthdays.

    python benchmarks/bench_programs.py [CUSTOMERS]   (default 100000)

Builds a temporary SQLite database: every customer has a welcome lot and one purchase; one in ten
has a lot that expired. Prints seconds per run. Not part of the test suite.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date

os.environ.setdefault("LOYALTY_NOW", "2026-06-15T12:00:00+00:00")
os.environ.setdefault("TZ", "UTC")

from sqlalchemy import insert  # noqa: E402

from loyaltycli.services import bonuses, expiry  # noqa: E402
from loyaltycli.shop import clock
from loyaltycli.store.db import Database  # noqa: E402
from loyaltycli.store.models import Customer, LedgerEntry, Purchase  # noqa: E402
from loyaltycli.store.program import load_program  # noqa: E402


def main(n: int) -> None:
    folder = tempfile.mkdtemp()
    db = Database(f"sqlite:///{folder}/bench.db")
    db.ensure_schema()
    t = clock.parse_timestamp
    with db.session() as s:
        s.execute(insert(Customer), [
            {"code": f"C{i:06d}", "name": f"N{i}", "referral_code": f"R{i:07d}", "enrolled_at": t("2025-01-01"),
             "birthday": date(1980 + i % 30, 1 + i % 12, 1 + i % 28), "consent": False, "status": "active"}
            for i in range(1, n + 1)])
        s.execute(insert(Purchase), [
            {"customer_id": i, "source": "bench", "receipt_id": f"R{i}", "at": t("2025-06-01"), "amount": 2500,
             "channel": "store"} for i in range(1, n + 1)])
        now = clock.now()
        s.execute(insert(LedgerEntry), [
            {"customer_id": i, "kind": "earn", "delta": 25, "at": t("2025-01-01" if i % 10 == 0 else "2026-01-01"),
             "expires_at": t("2026-01-01" if i % 10 == 0 else "2027-01-01"), "note": "", "recorded_at": now}
            for i in range(1, n + 1)])
    for label, run in (
        ("expire (first run)", lambda s: expiry.expire_all(s)),
        ("expire (again, nothing to do)", lambda s: expiry.expire_all(s)),
        ("rebate 2025 2%", lambda s: bonuses.rebate(s, load_program(s), 2025, "2")),
        ("birthdays --days 7 --award", lambda s: bonuses.birthdays(s, load_program(s), days=7, award=True)),
    ):
        started = time.perf_counter()
        with db.session() as s:
            result = run(s)
        elapsed = time.perf_counter() - started
        summary = getattr(result, "points", "")
        print(f"{label:32s} {elapsed:7.2f} s  ({n} customers; points {summary})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
