"""Instants as whole microseconds since 1970 (UTC): how the engine's accounts, the import's passes and the
store's readers hold times to compare and sort them (an int is cheaper than an aware datetime)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EPOCH_NAIVE = datetime(1970, 1, 1)  # for naive UTC times (as the database returns them on SQLite)
MICROSECOND = timedelta(microseconds=1)


def microseconds(at: datetime) -> int:
    """A time as microseconds since 1970 (UTC); a naive time is read as UTC. Also how SQLite stores a time
    (store/models.UTCDateTime)."""
    return ((at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)) - EPOCH) // MICROSECOND


def instant(us: int) -> datetime:
    """The aware UTC time of ``us`` microseconds since 1970 (the inverse of ``microseconds``)."""
    return EPOCH + timedelta(0, 0, us)  # (positional: faster)
