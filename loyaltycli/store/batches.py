"""An import's transactions, paced so that tills keep selling: each one is committed once it holds enough
rows, has held the write lock long enough, or (when the caller can tell) as soon as another writer waits
for the lock (at the end of a block), and the next one starts a little later, so a till waiting for the
lock (SQLite retries about every 0.1 s) gets it in between. Nobody waiting, transactions grow to
LONG_HOLD_SECONDS: each commit rewrites the index pages it touched into the WAL, so many small ones cost
an import of a million rows about as much as all of its rules."""

from __future__ import annotations

import time
from typing import Callable, ContextManager

from sqlalchemy.orm import Session

# rows per transaction at most
BATCH_ROWS = 100_000
# a transaction is committed once it has held the write lock this long (at the end of a block) ...
HOLD_SECONDS = 0.3
# ... or this long when the caller tells whether another writer waits (and nobody does)
LONG_HOLD_SECONDS = 10.0
# ... and the next one starts no sooner than this after
LOCK_GAP_SECONDS = 0.12


class Transactions:
    """Open one transaction at a time from ``transaction()`` (a context manager yielding a Session).

    ``begin(session)`` runs first in each one; ``end(session, receipts, last)`` last, before the commit.
    ``hold_seconds`` infinite: one transaction (a dry run, the caller's own). ``waiting()``, when given,
    tells whether another writer waits for the lock: the transaction is then committed at once (and the
    first one after its first block, so that a run's record and first receipts are soon kept)."""

    def __init__(self, transaction: Callable[[], ContextManager[Session]], *, batch_rows: int = BATCH_ROWS,
                 hold_seconds: float = HOLD_SECONDS, begin: Callable[[Session], None],
                 end: Callable[[Session, int, bool], None], waiting: Callable[[], bool] | None = None):
        self._transaction = transaction
        self.batch_rows = max(1, batch_rows)
        self.hold_seconds = hold_seconds
        self._begin, self._end = begin, end
        self._waiting = waiting
        self.commits = 0
        self._tx = None
        self.session: Session | None = None
        self._rows = self._receipts = 0
        self._began = 0.0
        self._released = float("-inf")  # when the last transaction ended (the write lock given back)
        self.kept_receipts = 0  # receipts in committed transactions: what a killed run keeps

    @property
    def open(self) -> bool:
        return self._tx is not None

    def enter(self) -> Session:
        """The open transaction's session; a new transaction (after the gap) when none is open."""
        if self._tx is None:
            pause = self._released + LOCK_GAP_SECONDS - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            tx = self._transaction()
            self.session = tx.__enter__()
            self._tx = tx
            self._rows = self._receipts = 0
            self._began = time.monotonic()
            self._begin(self.session)
        return self.session

    def done(self, rows: int, receipts: int, last: bool) -> bool:
        """Count a block applied; commit when the transaction is full, has held the lock long enough, or
        the file ends. True when it committed."""
        self._rows += rows
        self._receipts += receipts
        if not (last or self._rows >= self.batch_rows or time.monotonic() - self._began >= self.hold_seconds
                or (self._waiting is not None and self.hold_seconds != float("inf")
                    and (self.commits == 0 or self._waiting()))):
            return False
        self._end(self.session, self._receipts, last)
        tx, self._tx, self.session = self._tx, None, None
        tx.__exit__(None, None, None)  # commits
        self.kept_receipts += self._receipts
        self.commits += 1
        if self.hold_seconds != float("inf"):
            self._released = time.monotonic()
        return True

    def abort(self, exc: BaseException) -> None:
        """Roll the open transaction back (its context manager does it) and re-raise ``exc``."""
        tx, self._tx, self.session = self._tx, None, None
        if tx is not None and tx.__exit__(type(exc), exc, exc.__traceback__):
            return
        raise exc
