"""Instants as whole microseconds since 1970 (UTC): how the engine's accounts, the import's passes and the
store's readers hold times to compare and sort them (an int is cheaper than an aware datetime)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EPOCH_NAIVE = datetime(1970, 1, 1)  # for naive UTC times (as the database returns them on SQLite)
MICROSECOND = timedelta(microseconds=1)


def microseconds(at: datetime) -> int:
    """An aware time as microseconds since 1970 (UTC)."""
    return (at - EPOCH) // MICROSECOND
