"""Timestamps: timezone-aware everywhere, stored as UTC.

Naive input (``2026-03-01 14:05``) is read as the shop's local time (the machine's zone, or the
``TZ`` environment variable); ``LOYALTY_NOW`` pins "now" for tests and demos.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone

from loyaltycli.core.errors import InvalidInput

UTC = timezone.utc


def local_zone():
    """The shop's time zone: the machine's local zone."""
    return datetime.now().astimezone().tzinfo


def now() -> datetime:
    """The current time, aware; ``LOYALTY_NOW`` overrides it (ISO-8601)."""
    pinned = os.environ.get("LOYALTY_NOW")
    if pinned:
        return parse_timestamp(pinned, what="LOYALTY_NOW")
    return datetime.now(UTC)


def parse_timestamp(text: str, *, what: str = "timestamp") -> datetime:
    """Parse ISO-8601 (date, or date and time, with or without zone) into an aware datetime."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput(f"{what} is empty")
    try:
        if raw.endswith("Z"):
            raw = raw[:-1] + "+00:00"
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a date like 2026-03-01 or 2026-03-01T14:05") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
        # Resolve the local offset for that very date (summer time).
        value = value.astimezone(UTC).astimezone(local_zone())
    if not (1900 <= value.year <= 9998):
        raise InvalidInput(f"{what} {text!r} is out of range")
    return value.astimezone(UTC)


def parse_date(text: str, *, what: str = "date") -> date:
    """Parse YYYY-MM-DD."""
    try:
        value = date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a date like 2026-03-01") from None
    if not (1900 <= value.year <= 9998):
        raise InvalidInput(f"{what} {text!r} is out of range")
    return value


def start_of_day(day: date) -> datetime:
    """Local midnight at the start of ``day``, as UTC."""
    return datetime.combine(day, time(0, 0)).replace(tzinfo=local_zone()).astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC datetime from an aware or naive-UTC one."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_year(value: datetime) -> int:
    """Calendar year of ``value`` in the shop's local time."""
    return as_utc(value).astimezone(local_zone()).year


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar year, as UTC."""
    return start_of_day(date(year, 1, 1)), start_of_day(date(year + 1, 1, 1))


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC for JSON output."""
    if value is None:
        return None
    return as_utc(value).isoformat(timespec="seconds")


def local_text(value: datetime | None) -> str:
    """Short local time for tables: 2026-03-01 14:05."""
    if value is None:
        return ""
    return as_utc(value).astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


DAY = timedelta(days=1)
