"""The import's first pass (tillcsv/first_pass.py, store/spill.in_order): read a block at a time, column by
column, it finds what reading the file row by row finds: each receipt's time, the same order verdict.

The reference below reads the file with the csv module, one row at a time, as the import's rules say a
receipt is made (consecutive rows of one id; blank, cut short and anonymous rows passed over; a row with no
id a receipt of its own, refused), and reads each time with the reader's own one-time reading (``Reader.when``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loyaltycli.base.errors import LoyaltyError
from loyaltycli.base.instants import microseconds
from loyaltycli.store import spill
from loyaltycli.tillcsv.presets import Preset
from loyaltycli.tillcsv.reader import Reader

pytestmark = pytest.mark.dialect_free("a till file read by the reader: no database")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
TIMES = ["2026-03-28T23:59:00", "2026-03-29T00:30:00", "2026-03-29T01:30:00",  # Lisbon: the gap at 01:00
         "2026-03-29T03:00:00", "2026-06-01T09:00:00", "2026-06-01 09:00:00", "2026-06-01T08:59:59.5",
         "2026-10-25T01:30:00", "2026-10-25T02:30:00",  # the hour that happens twice
         "2026-06-01T09:00:00Z", "2026-06-01T10:00:00+02:00", "2026-06-02", "1899-12-31T10:00:00",
         "not a time", ""]


def _reader(path: Path) -> Reader:
    from loyaltycli.services.importer import ImportSummary

    reader = Reader(path, path.name, Preset(), {}, ImportSummary(file=path.name, source="test"), None, True)
    reader._zone = ZoneInfo("Europe/Lisbon")
    return reader


def _reference(path: Path) -> tuple[bool, list[int], list[int]]:
    """(in order?, receipt id hashes, microseconds) read row by row, the file's rows as the reader reads them
    (its CSV reading and a preset's rewriting of dates), in one block."""
    receipts: list[tuple[str, list[str]]] = []
    current, times = None, []
    reader = _reader(path)
    with path.open("rb") as handle:
        rows, _starts, errors, _ended = next(reader._record_blocks(reader.records(handle), 10 ** 6))
    for i, fields in enumerate(rows):
        if len(fields) < 4 or i in errors:
            continue  # blank, unreadable, or cut short before its amount (the import rejects it): passed over
        if not fields[2].strip():
            continue  # anonymous: passed over
        receipt_id, when = fields[0].strip(), fields[1].strip()
        if receipt_id != current or not receipt_id:
            if current is not None:
                receipts.append((current, times))
            current, times = receipt_id, [when]
        elif when != times[-1]:
            times.append(when)
    if current is not None:
        receipts.append((current, times))
    reader = _reader(path)
    seen, ids, values, last = set(), [], [], None
    for receipt_id, texts in receipts:
        if not receipt_id:
            continue
        if hash(receipt_id) in seen:
            return False, ids, values
        seen.add(hash(receipt_id))
        ids.append(hash(receipt_id))
        try:
            us = min(microseconds(reader.when(text)) for text in texts)
        except LoyaltyError:
            values.append(spill.Times.MISSING)
            continue
        values.append(us)
        if last is not None and us < last:
            return False, ids, values
        last = us
    return True, ids, values


IDS = ["A", "B", "C", "D", "", " A"]
rows = st.lists(st.one_of(
    st.just(None),  # a blank line
    # a row: id, time, customer, and its amount (or none: a row cut short, which the import rejects)
    st.tuples(st.sampled_from(IDS), st.sampled_from(TIMES), st.sampled_from(["K1", "K2", ""]), st.booleans())),
    max_size=14)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(lines=[("A", TIMES[4], "K1", True), None, ("A", TIMES[6], "K1", True), ("B", TIMES[5], "K2", True)], block=2)
@example(lines=[("A", TIMES[4], "K1", True), ("", TIMES[4], "K1", True), ("A", TIMES[4], "K1", True)], block=1)
@example(lines=[("A", TIMES[0], "K1", True), ("B", TIMES[2], "K1", True), ("C", TIMES[3], "K1", True)], block=3)
@example(lines=[("A", TIMES[4], "K1", True), ("B", TIMES[0], "K1", False), ("A", TIMES[4], "K1", True)], block=2)
@given(lines=rows, block=st.integers(min_value=1, max_value=5))
def test_the_first_pass_reads_what_a_row_by_row_reading_reads(tmp_path, lines, block):
    path = tmp_path / "till.csv"
    text = "receipt_id,timestamp,customer,amount\n" + "".join(
        "\n" if line is None else f"{line[0]},{line[1]},{line[2]}{',1.00' if line[3] else ''}\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    expected, ids, values = _reference(path)
    times = spill.Times()
    with path.open("rb") as handle:
        found = spill.in_order(_reader(path), handle, block, times)
    assert found == expected
    if expected:  # (the times are taken only from a file found in order)
        assert (list(times.ids), list(times.us)) == (ids, values)


def test_a_block_of_new_days_is_read_in_c_and_a_day_of_a_change_one_by_one(tmp_path):
    """The column-wise reading keeps each plain day's offset after one time of it (winter and summer days
    here), and reads a block holding a day the clocks change one time at a time: the same microseconds as
    reading each time alone."""
    def alone(texts):
        return [microseconds(_reader(tmp_path / "till.csv").when(text)) for text in texts]

    plain = [f"2026-03-{day:02d}T{hour:02d}:15:00" for day in (27, 28, 30, 31) for hour in (0, 3, 12, 23)]
    reader = _reader(tmp_path / "till.csv")
    assert reader.time_values(plain) == alone(plain)
    assert set(reader._offsets) == {"2026-03-27", "2026-03-28", "2026-03-30", "2026-03-31"}
    assert reader.time_values(plain) == alone(plain)  # the second time from the kept offsets alone
    changed = ["2026-03-28T23:00:00", "2026-03-29T00:30:00", "2026-03-29T03:30:00", "2026-03-30T09:00:00"]
    assert reader.time_values(changed) == alone(changed)
    assert "2026-03-29" not in reader._offsets  # the clocks moved that day
    assert reader.time_values(["2026-03-29T01:30:00", "nope", "2026-06-01T09:00:00Z"]) == [
        None, None, microseconds(datetime(2026, 6, 1, 9, tzinfo=timezone.utc))]


def test_a_change_of_the_clocks_in_a_days_last_hour_is_not_cached_over(tmp_path):
    """Nuuk moves its clocks at 23:00 on a Saturday: the day is not kept as one offset, so a time in that
    night's gap is refused as reading it alone refuses it, in the same block as a morning time of the day."""
    reader = _reader(tmp_path / "till.csv")
    reader._zone = ZoneInfo("America/Nuuk")
    morning, gap = "2024-03-30T10:00:00", "2024-03-30T23:30:00"
    assert reader.time_values([morning, gap]) == [microseconds(datetime(2024, 3, 30, 12, tzinfo=timezone.utc)), None]
    assert "2024-03-30" not in reader._offsets


@settings(max_examples=300, deadline=None)
@given(ids=st.lists(st.text(alphabet="AB1 /\t\u00e9\x00", max_size=70), min_size=1, max_size=6))
def test_a_block_of_receipt_ids_passes_only_when_each_one_does(ids):
    """base/checks.receipts_pass, the import's check of a whole block's ids in C, never lets through an id that
    check_receipt refuses."""
    from loyaltycli.base.checks import check_receipt, receipts_pass

    def passes(text):
        try:
            check_receipt(text)
            return True
        except LoyaltyError:
            return False

    if receipts_pass(ids):
        assert all(map(passes, ids))
    assert receipts_pass(["R1", "FS 2026/101", "X" * 64]) and not receipts_pass(["R1", "X" * 65])
