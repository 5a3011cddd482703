"""Reading a till file into receipts and row rejects, with no database: the header mapped onto our fields
(preset, --map), records read in blocks (the last receipt of a block held back for the next), the rejects, and what the importer asks of a receipt (its names, descriptions, the
sale a return names). A block's records become receipts in tillcsv/parse.py (column by column in C, or
row by row with every rule and message)."""

from __future__ import annotations

import csv
import re
from datetime import datetime
from itertools import chain, compress, islice
from operator import itemgetter
from pathlib import Path
from typing import Iterator

from loyaltycli.base.files import reason as os_reason
from loyaltycli.shop import clock
from loyaltycli.tillcsv import files as import_files
from loyaltycli.shop.clock import UTC
from loyaltycli.base.errors import InvalidInput
from loyaltycli.tillcsv import translate
from loyaltycli.tillcsv.translate import ReadOptions
from loyaltycli.tillcsv.lines import MAX_LINE_BYTES, Lines
from loyaltycli.tillcsv.first_pass import END_YEAR, FIRST_YEAR, ReceiptTimes
from loyaltycli.tillcsv.parse import BlockParsing
from loyaltycli.tillcsv.presets import CANONICAL, REQUIRED, Preset
from loyaltycli.tillcsv.records import REFUND_SUFFIX, Receipt, Span
from loyaltycli.i18n import _, ngettext

_DAY_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")  # an ISO time's first 10 characters: its day



class Reader(BlockParsing, ReceiptTimes):
    """One till file read into blocks of whole receipts; rows that cannot be read are rejected here (counted in
    ``summary``, written to the rejects file with the reason and file:line)."""

    def __init__(self, path: Path, label: str, preset: Preset, mapping: dict[str, str], summary,
                 rejects_path: Path | None = None, dry_run: bool = False, options: ReadOptions | None = None,
                 skip_when: dict[str, list[str]] | None = None):
        self.path = path
        self.skip_when = skip_when or {}
        self.options = (options or ReadOptions()).merged(preset)
        self.label = label
        self.preset = preset
        self.mapping = mapping
        self.summary = summary
        self.rejects_path = rejects_path
        self.dry_run = dry_run
        self.rejected_ids: set[str] = set()
        self.total_bytes = 0
        self.lines: Lines | None = None
        self._rejected_rows: list[tuple[int, int, str]] = []  # (first line, lines, reason) of each rejected row
        # --force lets the rejects file replace an existing one; the default name may replace our own
        self.force_rejects = False
        self.default_rejects = False
        self.file_encoding: str | None = None  # the encoding the file was found in (the rejects file's reasons)
        self._replace_rejects = False
        self._header: list[str] = []
        self._last_when: tuple[str, datetime | None, str | None] = ("", None, None)
        self._line_numbers: dict[tuple[str, str, str], tuple[int, int, int]] = {}  # _parse_line
        self._offsets: dict = {}  # _parse_when: '2021-06-01' -> the UTC offset of that whole day
        self._zone = clock.local_zone()
        self._translator = None
        self.dates_read = None  # the first pass's RowTranslator (services/importer.py): its dates taken

    def open(self):
        if self.rejects_path is not None and self.rejects_path.resolve() == self.path.resolve():
            raise InvalidInput(_('--rejects {rejects_path} is the file being imported; give another file').format(rejects_path=self.rejects_path))
        import_files.check_input(self.path, self.label)
        try:
            handle = self.path.open("rb")
            self.total_bytes = self.path.stat().st_size
        except IsADirectoryError:
            raise InvalidInput(_('{label} is a folder, not a CSV file').format(label=self.label)) from None
        except FileNotFoundError:
            raise InvalidInput(_('cannot read {label}: no such file').format(label=self.label)) from None
        except OSError as exc:
            raise InvalidInput(_('cannot read {label}: {value}').format(label=self.label, value=os_reason(exc))) from None
        if self.rejects_path is not None and not self.dry_run:  # the file read first: its own trouble said first
            try:
                self._replace_rejects = import_files.check_rejects(
                    self.rejects_path, force=self.force_rejects, default=self.default_rejects)
            except BaseException:
                handle.close()
                raise
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
                raise InvalidInput(_('{label}:1: --map column {column!r} is not in the header ({describe_header})').format(label=self.label, column=column, describe_header=import_files.describe_header(names)))
            index[target] = lowered[column.lower()]
        if "timestamp" not in index and "date" in index:  # separate date and time columns
            index["timestamp"] = index["date"]
        missing = [f for f in REQUIRED if f not in index]
        if "amount" not in index and "unit_price" not in index:
            missing.append(_("{amount} (or {quantity} and {unit_price})").format(  # column names, as they are
                amount="amount", quantity="quantity", unit_price="unit_price"))
        if missing and not import_files.looks_like_header(names):  # no header at all: say that alone
            raise InvalidInput(_('{path}: {describe_header}').format(
                path=f"{self.label}:1", describe_header=import_files.describe_header(names)))
        if missing:
            raise InvalidInput(ngettext(
                '{label}:1: missing column {missing}; the header has {describe_header} (use --map COLUMN=FIELD or '
                '--preset NAME)',
                '{label}:1: missing columns {missing}; the header has {describe_header} (use --map COLUMN=FIELD or '
                '--preset NAME)', len(missing)).format(label=self.label, missing=', '.join(missing),
                                                      describe_header=import_files.describe_header(names)))
        self._rule_columns = {}
        for kind in ("negate_when", "skip_when"):
            rules_ = []
            for column, values in getattr(self.preset, kind).items():
                if column.lower() in lowered:
                    rules_.extend((lowered[column.lower()], value.strip().lower()) for value in values)
            self._rule_columns[kind] = rules_
        for column, values in self.skip_when.items():  # --skip-when COLUMN=VALUE: the column must be there
            if column.lower() not in lowered:
                raise InvalidInput(_('{label}:1: --skip-when column {column!r} is not in the header ({describe_header})').format(label=self.label, column=column, describe_header=import_files.describe_header(names)))
            self._rule_columns["skip_when"].extend((lowered[column.lower()], v.strip().lower()) for v in values)
        return index

    def _open_reader(self, handle):
        """The CSV reader after the header (read here); delimiter from the header line."""
        lines = translate.lines_for(handle, self.options)  # --encoding, or UTF-8 then Windows-1252
        self.lines = lines
        it = iter(lines)
        first = next(it, None)
        if first is None:
            raise InvalidInput(_('{label} is empty: expected a header line such as {canonical}').format(label=self.label, canonical=','.join(CANONICAL)))
        delimiter = self._delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.reader(chain([first], it), delimiter=delimiter)
        try:
            self._header = next(reader)
        except csv.Error as exc:
            raise InvalidInput(_('{label}:1: the header cannot be read: {exc}').format(label=self.label, exc=exc)) from None
        self._width = len(self._header)
        return reader

    def _record_blocks(self, reader, size: int) -> Iterator[tuple[list, list[int], dict[int, str], bool]]:
        """Blocks of up to ``size`` records: (rows, first line of each, errors by position, last block?).
        A record the CSV reader cannot read is an empty row with its error; so is an over-long line."""
        oversized = self.lines.oversized
        # a preset's or an option's rewriting (tillcsv/translate.py) applied to each block, column by column
        translator = translate.translator_of(reader)
        source = reader.raw if translator is not None else reader
        while True:
            before = reader.line_num
            rows: list = []
            errors: dict[int, str] = {}
            try:
                rows.extend(islice(source, size))  # in C; what was read before an error stays in the list
                ended = len(rows) < size
                if translator is not None:
                    translator.block(rows)
            except csv.Error as exc:
                if translator is not None:
                    translator.block(rows)
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
                self._swallowed(rows, starts, errors)
            if oversized:
                for i, start in enumerate(starts):
                    if start in oversized and not rows[i]:
                        errors[i] = f"line longer than {MAX_LINE_BYTES} bytes"
            yield rows, starts, errors, ended
            if ended:
                return

    def _swallowed(self, rows: list, starts: list[int], errors: dict[int, str]) -> None:
        """Records with a field that holds whole rows of the file, as errors: a quote opened and never
        closed (in the last column, say) reads the lines after it as one field, and the row still has every
        field. A line inside a field with as many separators as a row has is taken for such a row (a
        description's own line breaks hold a few words, not a row)."""
        least = max(self._width - 1, 1)
        delimiter = self._delimiter
        for i, row in enumerate(rows):
            if i not in errors and any("\n" in field and any(text.count(delimiter) >= least
                                                             for text in field.split("\n")[1:])
                                       for field in row):
                errors[i] = _('a quote opened in line {line} is not closed: the lines after it were read as '
                              'one field').format(line=starts[i])

    def records(self, handle):
        """The file's records past its header, as a preset or the options rewrite them (dates in the file's
        one order, decimal commas, date and time columns, anonymous values: tillcsv/translate.py); the
        columns found (``_get``) and the rewriting (``_translator``) kept. Both passes read through it."""
        reader = self._open_reader(handle)
        index = self._columns(self._header)
        self._get = {f: index.get(f) for f in CANONICAL}
        reader = translate.translated(reader, self.path, self._delimiter, self._get, self.options, self.label)
        self._translator = translate.translator_of(reader)
        return reader

    def blocks(self, handle, block_rows: int) -> Iterator[tuple[list[Receipt], int, bool]]:
        """(whole receipts, rows they took, last?) for each block of about ``block_rows`` records."""
        reader = self.records(handle)
        if self._translator is not None and self.dates_read is not None:
            self._translator.adopt(self.dates_read)
        if self._translator is not None and self._translator.order in ("DMY", "MDY"):
            self.summary.date_order = self._translator.order
            self.summary.date_order_source = self._translator.order_source
        held: list = []  # the rows of the receipt held back from the last block, their lines and errors
        held_starts: list[int] = []
        held_errors: dict[int, str] = {}
        held_id: str | None = None
        for rows, starts, errors, ended in self._record_blocks(reader, block_rows):
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
                yield self._receipts(rows, starts, errors), len(rows), True
                return
            held_id = receipt_id
            if cut == 0:  # one receipt so far: hold it all (the lists grow; nothing is copied)
                held, held_starts, held_errors = rows, starts, errors
                continue
            held, held_starts = rows[cut:], starts[cut:]
            held_errors = {i - cut: e for i, e in errors.items() if i >= cut}
            del rows[cut:], starts[cut:]
            yield self._receipts(rows, starts, {i: e for i, e in errors.items() if i < cut}), cut, False

    def _last_receipt(self, rows: list, errors: dict[int, str]) -> tuple[int | None, str | None]:
        """Where the last receipt of ``rows`` starts, and its id; (None, id) when every row belongs to it or
        is passed over (None, None: every row is passed over)."""
        i_receipt = self._get["receipt_id"]
        receipt_id = None
        i = len(rows)
        while i:
            row = rows[i - 1]
            if self._passed_over(row, i - 1 in errors):
                i -= 1
                continue
            this = row[i_receipt].strip()
            if receipt_id is None:
                receipt_id = this
            elif this != receipt_id or not this:
                return i, receipt_id
            i -= 1
        return None, receipt_id

    # -- rejects --------------------------------------------------------------------------------------
    def reject_row(self, line: int, fields: list[str], reason: str) -> None:
        self.summary.rejected += 1
        text = f"{self.label}:{line}: {reason}"
        if len(self.summary.first_rejects) < 20:
            self.summary.first_rejects.append(text)
        if self.rejects_path is None or self.dry_run:
            return
        # the row is copied from the file itself when the run ends (rejects.write_rejects): byte for byte
        lines = 1 + sum(field.count("\n") for field in fields)  # a quoted line break spans lines
        self._rejected_rows.append((line, lines, text))
        self.summary.rejects_file = str(self.rejects_path)
    def reject_receipt(self, receipt: Receipt, reason: str, line: int | None = None) -> None:
        if len(self.rejected_ids) < 100_000:  # so that a refund of a rejected sale is rejected too
            self.rejected_ids.add(receipt.receipt_id.upper())  # in any case, as returns name sales
        for item in receipt.lines:
            if line is None or item.line == line:
                self.reject_row(item.line, item.fields, reason)
            else:
                self.reject_row(item.line, item.fields,
                                 _('receipt {receipt_id} rejected: see line {line}').format(receipt_id=receipt.receipt_id, line=line))

    def close_rejects(self) -> None:
        """Write the rejects file: the rejected rows copied byte for byte from the file, in its order, with
        the header and a last `reason` column (tillcsv/rejects.py)."""
        rows, self._rejected_rows = self._rejected_rows, []
        if not rows or self.rejects_path is None or self.dry_run:
            return
        from loyaltycli.tillcsv import rejects

        try:
            handle = import_files.open_rejects(self.rejects_path, replace=self._replace_rejects, binary=True)
        except OSError as exc:
            raise InvalidInput(_('cannot write the rejects file {rejects_path}: {value}').format(rejects_path=self.rejects_path, value=os_reason(exc))) from None
        with handle, self.path.open("rb") as source:
            rejects.write_rejects(source, handle, rows, delimiter=getattr(self, "_delimiter", ","),
                                  encoding=self.options.encoding or self.file_encoding or "utf-8")


    def descriptions(self, receipts: list[Receipt]) -> dict[str, str]:
        """SKU -> the description column's text on its lines (the last line wins); {} without the column."""
        i = self._get.get("description")
        if i is None:
            return {}
        out: dict[str, str] = {}
        strip = str.strip
        for receipt in receipts:
            lines = receipt.lines
            if receipt.amount > 0 and isinstance(lines, Span):  # column by column, in C
                b, first, end = lines.block, lines.first, lines.end
                rows = b.rows[first:end]
                if min(map(len, rows)) > i:
                    skus, texts = b.skus[first:end], list(map(strip, map(itemgetter(i), rows)))
                    if "".join(texts).isprintable():
                        out.update(compress(zip(skus, texts), map(all, zip(skus, texts))))
                        continue
            if receipt.amount > 0:
                for line in receipt.lines:
                    if line.sku and i < len(line.fields):
                        text = line.fields[i].strip()
                        if text and text.isprintable():
                            out[line.sku] = text
        return out

    def refund_of(self, receipt: Receipt) -> str:
        """The `refund_of` column of a return (the sale's receipt id, e.g. a credit note's invoice); ''."""
        i = self._get.get("refund_of")
        if i is None:
            return ""
        for line in receipt.lines:
            if i < len(line.fields) and line.fields[i].strip():
                return line.fields[i].strip()
        return ""

    def names(self, receipts: list[Receipt]) -> dict[str, dict[str, str]]:
        """Customer key -> {"name": ..., "tax_id": ...} from the name and tax_id columns of their receipts'
        lines (what enrolling them records); {} without those columns."""
        columns = [(field, self._get.get(field)) for field in ("name", "tax_id")]
        columns = [(field, i) for field, i in columns if i is not None]
        if not columns:
            return {}
        out: dict[str, dict[str, str]] = {}
        for receipt in receipts:
            if receipt.customer_key in out:
                continue
            found = {}
            for line in receipt.lines:
                for field, i in columns:
                    if field not in found and i < len(line.fields) and line.fields[i].strip():
                        found[field] = line.fields[i].strip()
            if found:
                out[receipt.customer_key] = found
        return out

    def sale_candidates(self, receipt_id: str, refund_of: str = "") -> list[str]:
        """The receipt ids a return may name: its `refund_of` first, then what its own id says (``R1-R``,
        ``R1/R2``, a preset's cancellation prefix)."""
        out = [refund_of] if refund_of else []
        m = REFUND_SUFFIX.match(receipt_id)
        if m:
            out.append(m.group(1))
        prefix = self.preset.cancellation_prefix
        if prefix and receipt_id.startswith(prefix) and len(receipt_id) > len(prefix):
            out.append(receipt_id[len(prefix):])
        return out

    def when(self, text: str) -> datetime:
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
            if FIRST_YEAR <= value.year < END_YEAR:
                if value.tzinfo is None:
                    # the shop's zone, this date's offset; a DST gap refused. The offset of a whole day
                    # with no change of the clocks is kept by the day's text (2021-06-01)
                    day = text[:10]
                    offset = self._offsets.get(day)
                    if offset is not None:
                        return (value - offset).replace(tzinfo=UTC)
                    out = clock.localize(value, text=text, zone=self._zone)
                    if _DAY_TEXT.fullmatch(day) and text[10:11] in ("", "T", " "):
                        offset = clock.day_offset(self._zone, value)
                        if offset is not None:
                            if len(self._offsets) > 100_000:
                                self._offsets.clear()
                            self._offsets[day] = offset
                    return out
                return value.astimezone(UTC)
        except ValueError:
            pass
        # other forms (01/12/2010 08:26...) were rewritten in the file's one date order (tillcsv/translate.py)
        try:
            return clock.parse_timestamp(text)
        except InvalidInput:
            why = self._translator.date_errors.get(text.strip()) if self._translator is not None else None
            if why:
                raise InvalidInput(why) from None
            raise
