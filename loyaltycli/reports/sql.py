"""The period a report covers, and the SQL pieces the reports (reports/aggregates.py) and the product
suggestions (reports/products.py) share: numbers rounded the way reports show them, results with whole
Decimals as ints on both databases, dialect-aware expressions, local months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Float, Integer, and_, case, func, literal, literal_column, text, type_coerce
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.base.errors import InvalidInput
from loyaltycli.store.models import Customer, Purchase
from loyaltycli.store.program import Program
from loyaltycli.i18n import gettext

YEAR_DAYS = 365


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    @property
    def years(self) -> float:
        return self.days / YEAR_DAYS

    def as_dict(self) -> dict:
        return {"from": self.start, "to": self.end}


def make_period(start: date | datetime | None = None, end: date | datetime | None = None, *,
                default_days: int = YEAR_DAYS) -> Period:
    """[start, end): dates are local midnights; no end = now (included); no start = ``default_days`` before
    the end."""
    def moment(value):
        if isinstance(value, datetime):
            return clock.as_utc(value)
        return clock.start_of_day(value)

    # "Up to now" includes what was recorded this very moment (a sale rung up, then the report).
    end_at = moment(end) if end is not None else clock.now() + timedelta(microseconds=1)
    start_at = moment(start) if start is not None else end_at - timedelta(days=default_days)
    if start_at >= end_at:
        raise InvalidInput(gettext('--from must be before --to (the period is [from, to))'))
    return Period(start_at, end_at)


def pct(part, whole, places: int = 1) -> float | None:
    """part / whole x 100, rounded half up; None when whole is 0."""
    if not whole:
        return None
    return rounded(Decimal(part) * 100 / Decimal(whole), places)


def ratio(part, whole, places: int = 2) -> float | None:
    if not whole:
        return None
    return rounded(Decimal(part) / Decimal(whole), places)


def rounded(value: Decimal, places: int) -> float:
    return float(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def to_cents(value) -> int:
    return int(Decimal(value or 0).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _number(value):
    """PostgreSQL sums integers into NUMERIC (Decimal): whole ones come back as int, like on SQLite."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


class _Rows:
    """A fetched result with whole Decimals turned into ints."""

    def __init__(self, result):
        self.rows = [tuple(_number(v) for v in row) for row in result]

    def all(self) -> list[tuple]:
        return self.rows

    def one(self) -> tuple:
        if len(self.rows) != 1:
            raise ValueError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def scalar_one(self):
        return self.one()[0]

    def __iter__(self):
        return iter(self.rows)


def fetch(session: Session, statement) -> _Rows:
    return _Rows(session.execute(statement))


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def as_days(session: Session, column):
    """A timestamp as a number of days (for differences), on SQLite and PostgreSQL."""
    if dialect(session) == "postgresql":
        return func.extract("epoch", column) / 86400.0
    # SQLite: microseconds since 1970 (UTCDateTime). op() keeps the operand's own type, so that a time
    # given as a parameter is still bound through UTCDateTime (type_coerce would bind it as a datetime).
    return column.op("/", return_type=Float)(literal(86_400_000_000.0, Float))


def unix_seconds(column):
    """SQLite: a time column's whole seconds since 1970, rounded down (before 1970 too: SQLite's ``/``
    truncates toward zero), for SQLite's date functions with the 'unixepoch' modifier."""
    def arithmetic(operator, left, right):
        return left.op(operator, return_type=Integer)(literal(right, Integer) if isinstance(right, int) else right)

    below = arithmetic("%", arithmetic("+", arithmetic("%", column, 1_000_000), 1_000_000), 1_000_000)
    return arithmetic("/", arithmetic("-", column, below), 1_000_000)


def by_customer_at(session: Session):
    """Purchase.at for per-customer aggregates. On SQLite it is written ``+purchase.at``, which keeps the
    planner from ranging over the at index and sorting: it walks the (customer_id, at, amount) index in
    customer order instead, with no temporary B-tree."""
    if dialect(session) == "sqlite":
        return type_coerce(literal_column("+purchase.at"), Purchase.at.type)
    return Purchase.at


def tune(session: Session) -> None:
    """Reports read a lot: on SQLite, map the file and give the page cache room (this connection only)."""
    if dialect(session) == "sqlite":
        session.execute(text("PRAGMA mmap_size=1073741824"))
        session.execute(text("PRAGMA cache_size=-65536"))


def month_bounds(period: Period) -> list[tuple[str, datetime, datetime]]:
    """('YYYY-MM', start, end) for every local month the period touches, clipped to the period."""
    out = []
    for label in months(period):
        year, month = int(label[:4]), int(label[5:])
        start, end = clock.month_bounds(year, month)
        out.append((label, max(start, period.start), min(end, period.end)))
    return out


def ledger_kinds(session: Session) -> list[str]:
    """Every ledger kind in use, by a loose index scan (one index seek per kind)."""
    return [k for (k,) in fetch(session, text(
        "WITH RECURSIVE k(kind) AS (SELECT min(kind) FROM ledger UNION ALL "
        "SELECT (SELECT min(kind) FROM ledger WHERE kind > k.kind) FROM k WHERE k.kind IS NOT NULL) "
        "SELECT kind FROM k WHERE kind IS NOT NULL")).all()]


def tier_case(program: Program, spend):
    """SQL CASE naming the tier of a qualifying spend."""
    whens = [(spend >= t.min_spend, literal(t.name)) for t in reversed(program.tiers) if t.min_spend > 0]
    if not whens:
        return literal(program.tiers[0].name)
    return case(*whens, else_=literal(program.tiers[0].name))


def counted_customers(period_end: datetime):
    """Customers that exist at the end of the period (merged duplicates are not counted twice)."""
    return and_(Customer.enrolled_at < period_end, Customer.status != "merged")


def months(period: Period) -> list[str]:
    """Every 'YYYY-MM' (the shop's local months) the period touches, oldest first."""
    out = []
    first = clock.to_local(period.start)
    year, month = first.year, first.month
    last = clock.to_local(period.end - timedelta(microseconds=1))
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
