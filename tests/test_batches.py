"""store/batches.py: an import's transactions end when full, when they have held the lock long enough, or at
the end of the file, and the next one starts no sooner than the gap (a fake clock; the real lock wait of
a till during an import is measured with processes in tests/test_import_tills.py)."""

from __future__ import annotations

import pytest

from loyaltycli.store import batches

pytestmark = [pytest.mark.pacing,  # the real LOCK_GAP_SECONDS (tests/conftest.py sets it to zero elsewhere)
              pytest.mark.dialect_free("a fake clock and fake transactions: no database")]


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


class Tx:
    """A transaction that records how it ended."""

    log: list[str] = []

    def __enter__(self):
        Tx.log.append("begin")
        return "session"

    def __exit__(self, kind, exc, tb):
        Tx.log.append("rollback" if kind else "commit")
        return False


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(batches, "time", fake)
    Tx.log = []
    return fake


def paced(**kwargs):
    ends = []
    transactions = batches.Transactions(Tx, begin=lambda s: Tx.log.append("first"),
                                        end=lambda s, receipts, last: ends.append((receipts, last)), **kwargs)
    return transactions, ends


def test_a_transaction_ends_when_full_when_it_held_the_lock_long_enough_and_at_the_end(clock):
    transactions, ends = paced(batch_rows=100, hold_seconds=0.3)
    assert transactions.enter() == "session" and Tx.log == ["begin", "first"]
    assert transactions.done(60, 20, False) is False          # 60 rows, 0 s: go on
    assert transactions.done(50, 10, False) is True           # 110 rows: full
    assert ends == [(30, False)] and transactions.kept_receipts == 30 and not transactions.open
    clock.now += 1  # the gap has passed: no pause
    transactions.enter()
    clock.now += 0.31
    assert transactions.done(5, 2, False) is True             # held the lock 0.31 s
    transactions.enter()
    assert clock.slept == [batches.LOCK_GAP_SECONDS]          # started right after a commit: waited the gap
    assert transactions.done(1, 1, True) is True              # the file's end
    assert ends == [(30, False), (2, False), (1, True)] and transactions.kept_receipts == 33
    assert Tx.log == ["begin", "first", "commit"] * 3


def test_one_transaction_when_the_hold_is_infinite_and_a_failure_rolls_back(clock):
    transactions, ends = paced(batch_rows=10**9, hold_seconds=float("inf"))
    transactions.enter()
    clock.now += 60
    assert transactions.done(1000, 10, False) is False
    with pytest.raises(ValueError):
        transactions.abort(ValueError("disk full"))
    assert Tx.log == ["begin", "first", "rollback"] and ends == [] and transactions.kept_receipts == 0


def test_with_a_waiting_check_a_transaction_grows_while_nobody_waits_and_ends_when_a_writer_waits(clock):
    waits = []
    transactions, ends = paced(batch_rows=10**9, hold_seconds=2.0, waiting=lambda: bool(waits))
    transactions.enter()
    assert transactions.done(10, 1, False) is True            # the first block: its own transaction
    clock.now += 1
    transactions.enter()
    clock.now += 1.0
    assert transactions.done(10, 1, False) is False           # held 1 s, nobody waits: go on
    waits.append("till")
    assert transactions.done(10, 1, False) is True            # a till waits: committed at once
    waits.clear()
    clock.now += 1
    transactions.enter()
    clock.now += 2.0
    assert transactions.done(10, 1, False) is True            # held the long limit
    assert ends == [(1, False), (2, False), (1, False)] and transactions.commits == 3


def test_a_writer_waiting_for_the_sqlite_lock_is_seen_by_the_import(tmp_path):
    from loyaltycli.store.waiters import WriteWaiters

    path = tmp_path / "loyalty.db"
    importer, till = WriteWaiters(path), WriteWaiters(path)
    with till.waiting():  # no file yet (no import asked): nothing said, nothing made
        assert not (tmp_path / "loyalty.db-wait").exists()
    assert importer.any() is False  # the import makes the file (0600)
    assert (tmp_path / "loyalty.db-wait").stat().st_mode & 0o777 == 0o600
    with till.waiting():
        assert importer.any() is True
    assert importer.any() is False
    assert WriteWaiters(None).any() is False  # not a file database: nobody is said to wait


def test_a_link_planted_as_the_wait_file_is_not_followed(tmp_path):
    from loyaltycli.store.waiters import WriteWaiters

    target = tmp_path / "elsewhere"
    (tmp_path / "loyalty.db-wait").symlink_to(target)
    importer = WriteWaiters(tmp_path / "loyalty.db")
    assert importer.any() is False  # nobody is said to wait; the link is refused, not followed
    assert not target.exists()
