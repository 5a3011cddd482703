"""PostgreSQL tills (issue 16, item 6): a command re-reads its customer (or sale) under the row lock, so
a merge or forget that another till committed meanwhile is respected. Real processes, real row locks.

Skipped without LOYALTY_TEST_PG_URL (like tests/test_postgres.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.skipif(not os.environ.get("LOYALTY_TEST_PG_URL"), reason="needs LOYALTY_TEST_PG_URL")


def start(url, *args):
    return subprocess.Popen([sys.executable, "-m", "loyaltycli", "--db", url, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "LOYALTY_BUSY_TIMEOUT": "60"})


def waiting(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar()


def wait_until(predicate, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize("first, second, refused", [
    (("customer", "merge", "C000001", "C000002", "--yes"), ("purchase", "C000002", "10.00"), "was merged into C000001"),
    (("customer", "forget", "C000002", "--yes"), ("purchase", "C000002", "10.00"), "was forgotten"),
    (("customer", "forget", "C000002", "--yes"), ("customer", "edit", "C000002", "--name", "Brian Again"),
     "was forgotten"),
    (("customer", "merge", "C000001", "C000002", "--yes"), ("refund", "R-2"), None),
])
def test_a_till_respects_a_merge_or_forget_committed_while_it_waited(cli, db_path, first, second, refused):
    url = str(db_path)
    assert cli("enroll", "Aoife Byrne").exit_code == 0
    assert cli("enroll", "Brian Walsh", "--email", "brian@example.ie").exit_code == 0
    assert cli("purchase", "C000002", "40.00", "--receipt", "R-2").exit_code == 0
    engine = create_engine(url)
    holder = engine.connect()
    tx = holder.begin()
    holder.execute(text("SELECT id FROM customer WHERE id = 2 FOR UPDATE"))
    try:
        one = start(url, *first)
        wait_until(lambda: waiting(engine) >= 1)
        two = start(url, *second)  # looks the customer (or sale) up now, then waits behind `first`
        wait_until(lambda: waiting(engine) >= 2)
    finally:
        tx.rollback()
        holder.close()
    out1, err1 = one.communicate(timeout=60)
    out2, err2 = two.communicate(timeout=60)
    assert one.returncode == 0, err1
    with engine.connect() as conn:
        duplicate = conn.execute(text("SELECT coalesce(sum(delta), 0) FROM ledger WHERE customer_id = 2 "
                                      "AND kind NOT IN ('merge_out', 'forget')")).scalar()
        name = conn.execute(text("SELECT name FROM customer WHERE id = 2")).scalar()
    engine.dispose()
    if refused:
        assert two.returncode == 1 and refused in err2, err2
        assert duplicate == 50 + 40  # welcome + the sale before: nothing posted after the merge or forget
        assert name is None or first[1] == "merge"
    else:  # the refund follows its sale to the customer kept
        assert two.returncode == 0, err2
        assert duplicate == 50 + 40
        assert cli.json("balance", "C000001")["balance"] == 50 + 50 + 40 - 40
