"""The shop's time zone: typed, imported and shown times, and day/month/year bounds, DST-correct.

This module runs under a non-UTC machine zone (TZ=Europe/Lisbon) with the shop in Bucharest, in
winter (now = 30 November), so that a summer time typed today must take the summer offset.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

WINTER_NOW = "2026-11-30T12:00:00+00:00"


@pytest.fixture
def bucharest(cli, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Lisbon")
    monkeypatch.setenv("LOYALTY_NOW", WINTER_NOW)
    result = cli("program", "set", "timezone", "Europe/Bucharest")
    assert result.exit_code == 0, result.stderr
    result = cli("enroll", "Ana", "--phone", "+40712345678", "--at", "2026-01-01T00:30", "--no-input")
    assert result.exit_code == 0, result.stderr
    return "C000001"


def test_the_default_zone_is_the_machines(cli, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Lisbon")
    assert cli.json("program", "show")["timezone"] == "Europe/Lisbon"
    monkeypatch.setenv("TZ", "Nowhere/Atlantis")
    assert cli.json("program", "show")["timezone"] == "UTC"


def test_a_summer_time_typed_in_winter_takes_the_summer_offset(cli, bucharest):
    result = cli("purchase", bucharest, "10.00", "--at", "2026-07-15T00:30", "--receipt", "S1")
    assert result.exit_code == 0, result.stderr
    history = cli.json("history", bucharest)
    assert history[0]["at"] == "2025-12-31T22:30:00+00:00"  # winter: UTC+2
    assert history[-1]["at"] == "2026-07-14T21:30:00+00:00"  # summer: UTC+3, not 22:30Z


def test_times_are_shown_in_the_shops_zone(cli, bucharest):
    cli("purchase", bucharest, "10.00", "--at", "2026-07-15T00:30", "--receipt", "S1")
    result = cli("history", bucharest)
    assert "2026-07-15 00:30" in result.stdout
    assert "2026-01-01 00:30" in result.stdout


def test_a_time_in_the_spring_forward_gap_is_refused(cli, bucharest):
    # Bucharest: 29 March 2026 03:00 -> 04:00
    result = cli("purchase", bucharest, "10.00", "--at", "2026-03-29T03:30")
    assert result.exit_code == 1
    assert "does not exist in Europe/Bucharest" in result.stderr
    assert cli.json("balance", bucharest)["balance"] == 50


def test_an_autumn_time_takes_the_first_reading_and_says_so(cli, bucharest):
    # Bucharest: 25 October 2026 04:00 -> 03:00; 03:30 happens twice
    result = cli("purchase", bucharest, "10.00", "--at", "2026-10-25T03:30", "--receipt", "A1")
    assert result.exit_code == 0, result.stderr
    assert "note: --at '2026-10-25T03:30' happened twice in Europe/Bucharest" in result.stderr
    assert "UTC+03:00" in result.stderr
    assert cli.json("history", bucharest)[-1]["at"] == "2026-10-25T00:30:00+00:00"
    # an explicit offset is taken as given, without a note
    result = cli("purchase", bucharest, "10.00", "--at", "2026-10-25T03:30+02:00", "--receipt", "A2")
    assert result.exit_code == 0 and "note" not in result.stderr
    assert cli.json("history", bucharest)[-1]["at"] == "2026-10-25T01:30:00+00:00"


def test_the_milestone_year_starts_at_local_midnight(cli, bucharest):
    cli("program", "set", "milestone_spend", "100.00")
    # 2025-12-31 23:30 local: still last year, does not count for 2026
    assert cli("purchase", bucharest, "60.00", "--at", "2025-12-31T23:30", "--receipt", "Y0").exit_code == 1
    # (enrolled 2026-01-01 00:30 local: the sale above is before enrollment and refused)
    assert cli("purchase", bucharest, "60.00", "--at", "2026-01-01T00:45", "--receipt", "Y1").exit_code == 0
    data = cli.json("purchase", bucharest, "50.00", "--at", "2026-01-02T10:00", "--receipt", "Y2")
    assert [b["kind"] for b in data["bonuses"]] == ["milestone"]


def test_report_days_are_local_days(cli, bucharest):
    cli("purchase", bucharest, "10.00", "--at", "2026-07-15T00:30", "--receipt", "D1")
    cli("purchase", bucharest, "20.00", "--at", "2026-07-15T23:30", "--receipt", "D2")
    cli("purchase", bucharest, "40.00", "--at", "2026-07-16T00:30", "--receipt", "D3")  # the next local day
    data = cli.json("report", "channels", "--from", "2026-07-15", "--to", "2026-07-16")
    assert [(row["sales"], row["gross"]) for row in data] == [(2, "30.00")]


def test_expire_as_of_a_local_day_on_a_short_day(cli, bucharest, monkeypatch):
    from loyaltycli.shop import clock

    clock.use_zone("Europe/Bucharest")
    try:
        start, end = clock.start_of_day(date(2026, 3, 29)), clock.end_of_day(date(2026, 3, 29))
        assert end - start == timedelta(hours=23)
        start, end = clock.month_bounds(2026, 10)
        assert start.isoformat() == "2026-09-30T21:00:00+00:00"
        assert end.isoformat() == "2026-10-31T22:00:00+00:00"
        assert clock.year_bounds(2027)[0].isoformat() == "2026-12-31T22:00:00+00:00"
    finally:
        clock.use_zone(None)
    assert cli("expire", "--as-of", "2026-03-29").exit_code == 0


def test_imported_summer_times_take_the_summer_offset(cli, bucharest, tmp_path):
    path = tmp_path / "till.csv"
    path.write_text("receipt_id,timestamp,customer,amount\n"
                    "T1,2026-07-15T00:30:00,C000001,10.00\n"
                    "T2,2026-02-15T00:30:00,C000001,10.00\n"
                    "T3,2026-03-29T03:30:00,C000001,10.00\n", encoding="utf-8")
    result = cli("import", str(path), "--source", "till", "--rejects", str(tmp_path / "rej.csv"))
    assert result.exit_code == 3, result.output + result.stderr
    times = [row["at"] for row in cli.json("history", bucharest) if row["kind"] == "earn"]
    assert sorted(times) == ["2026-02-14T22:30:00+00:00", "2026-07-14T21:30:00+00:00"]
    assert "does not exist" in (tmp_path / "rej.csv").read_text(encoding="utf-8")


def test_a_library_import_reads_times_in_the_shops_zone_not_the_one_last_in_force(cli, bucharest, db_path, database):
    """`import_file` called by a library user (a till integration), not through a command that loaded the
    program first: the shop's zone still reads the file's times, whatever place was in force before."""
    from loyaltycli.base import place
    from loyaltycli.services import importer

    path = db_path.parent / "till.csv"
    path.write_text("receipt_id,timestamp,customer,amount\nL1,2026-07-15T00:30:00,C000001,10.00\n")
    place.activate({"timezone": "Asia/Tokyo"})  # another shop's place left in force in this process
    assert importer.import_file(database, path).imported == 1
    times = [row["at"] for row in cli.json("history", bucharest) if row["kind"] == "earn"]
    assert times == ["2026-07-14T21:30:00+00:00"]  # Bucharest summer time, not Tokyo's nor the machine's


def test_timezone_setting_is_validated(cli):
    result = cli("program", "set", "timezone", "Europe/Atlantis")
    assert result.exit_code == 1 and "not an IANA time zone" in result.stderr
    result = cli("program", "set", "timezone", "europe/lisbon")
    assert result.exit_code == 1 and "did you mean Europe/Lisbon?" in result.stderr
    result = cli("program", "set", "timezone", "../../etc/passwd")
    assert result.exit_code == 1
    assert cli.json("program", "set", "timezone", "Europe/Madrid")["value"] == "Europe/Madrid"


def test_dates_typed_day_first_where_the_locale_writes_so(cli, monkeypatch):
    cli("program", "set", "locale", "pt_PT")
    cli("program", "set", "timezone", "Europe/Lisbon")  # a Lisbon shop, whatever the machine's zone
    assert cli("enroll", "Rui", "--birthday", "14/03/1985", "--at", "01/01/2026", "--no-input").exit_code == 0
    assert cli.json("customer", "show", "C000001")["birthday"] == "1985-03-14"
    assert cli.json("customer", "show", "C000001")["enrolled_at"] == "2026-01-01T00:00:00+00:00"
    assert cli("enroll", "Rita", "--birthday", "14.03.1985", "--no-input").exit_code == 0
    assert cli.json("customer", "show", "C000002")["birthday"] == "1985-03-14"
    result = cli("enroll", "Rosa", "--birthday", "31/02/1985", "--no-input")
    assert result.exit_code == 1 and "is not a date" in result.stderr
    result = cli("purchase", "C000001", "5.00", "--at", "15/06/2026 10:00", "--receipt", "P1")
    assert result.exit_code == 0, result.stderr
    assert cli.json("history", "C000001")[-1]["at"] == "2026-06-15T09:00:00+00:00"  # 10:00 summer time


@settings(max_examples=400, deadline=None)
@example(zone="Europe/Lisbon", naive=datetime(2026, 3, 29, 1, 30))        # the gap
@example(zone="Europe/Lisbon", naive=datetime(2026, 10, 25, 1, 30))       # the hour that happens twice
@example(zone="Australia/Lord_Howe", naive=datetime(2026, 4, 5, 1, 45))   # half an hour twice
@example(zone="Australia/Lord_Howe", naive=datetime(2026, 4, 5, 1, 15))   # its hour, before the change
@example(zone="Australia/Lord_Howe", naive=datetime(2026, 10, 4, 2, 15))  # a half-hour gap
@example(zone="America/Nuuk", naive=datetime(2024, 3, 30, 23, 30))       # a gap in the day's last hour
@example(zone="America/Santiago", naive=datetime(2022, 4, 2, 23, 30))     # its last hour twice
@given(zone=st.sampled_from(["Europe/Lisbon", "Europe/Bucharest", "America/New_York", "Australia/Lord_Howe",
                             "Asia/Kolkata", "America/St_Johns", "America/Nuuk", "America/Santiago",
                             "Africa/Cairo", "Asia/Beirut", "UTC"]),
       naive=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31)))
def test_the_hour_cache_reads_every_time_as_the_zone_does(zone, naive):
    """clock.localize answers from a cache of whole hours without a change of the clocks; times in an hour with
    a change (gap, repeated hour, Lord Howe's half-hour shift) take the full reading: the same answer."""
    from zoneinfo import ZoneInfo

    from loyaltycli.shop import clock
    from loyaltycli.base.errors import InvalidInput

    tz = ZoneInfo(zone)
    naive = naive.replace(fold=0)  # as a till's text reads (hypothesis also draws fold=1: the later reading)
    first, second = naive.replace(tzinfo=tz), naive.replace(tzinfo=tz, fold=1)
    in_gap = first.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != naive
    twice = not in_gap and first.utcoffset() != second.utcoffset()
    for _ in range(2):  # the second time from the cache
        clock.take_notes()
        if in_gap:
            with pytest.raises(InvalidInput):
                clock.localize(naive, zone=tz)
        else:
            assert clock.localize(naive, zone=tz) == first.astimezone(timezone.utc)
            assert bool(clock.take_notes()) == twice  # "happened twice ... read as the first one"
        assert clock.localize(naive, zone=tz, strict=False) == first.astimezone(timezone.utc)
    if first.utcoffset() == second.utcoffset():
        assert clock._hour_offset(tz, naive) in (None, first.utcoffset())
    day = clock.day_offset(tz, naive)
    assert day is None or (not in_gap and first.utcoffset() == second.utcoffset() == day)


@settings(max_examples=300, deadline=None)
@example(zone="Europe/Lisbon", first=datetime(2026, 3, 29, 0, 30), later=datetime(2026, 3, 29, 3, 30))
@example(zone="Europe/Bucharest", first=datetime(2026, 10, 25, 2, 0), later=datetime(2026, 10, 25, 3, 30))
@example(zone="Australia/Lord_Howe", first=datetime(2026, 4, 5, 0, 10), later=datetime(2026, 4, 5, 1, 45))
@example(zone="America/Nuuk", first=datetime(2024, 3, 30, 10, 0), later=datetime(2024, 3, 30, 23, 30, 1))
@example(zone="America/Santiago", first=datetime(2022, 4, 2, 10, 0), later=datetime(2022, 4, 2, 23, 30, 1))
@example(zone="Africa/Cairo", first=datetime(2023, 10, 26, 10, 0), later=datetime(2023, 10, 26, 23, 30, 1))
@given(zone=st.sampled_from(["Europe/Lisbon", "Europe/Bucharest", "America/New_York", "Australia/Lord_Howe",
                             "Asia/Kolkata", "America/Nuuk", "America/Santiago", "Africa/Cairo", "Asia/Beirut",
                             "UTC"]),
       first=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31)),
       later=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31)))
def test_the_importers_day_cache_reads_every_time_as_the_zone_does(zone, first, later):
    """The import keeps the offset of each whole day without a change of the clocks (tillcsv/reader.py):
    a time read after another of its day (or of any day) is read as clock.localize reads it."""
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from loyaltycli.base.errors import InvalidInput
    from loyaltycli.shop import clock
    from loyaltycli.tillcsv.presets import Preset
    from loyaltycli.tillcsv.reader import Reader

    tz = ZoneInfo(zone)
    reader = Reader(Path("till.csv"), "till.csv", Preset(), {}, None)
    reader._zone = tz
    later = later.replace(year=first.year, month=first.month, day=first.day) if later.second % 2 else later
    for naive, sep in ((first, "T"), (later, " "), (first, " ")):
        text = naive.isoformat(sep)
        clock.take_notes()
        try:
            expected = clock.localize(naive, zone=tz)
        except InvalidInput:
            with pytest.raises(InvalidInput):
                reader._parse_when(text)
            continue
        noted = bool(clock.take_notes())  # "happened twice ... read as the first one"
        assert reader._parse_when(text) == expected
        assert bool(clock.take_notes()) == noted
