"""A till file out of time order, or with a receipt's lines apart: every receipt put aside on disk first,
then applied in time order (memory stays flat: the receipts wait in a temporary SQLite file, not in a list).

``in_order`` reads the file once, cheaply (the reader's column-wise path, times parsed once each), to tell
whether it may be streamed: receipts in time order and each receipt id on consecutive lines (every till
export). Otherwise ``Spill`` holds the receipts keyed by id (lines of one id merged wherever they stand;
the receipt's time is its earliest line's) and gives them back in blocks, oldest first, so that the
outcome never depends on where blocks fall.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path
from typing import Iterator

from loyaltycli.base.errors import LoyaltyError
from loyaltycli.base.instants import microseconds
from functools import partial
from operator import gt, is_not
from loyaltycli.tillcsv.records import Line, Receipt, Reject
from loyaltycli.i18n import gettext

_FETCH = 2_000
_KEYS = 500  # ids per look-up (SQLite allows 999 parameters in older builds)


class Times:
    """The times the first pass read, by receipt in file order (hash of its id, microseconds; MISSING when
    its time cannot be read): the import takes them instead of reading each time again (``of``)."""

    MISSING = -(2 ** 63)
    LOOK_AHEAD = 10_000  # receipts the import refused before their time (bad lines): passed over

    def __init__(self):
        from array import array

        self.ids = array("q")
        self.us = array("q")
        self._at = 0

    def block(self, receipt_ids: list[str]) -> list[int] | None:
        """The microseconds of the next receipts when they are exactly these, in this order, every time read
        (the usual block: taken at once, in C); else None (then ``of`` each)."""
        start, end = self._at, self._at + len(receipt_ids)
        if end > len(self.ids) or self.ids[start:end].tolist() != list(map(hash, receipt_ids)):
            return None
        us = self.us[start:end].tolist()
        if us and min(us) == self.MISSING:
            return None
        self._at = end
        return us

    def of(self, receipt_id: str) -> int | None:
        """The microseconds of the next receipt of that id, or None (then read its time as usual)."""
        ids, key, i = self.ids, hash(receipt_id), self._at
        end = min(len(ids), i + self.LOOK_AHEAD)
        while i < end and ids[i] != key:
            i += 1
        if i >= end:
            return None
        self._at = i + 1
        us = self.us[i]
        return None if us == self.MISSING else us


def in_order(scan, handle, block_rows: int, times: Times | None = None) -> bool:
    """True when ``scan`` (a Reader of its own, writing no rejects) finds every receipt no earlier than the
    one before it and no receipt id twice (apart). ``times``: filled with each receipt's time.

    It reads only ids and times (Reader.receipt_time_blocks, a block at a time), so it also sees the receipts
    that the import will reject for their amounts; those the import keeps are a subsequence of them, with
    the same lines and times, so a file found in order here is in order for the import too (and one found
    out of order only takes the spill path, which gives the same outcome)."""
    last = None
    seen: set[int] = set()
    for ids, texts in scan.receipt_time_blocks(handle, block_rows):
        if "" in ids:  # refused by the import
            texts = [t for receipt_id, t in zip(ids, texts) if receipt_id]
            ids = [receipt_id for receipt_id in ids if receipt_id]
        keys = list(map(hash, ids))
        fresh = set(keys)
        if len(fresh) < len(keys) or not seen.isdisjoint(fresh):
            return False
        seen |= fresh
        # a receipt's time is its earliest line's (its lines' times apart: a list, read one by one)
        several = [k for k, text in enumerate(texts) if not isinstance(text, str)]
        us = scan.time_values([text if isinstance(text, str) else text[0] for text in texts] if several else texts)
        for k in several:
            values = scan.time_values(texts[k])
            us[k] = None if None in values else min(values)
        if times is not None:
            times.ids.extend(keys)
            times.us.extend([Times.MISSING if value is None else value for value in us] if None in us else us)
        readable = list(filter(partial(is_not, None), us)) if None in us else us  # the unreadable: refused by the import
        if readable:
            if (last is not None and readable[0] < last) or any(map(gt, readable[:-1], readable[1:])):
                return False
            last = readable[-1]
    return True


class Spill:
    """Receipts set aside in a temporary SQLite file, keyed by receipt id, read back oldest first."""

    def __init__(self, reader, path: Path):
        """``path``: a new file beside the database (store/db.py temp_path), created 0600 here and removed
        by ``close``; one left by a killed run is removed by the next run."""
        from loyaltycli.base.files import create_private_empty

        self.reader = reader
        self.path = path
        create_private_empty(path)
        try:
            self._db = sqlite3.connect(os.fsencode(path))
            self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-8192;"
                                   "CREATE TABLE spill (key TEXT PRIMARY KEY, us INTEGER, line INTEGER, rows INTEGER,"
                                   " data BLOB)")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        self._odd = 0

    def close(self) -> None:
        self._db.close()
        self.path.unlink(missing_ok=True)

    def add(self, receipts: list[Receipt]) -> None:
        """Put a block's receipts aside (lines of an id already aside are merged into it)."""
        db = self._db
        # the receipts of ids already aside: one query per block (not one per receipt)
        keys = list({r.receipt_id for r in receipts if r.receipt_id})
        aside: dict[str, Receipt] = {}
        for start in range(0, len(keys), _KEYS):
            chunk = keys[start:start + _KEYS]
            aside.update((key, _receipt(data)) for key, data in db.execute(
                f"SELECT key, data FROM spill WHERE key IN ({','.join('?' * len(chunk))})", chunk))
        rows = {}
        for receipt in receipts:
            key = receipt.receipt_id
            if not key:
                self._odd += 1
                key = f"\x00{self._odd}"  # rejected anyway, on its own
            else:
                earlier = aside.get(key)
                if earlier is not None:  # lines of this id set aside before (or earlier in this block): one
                    # receipt, rejected whole when a part of it is (its good lines never imported alone)
                    receipt = _merged(earlier, receipt, self.reader)
                aside[key] = receipt
            rows[key] = receipt
        db.executemany("INSERT OR REPLACE INTO spill VALUES (?, ?, ?, ?, ?)",
                       [(key, self._us(r), r.first_line, len(r.lines), _data(r)) for key, r in rows.items()])

    def _us(self, receipt: Receipt) -> int:
        if receipt.error is not None:
            return -1
        try:
            return microseconds(self.reader.when(receipt.at_text))
        except LoyaltyError:
            return -1  # rejected with its reason when applied

    def blocks(self, block_rows: int) -> Iterator[tuple[list[Receipt], int, bool]]:
        """(receipts, rows, last?) in time order, about ``block_rows`` rows a block."""
        cursor = self._db.execute("SELECT data, rows FROM spill ORDER BY us, line")
        block: list[Receipt] = []
        rows = 0
        while True:
            fetched = cursor.fetchmany(_FETCH)
            if not fetched:
                break
            for data, count in fetched:
                block.append(_receipt(data))
                rows += count
                if rows >= block_rows:
                    yield block, rows, False
                    block, rows = [], 0
        yield block, rows, True


def _data(receipt: Receipt) -> bytes:
    error = (receipt.error.reason, receipt.error.line) if receipt.error is not None else None
    lines = [(line.line, line.fields, line.amount, line.sku, line.quantity, line.unit_price) for line in receipt.lines]
    return pickle.dumps((receipt.receipt_id, receipt.first_line, receipt.at_text, receipt.customer_key,
                         receipt.channel, receipt.amount, lines, error), protocol=pickle.HIGHEST_PROTOCOL)


def _receipt(data: bytes) -> Receipt:
    receipt_id, first_line, at_text, key, channel, amount, lines, error = pickle.loads(data)
    receipt = Receipt(receipt_id, first_line, at_text, key, channel)
    receipt.amount = amount
    receipt.lines = [Line(*line) for line in lines]
    receipt.error = Reject(*error) if error is not None else None
    return receipt


def _merged(first: Receipt, later: Receipt, reader) -> Receipt:
    """One receipt of the lines of both: its time the earliest line's, its first line the first line's."""
    if first.error is None and later.error is None and first.customer_key != later.customer_key:
        first.error = Reject(gettext('lines of receipt {receipt_id} disagree on the customer (line {first_line} has {customer_key!r})').format(receipt_id=first.receipt_id, first_line=first.first_line, customer_key=first.customer_key), later.first_line)
    elif first.error is None and later.error is not None:
        first.error = later.error
    try:
        if later.error is None and first.error is None and reader.when(later.at_text) < reader.when(first.at_text):
            first.at_text = later.at_text
    except LoyaltyError:
        pass
    first.lines = list(first.lines) + list(later.lines)
    first.amount = (first.amount or 0) + (later.amount or 0)
    first.first_line = min(first.first_line, later.first_line)
    return first
