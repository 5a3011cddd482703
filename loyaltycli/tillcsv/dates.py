"""Dates of till exports, read one way per file: ISO, day-first (DMY) or month-first (MDY).

A value whose first field has four digits (``2010-12-01``) is year-first and reads one way only. Any
other (``01/12/2010``, ``12/1/10 8:26 AM``, ``01.12.2010``) needs the file's order: given
(``--date-order``), or shown by the file itself (a first field over 12 is a day: DMY; a second field over
12 is a day: MDY). A file that shows neither, or both, is refused: never two readings in one file.
The values are naive local times; the importer turns them into UTC with the clock's rules.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import gettext

ORDERS = ("DMY", "MDY", "YMD")
# languages whose shops write dates day-first: a file that reads both ways takes this order (issue 25)
DAY_FIRST_LANGUAGES = ("pt", "ro", "it", "es")
_DATE = re.compile(r"(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp]\.?[Mm]\.?)?")
_OFFSET = re.compile(r"\s*(?:(Z)|(?:UTC|GMT)?([+-])(\d{2}):?(\d{2}))$")
_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_order(text: str | None) -> str | None:
    """'dmy' -> 'DMY'; None stays None."""
    if text is None:
        return None
    order = text.strip().upper()
    if order not in ORDERS:
        raise InvalidInput(gettext('--date-order {text!r} must be one of {orders}').format(text=text, orders=', '.join(ORDERS)))
    return order


def shop_order(locale: str | None) -> str | None:
    """The date order of the shop's locale: 'DMY' for pt/ro/it/es shops (pt_PT, ro_RO...); None otherwise."""
    language = (locale or "").strip().replace("-", "_").split("_")[0].lower()
    return "DMY" if language in DAY_FIRST_LANGUAGES else None


def _split(text: str) -> tuple[tuple[str, str, str], str] | None:
    """('01', '12', '2010'), '08:26' of '01/12/2010 08:26'; None if it does not start with a date."""
    raw = text.strip()
    m = _DATE.match(raw)
    if not m:
        return None
    rest = raw[m.end():]
    if rest and rest[0] not in " T,":
        return None
    return (m.group(1), m.group(3), m.group(4)), rest.lstrip(" T,")


def is_iso(text: str) -> bool:
    """True for a value that starts year-first (2010-12-01...): the importer reads those as they are."""
    return bool(_ISO_START.match(text.strip()))


def orders_of(text: str) -> set[str] | None:
    """The orders under which ``text`` is a valid date: {'YMD'}, {'DMY'}, {'MDY'}, {'DMY', 'MDY'} or
    set() (valid under none); None when it is not a date of any shape (left to the importer's message)."""
    parts = _split(text)
    if parts is None:
        return None
    (a, b, c), _ = parts
    if len(a) == 4:
        return {"YMD"} if _valid(int(a), int(b), int(c)) else set()
    if len(c) not in (2, 4):
        return set()
    year = _year(c)
    out = set()
    if _valid(year, int(b), int(a)):
        out.add("DMY")
    if _valid(year, int(a), int(b)):
        out.add("MDY")
    return out


def _year(text: str) -> int:
    """Four digits as they are; two as strptime's %y does (69-99: 1900s, 00-68: 2000s)."""
    value = int(text)
    if len(text) <= 2:
        return value + (1900 if value >= 69 else 2000)
    return value


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 9998


class OrderFinder:
    """Reads the date values of a file and tells the one order they allow (see ``order``)."""

    def __init__(self) -> None:
        self.seen = 0
        self.day_first: tuple[int, str] | None = None  # (line, value) that only DMY reads
        self.month_first: tuple[int, str] | None = None
        self.ambiguous: tuple[int, str] | None = None

    def add(self, text: str, line: int = 0) -> None:
        orders = orders_of(text)
        if not orders or orders == {"YMD"}:
            return
        self.seen += 1
        if orders == {"DMY"}:
            self.day_first = self.day_first or (line, text.strip())
        elif orders == {"MDY"}:
            self.month_first = self.month_first or (line, text.strip())
        elif self.ambiguous is None:
            self.ambiguous = (line, text.strip())

    def order(self, label: str = "the file", shop: str | None = None) -> str | None:
        """'DMY' or 'MDY'; None when every value is year-first (or none is a date); InvalidInput when the
        file shows both orders, or none while some value reads two ways and the shop's locale gives no
        order (``shop``: shop_order of its locale)."""
        if self.day_first and self.month_first:
            (l1, v1), (l2, v2) = self.day_first, self.month_first
            raise InvalidInput(gettext('{label}: dates in two orders: line {l1} has {v1!r} (day first), line {l2} has {v2!r} (month first); fix the file, nothing was imported').format(label=label, l1=l1, v1=v1, l2=l2, v2=v2))
        if self.day_first:
            return "DMY"
        if self.month_first:
            return "MDY"
        if self.ambiguous and shop:
            return shop
        if self.ambiguous:
            line, value = self.ambiguous
            raise InvalidInput(gettext('{label}: the dates can be read day-first or month-first (line {line}: {value!r}) and none shows which; give --date-order DMY or --date-order MDY').format(label=label, line=line, value=value))
        return None


def parse_time(text: str) -> time:
    """'08:26', '8:26:05', '8:26 PM', '08:26:05.123' -> time."""
    raw = (text or "").strip()
    m = _TIME.fullmatch(raw)
    if not m:
        raise InvalidInput(gettext('time {raw!r} is not a time like 14:05').format(raw=raw))
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    meridiem = (m.group(4) or "").replace(".", "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise InvalidInput(gettext('time {raw!r} is not a time like 2:05 PM').format(raw=raw))
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidInput(gettext('time {raw!r} is not a time like 14:05').format(raw=raw))
    return time(hour, minute, second)


def parse(text: str, order: str | None, time_text: str | None = None) -> datetime:
    """A naive local datetime (aware when the value writes its offset) of ``text`` (a date, with or without a time) read in ``order``; a separate
    time column's value as ``time_text``. Year-first values read as such whatever the order."""
    raw = (text or "").strip()
    parts = _split(raw)
    if parts is None:
        raise InvalidInput(gettext('date {raw!r} is not a date like 2026-03-01, 01/03/2026 or 01.03.2026').format(raw=raw))
    (a, b, c), rest = parts
    if len(a) == 4:
        year, month, day = int(a), int(b), int(c)
    elif order == "DMY":
        year, month, day = _year(c), int(b), int(a)
    elif order == "MDY":
        year, month, day = _year(c), int(a), int(b)
    elif order == "YMD":
        raise InvalidInput(gettext('date {raw!r} is not year-first as --date-order YMD says').format(raw=raw))
    else:
        raise InvalidInput(gettext('date {raw!r} can be read day-first or month-first; give --date-order DMY or MDY').format(raw=raw))
    if len(a) != 4 and len(c) not in (2, 4):
        raise InvalidInput(gettext('date {raw!r} has a year of {count} digits').format(raw=raw, count=len(c)))
    if not _valid(year, month, day):
        raise InvalidInput(gettext('date {raw!r} is not a real day read as {value}').format(raw=raw, value=order or 'YMD'))
    if time_text is not None and time_text.strip():
        if rest:
            raise InvalidInput(gettext('date {raw!r} has a time and the time column too').format(raw=raw))
        rest = time_text
    zone = None
    m = _OFFSET.search(rest) if rest else None
    if m and (m.group(1) or m.start() > 0):  # a written offset (Shopify: 2026-03-01 14:05:09 +0100)
        rest = rest[:m.start()]
        minutes = 0 if m.group(1) else int(m.group(3)) * 60 + int(m.group(4))
        zone = timezone(timedelta(minutes=-minutes if m.group(2) == "-" else minutes))
    when = parse_time(rest) if rest else time(0, 0)
    value = datetime.combine(date(year, month, day), when)
    return value.replace(tzinfo=zone) if zone is not None else value


def iso_text(value: datetime) -> str:
    """The naive local time as the importer reads it: 2010-12-01 08:26:00."""
    return value.isoformat(" ", "seconds")
