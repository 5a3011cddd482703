"""Local exports into the canonical shape the reader parses fast: dates in the file's one order, decimal
commas and currency signs, separate date and time columns, anonymous customer values, a chosen encoding.

Off for a canonical file (ISO times, plain amounts, no option): the reader then runs as it always did.
On, each row's mapped fields are rewritten in place before the reader groups them; a value that does not
read is left as it was, for the reader to reject with the row's file:line. The times stay naive local
times ('2010-12-01 08:26:00'); the reader turns them into UTC with the clock's rules (DST included).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, compress, repeat
from operator import is_, itemgetter

from loyaltycli.base.errors import InvalidInput, LoyaltyError
from loyaltycli.tillcsv import dates
from loyaltycli.base import numbers
from loyaltycli.tillcsv.files import check_encoding
from loyaltycli.tillcsv.lines import Lines
from loyaltycli.tillcsv.presets import CUSTOMER_KINDS
from loyaltycli.i18n import _

_CHANNEL = re.compile(r"[a-z0-9_-]{1,32}")
_SLUG = re.compile(r"[^a-z0-9_]+")


# one comma and three digits after it (1,500 / 0,750): thousands, or a decimal comma? (tillcsv/parse.py)
LONE_GROUP = re.compile(r"-?(\d{1,3}),(\d{3})")


@dataclass
class ReadOptions:
    """What the command line (or the preset) says of the file beyond its columns."""

    date_order: str | None = None  # DMY | MDY | YMD; None: the file shows it
    decimal_comma: bool = False
    encoding: str | None = None  # None: UTF-8, line by line Windows-1252 where that fails
    anonymous: list[str] = field(default_factory=list)  # customer values that mean "no customer"
    customer_kind: str | None = None
    shop_locale: str | None = None  # the shop's locale: its date order reads a file that reads both ways
    date_order_given: str | None = None  # "option" or "preset" when the order was given

    def merged(self, preset) -> "ReadOptions":
        """These options over the preset's keys (date_order, decimal, encoding, anonymous_values)."""
        given = "option" if self.date_order else "preset" if getattr(preset, "date_order", None) else None
        return ReadOptions(
            date_order=dates.check_order(self.date_order or getattr(preset, "date_order", None)),
            shop_locale=self.shop_locale, date_order_given=given,
            decimal_comma=self.decimal_comma or getattr(preset, "decimal", ".") == ",",
            encoding=check_encoding(self.encoding or getattr(preset, "encoding", None)),
            anonymous=[*getattr(preset, "anonymous_values", []), *self.anonymous],
            customer_kind=check_kind(self.customer_kind) or getattr(preset, "customer_kind", None))


def check_kind(kind: str | None) -> str | None:
    if kind is None:
        return None
    value = kind.strip().lower()
    if value not in CUSTOMER_KINDS:
        raise InvalidInput(_('--customer-kind {kind!r} must be one of {customer_kinds}').format(kind=kind, customer_kinds=', '.join(CUSTOMER_KINDS)))
    return value


class EncodedLines(Lines):
    """Lines of a file in one given encoding (a wrong byte becomes U+FFFD and the line is counted)."""

    def __init__(self, handle, encoding: str):
        super().__init__(handle)
        self.encoding = encoding

    def _decoded(self, block: bytes) -> list[str]:
        lines = block.split(b"\n")
        lines.pop()
        self.count += len(lines)
        if max(map(len, lines)) > self._max_line():
            return [self._line(raw, self.count - len(lines) + 1 + i) for i, raw in enumerate(lines)]
        return [self._text(raw) for raw in lines]

    def _line(self, raw: bytes, number: int) -> str:
        if len(raw) > self._max_line():
            self.oversized.add(number)
            return "\n"
        return self._text(raw)

    def _text(self, raw: bytes) -> str:
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError:
            self.legacy += 1
            text = raw.decode(self.encoding, errors="replace")
        return (text.replace("\x00", "\ufffd") if "\x00" in text else text) + "\n"

    @staticmethod
    def _max_line() -> int:
        from loyaltycli.tillcsv import lines

        return lines.MAX_LINE_BYTES


def lines_for(handle, options: ReadOptions | None) -> Lines:
    """The decoder of a file: the given encoding, or UTF-8 with the Windows-1252 fallback."""
    if options is not None and options.encoding and options.encoding != "utf-8":
        return EncodedLines(handle, options.encoding)
    return Lines(handle)


class _Translated:
    """The CSV reader with each row rewritten; ``line_num`` as the reader counts it."""

    def __init__(self, reader, translate):
        self._reader = reader
        self._translate = translate

    def __iter__(self):
        return self

    def __next__(self):
        return self._translate(next(self._reader))

    @property
    def raw(self):
        """The CSV reader itself (rows as the file has them), for a caller that rewrites whole blocks."""
        return self._reader

    @property
    def line_num(self) -> int:
        return self._reader.line_num


def _channel(text: str) -> str:
    """A till's channel name as ours: "Point of Sale" -> point-of-sale."""
    return _SLUG.sub("-", text.strip().lower()).strip("-")[:32]


def _looked_up(keys: list, known: dict, compute) -> list:
    """``known``'s answer for each key, looked up in C; a key it lacks computed once (``compute(key)``)."""
    out = list(map(known.get, keys))
    if None in out:
        new = {key: compute(*key) if isinstance(key, tuple) else compute(key)
               for key in set(compress(keys, map(is_, out, repeat(None))))}
        out = list(map(new.get, keys, out))
    return out


def _put(rows: list, i: int, values: list) -> None:
    """Column ``i`` of each row set to ``values`` (in place: the rows are the CSV reader's lists)."""
    for row, value in zip(rows, values):
        row[i] = value


class RowTranslator:
    """Rewrites one row's mapped fields into canonical text (see the module's docstring)."""

    def __init__(self, get: dict[str, int | None], options: ReadOptions, order: str | None,
                 order_source: str | None = None):
        self.i_when = get.get("timestamp")
        self.i_time = get.get("time")
        self.numbers = [(get[f], f) for f in ("amount", "unit_price", "quantity") if get.get(f) is not None]
        self.i_customer = get.get("customer")
        self.i_channel = get.get("channel")
        self.anonymous = {v.strip().lower() for v in options.anonymous if v.strip()}
        self.options = options
        self.order = order
        self.order_source = order_source  # option, preset, file or shop (its locale)
        self._dates: dict[tuple[str, str], str] = {}
        self._numbers: dict[tuple[str, str], str] = {}
        self._date_texts: dict[str, str] = {}  # block(): the same answers keyed by text alone
        self._number_texts: dict[str, dict[str, str]] = {}
        self.date_errors: dict[str, str] = {}  # text left as it was -> why (the reader's reject reason)

    def __call__(self, row: list[str]) -> list[str]:
        width = len(row)
        if not width:
            return row
        # the texts seen before are looked up here (a call per field only for a new text: _date, _number)
        i = self.i_when
        if i is not None and i < width:
            time_text = row[self.i_time] if self.i_time is not None and self.i_time < width else ""
            out = self._dates.get((row[i], time_text))
            row[i] = self._date(row[i], time_text) if out is None else out
        known = self._numbers
        for i, what in self.numbers:
            if i < width:
                out = known.get((row[i], what))
                row[i] = self._number(row[i], what) if out is None else out
        i = self.i_channel
        if i is not None and i < width and row[i] and not _CHANNEL.fullmatch(row[i]):
            row[i] = _channel(row[i])
        i = self.i_customer
        if self.anonymous and i is not None and i < width and row[i].strip().lower() in self.anonymous:
            row[i] = ""
        return row

    def block(self, rows: list) -> None:
        """Rewrite a block of rows in place, as ``__call__`` rewrites each one, column by column when every
        row is as wide: the texts seen before looked up in C, each new text read once however often the block
        repeats it (``__call__`` per row otherwise)."""
        if not rows:
            return
        width = len(rows[0])
        if not width or any(map(width.__ne__, map(len, rows))):
            for row in rows:
                self(row)
            return
        i = self.i_when
        if i is not None and i < width:
            texts = list(map(itemgetter(i), rows))
            if self.i_time is not None and self.i_time < width:
                keys = list(zip(texts, map(itemgetter(self.i_time), rows)))
                _put(rows, i, _looked_up(keys, self._dates, self._date))
            else:
                _put(rows, i, _looked_up(texts, self._date_texts, self._date_only))
        for i, what in self.numbers:
            if i < width:
                known = self._number_texts.get(what)
                if known is None:
                    known = self._number_texts[what] = {}
                _put(rows, i, _looked_up(list(map(itemgetter(i), rows)), known,
                                         lambda text, what=what, known=known: self._number_of(text, what, known)))
        i = self.i_channel
        if i is not None and i < width:
            for row in rows:
                if row[i] and not _CHANNEL.fullmatch(row[i]):
                    row[i] = _channel(row[i])
        i = self.i_customer
        if self.anonymous and i is not None and i < width:
            anonymous = self.anonymous
            for row in rows:
                if row[i].strip().lower() in anonymous:
                    row[i] = ""

    def adopt(self, other: "RowTranslator") -> None:
        """Take the dates ``other`` (the first pass's, on the same file) has read, with why some did not
        read: the same texts in the same order give the same answers, so they are not read again."""
        if (other.order, other.i_when, other.i_time) == (self.order, self.i_when, self.i_time):
            self._dates.update(other._dates)
            self._date_texts.update(other._date_texts)
            self.date_errors.update(other.date_errors)

    def _date_only(self, text: str) -> str:
        out = self._date(text, "")
        if len(self._date_texts) > 50_000:
            self._date_texts.clear()
        self._date_texts[text] = out
        return out

    def _number_of(self, text: str, what: str, known: dict) -> str:
        out = self._number(text, what)
        if len(known) > 50_000:
            known.clear()
        known[text] = out
        return out

    def _date(self, text: str, time_text: str) -> str:
        key = (text, time_text)
        out = self._dates.get(key)
        if out is None:
            try:
                out = dates.iso_text(dates.parse(text, self.order, time_text or None))
            except LoyaltyError as exc:
                out = text if not time_text else f"{text.strip()} {time_text.strip()}"
                if len(self.date_errors) < 10_000:
                    self.date_errors[out.strip()] = str(exc)
            if len(self._dates) > 50_000:
                self._dates.clear()
            self._dates[key] = out
        return out

    def _number(self, text: str, what: str) -> str:
        key = (text, what)
        out = self._numbers.get(key)
        if out is None:
            raw = text.strip()
            if not raw:
                return text
            if not self.options.decimal_comma and "," in raw and LONE_GROUP.fullmatch(raw):
                return text  # 1,500: thousands or a decimal comma? left for the row's reading, which decides
            try:
                decimals = 3 if what == "quantity" else 6 if what == "unit_price" else 2
                out = f"{numbers.to_decimal(raw, decimal_comma=self.options.decimal_comma, decimals=decimals, what=_(what)):f}"
            except LoyaltyError:
                out = text
            if len(self._numbers) > 50_000:
                self._numbers.clear()
            self._numbers[key] = out
        return out


def needed(get: dict[str, int | None], options: ReadOptions, first_row: list[str] | None) -> bool:
    """Whether rows need rewriting: an option, a separate time column, or a first time that is not ISO."""
    if options.date_order or options.decimal_comma or options.anonymous or get.get("time") is not None:
        return True
    i = get.get("timestamp")
    if first_row is None or i is None or i >= len(first_row):
        return False
    value = first_row[i].strip()
    try:
        datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return True
    return False


def find_date_order(rows, i_when: int, label: str, first_line: int = 2,
                    shop: str | None = None) -> tuple[str | None, str | None]:
    """The order the file's dates show (read until one shows it), and where it comes from ('file', or
    'shop': the file reads both ways and ``shop``, the order of the shop's locale, reads it); refused when
    they read two ways and the shop gives no order."""
    finder = dates.OrderFinder()
    line = first_line - 1
    for row in rows:
        line += 1
        if i_when < len(row):
            finder.add(row[i_when], line)
            if finder.day_first or finder.month_first:
                break
    order = finder.order(label, shop)
    if order is None:
        return None, None
    return order, "file" if finder.day_first or finder.month_first else "shop"


def translated(reader, path, delimiter: str, get: dict[str, int | None], options: ReadOptions,
               label: str):
    """``reader`` as it is, or wrapped in a RowTranslator. The file is opened once more to look at its first
    row and, unless the order is given, to find the order its dates show (read up to the first value that
    shows it), before anything is imported."""
    with open(path, "rb") as handle:
        scan = csv.reader(lines_for(handle, options), delimiter=delimiter)
        next(scan, None)
        first = next(scan, None)
        while first == []:
            first = next(scan, None)
        if not needed(get, options, first):
            return reader
        order, source = options.date_order, options.date_order_given
        i_when = get.get("timestamp")
        if order is None and i_when is not None and first is not None:
            order, source = find_date_order(chain([first], scan), i_when, label,
                                            shop=dates.shop_order(options.shop_locale))
    return _Translated(reader, RowTranslator(get, options, order, source))


def translator_of(reader) -> RowTranslator | None:
    return reader._translate if isinstance(reader, _Translated) else None
