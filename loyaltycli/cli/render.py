"""All output in one place: Rich tables for people, JSON and CSV for scripts.

Machine formats go to stdout without colour; messages for people go to stdout as one line;
errors go to stderr (see ``loyaltycli.cli.fail``).
"""

from __future__ import annotations

import os
import re
import sys
from datetime import date, datetime
from typing import Any, Iterable, Sequence

from loyaltycli.cli import options
from loyaltycli.i18n import N_, _


def _plain(value: Any) -> Any:
    if type(value) in _SIMPLE:  # the common case, fast for long lists
        return value
    if isinstance(value, str):  # Money: its plain decimal string
        return str(value)
    if isinstance(value, datetime):
        from loyaltycli.shop.clock import iso

        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    from decimal import Decimal  # here, not at import: `loyalty --help` needs neither decimal nor json

    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        out = {k: _plain(v) for k, v in value.items()}
        from loyaltycli.base.money import Money

        if "currency" not in value and any(isinstance(v, Money) for v in value.values()):
            from loyaltycli.base.money import shop_currency

            out["currency"] = shop_currency()  # beside the amounts: which money they are
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_SIMPLE = (str, int, float, type(None))


def to_json(data: Any) -> str:
    import json

    return json.dumps(_plain(data), ensure_ascii=False, indent=2)


class Percent(float):
    """A percentage for people (61.4 -> '61,4 %' the shop's way), a number still: right-aligned."""


def _cell(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, Percent) and not options.current.csv:
        from loyaltycli.base.money import format_percent

        return format_percent(value)
    from loyaltycli.base.money import Money  # not at import: `loyalty --help` needs none of it

    if isinstance(value, Money):
        return value.shown() if not options.current.csv else str(value)
    if isinstance(value, datetime):
        from loyaltycli.shop.clock import local_text

        return local_text(value)
    if isinstance(value, bool):
        if options.current.csv:  # CSV stays the same in every language
            return "yes" if value else "no"
        return _("yes") if value else _("no")
    if isinstance(value, (list, dict)):
        return to_json_line(value)
    from decimal import Decimal

    if isinstance(value, (Decimal, float)) and not options.current.csv:  # 20.8 -> 20,8 where it is written so
        return _local_decimal(value)
    return str(_plain(value))


def to_json_line(value: Any) -> str:
    import json

    return json.dumps(_plain(value), ensure_ascii=False)


def _local_decimal(value) -> str:
    """A share, an NPS, a multiplier the shop's way, with the digits it has (Decimal('1.25') -> '1,25')."""
    from decimal import Decimal

    from loyaltycli.base.money import format_number

    text = str(_plain(value))
    if "." not in text or not text.replace(".", "").lstrip("-").isdigit():
        return text
    return format_number(Decimal(text), decimals=len(text.partition(".")[2]))


def console(stderr: bool = False, width: int | None = None):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped into a file or a pager, a table is not cut at 80 columns.
    if width is None:
        width = None if stream.isatty() or os.environ.get("COLUMNS") else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


# Below this width a table is printed one record per block.
NARROW = 60


def fit_width() -> int | None:
    """The width tables must fit: the terminal's, else COLUMNS when set (piped output), else None (a
    plain layout: no borders, every row on one line, nothing cut)."""
    if sys.stdout.isatty():
        return console().width
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return columns if columns > 0 else None


def emit(data: Any, *, columns: Sequence[str] | None = None, title: str | None = None,
         message: str | None = None, optional: Sequence[str] = ()) -> None:
    """Print ``data`` (a dict, or a list of dicts) as JSON, CSV or a Rich table.

    ``message`` is the one-line answer for people, printed instead of a table when given;
    ``optional``: table columns left out, in this order, when the table would not fit the width.
    """
    if options.current.json:
        sys.stdout.write(to_json(data) + "\n")
        return
    rows = data if isinstance(data, list) else [data]
    if options.current.csv:
        write_csv(sys.stdout, rows, columns)
        return
    if message is not None:
        print_line(message)
        return
    if isinstance(data, dict):
        table_of_fields(data, title=title)
    else:
        table(rows, columns=columns, title=title, optional=optional)


def emit_lists(rows: list[dict], *, joined: Sequence[str], columns: Sequence[str], title: str | None = None) -> None:
    """``emit`` rows some of whose values are lists (a card's or a goal's SKU patterns): a JSON list as it
    is; in a table or CSV, the values of the ``joined`` keys joined by spaces."""
    if not options.current.json:
        rows = [{**row, **{key: " ".join(row[key]) for key in joined}} for row in rows]
    emit(rows, columns=columns, title=title)


def write_csv(stream, rows: Iterable[dict], columns: Sequence[str] | None = None) -> None:
    """CSV for people: formula-like cells escaped (base/spreadsheet.py), control characters and bidi
    overrides shown as ``\\x1b`` (``printable``); with --excel a UTF-8 BOM, and
    ``;`` with decimal commas where the shop's locale writes them."""
    from loyaltycli.base.spreadsheet import BOM, PLAIN, excel_dialect, safe_cell

    rows = list(rows)
    columns = list(columns or (rows[0].keys() if rows else []))
    dialect = PLAIN
    if options.current.excel:
        from loyaltycli.base import place

        dialect = excel_dialect(place.get("locale", ""))
        stream.write(BOM)
    import csv

    writer = csv.writer(stream, lineterminator="\n", delimiter=dialect.delimiter)
    writer.writerow(columns)
    for row in rows:  # stored text with terminal escapes (rows older than the entry checks) shown escaped
        writer.writerow([safe_cell(_printable_cell(_csv_cell(row.get(col), dialect))) for col in columns])


def _printable_cell(value):
    return printable(value) if isinstance(value, str) else value


def _csv_cell(value: Any, dialect) -> str:
    from decimal import Decimal

    from loyaltycli.base.money import Money

    if dialect.decimal != "." and isinstance(value, (Money, Decimal, float)) and not isinstance(value, bool):
        return dialect.amount(str(value))
    return _cell(value)


# Columns whose values are the program's own words (a ledger kind, a channel, a segment): shown translated.
NAMED_VALUES = {"kind", "channel", "segment", "status", "per"}
# The program's own values shown translated (marked for extraction; the others are in cli/columns.py).
VALUE_WORDS = (N_("champions"), N_("loyal"), N_("occasional"), N_("at risk"), N_("item"), N_("visit"),
               N_("rewarded"), N_("pending"), N_("expired"), N_("open"), N_("used"), N_("anonymous"))

# Free-text columns wrap; codes, numbers and dates stay on one line.
WRAPPING = {"name", "note", "comment", "meaning", "email", "description", "perk", "reason", "value"}


def _is_number(value: Any) -> bool:
    from decimal import Decimal

    from loyaltycli.base.money import Money

    return isinstance(value, (int, float, Decimal, Money)) and not isinstance(value, bool)


def _build(rows: list[dict], columns: list[str], cells: dict[str, list[str]], title: str | None, plain: bool):
    """A Rich table of ``columns``: numbers right-aligned, never wrapped nor cut (no_wrap, min_width);
    free text wraps at ordinary spaces only (``Words``: an amount or a date in a note stays whole); other
    columns stay on one line."""
    from rich import box
    from rich.table import Table

    t = Table(title=_escape(printable(title)) if title else None, show_lines=False, header_style="bold",
              box=None if plain else box.HEAVY_HEAD,
              padding=(0, 1))
    for col in columns:
        given = [r.get(col) for r in rows if r.get(col) is not None]
        numeric = bool(given) and all(_is_number(v) for v in given)
        wraps = col in WRAPPING and not plain and not numeric
        widest = max((len(c) for c in cells[col]), default=0)
        # A column on one line (codes, amounts, percentages, dates) is never cut, nor is its label: when
        # the table cannot hold them all, it is printed one record per block instead.
        t.add_column(label(col), justify="right" if numeric else "left",
                     overflow="fold" if wraps else "ellipsis", no_wrap=not wraps,
                     min_width=None if wraps else max(widest, len(label(col))))
    wrapping = {col for col in columns if col in WRAPPING and not plain
                and not any(_is_number(r.get(col)) for r in rows if r.get(col) is not None)}
    for i in range(len(rows)):
        t.add_row(*[Words(cells[col][i], markup=True) if col in wrapping else cells[col][i]
                    for col in columns])
    return t


def table(rows: list[dict], *, columns: Sequence[str] | None = None, title: str | None = None,
          optional: Sequence[str] = ()) -> None:
    """Rows as a table that fits the width (``fit_width``): ``optional`` columns are dropped first, in
    order; when it still does not fit, or below NARROW columns, one record per block. A number is
    never cut. Piped output without COLUMNS: a plain layout, every row on one line."""
    from rich.measure import Measurement

    columns = list(columns or (rows[0].keys() if rows else []))
    if not rows:
        print_line(_("{title}: nothing to show").format(title=title) if title else _("nothing to show"))
        return
    cells = {col: [_escape(printable(label(row[col]) if col in NAMED_VALUES and type(row.get(col)) is str
                                     else _cell(row.get(col)))) for row in rows] for col in columns}
    width = fit_width()
    if width is None:  # piped, no COLUMNS: as wide as it needs
        t = _build(rows, columns, cells, title, plain=True)
        out = console(width=10_000)
        out.print(t, width=Measurement.get(out, out.options, t).maximum)
        return
    out = console(width=width)
    wide = console(width=10_000)  # measures unclamped by the width

    def measure(t):
        return Measurement.get(wide, wide.options, t)

    shown = list(columns)
    t = _build(rows, shown, cells, title, plain=False)
    for col in optional:
        if measure(t).maximum <= width:
            break
        if col in shown:
            shown.remove(col)
            t = _build(rows, shown, cells, title, plain=False)
    if width < NARROW or measure(t).minimum > width:
        records(rows, columns, title=title, width=width)
        return
    if sys.stdout.isatty() and sys.stdin.isatty() and len(rows) + 6 > out.height:
        # A busy customer's history, a shop's whole customer list: page on a terminal ($PAGER, else
        # less/more), never when piped or redirected.
        with out.pager(styles=False):
            out.print(t)
        return
    out.print(t)


def records(rows: list[dict], columns: Sequence[str], *, title: str | None = None, width: int | None = None) -> None:
    """Rows one record per block (a narrow terminal): every field on its own line, a blank line between."""
    out = console(width=width)
    if title:
        out.print(Words(printable(title), style="bold"))
    for i, row in enumerate(rows):
        if i:
            out.print()
        table_of_fields({col: label(row[col]) if col in NAMED_VALUES and type(row.get(col)) is str else row.get(col)
                         for col in columns}, width=width)


def table_of_fields(data: dict, *, title: str | None = None, width: int | None = None) -> None:
    """Fields as `label  value` lines that fit the width: a value wraps at ordinary spaces only (``Words``),
    so an amount, a code, a date and time or a word is never broken; a value holding something wider
    than the space beside the labels goes whole on the lines under its label. Narrow (below NARROW
    columns) the gaps are one column, to leave the values room."""
    from rich.cells import cell_len
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    out = console(width=width if width is not None else fit_width())
    fields = [(label(key), printable(_cell(value))) for key, value in data.items()
              if not isinstance(value, list)]
    pad = 1 if out.width < NARROW else 2
    widest = max((cell_len(name) for name, _value in fields), default=0)
    room = out.width - widest - 4 * pad  # what is left of a line beside the labels

    def block() -> Table:
        t = Table(show_header=False, box=None, padding=(0, pad))
        t.add_column(style="bold", no_wrap=True, width=widest)
        t.add_column()
        return t

    parts: list = []
    if title:  # a title wraps at its spaces too (a customer's long name)
        parts.append(Text("\n".join(wrap_words(printable(title), out.width)), justify="center",
                          style="table.title"))
    current = None
    for name, value in fields:
        if widest_atom(value) <= room:
            if current is None:
                current = block()
                parts.append(current)
            current.add_row(name, Words(value))
            continue
        current = None  # wider than the room beside the labels: its label, then the value under it
        parts.append(Padding(Text(name, style="bold"), (0, pad)))
        indent = max(0, min(3 * pad, out.width - widest_atom(value)))  # less, for a piece nearly as wide
        parts.append(Padding(Words(value), (0, 0, 0, indent)))
    out.print(Group(*parts))


# Text breaks at ordinary spaces only: the no-break spaces of an amount (487,50\u00a0€) never, nor the space
# between a date and its time (2026-06-15 13:00) or between the digit groups of a phone (+40 712 345 678).
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})")
# a phone's groups: two to five short groups, the run standing alone (a longer list of numbers is words)
_DIGIT_GROUPS = re.compile(r"(?<![^ ])(?<!\d )\+?\d{1,4}(?: \d{2,4}){1,4}(?![^ ])(?! \d)")
_KEPT = "\x00"


def _atoms(line: str) -> list[str]:
    kept = _DATE_TIME.sub(r"\1" + _KEPT + r"\2", line)
    kept = _DIGIT_GROUPS.sub(lambda found: found.group(0).replace(" ", _KEPT), kept)
    return [atom.replace(_KEPT, " ") for atom in kept.split(" ") if atom]


def widest_atom(text: str) -> int:
    """The width of the widest piece of ``text`` that is never broken (a word, an amount, a date and time)."""
    from rich.cells import cell_len

    return max((cell_len(atom) for line in text.split("\n") for atom in _atoms(line)), default=0)


def wrap_words(text: str, width: int) -> list[str]:
    """``text`` as lines of at most ``width`` cells, broken at ordinary spaces only: a word, an amount (its
    no-break spaces), a code or a date and time stays whole on its line. Only a piece wider than the whole
    width is cut, in pieces of the width (nothing else could show it). Line breaks in the text are kept."""
    from rich.cells import cell_len, chop_cells

    from loyaltycli.base.wrapping import pack

    width = max(width, 1)
    out: list[str] = []
    for given in text.split("\n"):
        if cell_len(given) <= width:  # it fits: as written, its spaces and indentation kept
            out.append(given)
            continue
        # a piece kept whole (a phone's groups) that is wider than the line is cut at its own spaces first
        atoms = [part for atom in _atoms(given)
                 for part in (atom.split(" ") if cell_len(atom) > width and " " in atom else [atom])]
        # (a character wider than the whole width is a piece of its own: chop_cells gives it an empty one first)
        out.extend(pack(atoms, width, cell_len, lambda atom: [piece for piece in chop_cells(atom, width) if piece]))
    return out


class Words:
    """A Rich renderable of text that wraps at ordinary spaces only (``wrap_words``): a table cell or a
    field's value whose amounts, codes and dates stay whole. Measured so: at least its widest piece."""

    def __init__(self, text: str, *, markup: bool = False, style: str = ""):
        if markup:  # a cell escaped for Rich's markup: the text itself
            from rich.text import Text

            text = Text.from_markup(text).plain
        self.text, self.style = text, style

    def __rich_measure__(self, console, options):
        from rich.cells import cell_len
        from rich.measure import Measurement

        longest = max((cell_len(line) for line in self.text.split("\n")), default=0)
        return Measurement(min(widest_atom(self.text), options.max_width),
                           min(longest, options.max_width))

    def __rich_console__(self, console, options):
        from rich.text import Text

        yield Text("\n".join(wrap_words(self.text, options.max_width)), style=self.style, no_wrap=True,
                   overflow="ignore")


def label(key: str) -> str:
    """A column or field name as people read it (in their language); JSON and CSV keep the key."""
    from loyaltycli.cli import columns  # noqa: F401  (the marked labels, for extraction)

    return _(key.replace("_", " "))


def plural(count, word: str, many: str | None = None) -> str:
    """"1 customer", "2 customers", "-1 point": the count with its word agreeing (English only: for
    messages, use ngettext with the whole sentence)."""
    return f"{count} {word if abs(count) == 1 else (many or word + 's')}"


def print_line(message: str) -> None:
    """One line for people (no markup interpretation of user data; control characters escaped)."""
    sys.stdout.write(printable(message) + "\n")


def printable(text: str) -> str:
    """Stored free text made safe for a terminal: control characters (ESC sequences, bells, backspaces,
    carriage returns) and bidi overrides shown escaped (``\\x1b``), line breaks kept. Rows stored
    before the entry check existed (or written by another program) may hold them."""
    if text.isprintable():  # the common case, fast
        return text
    import unicodedata

    from loyaltycli.base.textkey import BIDI  # the overrides refused at entry

    return "".join(ch.encode("unicode_escape").decode("ascii")
                   if (ch != "\n" and unicodedata.category(ch) == "Cc") or ch in BIDI else ch for ch in text)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | int | None]) -> str:
    """A one-line chart: one block per value, scaled between the smallest and largest (gaps for None)."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = (high - low) or 1
    return "".join(" " if v is None else SPARKS[int((v - low) / span * (len(SPARKS) - 1))] if high != low
                   else SPARKS[0 if high == 0 else len(SPARKS) // 2] for v in values)


def bar(value: float | int, largest: float | int, width: int = 30) -> str:
    """A horizontal bar of ``value`` against ``largest`` (negative values show as empty)."""
    if not largest or value is None or value <= 0:
        return ""
    return "█" * max(1, round(value / largest * width))
