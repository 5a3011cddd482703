"""The column-by-column reading of a preset's file (issue 26, round 3) against the row-by-row one it stands
for: a block's rows rewritten at once (RowTranslator.block) as row by row, and a block with no amount column
(UCI Online Retail: anonymous rows, cancellations written either sign, invoices straddling a minute) read into
the same receipts, lines and counts as the row-by-row path reads it."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

from loyaltycli.services.importer import ImportSummary
from loyaltycli.tillcsv import translate
from loyaltycli.tillcsv.presets import CANONICAL, load_preset
from loyaltycli.tillcsv.reader import Reader
from loyaltycli.tillcsv.records import Span

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("uci_year", ROOT / "benchmarks" / "uci_year.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("uci_year", module)  # its dataclass looks its module up
    spec.loader.exec_module(module)
    files, _ = module.generate(tmp_path_factory.mktemp("year"), rows=4_000)
    return files


def _reader(path: Path) -> Reader:
    return Reader(path, str(path), load_preset("uci-online-retail"), {}, ImportSummary(file="x", source="x"))


def _shown(receipts) -> list:
    out = []
    for r in receipts:
        lines = [(line.line, line.sku, line.quantity, line.unit_price, line.amount, list(line.fields))
                 for line in r.lines]
        out.append((r.receipt_id, r.first_line, r.at_text, r.customer_key, r.channel, r.amount,
                    None if r.error is None else (r.error.reason, r.error.line), lines))
    return out


@pytest.mark.parametrize("form", ["us", "uk"])  # ISO dates need no rewriting
def test_a_block_rewritten_at_once_is_rewritten_as_row_by_row(year, form):
    path = year[form]
    reader = _reader(path)
    with path.open("rb") as handle:
        raw = reader._open_reader(handle)
        get = {f: reader._columns(reader._header).get(f) for f in CANONICAL}
        wrapped = translate.translated(raw, path, reader._delimiter, get, reader.options, "x")
        rows = list(wrapped.raw)
    one, other = translate.translator_of(wrapped), None
    with path.open("rb") as handle:
        again = _reader(path)
        raw = again._open_reader(handle)
        other = translate.translator_of(translate.translated(raw, path, again._delimiter, get, again.options, "x"))
    by_row = [one(list(row)) for row in rows]
    blocks = [[list(row) for row in rows[i:i + 500]] for i in range(0, len(rows), 500)]
    blocks.append([["short row"], *[list(row) for row in rows[:3]]])  # rows of two widths: row by row
    by_row.extend(one(list(row)) for row in blocks[-1])
    for block in blocks:
        other.block(block)
    assert [row for block in blocks for row in block] == by_row
    assert other.date_errors == one.date_errors


@pytest.mark.parametrize("form", ["us", "iso", "uk"])
def test_a_block_with_no_amount_column_reads_as_row_by_row(year, form):
    path = year[form]
    fast, slow = _reader(path), _reader(path)
    slow._fast_priced_receipts = lambda rows, starts: None  # every block row by row
    taken = []
    original = fast._fast_priced_receipts

    def spy(rows, starts):
        out = original(rows, starts)
        taken.append(out is not None)
        return out

    fast._fast_priced_receipts = spy
    with path.open("rb") as a, path.open("rb") as b:
        got = [_shown(receipts) for receipts, _, _ in fast.blocks(a, 700)]
        expected = [_shown(receipts) for receipts, _, _ in slow.blocks(b, 700)]
    assert got == expected
    assert any(taken)  # the column-by-column path was taken
    for field in ("read", "anonymous", "rejected", "skipped"):
        assert getattr(fast.summary, field) == getattr(slow.summary, field), field
    # the year's quirks are in the blocks compared
    receipts = [r for block in got for r in block]
    assert any(r[0].startswith("C") for r in receipts)
    assert fast.summary.anonymous > 0


def test_the_span_of_a_column_block_yields_lines(year):
    path = year["uk"]
    reader = _reader(path)
    with path.open("rb") as handle:
        receipts = [r for block, _, _ in reader.blocks(handle, 700) for r in block]
    assert any(isinstance(r.lines, Span) for r in receipts)


def test_odd_invoices_read_by_column_as_row_by_row(tmp_path):
    """Lines straddling a minute either way, anonymous rows inside a block, a cancellation written positive,
    a bulk price: the column-by-column path gives what the row-by-row path gives."""
    path = tmp_path / "odd.csv"
    path.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,HEART,6,12/13/2010 8:27,2.55,17850,United Kingdom\n"
        "536365,71053,LANTERN,6,12/13/2010 8:26,3.39,17850,United Kingdom\n"
        "536365,84406B,CUPID,8,12/13/2010 8:28,2.75,17850,United Kingdom\n"
        "536366,22633,WARMER,6,12/13/2010 8:28,1.85,,United Kingdom\n"
        "536367,84879,BIRD,32,12/13/2010 8:34,1.69,13047,United Kingdom\n"
        "536367,22745,POPPY,6,12/13/2010 8:34,2.10,13047,United Kingdom\n"
        "C536368,85123A,HEART,2,12/13/2010 9:01,2.55,17850,United Kingdom\n"
        "C536369,71053,LANTERN,-1,12/13/2010 9:02,3.39,17850,United Kingdom\n"
        "536370,22728,ALARM,24,12/13/2010 9:05,3.75,,France\n"
        "536370,22727,ALARM,24,12/13/2010 9:05,3.75,,France\n"
        "536371,22726,ALARM,48,12/13/2010 9:09,0.85,12583,France\n", encoding="utf-8")
    fast, slow = _reader(path), _reader(path)
    slow._fast_priced_receipts = lambda rows, starts: None
    with path.open("rb") as a, path.open("rb") as b:
        got = [_shown(receipts) for receipts, _, _ in fast.blocks(a, 100)]
        expected = [_shown(receipts) for receipts, _, _ in slow.blocks(b, 100)]
    assert got == expected
    receipts = {r[0]: r for block in got for r in block}
    assert receipts["536365"][2] == "2010-12-13 08:26:00"  # its earliest line's time
    assert receipts["C536368"][5] < 0 and receipts["C536369"][5] < 0
    assert "536366" not in receipts and fast.summary.anonymous == slow.summary.anonymous == 3
    assert fast.summary.read == slow.summary.read == 11
    with path.open("rb") as a:
        fresh = _reader(path)
        taken = []
        original = fresh._fast_priced_receipts
        fresh._fast_priced_receipts = lambda rows, starts: taken.append(original(rows, starts)) or taken[-1]
        list(fresh.blocks(a, 100))
    assert taken and taken[-1] is not None  # read by column
