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


def _customers(cli, n):
    for i in range(n):
        assert cli("enroll", f"Person {i}", "--email", f"p{i}@example.ie", "--at", "2026-01-01T09:00:00").exit_code == 0


# -- 8. two imports of different sources naming the same customers, at once ----------------------------------
def test_two_imports_at_once_both_complete_and_pay_each_milestone_once(cli, db_path, tmp_path):
    url = str(db_path)
    _customers(cli, 12)
    files = []
    for source in ("shop1", "shop2"):
        path = tmp_path / f"{source}.csv"
        lines = ["receipt_id,timestamp,customer,amount"]
        for day in range(1, 8):
            for i in range(12):
                lines.append(f"{source}-{day}-{i},2026-03-{day:02d}T10:{i:02d}:00,C{i + 1:06d},100.00")
        path.write_text("\n".join(lines) + "\n")
        files.append((source, path))
    procs = [start(url, "import", str(path), "--source", source, "--batch-rows", "6") for source, path in files]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err), (source, path) in zip(procs, results, files):
        rejects = path.with_name(path.name + ".rejects.csv")
        assert proc.returncode == 0, err + (rejects.read_text()[:600] if rejects.exists() else "")
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = conn.execute(text("SELECT customer_id, count(*) FROM ledger WHERE bonus_key = 'milestone:2026' "
                                   "GROUP BY customer_id")).all()
        sales = conn.execute(text("SELECT count(*) FROM purchase")).scalar()
    engine.dispose()
    assert sales == 2 * 7 * 12
    assert sorted(n for _id, n in counts) == [1] * 12


# -- 7. a customer merged while an import runs gets no more of the file's sales --------------------------------
def test_a_customer_merged_during_an_import_receives_nothing_after(cli, db_path, tmp_path):
    url = str(db_path)
    _customers(cli, 2)
    path = tmp_path / "till.csv"
    lines = ["receipt_id,timestamp,customer,amount"]
    for i in range(1200):
        lines.append(f"R-{i},2026-04-{1 + i // 600:02d}T{8 + i // 60 % 10:02d}:{i % 60:02d}:00,p1@example.ie,10.00")
    path.write_text("\n".join(lines) + "\n")
    engine = create_engine(url)
    importing = start(url, "import", str(path), "--batch-rows", "3")

    def sales():
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM purchase")).scalar()

    wait_until(lambda: sales() >= 9)
    merge = subprocess.run([sys.executable, "-m", "loyaltycli", "--db", url, "customer", "merge", "C000001",
                            "C000002", "--yes"], capture_output=True, text=True, timeout=60)
    assert merge.returncode == 0, merge.stderr
    _out, err = importing.communicate(timeout=120)
    assert sales() < 1200, "the import ended before the merge: nothing was tested"
    assert importing.returncode in (3, 4), err
    with engine.connect() as conn:
        after = conn.execute(text(
            "SELECT count(*) FROM ledger WHERE customer_id = 2 AND id > (SELECT id FROM ledger WHERE customer_id = 2 "
            "AND kind = 'merge_out')")).scalar()
        balance = conn.execute(text("SELECT sum(delta) FROM ledger WHERE customer_id = 2")).scalar()
    engine.dispose()
    assert (after, balance) == (0, 0)
    assert cli("db", "check").exit_code == 0


# -- 14. `init` and `db copy` never print a password given in the URL ---------------------------------------------
def test_init_and_db_copy_mask_a_password_given_as_a_url_parameter(cli, db_path, tmp_path):
    url = str(db_path) + ("&" if "?" in str(db_path) else "?") + "password=s3cret"
    result = cli("--db", url, "init")
    assert result.exit_code == 0, result.stderr
    assert "s3cret" not in result.stdout and "password=***" in result.stdout
    shop = tmp_path / "shop.db"
    assert cli("--db", str(shop), "init").exit_code == 0
    result = cli("--db", str(shop), "db", "copy", "--to", url)
    assert "s3cret" not in result.stdout + result.stderr
