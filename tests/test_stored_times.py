"""How SQLite stores a time (store/models.UTCDateTime, 0011_instants): whole microseconds since 1970 (UTC), the
same integer whether the ORM, the import's bulk writer (store/storage.write_rows) or the migration of a text
written before 0011 put it there; read back as the same aware time; and the SQL that reports do with it (a
day in the shop's zone, a difference in days) agrees with Python's own arithmetic."""

from __future__ import annotations

import importlib.util
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

import loyaltycli
from loyaltycli.base.instants import instant, microseconds
from loyaltycli.store.models import Purchase
from loyaltycli.store.storage import write_rows

pytestmark = pytest.mark.dialect_free("SQLite's own storage of a time, in memory: no file, no clock")

UTC = timezone.utc
times = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9998, 12, 31, 23, 59, 59, 999_999),
                     timezones=st.just(UTC))
_MIGRATION = Path(loyaltycli.__file__).parent / "store" / "migrations" / "versions" / "0011_instants.py"


def _migration():
    spec = importlib.util.spec_from_file_location("instants_0011", _MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def engine():
    engine = create_engine("sqlite://")
    Purchase.__table__.create(engine)
    yield engine
    engine.dispose()


def _rows(session, times_):
    return [(i + 1, 1, "t", f"R{i}", at, 100, "store", None, None, None) for i, at in enumerate(times_)]


@settings(max_examples=60, deadline=None)
@given(st.lists(times, min_size=1, max_size=20))
def test_the_import_and_the_orm_store_the_same_integer_and_read_back_the_same_time(engine, values):
    columns = ("id", "customer_id", "source", "receipt_id", "at", "amount", "channel", "refund_of_id",
               "import_file", "import_line")
    with Session(engine) as session:
        write_rows(session, Purchase.__table__, columns, _rows(session, values))
        raw = [r[0] for r in session.connection().exec_driver_sql("SELECT at FROM purchase ORDER BY id")]
        assert raw == [microseconds(v) for v in values]
        assert all(type(r) is int for r in raw)
        read = session.scalars(select(Purchase.at).order_by(Purchase.id)).all()
        assert read == values and all(r.tzinfo is UTC for r in read)
        # compared through the column's type: a time in another zone is the same instant
        lisbon = values[0].astimezone(ZoneInfo("Europe/Lisbon"))
        assert session.scalar(select(func.count()).where(Purchase.at == lisbon)) == values.count(values[0])
        session.rollback()


def test_a_naive_time_is_utc_and_the_ends_of_the_calendar_fit():
    assert microseconds(datetime(1970, 1, 1, 0, 0, 1)) == 1_000_000
    assert microseconds(datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)) == -500_000
    for at in (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)):
        assert instant(microseconds(at)) == at
        assert abs(microseconds(at)) < 2 ** 63


@settings(max_examples=200, deadline=None)
@given(st.lists(times, min_size=1, max_size=30))
def test_the_migration_turns_the_old_text_into_the_same_integer_and_back(values):
    migration = _migration()
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE t (c DATETIME)")
        texts = [at.replace(tzinfo=None).isoformat(" ", "microseconds") for at in values]
        # as 0010 stored them (always six digits), and the shorter forms SQLite accepts
        conn.executemany("INSERT INTO t VALUES (?)", [(t,) for t in texts] + [(texts[0][:19],), (None,)])
        assert conn.execute(f"SELECT count(*) FROM t WHERE NOT {migration.readable('c')}").fetchone() == (0,)
        conn.execute(f"UPDATE t SET c = {migration.microseconds('c')}")
        got = [r[0] for r in conn.execute("SELECT c FROM t ORDER BY rowid")]
        assert got == [microseconds(v) for v in values] + [microseconds(values[0].replace(microsecond=0)),
                                                                None]
        conn.execute(f"UPDATE t SET c = {migration.text('c')}")
        assert [r[0] for r in conn.execute("SELECT c FROM t ORDER BY rowid")][:-2] == texts


@settings(max_examples=200, deadline=None)
@given(st.lists(times, min_size=1, max_size=30), st.integers(-14 * 3600, 14 * 3600))
def test_the_shops_day_and_days_between_in_sql_are_pythons(engine, values, offset):
    from loyaltycli.reports.aggregates import _local_day
    from loyaltycli.reports.sql import as_days

    with Session(engine) as session:
        columns = ("id", "customer_id", "source", "receipt_id", "at", "amount", "channel", "refund_of_id",
                   "import_file", "import_line")
        write_rows(session, Purchase.__table__, columns, _rows(session, values))
        days = session.scalars(select(_local_day(session, Purchase.at, [(values[0], offset)])).order_by(Purchase.id))
        assert list(days) == [(v + timedelta(seconds=offset)).date().isoformat() for v in values]
        first = values[0]
        spans = session.scalars(select(as_days(session, Purchase.at)).order_by(Purchase.id)).all()
        assert [s - spans[0] for s in spans] == pytest.approx(
            [(v - first) / timedelta(days=1) for v in values], abs=1e-9)
        session.rollback()
