"""Dates typed the shop's way: 14/03/1985 or 14.03.1985 where the locale writes the day first.

ISO (1985-03-14) is read by ``clock`` before anything here; this module is only asked (and Babel only
imported) for other shapes.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import N_, gettext

_DATE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})$")
_STAMP = re.compile(r"^(?P<date>\d{1,2}([./-])\d{1,2}\2\d{4})(?:[ T,]+(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?)?$")


def locale_name() -> str:
    from loyaltycli.base import place

    return place.get("locale", "") or "en_IE"


def date_order(locale: str | None = None) -> str:
    """'DMY', 'MDY' or 'YMD': the order of the locale's short date."""
    from babel import Locale

    try:
        pattern = Locale.parse(locale or locale_name()).date_formats["short"].pattern
    except Exception:  # noqa: BLE001  an unknown locale stored by hand: day first, as most of the world
        return "DMY"
    order = sorted((pattern.lower().find(ch), ch) for ch in "dmy" if ch in pattern.lower())
    return "".join(ch for _, ch in order).upper() or "DMY"


def parse_local_date(raw: str, *, what: str = "date") -> date | None:
    """14/03/1985 or 14.03.1985 (03/14/1985 where the locale writes the month first); None: not that shape."""
    m = _DATE.match(raw.strip())
    if not m:
        return None
    first, second, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    order = date_order()
    if order == "YMD":
        raise InvalidInput(gettext('{what} {raw!r}: write it year first, like 1985-03-14').format(what=gettext(what), raw=raw))
    day, month = (second, first) if order == "MDY" else (first, second)
    try:
        return date(year, month, day)
    except ValueError:
        example = "03/14/1985" if order == "MDY" else "14/03/1985"
        raise InvalidInput(gettext('{what} {raw!r} is not a date (this shop writes dates like {example}, or ISO 1985-03-14)').format(what=gettext(what), raw=raw, example=example)) from None


def parse_local_timestamp(raw: str) -> datetime | None:
    """'14/03/2026 14:05' (the shop's date order) as a naive datetime; None: not that shape."""
    m = _STAMP.match(raw.strip())
    if not m:
        return None
    day = parse_local_date(m.group("date"), what=N_("time"))
    if day is None:
        return None
    try:
        return datetime(day.year, day.month, day.day, int(m.group("h") or 0), int(m.group("m") or 0),
                        int(m.group("s") or 0))
    except ValueError:
        raise InvalidInput(gettext('time {raw!r} is not a time of day').format(raw=raw)) from None
