"""Bonuses run over all customers: birthdays and the year-end rebate.

Each is once-only by its ledger bonus key (``birthday:2026``, ``rebate:2025``), found and written
set-based: one query picks who is due, one bulk insert writes their rows.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.base.errors import InvalidInput, RuleNotMet
from loyaltycli.store.models import Customer, LedgerEntry, Purchase
from loyaltycli.base.money import floor_int, parse_decimal
from loyaltycli.store.program import Program, point_value
from loyaltycli.engine.notes import make as make_note
from loyaltycli.i18n import _
from loyaltycli.base.numbers import decimal_text


def birthday_in(year: int, birthday: date) -> date:
    """The day a birthday is celebrated in ``year`` (29 February: the 28th in other years)."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, birthday.month, birthday.day)


def moment_of(day: date | None) -> datetime:
    """The moment a run for ``day`` stands at: the end of that local day, or now for today."""
    now = clock.now()
    if day is None:
        return now
    if clock.start_of_day(day) > now:
        raise InvalidInput(_('--as-of {day} is in the future').format(day=day.isoformat()))
    return min(clock.end_of_day(day), now)


def _local_date(moment: datetime) -> date:
    return clock.local_date(moment)


@dataclass
class BirthdayRun:
    as_of: date
    days: int
    customers: list[dict] = field(default_factory=list)
    awarded: int = 0
    points: int = 0


def birthdays(session: Session, program: Program, *, as_of: date | None = None, days: int = 0,
              award: bool = False) -> BirthdayRun:
    """Active customers whose birthday falls from ``as_of`` to ``days`` days later; with ``award``, give
    each the birthday bonus once for that year's birthday."""
    if not 0 <= days <= 366:
        raise InvalidInput(_('--days must be 0 to 366'))
    if award and not program.birthday_bonus:
        raise RuleNotMet(_('birthday_bonus is 0 (off); set it with `loyalty program set birthday_bonus 100`'))
    # A future day is fine for planning (who has a birthday next week?), not for giving a bonus.
    future = as_of is not None and clock.start_of_day(as_of) > clock.now()
    if future and award:
        raise InvalidInput(_('--as-of {as_of} is in the future: list its birthdays without --award to plan, and award them on the day').format(as_of=as_of.isoformat()))
    at = clock.now() if future else moment_of(as_of)
    first = as_of or _local_date(at)
    last = date.fromordinal(first.toordinal() + days)
    rows = session.execute(select(Customer.id, Customer.code, Customer.name, Customer.birthday)
                           .where(Customer.birthday.is_not(None), Customer.status == "active",
                                  Customer.enrolled_at <= at).order_by(Customer.id)).all()
    due = []
    for customer_id, code, name, birthday in rows:
        for year in range(first.year, last.year + 1):
            day = birthday_in(year, birthday)
            if first <= day <= last:
                due.append({"id": customer_id, "code": code, "name": name, "birthday": birthday, "on": day,
                            "age": year - birthday.year, "bonus_key": f"birthday:{year}"})
                break
    keys = {d["bonus_key"] for d in due}
    given = {(cid, key) for cid, key in session.execute(
        select(LedgerEntry.customer_id, LedgerEntry.bonus_key).where(LedgerEntry.bonus_key.in_(sorted(keys))))}
    run = BirthdayRun(first, days)
    new_rows = []
    engine = None
    for d in due:
        d["awarded"] = (d["id"], d["bonus_key"]) in given
        if award and not d["awarded"]:
            if engine is None:
                from loyaltycli.engine.account import Account
                from loyaltycli.engine.earning import LEDGER_COLUMNS, Engine

                engine = Engine(program, clock.local_zone(), clock.now())
            decision = engine.occasion(Account(d["id"], d["code"], at), "birthday", at, d["bonus_key"],
                                       d["on"].isoformat())
            new_rows.extend(dict(zip(LEDGER_COLUMNS, row)) for row in decision.rows)
            d["awarded"] = True
            d["points"] = decision.earned
        else:
            d.setdefault("points", 0)
    bulk_post(session, new_rows)
    run.customers = due
    run.awarded = len(new_rows)
    run.points = len(new_rows) * program.birthday_bonus
    return run


def _row(customer_id: int, kind: str, points: int, at: datetime, program: Program, bonus_key: str,
         note: tuple[str, str, str], *, expires_at: datetime | None = None,
         recorded_at: datetime | None = None) -> dict:
    return {"customer_id": customer_id, "kind": kind, "delta": points, "at": at,
            "expires_at": expires_at if expires_at is not None else program.expiry_for(at), "purchase_id": None,
            "lot_id": None, "bonus_key": bonus_key, "note": note[0], "note_kind": note[1], "note_args": note[2],
            "recorded_at": recorded_at or clock.now()}


def bulk_post(session: Session, rows: list[dict]) -> None:
    """Append many ledger rows in one executemany (Core insert: no per-row ORM work)."""
    if rows:
        session.execute(LedgerEntry.__table__.insert(), rows)


@dataclass
class RebateRun:
    year: int
    percent: Decimal
    dry_run: bool
    customers: list[dict] = field(default_factory=list)
    already: int = 0
    points: int = 0
    spend: int = 0


def rebate(session: Session, program: Program, year: int, percent: str | Decimal, *,
           dry_run: bool = False) -> RebateRun:
    """Give every active customer ``percent`` of their net spend in ``year`` back as points (value at
    ``point_value``, rounded down), once per year per customer."""
    pct = parse_decimal(str(percent), what="--percent", minimum=Decimal(0), maximum=Decimal(100))
    if pct <= 0:
        raise InvalidInput(_('--percent must be more than 0'))
    if not 1900 <= year <= 9998:
        raise InvalidInput(_('--year {year} is out of range').format(year=year))
    start, end = clock.year_bounds(year)
    now = clock.now()
    if end > now:
        raise RuleNotMet(_("{year} has not ended yet; the rebate is paid on a finished year's spend").format(year=year))
    key = f"rebate:{year}"
    worth = point_value(program)
    has_key = exists().where(and_(LedgerEntry.customer_id == Customer.id, LedgerEntry.bonus_key == key))
    spend = func.sum(Purchase.amount)
    base = (select(Customer.id, Customer.code, Customer.name, spend)
            .join(Purchase, Purchase.customer_id == Customer.id)
            .where(Customer.status == "active", Purchase.at >= start, Purchase.at < end)
            .group_by(Customer.id, Customer.code, Customer.name).having(spend > 0))
    run = RebateRun(year, pct, dry_run)
    expires = program.expiry_for(now)
    run.already = session.execute(select(func.count()).select_from(base.where(has_key).subquery())).scalar_one()
    rows = []
    for customer_id, code, name, net in session.execute(base.where(~has_key).order_by(Customer.id)):
        points = floor_int(Decimal(net) * pct / 100 / worth)
        if points <= 0:
            continue
        run.customers.append({"code": code, "name": name, "spend": net, "points": points})
        run.points += points
        run.spend += net
        rows.append(_row(customer_id, "rebate", points, now, program, key,
                         make_note("rebate", percent=decimal_text(pct), year=year, amount=net),
                         expires_at=expires, recorded_at=now))
    if not dry_run:
        bulk_post(session, rows)
    return run
