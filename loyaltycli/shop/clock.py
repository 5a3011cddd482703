"""Timestamps: timezone-aware everywhere, stored as UTC.

Naive input (``2026-03-01 14:05``) is read as the shop's local time in the program's ``timezone``
setting, an IANA zone (``Europe/Lisbon``), with the offset of *that* date (summer or winter time),
never the offset the machine has today. A time inside the spring-forward gap does not exist and is
refused; a time in the autumn hour that happens twice takes its first reading, and says so (a note).
``LOYALTY_NOW`` pins "now" for tests and demos.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone
from loyaltycli.base import place
from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import _

UTC = timezone.utc
DAY = timedelta(days=1)

# The shop's zone in force (the place's `timezone`, found when first needed); None: not known yet.
_zone = None
# Things worth telling the person (an ambiguous time read one way); the CLI prints them on stderr.
_notes: list[str] = []


def _zoneinfo(name: str):
    if name in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Zulu", "Etc/Zulu"):
        return UTC  # no summer time: the importer's fast path knows this one
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def zone_name_ok(name: str) -> bool:
    """Whether ``name`` is an IANA zone this machine (or the tzdata package) knows."""
    if not name or name.startswith(("/", ".")) or ".." in name or name != name.strip():
        return False
    try:
        _zoneinfo(name)
    except Exception:  # noqa: BLE001  ZoneInfoNotFoundError, ValueError, IsADirectoryError...
        return False
    return True


def parse_zone(text: str) -> str:
    """Validate an IANA zone name (``Europe/Bucharest``); a wrong case is answered with the right one."""
    name = str(text or "").strip()
    if name.upper() in ("UTC", "Z", "ETC/UTC"):
        return "UTC"
    if zone_name_ok(name) and "/" in name or name == "UTC":
        return name
    from zoneinfo import available_timezones

    known = {z.lower(): z for z in available_timezones()}
    hint = known.get(name.lower())
    if hint:
        raise InvalidInput(_('{text!r} is not an IANA time zone; did you mean {hint}?').format(text=text, hint=hint))
    raise InvalidInput(_('{text!r} is not an IANA time zone like Europe/Lisbon, Europe/Bucharest or UTC').format(text=text))


def system_zone_name() -> str:
    """The machine's zone name (``TZ``, /etc/localtime, /etc/timezone), else UTC; looked up once per value
    of ``TZ`` (every program load asks when the `timezone` setting is empty)."""
    tz = os.environ.get("TZ", "")
    name = _system_zones.get(tz)
    if name is None:
        name = _system_zones[tz] = _system_zone_name(tz)
    return name


_system_zones: dict[str, str] = {}


def _system_zone_name(tz: str) -> str:
    tz = tz.lstrip(":").strip()
    if tz:
        return tz if zone_name_ok(tz) else "UTC"
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            name = target.split("zoneinfo/", 1)[1]
            if zone_name_ok(name):
                return name
    except OSError:
        pass
    try:
        with open("/etc/timezone", encoding="utf-8") as handle:
            name = handle.read().strip()
        if zone_name_ok(name):
            return name
    except OSError:
        pass
    return "UTC"


def use_zone(name: str | None) -> None:
    """Put the shop's zone in force (None: forget it, so that it is looked up again)."""
    global _zone
    _zone = _zoneinfo(name) if name else None


def _forget_zone() -> None:
    global _zone
    _zone = None


place.on_change(_forget_zone)  # a new place in force: its zone is looked up again when first needed


def _system_zone():
    """The machine's zone (an import asks for it per receipt: the name is cached per ``TZ`` value and
    ZoneInfo caches its instances, so this is two dictionary look-ups)."""
    return _zoneinfo(system_zone_name())


def local_zone():
    """The shop's time zone (a ZoneInfo): the `timezone` setting, else the machine's zone."""
    global _zone
    if _zone is None:
        name = place.get("timezone")
        if not name or not zone_name_ok(name):
            return _system_zone()
        _zone = _zoneinfo(name)
    return _zone


def note(message: str) -> None:
    """Something the person should know about how their input was read (printed on stderr)."""
    if message not in _notes and len(_notes) < 20:
        _notes.append(message)


def take_notes() -> list[str]:
    """The notes so far, forgotten once taken."""
    out = list(_notes)
    _notes.clear()
    return out


def now() -> datetime:
    """The current time, aware; ``LOYALTY_NOW`` overrides it (ISO-8601)."""
    pinned = os.environ.get("LOYALTY_NOW")
    if pinned:
        return parse_timestamp(pinned, what="LOYALTY_NOW")
    return datetime.now(UTC)


def _offset_text(value: datetime) -> str:
    offset = value.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# zone -> {a naive whole hour (hours since year 1) -> the UTC offset of every moment of that hour, or None
# when a change of the clocks falls inside it}: an import reads hundreds of thousands of times, in a few
# tens of thousands of hours
_hours: dict = {}


def _hour_offset(zone, naive: datetime) -> timedelta | None:
    """The one offset of ``naive``'s whole hour in ``zone``, or None when the clocks change within it (a
    gap, a repeated hour, or any change not on the hour: those take the full reading)."""
    hours = _hours.get(zone)
    if hours is None:
        hours = _hours[zone] = {}
    key = naive.toordinal() * 24 + naive.hour
    try:
        return hours[key]
    except KeyError:
        pass
    start = naive.replace(minute=0, second=0, microsecond=0, fold=0, tzinfo=zone)
    end = start.replace(minute=59, second=59, microsecond=999_999)
    offsets = {start.utcoffset(), start.replace(fold=1).utcoffset(), end.utcoffset(), end.replace(fold=1).utcoffset()}
    if len(hours) > 100_000:
        hours.clear()
    offset = hours[key] = offsets.pop() if len(offsets) == 1 else None
    return offset


def hour_offset(zone, naive: datetime) -> timedelta | None:
    """The one UTC offset of every moment of ``naive``'s whole hour in ``zone``; None when the clocks
    change within it."""
    return _hour_offset(zone, naive)


def day_offset(zone, naive: datetime) -> timedelta | None:
    """The one UTC offset of every moment of ``naive``'s whole day in ``zone`` (each of its hours has the
    same one); None on a day the clocks change."""
    # each of its hours with one offset (``_hour_offset``: both readings of its start and its end), the same
    day = naive.replace(hour=0, minute=0, second=0, microsecond=0)
    offsets = {_hour_offset(zone, day.replace(hour=hour)) for hour in range(24)}
    return offsets.pop() if len(offsets) == 1 else None


def localize(naive: datetime, *, what: str = "time", text: str | None = None, strict: bool = True,
             zone=None) -> datetime:
    """A naive local time of the shop as an aware UTC datetime, with the offset of that very date.

    ``strict``: a time in the spring-forward gap is refused (it never happened on a clock there), and
    a time of the autumn hour that happens twice takes the first (summer) reading, with a note. Not
    strict (day and month bounds): a gap moves to the moment the clocks jumped to. ``zone``: the shop's
    zone when the caller has it at hand (an import), else looked up.
    """
    zone = zone if zone is not None else local_zone()
    offset = _hour_offset(zone, naive)
    if offset is not None:  # no change of the clocks in that hour: one subtraction
        return (naive - offset).replace(tzinfo=UTC)
    first = naive.replace(tzinfo=zone, fold=0)
    if strict:
        second = naive.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            shown = text if text is not None else naive.isoformat(" ", "minutes")
            back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
            if back != naive.replace(tzinfo=None):
                raise InvalidInput(_('{what} {shown!r} does not exist in {key}: the clocks jumped forward that night; give the time after the change, or a UTC offset').format(what=_(what), shown=shown, key=zone.key))
            note(_("{what} {shown!r} happened twice in {zone} (the clocks went back); read as the first one, "
                   "{offset}; add a UTC offset for the other").format(what=_(what), shown=shown, zone=zone.key,
                                                                        offset=_offset_text(first)))
    else:
        # In a gap, fold=0 reads the wall time with the offset before the jump: the instant of the jump.
        pass
    return first.astimezone(UTC)


def parse_timestamp(text: str, *, what: str = "timestamp", local_formats: bool = False) -> datetime:
    """Parse ISO-8601 (date, or date and time, with or without zone) into an aware datetime.

    ``local_formats`` (what a person types): also the shop's date order, 14/03/2026 14:05."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput(_('{what} is empty').format(what=_(what)))
    try:
        if raw.endswith("Z"):
            raw = raw[:-1] + "+00:00"
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = _local_format_timestamp(raw) if local_formats else None
        if value is None:
            raise InvalidInput(_('{what} {text!r} is not a date like 2026-03-01 or 2026-03-01T14:05').format(what=_(what), text=text)) from None
    if not (1900 <= value.year <= 9998):
        raise InvalidInput(_('{what} {text!r} is out of range').format(what=_(what), text=text))
    if value.tzinfo is None:
        return localize(value, what=_(what), text=text.strip())
    return value.astimezone(UTC)


def _local_format_timestamp(raw: str) -> datetime | None:
    """A date the shop's locale writes (14/03/2026, 14.03.2026 14:05), or None."""
    from loyaltycli.shop import localformat

    return localformat.parse_local_timestamp(raw)


def parse_date(text: str, *, what: str = "date") -> date:
    """Parse YYYY-MM-DD, or the day-first date the shop's locale writes (14/03/1985, 14.03.1985)."""
    raw = (text or "").strip()
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        from loyaltycli.shop import localformat

        value = localformat.parse_local_date(raw, what=_(what))
        if value is None:
            raise InvalidInput(_('{what} {text!r} is not a date like 2026-03-01').format(what=_(what), text=text)) from None
    if not (1900 <= value.year <= 9998):
        raise InvalidInput(_('{what} {text!r} is out of range').format(what=_(what), text=text))
    return value


def start_of_day(day: date) -> datetime:
    """Local midnight at the start of ``day`` (or the first moment of it, in a DST gap), as UTC."""
    return localize(datetime.combine(day, time(0, 0)), strict=False)


def end_of_day(day: date) -> datetime:
    """The start of the next local day, as UTC (a day is 23 or 25 hours long when the clocks change)."""
    return start_of_day(day + DAY)


def as_utc(value: datetime) -> datetime:
    """Aware UTC datetime from an aware or naive-UTC one."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_local(value: datetime) -> datetime:
    """An aware datetime in the shop's zone."""
    return as_utc(value).astimezone(local_zone())


def local_date(value: datetime) -> date:
    """The shop's calendar day of ``value``."""
    return to_local(value).date()


def offsets(start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The shop zone's UTC offsets (seconds) in force from ``start`` to ``end``: (UTC moment from which it
    holds, offset), the first from ``start``. A day-by-day walk, each change found to the second: for
    local days in SQL (an offset per interval) without a time-zone database in the server."""
    zone = local_zone()

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    start, end = as_utc(start), as_utc(end)
    out = [(start, offset(start))]
    here = start
    while here < end:
        nxt = min(here + DAY, end)
        if offset(nxt) != out[-1][1]:
            low, high = here, nxt  # the change is in (low, high]
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                if offset(mid) == out[-1][1]:
                    low = mid
                else:
                    high = mid
            out.append((high.replace(microsecond=0) if offset(high.replace(microsecond=0)) != out[-1][1]
                        else high, offset(high)))
        here = nxt
    return out


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar year, as UTC."""
    return start_of_day(date(year, 1, 1)), start_of_day(date(year + 1, 1, 1))


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar month, as UTC."""
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start_of_day(date(year, month, 1)), start_of_day(nxt)


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC for JSON output."""
    if value is None:
        return None
    return as_utc(value).isoformat(timespec="seconds")


def local_text(value: datetime | None) -> str:
    """Short local time for tables: 2026-03-01 14:05 (ISO order: one reading in every locale)."""
    if value is None:
        return ""
    return to_local(value).strftime("%Y-%m-%d %H:%M")
