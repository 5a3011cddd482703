"""Streaming CSV import of till exports: presets, blocks of whole receipts, rejects with file:line.

The file is decoded a megabyte at a time and read by the CSV reader in blocks of records (about 10,000);
a block of plain rows is parsed column by column in C (amounts and quantities by lookup, a new value
parsed once), any other block row by row with every rule and message. Consecutive rows sharing a
receipt id form a receipt; a block ends on a receipt boundary. The receipts of a block get their points
in Python with the same rules as ``points.post_purchase`` / ``points.post_refund`` (tier at the time of
each sale, membership multiplier, milestone and referral bonuses), from per-customer states (purchases
in the tier window and the year as running totals) read once and kept from block to block, and are
written with a few set-based INSERTs. Blocks are committed in batches (about 100,000 rows, one
transaction each). A receipt already recorded from the same source is skipped, so a re-run (or the run
after a kill) completes the file without writing anything twice.
"""

from __future__ import annotations

import csv
import gc
import json
import re
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import accumulate, chain, compress, islice, repeat
from operator import gt, ne
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

from sqlalchemy import bindparam, func, insert, literal_column, select, text, update
from sqlalchemy.orm import Session

from loyaltycli.core import clock, customers, points, rules
from loyaltycli.core.clock import UTC
from loyaltycli.core.errors import InvalidInput, LoyaltyError, NotFound
from loyaltycli.core.models import (Customer, ImportRun, LedgerEntry, Membership, MembershipPlan, Purchase,
                                    PurchaseItem, Referral, UTCDateTime)
from loyaltycli.core.money import format_amount, parse_amount
from loyaltycli.core.program import Program, load_program

CANONICAL = ("receipt_id", "timestamp", "customer", "amount", "channel", "sku", "quantity", "unit_price")
REQUIRED = ("receipt_id", "timestamp", "customer")
PRESET_DIR = Path(__file__).resolve().parents[1] / "presets"
# A line longer than this is rejected without being held in memory.
MAX_LINE_BYTES = 1 << 20
_CHUNK_BYTES = 1 << 20
# rows per transaction, and rows held in memory and applied at once
BATCH_ROWS = 100_000
BLOCK_ROWS = 10_000
SQLITE_CACHE_KIB = 32_768
_IN_CHUNK = 500
# customers whose state is kept from block to block, and purchases kept per customer, before forgetting
MAX_STATES = 50_000
MAX_HISTORY = 64
_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_NONE: frozenset = frozenset()
_SIMPLE_AMOUNT = re.compile(r"(-?)(\d{1,9})(?:\.(\d\d?))?")
_REFUND_SUFFIX = re.compile(r"^(.+?)(?:-R|/R\d+)$")


# -- presets -------------------------------------------------------------------------------------
@dataclass
class Preset:
    """How an export's columns map onto ours, and its quirks (data in loyaltycli/presets/*.toml)."""

    name: str = "canonical"
    description: str = "receipt_id, timestamp, customer, amount, channel, sku, quantity, unit_price"
    columns: dict[str, str] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    default_channel: str = "store"
    cancellation_prefix: str | None = None
    anonymous: str = "reject"  # or "skip": rows without a customer are not loyalty sales
    customer_kind: str | None = None  # card | email | phone | contact: how to enroll an unknown customer
    negate_when: dict[str, str] = field(default_factory=dict)
    skip_when: dict[str, str] = field(default_factory=dict)


def list_presets() -> list[Preset]:
    return [load_preset(path.stem) for path in sorted(PRESET_DIR.glob("*.toml"))]


def load_preset(name: str) -> Preset:
    """The preset of that name from loyaltycli/presets/, validated."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    norm = (name or "").strip().lower()
    path = PRESET_DIR / f"{norm}.toml"
    if not re.fullmatch(r"[a-z0-9_-]{1,64}", norm) or not path.is_file():
        known = ", ".join(p.stem for p in sorted(PRESET_DIR.glob("*.toml")))
        raise NotFound(f"unknown preset {name!r}; known presets: {known}")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    preset = Preset(name=norm, description=data.get("description", ""),
                    columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
                    date_formats=list(data.get("date_formats", [])),
                    default_channel=data.get("default_channel", "store"),
                    cancellation_prefix=data.get("cancellation_prefix"),
                    anonymous=data.get("anonymous", "reject"), customer_kind=data.get("customer_kind"),
                    negate_when={str(k): str(v) for k, v in data.get("negate_when", {}).items()},
                    skip_when={str(k): str(v) for k, v in data.get("skip_when", {}).items()})
    bad = [v for v in preset.columns.values() if v not in CANONICAL]
    if bad or preset.anonymous not in ("reject", "skip"):
        raise InvalidInput(f"preset {norm} is broken: fields {bad} / anonymous {preset.anonymous!r}")
    return preset


def parse_map(items: Iterable[str]) -> dict[str, str]:
    """['Invoice=receipt_id', ...] -> {'Invoice': 'receipt_id'}."""
    out = {}
    for item in items or []:
        column, sep, target = (item or "").rpartition("=")
        column, target = column.strip(), target.strip().lower()
        if not sep or not column:
            raise InvalidInput(f"--map {item!r} is not COLUMN=FIELD (e.g. --map Invoice=receipt_id)")
        if target not in CANONICAL:
            raise InvalidInput(f"--map {item!r}: {target!r} is not one of {', '.join(CANONICAL)}")
        out[column] = target
    return out


# -- results -------------------------------------------------------------------------------------
@dataclass
class ImportSummary:
    file: str
    source: str
    dry_run: bool = False
    read: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    points_awarded: int = 0
    receipts: int = 0
    refunds: int = 0
    enrolled: int = 0
    rejects_file: str | None = None
    run_id: int | None = None
    legacy_encoding_lines: int = 0
    first_rejects: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"file": self.file, "source": self.source, "dry_run": self.dry_run, "read": self.read,
                "imported": self.imported, "skipped": self.skipped, "rejected": self.rejected,
                "points_awarded": self.points_awarded, "sales": self.receipts, "refunds": self.refunds,
                "customers_enrolled": self.enrolled, "rejects_file": self.rejects_file, "run_id": self.run_id,
                "legacy_encoding_lines": self.legacy_encoding_lines, "first_rejects": self.first_rejects}


class _Reject(Exception):
    """A receipt (or row) that cannot be imported: the reason, and the line it concerns."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


# -- reading ---------------------------------------------------------------------------------------
class _Lines:
    """Decoded lines of a binary file: UTF-8 (BOM dropped) or, line by line, Windows-1252 / Latin-1."""

    def __init__(self, handle):
        self.handle = handle
        self.bytes_read = 0
        self.count = 0
        self.oversized: set[int] = set()
        self.legacy = 0

    def __iter__(self) -> Iterator[str]:
        """Lines, decoded a megabyte at a time (each line on its own only where that fails)."""
        read = self.handle.read
        rest = b""
        first = True
        while True:
            chunk = read(_CHUNK_BYTES)
            if not chunk:
                if rest:
                    yield from self._decoded(rest if rest.endswith(b"\n") else rest + b"\n")
                return
            self.bytes_read += len(chunk)
            data = rest + chunk if rest else chunk
            if first:
                if len(data) < 3 and b"\n" not in data:
                    rest = data
                    continue
                first = False
                if data.startswith(b"\xef\xbb\xbf"):
                    data = data[3:]
            end = data.rfind(b"\n") + 1
            if end == 0 and len(data) > MAX_LINE_BYTES:
                # a line longer than the limit: dropped without being held, rejected by its number
                while True:
                    more = read(_CHUNK_BYTES)
                    self.bytes_read += len(more)
                    cut = more.find(b"\n")
                    if not more or cut >= 0:
                        break
                rest = more[cut + 1:] if more else b""
                self.count += 1
                self.oversized.add(self.count)
                yield "\n"
                continue
            rest = data[end:]
            if end:
                yield from self._decoded(data[:end])

    def _decoded(self, block: bytes) -> list[str]:
        """The lines of ``block`` (whole lines, each ending in a line feed) as text."""
        lines = block.split(b"\n")
        lines.pop()
        self.count += len(lines)
        if max(map(len, lines)) > MAX_LINE_BYTES:  # a long line within the block: line by line
            return [self._line(raw, self.count - len(lines) + 1 + i) for i, raw in enumerate(lines)]
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            return [self._line(raw, 0) for raw in lines]
        if "\x00" in text:
            text = text.replace("\x00", "\ufffd")
        out = text.split("\n")
        out.pop()
        return [line + "\n" for line in out]  # the CSV reader keeps a quoted line break only if it sees one

    def _line(self, raw: bytes, number: int) -> str:
        if len(raw) > MAX_LINE_BYTES:
            self.oversized.add(number)
            return "\n"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.legacy += 1
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
        return (text.replace("\x00", "\ufffd") if "\x00" in text else text) + "\n"


class _Line:
    """One row of a receipt (a plain slotted class: one is made per row of the file)."""

    __slots__ = ("line", "fields", "amount", "sku", "quantity", "unit_price")

    def __init__(self, line: int, fields: list[str], amount: int = 0, sku: str = "", quantity: int = 1,
                 unit_price: int = 0):
        self.line = line
        self.fields = fields
        self.amount = amount
        self.sku = sku
        self.quantity = quantity
        self.unit_price = unit_price


class _Block(NamedTuple):
    """Rows of the file parsed column by column: the receipts' lines refer to them by position."""

    rows: list
    starts: list[int]
    skus: list[str]
    quantities: list[int]
    prices: list[int]
    amounts: list[int]


class _Span:
    """The lines of one receipt in a _Block: what ``receipt.lines`` is on the column-by-column path."""

    __slots__ = ("block", "first", "end")

    def __init__(self, block: _Block, first: int, end: int):
        self.block = block
        self.first = first
        self.end = end

    def __len__(self) -> int:
        return self.end - self.first

    def __iter__(self) -> Iterator[_Line]:
        b = self.block
        for i in range(self.first, self.end):
            yield _Line(b.starts[i], b.rows[i], b.amounts[i], b.skus[i], b.quantities[i], b.prices[i])


def _items(lines, purchase_id: int) -> Iterable[tuple]:
    """(purchase_id, sku, quantity, unit_price, amount) of a receipt's lines that name a product."""
    if isinstance(lines, _Span):
        b, i, j = lines.block, lines.first, lines.end
        rows = zip(repeat(purchase_id, j - i), b.skus[i:j], b.quantities[i:j], b.prices[i:j], b.amounts[i:j])
        return rows if "" not in b.skus[i:j] else [row for row in rows if row[1]]
    return [(purchase_id, line.sku, line.quantity, line.unit_price, line.amount) for line in lines if line.sku]


@dataclass
class _Sale:
    """What a refund needs of the sale it names: from this block (``index``) or the database (``id``)."""

    receipt_id: str
    customer: object  # _CustomerState
    at: datetime
    amount: int
    earned: int
    index: int | None = None
    id: int | None = None
    refunded: int = 0
    reversed: int = 0
    refunds: int = 0


class _Receipt:
    __slots__ = ("receipt_id", "first_line", "at_text", "at", "customer_key", "channel", "lines", "error",
                 "negate", "amount", "customer", "sale_link", "index", "us")

    def __init__(self, receipt_id: str, first_line: int, at_text: str, customer_key: str, channel: str):
        self.receipt_id = receipt_id
        self.first_line = first_line
        self.at_text = at_text
        self.at: datetime | None = None
        self.customer_key = customer_key
        self.channel = channel
        self.lines: list[_Line] = []
        self.error: _Reject | None = None
        self.amount = 0
        self.customer = None
        self.sale_link: int | None = None  # a refund of a sale in the same block: the sale's index there
        self.index = -1


_AMOUNTS: dict[str, int] = {}


def _amount(text: str, what: str) -> int:
    """Cents of a decimal string; till files repeat their prices, so answers are remembered."""
    cents = _AMOUNTS.get(text)
    if cents is not None:
        return cents
    cents = _parse_cents(text, what)
    if len(_AMOUNTS) > 100_000:
        _AMOUNTS.clear()
    _AMOUNTS[text] = cents
    return cents


_QUANTITIES: dict[str, int] = {}


def _amount_or_none(text: str) -> int | None:
    try:
        return _amount(text, "amount")
    except LoyaltyError:
        return None


def _quantity_or_none(text: str) -> int | None:
    """A line's quantity (-100000 to 100000, not 0), remembered; None if it is not one."""
    try:
        quantity = int(text)
    except ValueError:
        return None
    if quantity == 0 or abs(quantity) > 100_000:
        return None
    if len(_QUANTITIES) < 10_000:
        _QUANTITIES[text] = quantity
    return quantity


def _parsed(texts, memo: dict, parse) -> list | None:
    """A column's values: looked up in ``memo`` (in C), the few new ones parsed; None if one does not parse."""
    texts = list(map(str.strip, texts))
    values = list(map(memo.get, texts))
    if None in values:
        for i, value in enumerate(values):
            if value is None:
                value = values[i] = parse(texts[i])
                if value is None:
                    return None
    return values


_AMOUNT_TEXTS: dict[int, str] = {}


def _amount_text(cents: int) -> str:
    """format_amount, remembered."""
    text = _AMOUNT_TEXTS.get(cents)
    if text is None:
        if len(_AMOUNT_TEXTS) > 20_000:
            _AMOUNT_TEXTS.clear()
        text = _AMOUNT_TEXTS[cents] = format_amount(cents)
    return text


def _parse_cents(text: str, what: str) -> int:
    m = _SIMPLE_AMOUNT.fullmatch(text)
    if m:
        cents = int(m.group(2)) * 100 + (int(m.group(3).ljust(2, "0")) if m.group(3) else 0)
        return -cents if m.group(1) else cents
    return parse_amount(text, allow_negative=True, what=what)


class _CustomerState:
    """What the rules need to know of one customer, kept from block to block during a run (the in-memory
    twin of the rules in core/rules.py: tier spend, membership multiplier, milestone keys)."""

    __slots__ = ("id", "code", "enrolled_at", "times", "amounts", "cum", "memberships", "bonus_keys", "referral_pending",
                 "loaded_from")

    def __init__(self, id_: int, code: str, enrolled_at: datetime):
        self.id = id_
        self.code = code
        self.enrolled_at = enrolled_at
        self.reset(None)

    def reset(self, loaded_from: int | None) -> None:
        """Empty, to be read from the database from ``loaded_from`` on (None: not read yet)."""
        # purchases in time order as compact arrays: times (microseconds since 1970, UTC), amounts, and
        # running totals (cum[k] = sum of amounts[:k]) so that a window's spend is one subtraction
        self.times = array("q")
        self.amounts = array("q")
        self.cum = array("q", [0])
        # most customers have neither: one shared empty value until they do (a set costs 216 bytes)
        self.memberships: list[tuple] | tuple = ()
        self.bonus_keys: set[str] | frozenset = _NONE
        self.referral_pending = False
        self.loaded_from = loaded_from

    def trim(self, start: int) -> None:
        """Forget purchases before ``start`` (a later sale before it has the state read again)."""
        i = bisect_left(self.times, start)
        del self.times[:i], self.amounts[:i], self.cum[:i]
        self.loaded_from = start

    def add_bonus(self, key: str) -> None:
        if self.bonus_keys is _NONE:
            self.bonus_keys = set()
        self.bonus_keys.add(key)

    def spend_between(self, start: int, end: int, *, inclusive: bool = False) -> int:
        """Net spend from ``start`` up to ``end`` (excluded unless ``inclusive``), times in microseconds."""
        i = bisect_left(self.times, start)
        j = bisect_right(self.times, end) if inclusive else bisect_left(self.times, end)
        return self.cum[j] - self.cum[i]

    def add(self, at: int, amount: int) -> None:
        times = self.times
        if not times or at >= times[-1]:  # the usual case: the newest purchase
            times.append(at)
            self.amounts.append(amount)
            self.cum.append(self.cum[-1] + amount)
            return
        k = bisect_right(times, at)
        times.insert(k, at)
        self.amounts.insert(k, amount)
        self.cum = array("q", accumulate(self.amounts, initial=self.cum[0]))

    def membership_multiplier(self, at: datetime) -> Decimal:
        return max((m for start, end, cancelled, m in self.memberships
                    if start <= at < end and (cancelled is None or cancelled > at)), default=Decimal(1))


# -- the engine --------------------------------------------------------------------------------------
class Importer:
    """One import of one file. ``run()`` returns the summary; it raises only when the file cannot be read."""

    def __init__(self, path: str | Path, *, source: str = "till", preset: str | None = None,
                 mapping: dict[str, str] | None = None, enroll_unknown: bool = False, dry_run: bool = False,
                 rejects: str | Path | None = None, batch_rows: int = BATCH_ROWS,
                 progress: Callable[[int, int], None] | None = None,
                 after_batch: Callable[[Session, int], None] | None = None):
        self.path = Path(path)
        self.label = str(path)
        self.source = (source or "till").strip()
        if not re.fullmatch(r"[\w.:-]{1,64}", self.source):
            raise InvalidInput(f"--source {source!r} must be 1 to 64 letters, digits or . : - _")
        self.preset = load_preset(preset) if preset else Preset()
        self.mapping = mapping or {}
        self.enroll_unknown = enroll_unknown
        self.dry_run = dry_run
        self.rejects_path = Path(rejects) if rejects else None
        self.batch_rows = max(1, batch_rows)
        self.progress = progress
        self.after_batch = after_batch
        self.summary = ImportSummary(file=self.label, source=self.source, dry_run=dry_run)
        self._rejects_writer = None
        self._rejects_handle = None
        self._header: list[str] = []
        self._customer_cache: dict[str, object] = {}
        self._last_when: tuple[str, datetime | None, str | None] = ("", None, None)
        self._watermark = 0
        self.total_bytes = 0
        self._zone = clock.local_zone()
        self._year_starts: dict[int, datetime] = {}
        self._year_starts_us: dict[int, int] = {}
        self._channels: dict[str, str] = {}
        self._record_run = False
        self._rejected_ids: set[str] = set()
        self._tuned = False
        self._started = clock.now()
        self._rates: dict[tuple, str] = {}
        self._tx = None
        self._session: Session | None = None
        self._states: dict[int, _CustomerState] = {}
        self._data_version = None

    # -- entry points ----------------------------------------------------------------------------
    def run(self, database) -> ImportSummary:
        """Import into ``database`` (a Database: one transaction per batch; dry run: one rolled back)."""
        handle = self._open()
        try:
            if self.dry_run:
                with database.session() as session:
                    self._run(handle, lambda: _Same(session))
                    session.rollback()
                return self.summary
            self._record_run = True
            self._run(handle, database.session)
            return self.summary
        finally:
            handle.close()
            self._close_rejects()

    def run_in(self, session: Session) -> ImportSummary:
        """Import inside the caller's transaction (used by `init --demo`); no rejects file unless given."""
        handle = self._open()
        try:
            self._run(handle, lambda: _Same(session))
            return self.summary
        finally:
            handle.close()
            self._close_rejects()

    def _open(self):
        if self.rejects_path is not None and self.rejects_path.resolve() == self.path.resolve():
            raise InvalidInput(f"--rejects {self.rejects_path} is the file being imported; give another file")
        try:
            handle = self.path.open("rb")
            self.total_bytes = self.path.stat().st_size
        except IsADirectoryError:
            raise InvalidInput(f"{self.label} is a folder, not a CSV file") from None
        except FileNotFoundError:
            raise InvalidInput(f"cannot read {self.label}: no such file") from None
        except OSError as exc:
            raise InvalidInput(f"cannot read {self.label}: {exc.strerror or exc}") from None
        return handle

    # -- reading and grouping -----------------------------------------------------------------------
    def _columns(self, header: list[str]) -> dict[str, int]:
        """Canonical field -> column index, from the header, the preset and --map."""
        names = [h.strip() for h in header]
        lowered = {n.lower(): i for i, n in enumerate(names)}
        index: dict[str, int] = {}
        for name, i in lowered.items():
            if name in CANONICAL:
                index[name] = i
        for column, target in self.preset.columns.items():
            if column.lower() in lowered:
                index[target] = lowered[column.lower()]
        for column, target in self.mapping.items():
            if column.lower() not in lowered:
                raise InvalidInput(f"{self.label}:1: --map column {column!r} is not in the header "
                                   f"({', '.join(names)[:300]})")
            index[target] = lowered[column.lower()]
        missing = [f for f in REQUIRED if f not in index]
        if "amount" not in index and "unit_price" not in index:
            missing.append("amount (or quantity and unit_price)")
        if missing:
            raise InvalidInput(f"{self.label}:1: missing column(s) {', '.join(missing)}; the header has "
                               f"{', '.join(names)[:300]!r} (use --map COLUMN=FIELD or --preset NAME)")
        self._rule_columns = {}
        for kind in ("negate_when", "skip_when"):
            rules_ = []
            for column, value in getattr(self.preset, kind).items():
                if column.lower() in lowered:
                    rules_.append((lowered[column.lower()], value.strip().lower()))
            self._rule_columns[kind] = rules_
        return index

    def _open_reader(self, handle):
        """The CSV reader after the header (read here); delimiter from the header line."""
        lines = _Lines(handle)
        self._lines = lines
        it = iter(lines)
        first = next(it, None)
        if first is None:
            raise InvalidInput(f"{self.label} is empty: expected a header line such as "
                               f"{','.join(CANONICAL)}")
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.reader(chain([first], it), delimiter=delimiter)
        try:
            self._header = next(reader)
        except csv.Error as exc:
            raise InvalidInput(f"{self.label}:1: the header cannot be read: {exc}") from None
        self._width = len(self._header)
        return reader

    def _record_blocks(self, reader, size: int) -> Iterator[tuple[list, list[int], dict[int, str], bool]]:
        """Blocks of up to ``size`` records: (rows, first line of each, errors by position, last block?).
        A record the CSV reader cannot read is an empty row with its error; so is an over-long line."""
        oversized = self._lines.oversized
        while True:
            before = reader.line_num
            rows: list = []
            errors: dict[int, str] = {}
            try:
                rows.extend(islice(reader, size))  # in C; what was read before an error stays in the list
                ended = len(rows) < size
            except csv.Error as exc:
                errors[len(rows)] = f"not a readable CSV line: {exc}"
                rows.append([])
                ended = False
            if not rows:
                yield rows, [], {}, True
                return
            if not errors and reader.line_num - before == len(rows):
                starts = list(range(before + 1, before + 1 + len(rows)))  # one line a record
            else:  # records over several lines (quoted line breaks), or an error: count the lines
                starts, line = [], before
                for row in rows:
                    starts.append(line + 1)
                    line += 1 + sum(field.count("\n") for field in row)
            if oversized:
                for i, start in enumerate(starts):
                    if start in oversized and not rows[i]:
                        errors[i] = f"line longer than {MAX_LINE_BYTES} bytes"
            yield rows, starts, errors, ended
            if ended:
                return

    def _run(self, handle, transaction) -> None:
        # The run allocates millions of short-lived objects (rows, receipts, ledger rows) beside the
        # long-lived customer states, and makes no reference cycles of its own: Python's cyclic collector
        # would walk the states over and over (a third of the time of a 1M-row import). Reference counting
        # frees the rows; the collector runs once per transaction instead.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._read(handle, transaction)
        except BaseException as exc:
            if self._tx is None:
                raise
            self._abort(exc)
        finally:
            if collecting:
                gc.enable()

    def _read(self, handle, transaction) -> None:
        reader = self._open_reader(handle)
        index = self._columns(self._header)
        self._get = {f: index.get(f) for f in CANONICAL}
        held: list = []  # the rows of the receipt held back from the last block, their lines and errors
        held_starts: list[int] = []
        held_errors: dict[int, str] = {}
        held_id: str | None = None
        for rows, starts, errors, ended in self._record_blocks(reader, min(self.batch_rows, BLOCK_ROWS)):
            # The last receipt of a block is held back: its lines may go on in the next block. It starts
            # after the last row naming another receipt; rows the row-by-row path passes over (blank,
            # unreadable, skipped by the preset) do not end a receipt there, so they do not here.
            cut, receipt_id = self._last_receipt(rows, errors)
            if held:
                if cut is None and (receipt_id is None or (receipt_id == held_id and receipt_id)):
                    receipt_id = held_id  # the new rows go on with the receipt held
                else:
                    cut = (cut or 0) + len(held)
                errors = {**held_errors, **{i + len(held): e for i, e in errors.items()}}
                held.extend(rows)
                held_starts.extend(starts)
                rows, starts = held, held_starts
            cut = cut or 0
            if ended:
                self._flush(self._receipts(rows, starts, errors), transaction, len(rows), last=True)
                return
            held_id = receipt_id
            if cut == 0:  # one receipt so far: hold it all (the lists grow; nothing is copied)
                held, held_starts, held_errors = rows, starts, errors
                continue
            held, held_starts = rows[cut:], starts[cut:]
            held_errors = {i - cut: e for i, e in errors.items() if i >= cut}
            del rows[cut:], starts[cut:]
            self._flush(self._receipts(rows, starts, {i: e for i, e in errors.items() if i < cut}), transaction, cut)

    def _last_receipt(self, rows: list, errors: dict[int, str]) -> tuple[int | None, str | None]:
        """Where the last receipt of ``rows`` starts, and its id; (None, id) when every row belongs to it or
        is passed over (None, None: every row is passed over)."""
        i_receipt, i_customer = self._get["receipt_id"], self._get["customer"]
        skip_rules = self._rule_columns["skip_when"]
        anonymous_skip = self.preset.anonymous == "skip"
        receipt_id = None
        i = len(rows)
        while i:
            row = rows[i - 1]
            if (i - 1 in errors or len(row) <= i_receipt
                    or (skip_rules and any(len(row) > c and row[c].strip().lower() == v for c, v in skip_rules))
                    or (anonymous_skip and len(row) > i_customer and not row[i_customer].strip())):
                i -= 1  # passed over by the row-by-row path
                continue
            this = row[i_receipt].strip()
            if receipt_id is None:
                receipt_id = this
            elif this != receipt_id or not this:
                return i, receipt_id
            i -= 1
        return None, receipt_id

    def _receipts(self, rows: list, starts: list[int], errors: dict[int, str]) -> list[_Receipt]:
        """The whole receipts of a block of records."""
        if not errors and rows:
            receipts = self._fast_receipts(rows, starts)
            if receipts is not None:
                return receipts
        return self._slow_receipts(rows, starts, errors)

    def _fast_receipts(self, rows: list, starts: list[int]) -> list[_Receipt] | None:
        """The common block (every row as wide as the header, plain amounts and quantities, whole receipts
        on consecutive lines, no preset rule to apply) is parsed column by column, in C; None for any
        other block, which the row-by-row path takes with its full rules and messages."""
        get, width, preset = self._get, self._width, self.preset
        i_amount, i_sku, i_qty, i_price = get["amount"], get["sku"], get["quantity"], get["unit_price"]
        if (None in (i_amount, i_sku, i_qty, i_price) or self._rule_columns["negate_when"]
                or self._rule_columns["skip_when"]):
            return None
        widths = set(map(len, rows))
        if widths != {width}:
            return None
        columns = list(zip(*rows))
        strip = str.strip
        receipt_ids = list(map(strip, columns[get["receipt_id"]]))
        whens = list(map(strip, columns[get["timestamp"]]))
        keys = list(map(strip, columns[get["customer"]]))
        if "" in receipt_ids or ("" in keys and preset.anonymous == "skip"):
            return None
        if preset.customer_kind == "card" and ".0\x00" in "\x00".join(keys) + "\x00":
            return None
        # a new receipt where the id changes; within a receipt, time and customer must not change
        new = list(map(ne, receipt_ids[1:], receipt_ids[:-1]))
        if (any(map(gt, map(ne, whens[1:], whens[:-1]), new))
                or any(map(gt, map(ne, keys[1:], keys[:-1]), new))):
            return None
        amounts = _parsed(columns[i_amount], _AMOUNTS, _amount_or_none)
        prices = _parsed(columns[i_price], _AMOUNTS, _amount_or_none)
        quantities = _parsed(columns[i_qty], _QUANTITIES, _quantity_or_none)
        if amounts is None or prices is None or quantities is None:
            return None
        skus = list(map(strip, columns[i_sku]))
        if max(map(len, skus)) > 64 or not all(map(str.isprintable, skus)):
            return None
        i_channel = get["channel"]
        channels = list(map(strip, columns[i_channel])) if i_channel is not None else None
        default_channel = preset.default_channel
        block = _Block(rows, starts, skus, quantities, prices, amounts)
        totals = list(accumulate(amounts, initial=0))
        firsts = [0, *compress(range(1, len(rows)), new)]
        out = []
        for first, end in zip(firsts, firsts[1:] + [len(rows)]):
            receipt = _Receipt(receipt_ids[first], starts[first], whens[first], keys[first],
                               (channels[first] if channels is not None else "") or default_channel)
            receipt.lines = _Span(block, first, end)
            receipt.amount = totals[end] - totals[first]
            out.append(receipt)
        self.summary.read += len(rows)
        return out

    def _slow_receipts(self, rows: list, starts: list[int], errors: dict[int, str]) -> list[_Receipt]:
        """Row by row, with every rule and message: short or long rows, preset rules, odd values."""
        get = self._get
        out: list[_Receipt] = []
        current: _Receipt | None = None
        width = self._width
        i_receipt, i_when, i_customer = get["receipt_id"], get["timestamp"], get["customer"]
        i_amount, i_channel, i_sku = get["amount"], get["channel"], get["sku"]
        i_qty, i_price = get["quantity"], get["unit_price"]
        negate_rules = self._rule_columns["negate_when"]
        skip_rules = self._rule_columns["skip_when"]
        anonymous_skip = self.preset.anonymous == "skip"
        card_numbers = self.preset.customer_kind == "card"
        default_channel = self.preset.default_channel
        summary = self.summary
        # the common canonical row (whole quantity, prices seen before, a plain SKU) is parsed inline;
        # anything else goes through _parse_line, which has the full rules and messages
        fast = None not in (i_amount, i_sku, i_qty, i_price)
        known_amount = _AMOUNTS.get
        for i, fields in enumerate(rows):
            start, error = starts[i], errors.get(i)
            if error is None and not fields:
                continue  # a blank line
            summary.read += 1
            if error is not None:
                self._reject_row(start, fields or [], error)
                continue
            if len(fields) < width:
                fields = fields + [""] * (width - len(fields))
            if skip_rules and any(fields[i].strip().lower() == v for i, v in skip_rules):
                summary.skipped += 1
                continue
            receipt_id = fields[i_receipt].strip()
            key = fields[i_customer].strip()
            if card_numbers and key.endswith(".0") and key[:-2].isdigit():
                key = key[:-2]  # spreadsheets write customer numbers as 17850.0
            if not key and anonymous_skip:
                summary.skipped += 1
                continue
            when = fields[i_when].strip()
            if current is None or receipt_id != current.receipt_id or not receipt_id:
                if current is not None:
                    out.append(current)
                channel = fields[i_channel].strip() if i_channel is not None else ""
                current = _Receipt(receipt_id, start, when, key, channel or default_channel)
            if current.error is not None:
                current.lines.append(_Line(start, fields))
                continue
            if fast and receipt_id and when == current.at_text and key == current.customer_key:
                qty_text = fields[i_qty].strip()
                unit_price = known_amount(fields[i_price].strip())
                amount = known_amount(fields[i_amount].strip())
                sku = fields[i_sku].strip()
                if (unit_price is not None and amount is not None and qty_text.isdecimal()
                        and 0 < len(sku) <= 64 and sku.isprintable()):
                    quantity = int(qty_text)
                    if 0 < quantity <= 100_000:
                        if negate_rules and any(fields[i].strip().lower() == v for i, v in negate_rules):
                            amount = -abs(amount)
                        current.lines.append(_Line(start, fields, amount, sku, quantity, unit_price))
                        current.amount += amount
                        continue
            line = _Line(start, fields)
            current.lines.append(line)
            try:
                if not receipt_id:
                    raise _Reject("receipt id is empty", start)
                if when != current.at_text or key != current.customer_key:
                    raise _Reject(f"lines of receipt {receipt_id} disagree on timestamp or customer "
                                  f"(line {current.first_line} has {current.at_text!r}, {current.customer_key!r})",
                                  start)
                self._parse_line(line, fields, i_amount, i_sku, i_qty, i_price)
                if negate_rules and any(fields[i].strip().lower() == v for i, v in negate_rules):
                    line.amount = -abs(line.amount)
                current.amount += line.amount
            except _Reject as exc:
                current.error = exc if exc.line else _Reject(exc.reason, start)
            except LoyaltyError as exc:
                current.error = _Reject(str(exc), start)
        if current is not None:
            out.append(current)
        return out

    def _parse_line(self, line: _Line, fields: list[str], i_amount, i_sku, i_qty, i_price) -> None:
        qty_text = fields[i_qty].strip() if i_qty is not None else ""
        price_text = fields[i_price].strip() if i_price is not None else ""
        amount_text = fields[i_amount].strip() if i_amount is not None else ""
        if qty_text:
            try:
                quantity = int(qty_text)
            except ValueError:
                raise _Reject(f"quantity {qty_text[:40]!r} is not a whole number") from None
            if quantity == 0 or abs(quantity) > 100_000:
                raise _Reject(f"quantity {quantity} must be 1 to 100000 (or -1 to -100000 for a return)")
        else:
            quantity = 1
        unit_price = _amount(price_text, "unit price") if price_text else None
        if amount_text:
            amount = _amount(amount_text, "amount")
        elif unit_price is not None:
            amount = quantity * unit_price
        else:
            raise _Reject("amount is empty (and there is no unit_price to compute it)")
        if i_sku is not None:
            sku = fields[i_sku].strip()
            if sku:
                line.sku = sku if len(sku) <= 64 and sku.isprintable() else points.check_sku(sku)
        line.quantity = quantity
        line.unit_price = unit_price if unit_price is not None else (amount // quantity if amount % quantity == 0
                                                                       else amount)
        if unit_price is None and amount % quantity:
            line.quantity = 1
        line.amount = amount

    # -- rejects --------------------------------------------------------------------------------------
    def _reject_row(self, line: int, fields: list[str], reason: str) -> None:
        self.summary.rejected += 1
        text = f"{self.label}:{line}: {reason}"
        if len(self.summary.first_rejects) < 20:
            self.summary.first_rejects.append(text)
        if self.rejects_path is None or self.dry_run:
            return
        if self._rejects_writer is None:
            try:
                self._rejects_handle = self.rejects_path.open("w", newline="", encoding="utf-8")
            except OSError as exc:
                raise InvalidInput(f"cannot write the rejects file {self.rejects_path}: "
                                   f"{exc.strerror or exc}") from None
            self._rejects_writer = csv.writer(self._rejects_handle)
            self._rejects_writer.writerow([*self._header, "reason"])
            self.summary.rejects_file = str(self.rejects_path)
        row = list(fields[:self._width]) + [""] * (self._width - len(fields))
        if len(fields) > self._width:  # keep what did not fit, rather than lose it
            row[-1] = ",".join([row[-1], *fields[self._width:]]) if self._width else ",".join(fields)
        self._rejects_writer.writerow([*row, text])

    def _reject_receipt(self, receipt: _Receipt, reason: str, line: int | None = None) -> None:
        if len(self._rejected_ids) < 100_000:  # so that a refund of a rejected sale is rejected too
            self._rejected_ids.add(receipt.receipt_id)
        for item in receipt.lines:
            if line is None or item.line == line:
                self._reject_row(item.line, item.fields, reason)
            else:
                self._reject_row(item.line, item.fields,
                                 f"receipt {receipt.receipt_id} rejected: see line {line}")

    def _close_rejects(self) -> None:
        if self._rejects_handle is not None:
            self._rejects_handle.close()
            self._rejects_handle = None

    # -- blocks of receipts; batches of blocks: one transaction ----------------------------------------
    def _flush(self, batch: list[_Receipt], transaction, rows: int, last: bool = False) -> None:
        """Apply one block of whole receipts in the open transaction (opened first if need be); commit once
        the transaction holds ``batch_rows`` rows, and at the end."""
        if self._tx is None:
            if not batch and not last:
                return
            tx = transaction()
            self._session = tx.__enter__()
            self._tx = tx
            self._tx_rows = self._tx_receipts = 0
            self._begin(self._session)
        session = self._session
        self._process(session, self._program, batch)
        self._tx_rows += rows
        self._tx_receipts += len(batch)
        if last or self._tx_rows >= self.batch_rows:
            if self.summary.run_id is not None and not self.dry_run:
                values = dict(read=self.summary.read, imported=self.summary.imported,
                              skipped=self.summary.skipped, rejected=self.summary.rejected,
                              points_awarded=self.summary.points_awarded)
                if last:
                    values["finished_at"] = clock.now()
                session.execute(update(ImportRun).where(ImportRun.id == self.summary.run_id).values(**values))
            if self.after_batch is not None:
                self.after_batch(session, self._tx_receipts)
            if self._sqlite and self._data_version is not None:  # this import's own changes
                driver = session.connection().connection.dbapi_connection
                self._data_version = (*self._data_version[:2], driver.total_changes)
            tx, self._tx, self._session = self._tx, None, None
            tx.__exit__(None, None, None)  # commits
            gc.collect(1)
            if self._rejects_handle is not None:
                self._rejects_handle.flush()
        if self.progress is not None:
            self.progress(self._lines.bytes_read, self.total_bytes)

    def _abort(self, exc: BaseException) -> None:
        """Roll the open transaction back (the database's context manager does it) and re-raise."""
        tx, self._tx, self._session = self._tx, None, None
        if tx is not None and tx.__exit__(type(exc), exc, exc.__traceback__):
            return
        raise exc

    def _begin(self, session: Session) -> None:
        """What every transaction needs first: locks, settings, the run's row, still-valid caches."""
        self._sqlite = session.get_bind().dialect.name == "sqlite"
        if not self._sqlite:
            # PostgreSQL: SQLite's BEGIN IMMEDIATE lets one writer at a time take the watermark and look
            # for the batch's receipts; here two imports of overlapping files would both find a receipt
            # missing and both insert it. One batch per source at a time, until its transaction ends.
            session.execute(text("SELECT pg_advisory_xact_lock(7412002, hashtext(:source))"),
                            {"source": self.source})
            self._states.clear()  # row locks are per transaction: reload (and lock) the customers
        else:
            driver = session.connection().connection.dbapi_connection
            if not self._tuned:
                # a bigger page cache for this connection: index pages of a long backfill stay in memory
                session.connection().exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
                self._tuned = True
            # Customer states carry over from one transaction to the next unless something else wrote in
            # between (a till's sale, a merge): another connection (data_version), or this very connection
            # used by someone else (its count of changes moved since this import's last commit).
            version = (id(driver), session.connection().exec_driver_sql("PRAGMA data_version").scalar(),
                       driver.total_changes)
            if version != self._data_version:
                self._states.clear()
                self._customer_cache.clear()
                self._data_version = version
        self._q = _QUERIES["sqlite" if self._sqlite else "other"]
        program = self._program = load_program(session)
        self._expiry = clock.DAY * program.expiry_days
        self._window_us = program.tier_window_days * 86_400_000_000
        self._milestone = (program.milestone_bonus, program.milestone_spend)
        self._cashback = program.earn_mode == "cashback"
        self._points_memo: dict[tuple, int] = {}
        # times are held in UTC: where the shop's zone is UTC too, a sale's year needs no conversion
        self._utc = isinstance(self._zone, timezone) and self._zone.utcoffset(None) == timedelta(0)
        if not self._watermark:
            self._watermark = session.execute(select(func.coalesce(func.max(Purchase.id), 0))).scalar_one() or -1
        if self._record_run and self.summary.run_id is None:
            # written with the first batch: a file refused at its header leaves no trace
            run = ImportRun(source=self.source, file=self.label[-255:], started_at=self._started)
            session.add(run)
            session.flush()
            self.summary.run_id = run.id

    def _process(self, session: Session, program: Program, batch: list[_Receipt]) -> None:
        summary = self.summary
        self.summary.legacy_encoding_lines = self._lines.legacy
        # 1. receipts with a bad line, bad id or time; duplicates within the batch
        seen: dict[str, _Receipt] = {}
        ready: list[_Receipt] = []
        now_limit = clock.now() + points.FUTURE_SLACK
        for receipt in batch:
            if receipt.error is not None:
                self._reject_receipt(receipt, receipt.error.reason, receipt.error.line)
                continue
            try:
                points.check_receipt(receipt.receipt_id)
                channel = self._channels.get(receipt.channel)
                if channel is None:
                    channel = self._channels[receipt.channel] = points.check_channel(receipt.channel)
                receipt.channel = channel
                receipt.at = self._when(receipt.at_text)
                receipt.us = (receipt.at - _EPOCH) // _MICROSECOND
            except LoyaltyError as exc:
                self._reject_receipt(receipt, str(exc))
                continue
            if receipt.at > now_limit:
                self._reject_receipt(receipt, f"time {clock.local_text(receipt.at)} is in the future")
                continue
            if receipt.amount == 0:
                self._reject_receipt(receipt, f"receipt {receipt.receipt_id} adds up to 0.00: nothing to record")
                continue
            if not receipt.customer_key:
                self._reject_receipt(receipt, "customer is empty; give a code, card, e-mail or phone")
                continue
            earlier = seen.get(receipt.receipt_id)
            if earlier is not None:
                self._reject_receipt(receipt, f"receipt {receipt.receipt_id} appears twice in the file "
                                              f"(first at line {earlier.first_line}); lines of a receipt must "
                                              "be consecutive")
                continue
            seen[receipt.receipt_id] = receipt
            ready.append(receipt)
        # 2. receipts already recorded from this source: skipped (or, recorded by this very run: duplicates)
        existing = {}
        q = self._q
        for chunk in self._id_lists([r.receipt_id for r in ready]):
            for receipt_id, purchase_id, line in session.execute(q["existing"], {"source": self.source, "ids": chunk}):
                existing[receipt_id] = (purchase_id, line)
        if existing:
            kept = []
            for receipt in ready:
                found = existing.get(receipt.receipt_id)
                if found is None:
                    kept.append(receipt)
                elif found[0] > self._watermark and found[1] != receipt.first_line:
                    self._reject_receipt(receipt, f"receipt {receipt.receipt_id} appears twice in the file "
                                                  f"(first at line {found[1]}); lines of a receipt must "
                                                  "be consecutive")
                else:
                    summary.skipped += len(receipt.lines)
            ready = kept
        if not ready:
            return
        # 3. customers
        states = self._resolve_customers(session, program, ready)
        ready = [r for r in ready if r.customer is not None]
        if not ready:
            return
        # 4. what the rules need, loaded once for the batch
        self._load_states(session, program, states, ready)
        # 5. the rules, in time order (per customer this is the order of the sales)
        self._db_sales = self._sales_in_db(session, states, [
            candidate for r in ready if r.amount < 0 for candidate in self._sale_candidates(r.receipt_id)])
        ready.sort(key=lambda r: (r.at, r.first_line))
        self._stored_times: dict[datetime, str] = {}
        sales_in_batch: dict[str, tuple | _Sale] = {}
        purchases: list[list] = []
        ledger_rows: list[list] = []
        source, import_file = self.source, self.label[-255:]
        referral_checks: list[tuple[int, _Receipt]] = []
        recorded = clock.now()
        accepted: list[_Receipt] = []
        for receipt in ready:
            state: _CustomerState = receipt.customer
            at = receipt.at
            try:
                if receipt.amount > 0:
                    rows = self._sale(program, receipt, state, at, recorded)
                    # what a refund in this block needs of the sale (made into a record if one does)
                    sales_in_batch[receipt.receipt_id] = (
                        receipt, len(purchases), rows[0][_DELTA] if rows and rows[0][_KIND] == "earn" else 0)
                    if state.referral_pending and receipt.amount >= program.referral_min_purchase:
                        referral_checks.append((len(purchases), receipt))
                    refund_of = None
                else:
                    rows, refund_of = self._refund(session, program, receipt, state, at, recorded, sales_in_batch)
            except _Reject as exc:
                self._reject_receipt(receipt, exc.reason)
                continue
            index = len(purchases)
            receipt.index = index
            purchases.append([None, state.id, source, receipt.receipt_id, at, receipt.amount, receipt.channel,
                              refund_of, import_file, receipt.first_line])
            for row in rows:
                row[_PURCHASE] = index  # the purchase's index for now; its id once written
                ledger_rows.append(row)
            state.add(receipt.us, receipt.amount)
            accepted.append(receipt)
        if not purchases:
            return
        # 6. write: purchases (ids back), their items, their ledger rows
        # refunds of a sale in this batch: (refund's index, sale's index), linked once ids are known
        links = [(r.index, r.sale_link) for r in accepted if r.sale_link is not None]
        ids = self._insert_purchases(session, purchases, links)
        items: list[tuple] = []
        for receipt in accepted:
            if receipt.amount > 0:
                items.extend(_items(receipt.lines, ids[receipt.index]))
        if items:
            _write_rows(session, PurchaseItem.__table__, _ITEM_COLUMNS, items, self._stored_times)
        if ledger_rows:
            for row in ledger_rows:
                row[_PURCHASE] = ids[row[_PURCHASE]]
            _write_rows(session, LedgerEntry.__table__, _LEDGER_COLUMNS, ledger_rows, self._stored_times)
        awarded = sum(row[_DELTA] for row in ledger_rows)
        # 7. referral rewards (rare): the shared rule, now that the purchases exist
        for i, receipt in referral_checks:
            customer = session.get(Customer, receipt.customer.id)
            for bonus in rules.referral_bonuses(session, program, customer, receipt.at, receipt.amount, ids[i]):
                awarded += bonus.points
            receipt.customer.referral_pending = False
        summary.points_awarded += awarded
        summary.imported += sum(len(r.lines) for r in accepted)
        summary.receipts += sum(1 for r in accepted if r.amount > 0)
        summary.refunds += sum(1 for r in accepted if r.amount < 0)

    def _insert_purchases(self, session: Session, purchases: list[list], links: list[tuple[int, int]]) -> list[int]:
        table = Purchase.__table__
        if _sqlite_fast_path(session):
            # BEGIN IMMEDIATE holds the database's write lock: the next ids are ours to take,
            # so a refund of a sale in the same batch is written already linked (the sale comes first).
            first = (session.execute(select(func.max(Purchase.id))).scalar() or 0) + 1
            for offset, row in enumerate(purchases):
                row[0] = first + offset
            for refund, sale in links:
                purchases[refund][7] = first + sale
            _write_rows(session, table, _PURCHASE_COLUMNS, purchases, self._stored_times)
            return list(range(first, first + len(purchases)))
        rows = [dict(zip(_PURCHASE_COLUMNS[1:], row[1:])) for row in purchases]
        result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        ids = list(result.scalars())
        if links:
            session.execute(update(table).where(table.c.id == bindparam("refund_id"))
                            .values(refund_of_id=bindparam("sale_id")),
                            [{"refund_id": ids[refund], "sale_id": ids[sale]} for refund, sale in links])
        return ids

    # -- the rules ------------------------------------------------------------------------------------
    def _sale(self, program: Program, receipt: _Receipt, state: _CustomerState, at: datetime,
              recorded: datetime) -> list[list]:
        if at < state.enrolled_at:
            raise _Reject(f"{clock.local_text(at)} is before {state.code} enrolled "
                          f"({clock.local_text(state.enrolled_at)})")
        us = receipt.us
        spend = state.spend_between(us - self._window_us, us)
        tier = program.tier_for_spend(spend)
        multiplier = tier.multiplier * state.membership_multiplier(at) if state.memberships else tier.multiplier
        amount = receipt.amount
        earned = self._points(program, amount, multiplier)
        rows = []
        expires = at + self._expiry if self._expiry else None  # program.expiry_for, without its import
        if earned:
            rate = self._rates.get((tier.name, multiplier))
            if rate is None:
                rate = self._rates[(tier.name, multiplier)] = f"({tier.name} x{multiplier.normalize()})"
            rows.append([state.id, "earn", earned, at, expires, None, None, None,
                         f"receipt {receipt.receipt_id} {_amount_text(amount)} {receipt.channel} {rate}"[:500],
                         recorded])
        milestone_bonus, milestone_spend = self._milestone
        if milestone_bonus and milestone_spend:
            year = at.year if self._utc else at.astimezone(self._zone).year
            key = f"milestone:{year}"
            if key not in state.bonus_keys:
                start = self._year_start_us(year)
                year_spend = state.spend_between(start, us, inclusive=True) + amount
                if year_spend >= milestone_spend:
                    state.add_bonus(key)
                    row = self._ledger_row(state.id, "milestone", milestone_bonus, at, expires, recorded,
                                           f"milestone: {year} spend reached {milestone_spend // 100}")
                    row[_BONUS_KEY] = key
                    rows.append(row)
        return rows

    def _points(self, program: Program, amount: int, multiplier: Decimal) -> int:
        """rules.points_for_amount, remembered: it depends only on whole units (or cents in cashback mode)."""
        if amount <= 0:
            return 0
        key = (amount if self._cashback else amount // 100, multiplier)
        earned = self._points_memo.get(key)
        if earned is None:
            earned = self._points_memo[key] = rules.points_for_amount(program, amount, multiplier)
        return earned

    def _refund(self, session: Session, program: Program, receipt: _Receipt, state: _CustomerState,
                at: datetime, recorded: datetime, sales_in_batch: dict) -> tuple[list[list], int | None]:
        amount = -receipt.amount
        sale = None
        for candidate in self._sale_candidates(receipt.receipt_id):
            sale = sales_in_batch.get(candidate)
            if isinstance(sale, tuple):
                original, index, earned = sale
                sale = sales_in_batch[candidate] = _Sale(original.receipt_id, original.customer, original.at,
                                                         original.amount, earned, index=index)
            sale = sale or self._db_sales.get(candidate)
            if sale is not None:
                break
        if sale is None:
            for candidate in self._sale_candidates(receipt.receipt_id):
                if candidate in self._rejected_ids:
                    raise _Reject(f"refund {receipt.receipt_id} is of receipt {candidate}, which was rejected")
            # Not linked to a sale: reverse points at the customer's earn rate at the time of the refund.
            spend = state.spend_between(receipt.us - self._window_us, receipt.us)
            tier = program.tier_for_spend(spend)
            multiplier = tier.multiplier * state.membership_multiplier(at) if state.memberships else tier.multiplier
            reverse = rules.points_for_amount(program, amount, multiplier)
            rows = []
            if reverse:
                rows.append(self._ledger_row(state.id, "refund", -reverse, at, None, recorded,
                                             f"refund {receipt.receipt_id}: {format_amount(amount)} "
                                             f"({tier.name} x{multiplier.normalize()}, no sale linked)"))
            return rows, None
        if sale.customer.id != state.id:
            raise _Reject(f"refund {receipt.receipt_id} names {state.code} but sale {sale.receipt_id} "
                          f"belongs to {sale.customer.code}")
        remaining = sale.amount - sale.refunded
        if remaining <= 0:
            raise _Reject(f"receipt {sale.receipt_id} is already fully refunded")
        if amount > remaining:
            raise _Reject(f"refund {format_amount(amount)} is more than what is left of receipt "
                          f"{sale.receipt_id} ({format_amount(remaining)})")
        if at < sale.at:
            raise _Reject("a refund cannot be earlier than its sale")
        reversed_total = sale.earned * (sale.refunded + amount) // sale.amount
        reverse = reversed_total - sale.reversed
        sale.refunded += amount
        sale.reversed = reversed_total
        sale.refunds += 1
        rows = []
        if reverse:
            rows.append(self._ledger_row(state.id, "refund", -reverse, at, None, recorded,
                                         f"refund of receipt {sale.receipt_id}: {format_amount(amount)}"))
        if sale.id is None:  # the sale is in this batch: link once its id is known
            receipt.sale_link = sale.index
            return rows, None
        return rows, sale.id

    def _sale_candidates(self, receipt_id: str) -> list[str]:
        out = []
        m = _REFUND_SUFFIX.match(receipt_id)
        if m:
            out.append(m.group(1))
        prefix = self.preset.cancellation_prefix
        if prefix and receipt_id.startswith(prefix) and len(receipt_id) > len(prefix):
            out.append(receipt_id[len(prefix):])
        return out

    def _sales_in_db(self, session: Session, states: dict, receipt_ids: list[str]) -> dict[str, _Sale]:
        """The sales these refunds may name, with what they earned and what was refunded of them."""
        found: dict[str, _Sale] = {}
        for chunk in _chunks(sorted(set(receipt_ids))):
            sales = session.execute(select(Purchase.id, Purchase.receipt_id, Purchase.customer_id, Purchase.at,
                                           Purchase.amount).where(
                Purchase.source == self.source, Purchase.receipt_id.in_(chunk), Purchase.amount > 0,
                Purchase.refund_of_id.is_(None))).all()
            if not sales:
                continue
            ids = [sale.id for sale in sales]
            earned = dict(session.execute(select(LedgerEntry.purchase_id, func.sum(LedgerEntry.delta)).where(
                LedgerEntry.purchase_id.in_(ids), LedgerEntry.kind == "earn").group_by(LedgerEntry.purchase_id)).all())
            refunds = session.execute(select(Purchase.id, Purchase.refund_of_id, Purchase.amount)
                                      .where(Purchase.refund_of_id.in_(ids))).all()
            reversed_ = dict(session.execute(select(LedgerEntry.purchase_id, func.sum(LedgerEntry.delta)).where(
                LedgerEntry.purchase_id.in_([r.id for r in refunds] or [-1]), LedgerEntry.kind == "refund")
                .group_by(LedgerEntry.purchase_id)).all())
            for sale in sales:
                state = states.get(sale.customer_id)
                if state is None:
                    row = session.get(Customer, sale.customer_id)
                    state = _CustomerState(row.id, row.code, row.enrolled_at)
                mine = [r for r in refunds if r.refund_of_id == sale.id]
                found[sale.receipt_id] = _Sale(
                    sale.receipt_id, state, sale.at, sale.amount, earned.get(sale.id, 0), id=sale.id,
                    refunded=-sum(r.amount for r in mine), reversed=-sum(reversed_.get(r.id, 0) for r in mine),
                    refunds=len(mine))
        return found

    def _year_start_us(self, year: int) -> int:
        start = self._year_starts_us.get(year)
        if start is None:
            start = self._year_starts_us[year] = (self._year_start(year) - _EPOCH) // _MICROSECOND
        return start

    def _year_start(self, year: int) -> datetime:
        start = self._year_starts.get(year)
        if start is None:
            start = self._year_starts[year] = clock.year_bounds(year)[0]
        return start

    @staticmethod
    def _ledger_row(customer_id: int, kind: str, delta: int, at: datetime, expires: datetime | None,
                    recorded: datetime, note: str) -> list:
        """A ledger row as a list in _LEDGER_COLUMNS order."""
        return [customer_id, kind, delta, at, expires, None, None, None, note[:500], recorded]

    def _when(self, text: str) -> datetime:
        last_text, last_value, last_error = self._last_when
        if text == last_text and (last_value is not None or last_error is not None):
            if last_error:
                raise InvalidInput(last_error)
            return last_value
        try:
            value = self._parse_when(text)
        except InvalidInput as exc:
            self._last_when = (text, None, str(exc))
            raise
        self._last_when = (text, value, None)
        return value

    def _parse_when(self, text: str) -> datetime:
        # clock.parse_timestamp's answer, without asking the system for the local zone twice per receipt
        try:
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
            if 1900 < value.year < 9998:
                if value.tzinfo is None:
                    return clock.localize(value, text=text)  # the shop's zone: DST gap refused
                return value.astimezone(UTC)
        except ValueError:
            pass
        try:
            return clock.parse_timestamp(text)
        except InvalidInput:
            for fmt in self.preset.date_formats:
                try:
                    naive = datetime.strptime(text.strip(), fmt)
                except ValueError:
                    continue
                return clock.parse_timestamp(naive.isoformat())
            raise

    # -- customers ----------------------------------------------------------------------------------
    def _resolve_customers(self, session: Session, program: Program, ready: list[_Receipt]) -> dict:
        cache = self._customer_cache
        if len(cache) > 200_000:
            cache.clear()
        keys = {r.customer_key for r in ready} - cache.keys()
        if keys:
            self._lookup(session, program, keys)
        unknown: dict[str, datetime] = {}
        for receipt in ready:
            found = cache.get(receipt.customer_key)
            if found is None and receipt.customer_key not in unknown:
                unknown[receipt.customer_key] = receipt.at
            elif found is None:
                unknown[receipt.customer_key] = min(unknown[receipt.customer_key], receipt.at)
        if unknown and self.enroll_unknown:
            for key, first_at in unknown.items():
                cache[key] = self._enroll(session, program, key, first_at)
        states = self._states
        for receipt in ready:
            found = cache.get(receipt.customer_key)
            if found is None:
                self._reject_receipt(receipt, f"unknown customer {receipt.customer_key!r}; enroll them first or "
                                              "run the import with --enroll-unknown")
                continue
            if isinstance(found, str):
                self._reject_receipt(receipt, found)
                continue
            id_, code, enrolled_at = found
            state = states.get(id_)
            if state is None:
                state = states[id_] = _CustomerState(id_, code, enrolled_at)
            receipt.customer = state
        return states

    def _lookup(self, session: Session, program: Program, keys: set[str]) -> None:
        """customers.find semantics for many keys at once; odd ones (phones to normalize) one by one."""
        cache = self._customer_cache
        keys = list(keys)
        code_match = customers._CODE.match
        for chunk in _chunks(keys, 5_000 if self._sqlite else 200):
            candidates, lowered = set(), set()
            for key in chunk:
                candidates.update((key, key.upper(), key.lower()))
                if code_match(key):
                    candidates.add(customers.customer_code(int(key[1:])))
                lowered.add(key.lower())
            rows = session.execute(self._q["customers"], {"ids": self._id_param(sorted(candidates)),
                                                          "lowered": self._id_param(sorted(lowered)),
                                                          "keys": self._id_param(chunk)}).all()
            index: dict[str, dict] = {}
            for row in rows:
                for value in {row.code, row.card}:
                    if value:
                        index.setdefault(("id", value), {})[row.id] = row
                if row.email:
                    index.setdefault(("email", row.email), {})[row.id] = row
                if row.phone:
                    index.setdefault(("phone", row.phone), {})[row.id] = row
            for key in chunk:
                cands = {key, key.upper(), key.lower()}
                if customers._CODE.match(key):
                    cands.add(customers.customer_code(int(key[1:])))
                matches = {}
                for probe in [("id", c) for c in cands] + [("email", key.lower()), ("phone", key)]:
                    matches.update(index.get(probe, {}))
                if len(matches) == 1:
                    row = next(iter(matches.values()))
                    if row.status == "active":
                        cache[key] = (row.id, row.code, row.enrolled_at)
                        continue
                if matches or re.match(r"^[+0-9][0-9 ()./-]{5,}$", key):
                    # the library says it best: ambiguous, merged, forgotten, or a phone to normalize
                    try:
                        customer = customers.find(session, key, program)
                        cache[key] = (customer.id, customer.code, customer.enrolled_at)
                    except LoyaltyError as exc:
                        cache[key] = None if "unknown customer" in str(exc) else str(exc)
                else:
                    cache[key] = None

    def _enroll(self, session: Session, program: Program, key: str, first_at: datetime):
        kind = self.preset.customer_kind
        if kind == "contact":  # a phone or an e-mail, never a card
            kind = "email" if "@" in key else "phone"
        elif kind not in ("card", "email", "phone"):
            kind = "email" if "@" in key else "phone" if key.startswith("+") else "card"
        try:
            customer = customers.enroll(session, program, None, **{kind: key}, at=first_at)
        except LoyaltyError as exc:
            return f"cannot enroll unknown customer {key!r}: {exc}"
        self.summary.enrolled += 1
        if program.welcome_bonus:
            self.summary.points_awarded += program.welcome_bonus
        return (customer.id, customer.code, customer.enrolled_at)

    def _load_states(self, session: Session, program: Program, states: dict, ready: list[_Receipt]) -> None:
        """Read what the rules need of the block's customers, unless an earlier block of the run already did
        (their states then hold everything since, the run's own sales included)."""
        first = min(r.at for r in ready)
        lo = min(first - clock.DAY * program.tier_window_days, self._year_start(first.astimezone(self._zone).year))
        mine = {r.customer.id: r.customer for r in ready}
        if len(states) > MAX_STATES:  # memory stays flat: forget customers this block does not name
            for id_ in [i for i in states if i not in mine]:
                del states[id_]
        lo_us = (lo - _EPOCH) // _MICROSECOND
        ids = []
        for state in mine.values():
            if state.loaded_from is None or state.loaded_from > lo_us:
                state.reset(lo_us)
                ids.append(state.id)
            elif len(state.times) > MAX_HISTORY:
                state.trim(lo_us)
        if not ids:
            return
        hi = _END_OF_TIME
        q = self._q
        for chunk in _chunks(ids, len(ids) if self._sqlite else _IN_CHUNK):
            param = self._id_param(chunk)
            if _sqlite_fast_path(session):
                # the driver's rows, each stored time parsed once (SQLAlchemy's per-row conversion costs more)
                spend = session.connection().exec_driver_sql(_SQLITE_SPEND, (param, _stored(lo), _stored(hi)))
                parsed: dict[str, int] = {}
                rows = []
                for customer_id, stamp, amount in spend:
                    us = parsed.get(stamp)
                    if us is None:
                        us = parsed[stamp] = (datetime.fromisoformat(stamp) - _EPOCH_NAIVE) // _MICROSECOND
                    rows.append((customer_id, us, amount))
            else:
                rows = [(customer_id, (at - _EPOCH) // _MICROSECOND, amount) for customer_id, at, amount
                        in session.execute(q["spend"], {"ids": param, "lo": lo, "hi": hi})]
            for customer_id, us, amount in rows:  # by customer and time
                state = states[customer_id]
                state.times.append(us)
                state.amounts.append(amount)
                state.cum.append(state.cum[-1] + amount)
            for customer_id, start, end, cancelled, multiplier in session.execute(q["memberships"], {"ids": param}):
                state = states[customer_id]
                state.memberships = [*state.memberships, (start, end, cancelled, Decimal(multiplier))]
            for customer_id, key in session.execute(q["milestones"], {"ids": param}):
                states[customer_id].add_bonus(key)
            for (customer_id,) in session.execute(q["referrals"], {"ids": param}):
                states[customer_id].referral_pending = True
            # PostgreSQL: hold the batch's customers against a counter till writing at the same time
            if not self._sqlite:
                session.execute(select(Customer.id).where(Customer.id.in_(chunk)).with_for_update())

    def _id_param(self, values: list):
        return json.dumps(values) if self._sqlite else values

    def _id_lists(self, values: list):
        """The parameter values for ``ids`` that cover ``values``: one JSON list on SQLite, else chunks."""
        if self._sqlite:
            if values:
                yield json.dumps(values)
            return
        yield from _chunks(values)


def _expanding(column, name="ids"):
    return column.in_(bindparam(name, expanding=True))


def _json_each(column, name="ids"):
    # SQLite: the whole id list as one JSON parameter, instead of one bound parameter per id
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name))))


def _queries(ids_in) -> dict:
    return {
        "spend": (select(Purchase.customer_id, Purchase.at, Purchase.amount)
                  .where(ids_in(Purchase.customer_id), Purchase.at >= bindparam("lo"), Purchase.at <= bindparam("hi"))
                  .order_by(Purchase.customer_id, Purchase.at)),
        "memberships": (select(Membership.customer_id, Membership.started_at, Membership.ends_at,
                               Membership.cancelled_at, MembershipPlan.multiplier)
                        .join(MembershipPlan, Membership.plan_id == MembershipPlan.id)
                        .where(ids_in(Membership.customer_id))),
        "milestones": (select(LedgerEntry.customer_id, LedgerEntry.bonus_key)
                       .where(ids_in(LedgerEntry.customer_id), LedgerEntry.bonus_key.like("milestone:%"))),
        "referrals": select(Referral.referee_id).where(ids_in(Referral.referee_id),
                                                       Referral.rewarded_purchase_id.is_(None)),
        "customers": (select(Customer.id, Customer.code, Customer.card, Customer.email, Customer.phone,
                             Customer.status, Customer.enrolled_at, Customer.merged_into_id)
                      .where(ids_in(Customer.code) | ids_in(Customer.card) | ids_in(Customer.email, "lowered")
                             | ids_in(Customer.phone, "keys"))),
        "existing": (select(Purchase.receipt_id, Purchase.id, Purchase.import_line)
                     .where(Purchase.source == bindparam("source"), ids_in(Purchase.receipt_id))),
    }


# Built once: compiled once and cached. Elsewhere the id lists are expanded at execution, in chunks.
_QUERIES = {"sqlite": _queries(_json_each), "other": _queries(_expanding)}


class _Same:
    """A 'transaction' that reuses the caller's session (dry run, demo)."""

    def __init__(self, session: Session):
        self.session = session

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *exc) -> bool:
        if exc[0] is None:
            self.session.flush()
        return False


def _sqlite_fast_path(session: Session) -> bool:
    """SQLite: ids taken under the write lock and rows handed straight to the driver. Elsewhere
    (PostgreSQL) the portable SQLAlchemy statements, which tests also run on SQLite."""
    return session.get_bind().dialect.name == "sqlite"


_PURCHASE_COLUMNS = ("id", "customer_id", "source", "receipt_id", "at", "amount", "channel", "refund_of_id",
                     "import_file", "import_line")
_ITEM_COLUMNS = ("purchase_id", "sku", "quantity", "unit_price", "amount")
_LEDGER_COLUMNS = ("customer_id", "kind", "delta", "at", "expires_at", "purchase_id", "lot_id", "bonus_key", "note",
                   "recorded_at")
_KIND, _DELTA, _PURCHASE, _BONUS_KEY = 1, 2, 5, 7
_SQLITE_SPEND = ("SELECT customer_id, at, amount FROM purchase WHERE customer_id IN (SELECT value FROM json_each(?)) "
                 "AND at >= ? AND at <= ? ORDER BY customer_id, at")


def _stored(value: datetime) -> str:
    """How the UTCDateTime column stores an aware time on SQLite (naive UTC, microseconds)."""
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _write_rows(session: Session, table, columns: tuple[str, ...], rows: list,
                cache: dict[datetime, str] | None = None) -> None:
    """One executemany of rows given as sequences in ``columns`` order. On SQLite straight to the driver,
    with times written the way the UTCDateTime column stores them (lists in place; each distinct time formatted once:
    ``cache`` holds a block's times, as a sale's time recurs in its ledger rows); elsewhere through
    SQLAlchemy."""
    if not _sqlite_fast_path(session):
        session.execute(insert(table), [dict(zip(columns, row)) for row in rows])
        return
    times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, UTCDateTime)]
    if times:
        cache = {} if cache is None else cache
        params = []
        for row in rows:
            if not isinstance(row, list):
                row = list(row)
            for i in times:
                value = row[i]
                if value is not None:
                    text = cache.get(value)
                    if text is None:
                        stored = value if value.tzinfo is UTC else value.astimezone(UTC)
                        text = cache[value] = stored.isoformat(" ", "microseconds")[:26]
                    row[i] = text
            params.append(row)
    else:
        params = rows
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    cursor = session.connection().connection.cursor()  # the DBAPI cursor, in the session's transaction
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def _chunks(values: list, size: int = _IN_CHUNK):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def default_rejects_path(path: str | Path) -> Path:
    """till.csv -> till.csv.rejects.csv, next to the input."""
    path = Path(path)
    if not path.name:
        raise InvalidInput(f"{str(path)!r} is not a file name; give the CSV file to import")
    return path.with_name(path.name + ".rejects.csv")


def import_file(database, path: str | Path, **kwargs) -> ImportSummary:
    """Import one CSV file; see ``Importer`` for the options."""
    return Importer(path, **kwargs).run(database)


__all__ = ["CANONICAL", "Importer", "ImportSummary", "Preset", "default_rejects_path", "import_file",
           "list_presets", "load_preset", "parse_map"]

