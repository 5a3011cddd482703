"""How an import writes a time on SQLite (store/storage.py ``_stored_text``, its own faster formatting) is
exactly the text SQLAlchemy's DateTime column writes for the same time, and what the ORM reads back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from loyaltycli.store.storage import _stored_text, stored

pytestmark = pytest.mark.dialect_free("formats times in Python: no database, no clock")

_DIALECT = sqlite.dialect()
_ORM_TEXT = DateTime().dialect_impl(_DIALECT).bind_processor(_DIALECT)

times = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9998, 12, 31, 23, 59, 59, 999_999),
                     timezones=st.just(timezone.utc))


@settings(max_examples=400, deadline=None)
@given(times)
def test_an_imports_time_text_is_the_orms(at):
    text = _stored_text(at)
    assert text == stored(at) == _ORM_TEXT(at.replace(tzinfo=None))
    assert len(text) == 26 and datetime.fromisoformat(text).replace(tzinfo=timezone.utc) == at


def test_whole_seconds_and_a_new_day_keep_their_microseconds_and_dates():
    at = datetime(2026, 3, 29, 23, 59, 59, tzinfo=timezone.utc)
    assert _stored_text(at) == "2026-03-29 23:59:59.000000"
    assert _stored_text(at + timedelta(seconds=1)) == "2026-03-30 00:00:00.000000"
    assert _stored_text(at.replace(microsecond=7)) == "2026-03-29 23:59:59.000007"
