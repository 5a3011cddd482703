"""All output in one place: Rich tables for people, JSON and CSV for scripts.

Machine formats go to stdout without colour; messages for people go to stdout as one line;
errors go to stderr (see ``loyaltycli.cli.fail``).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Sequence

from loyaltycli.cli import options
from loyaltycli.core.money import Money
from loyaltycli.i18n import _, ngettext


def _plain(value: Any) -> Any:
    if type(value) in _SIMPLE:  # the common case, fast for long lists
        return value
    if isinstance(value, str):  # Money: its plain decimal string
        return str(value)
    if isinstance(value, datetime):
        from loyaltycli.core.clock import iso

        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        out = {k: _plain(v) for k, v in value.items()}
        if "currency" not in value and any(isinstance(v, Money) for v in value.values()):
            from loyaltycli.core.money import shop_currency

            out["currency"] = shop_currency()  # beside the amounts: which money they are
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_SIMPLE = (str, int, float, type(None))


def to_json(data: Any) -> str:
    return json.dumps(_plain(data), ensure_ascii=False, indent=2)


def _cell(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, Money):
        return value.shown() if not options.current.csv else str(value)
    if isinstance(value, datetime):
        from loyaltycli.core.clock import local_text

        return local_text(value)
    if isinstance(value, bool):
        if options.current.csv:  # CSV stays the same in every language
            return "yes" if value else "no"
        return _("yes") if value else _("no")
    if isinstance(value, (list, dict)):
        return json.dumps(_plain(value), ensure_ascii=False)
    return str(_plain(value))


def console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped into a file or a pager, a table is not cut at 80 columns.
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def emit(data: Any, *, columns: Sequence[str] | None = None, title: str | None = None,
         message: str | None = None) -> None:
    """Print ``data`` (a dict, or a list of dicts) as JSON, CSV or a Rich table.

    ``message`` is the one-line answer for people, printed instead of a table when given.
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
        table(rows, columns=columns, title=title)


def write_csv(stream, rows: Iterable[dict], columns: Sequence[str] | None = None) -> None:
    rows = list(rows)
    columns = list(columns or (rows[0].keys() if rows else []))
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(_cell(row.get(col))) for col in columns])


_NUMBER = None


def safe_cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection): text starting with
    = + - @, TAB or CR gets a leading apostrophe; plain numbers (-5, -3.00) stay numbers."""
    if not text or text[0] not in "=+-@\t\r":
        return text
    global _NUMBER
    if _NUMBER is None:
        import re

        _NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
    if _NUMBER.fullmatch(text):
        return text
    return "'" + text


# Free-text columns wrap; codes, numbers and dates stay on one line.
WRAPPING = {"name", "note", "comment", "meaning", "email", "description", "perk", "reason"}


def table(rows: list[dict], *, columns: Sequence[str] | None = None, title: str | None = None) -> None:
    from rich.table import Table

    columns = list(columns or (rows[0].keys() if rows else []))
    t = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        numeric = bool(rows) and all(isinstance(r.get(col), (int, Decimal)) and not isinstance(r.get(col), bool)
                                     for r in rows if r.get(col) is not None)
        wraps = col in WRAPPING
        t.add_column(label(col), justify="right" if numeric else "left",
                     overflow="fold" if wraps else "ellipsis", no_wrap=not wraps)
    for row in rows:
        t.add_row(*[_escape(label(row[col]) if col == "kind" and type(row.get(col)) is str else _cell(row.get(col)))
                    for col in columns])
    if not rows:
        print_line(_("{title}: nothing to show").format(title=title) if title else _("nothing to show"))
        return
    out = console()
    if sys.stdout.isatty() and sys.stdin.isatty() and len(rows) + 6 > out.height:
        # A busy customer's history, a shop's whole customer list: page on a terminal ($PAGER, else
        # less/more), never when piped or redirected.
        with out.pager(styles=False):
            out.print(t)
        return
    out.print(t)


def table_of_fields(data: dict, *, title: str | None = None) -> None:
    from rich.table import Table

    t = Table(title=title, show_header=False, box=None, padding=(0, 2))
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for key, value in data.items():
        if isinstance(value, list):
            continue
        t.add_row(label(key), _escape(_cell(value)))
    console().print(t)


def label(key: str) -> str:
    """A column or field name as people read it (in their language); JSON and CSV keep the key."""
    from loyaltycli.cli import columns  # noqa: F401  (the marked labels, for extraction)

    return _(key.replace("_", " "))


def plural(count, word: str, many: str | None = None) -> str:
    """"1 customer", "2 customers", "-1 point": the count with its word agreeing (English only: for
    messages, use ngettext with the whole sentence)."""
    return f"{count} {word if abs(count) == 1 else (many or word + 's')}"


def print_line(message: str) -> None:
    """One line for people (no markup interpretation of user data)."""
    sys.stdout.write(message + "\n")


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
