"""The points ledger: post entries, balances, lots, expiry.

A balance is the sum of a customer's rows. Earned rows are lots that expire; debits use the
oldest (soonest-expiring) points first; an expiry row writes off what was left of one lot.
"""

from __future__ import annotations

import heapq
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.base.errors import InvalidInput, RuleNotMet
from loyaltycli.store.models import Customer, LedgerEntry
from loyaltycli.i18n import gettext

MAX_POINTS = 10**9
# Clocks of two tills may differ a little; anything later than this is a typo.
FUTURE_SLACK = clock.DAY / 24 / 12

# Who writes rows by hand right now (award, refund, redeem, merge, forget): set by the command around
# its transaction (``acting``); rows written by rules alone (purchases, imports, expiry) carry none.
_operator: ContextVar[str | None] = ContextVar("loyalty_operator", default=None)


def operator_name(given: str | None = None) -> str:
    """``--by NAME``, else LOYALTY_OPERATOR, else the OS user; trimmed to 64 characters."""
    import getpass
    import os

    name = (given or "").strip() or os.environ.get("LOYALTY_OPERATOR", "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except Exception:  # noqa: BLE001  no user name known (a container without passwd entry)
            name = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return "".join(ch for ch in name if ch.isprintable())[:64]


def current_operator() -> str | None:
    """The operator of rows written by hand in this block (see ``acting``), else None."""
    return _operator.get()


@contextmanager
def acting(operator: str) -> Iterator[None]:
    """Rows posted inside the block record ``operator`` as the person who wrote them."""
    token = _operator.set(operator)
    try:
        yield
    finally:
        _operator.reset(token)


def post(session: Session, customer_id: int, kind: str, delta: int, at: datetime, *,
         expires_at: datetime | None = None, purchase_id: int | None = None, lot_id: int | None = None,
         bonus_key: str | None = None, note: str | tuple[str, str, str] = "") -> LedgerEntry:
    """Append one row to the ledger. ``note``: a note as ``engine.notes.make`` gives it, or plain text
    (a reason typed by staff, shown as typed)."""
    text, note_kind, note_args = (note, None, None) if isinstance(note, str) else note
    entry = LedgerEntry(customer_id=customer_id, kind=kind, delta=int(delta), at=at, expires_at=expires_at,
                        purchase_id=purchase_id, lot_id=lot_id, bonus_key=bonus_key, note=text[:500],
                        recorded_at=clock.now(), operator=_operator.get(), note_kind=note_kind,
                        note_args=note_args)
    session.add(entry)
    session.flush()
    return entry


def balance(session: Session, customer_id: int) -> int:
    """The customer's balance: the sum of the ledger."""
    return session.execute(
        select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(LedgerEntry.customer_id == customer_id)
    ).scalar_one()


def unwritten_expiry(session: Session, customer_ids: list[int], now: datetime) -> dict[int, int]:
    """Points expired by ``now`` but not written off, per customer (only customers who have any)."""
    from itertools import groupby

    out: dict[int, int] = {}
    for start in range(0, len(customer_ids), 500):
        chunk = customer_ids[start:start + 500]
        rows = session.execute(
            lot_query(LedgerEntry.customer_id)
            .where(LedgerEntry.customer_id.in_(chunk))
            .order_by(LedgerEntry.customer_id, LedgerEntry.at, LedgerEntry.id)).all()
        for customer_id, group in groupby(rows, key=lambda r: r[0]):
            due = sum(replay([r[1:] for r in group], now).due.values())
            if due:
                out[customer_id] = due
    return out


def check_when(at: datetime | None, customer: Customer | None = None) -> datetime:
    """``at`` or now; never in the future, never before the customer enrolled."""
    now = clock.now()
    at = at or now
    if at > now + FUTURE_SLACK:
        raise InvalidInput(gettext('time {at} is in the future').format(at=clock.local_text(at)))
    if customer is not None and at < customer.enrolled_at:
        raise RuleNotMet(gettext('{at} is before {code} enrolled ({enrolled_at})').format(at=clock.local_text(at), code=customer.code, enrolled_at=clock.local_text(customer.enrolled_at)))
    return at


def lock_customer(session: Session, customer_id: int, *, require_active: bool = True) -> Customer:
    """Serialize writers of one customer's ledger (row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE
    already holds the database's write lock), and re-read the customer under the lock: a customer merged
    or forgotten by another till since it was looked up is refused (``require_active``)."""
    customer = _held(session, customer_id)
    if customer is None:
        customer = session.get(Customer, customer_id, populate_existing=True, with_for_update=True)
    if require_active and customer is not None and customer.status != "active":
        from loyaltycli.base.errors import UnknownCustomer

        if customer.status == "merged":
            target = session.get(Customer, customer.merged_into_id)
            code = target.code if target else "?"
            raise UnknownCustomer(gettext('customer {code} was merged into {code2} (by another till, just now); nothing was changed, use {code2}').format(code=customer.code, code2=code))
        raise UnknownCustomer(gettext('customer {code} was {status} (by another till, just now); nothing was changed').format(code=customer.code, status=gettext(customer.status)))
    return customer


def _held(session: Session, customer_id: int) -> Customer | None:
    """The customer as this transaction already read it, when reading it again cannot tell more: on SQLite
    a write transaction holds the database's write lock from its BEGIN IMMEDIATE, so a customer read
    inside it (the counter's look-up) is current. None elsewhere (PostgreSQL takes the row lock)."""
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return None
    if not session.connection().get_execution_options().get("loyalty_write", True):
        return None
    from sqlalchemy.orm.util import identity_key

    return session.identity_map.get(identity_key(Customer, customer_id))


def spend(session: Session, customer, points: int, at: datetime, kind: str,
          note: str | tuple[str, str, str]) -> tuple[LedgerEntry, int]:
    """Take ``points`` from a customer (oldest first), after writing off lots that have expired by ``at``;
    never below zero. Returns the new row and the balance after it."""
    from loyaltycli.base.errors import InsufficientPoints

    lock_customer(session, customer.id)
    expire_customer(session, customer.id, at)
    available = balance(session, customer.id)
    if available < points:
        raise InsufficientPoints(gettext('{code} has {available} points; {points} needed').format(code=customer.code, available=available, points=points))
    return post(session, customer.id, kind, -points, at, note=note), available - points


@dataclass
class Lot:
    entry_id: int
    at: datetime
    expires_at: datetime | None
    amount: int
    remaining: int
    expired_written: int = 0


@dataclass
class LotState:
    lots: list[Lot]
    # points that expired (by the lot's date) beyond what expiry rows already wrote off, per lot
    due: dict[int, int]
    deficit: int


def lot_state(session: Session, customer_id: int, as_of: datetime) -> LotState:
    """Replay the customer's ledger up to ``as_of``: what is left of each lot, what is due to expire."""
    return replay(_lot_rows(session, customer_id), as_of)


def lot_query(*first):
    """The ledger rows as the lot replay reads them (after the ``first`` columns): id, kind, delta, at,
    expires_at, lot_id and the sale the row belongs to (the purchase a credit was earned on; for a
    refund's row, the sale it gives back)."""
    from loyaltycli.store.models import Purchase

    return (select(*first, LedgerEntry.id, LedgerEntry.kind, LedgerEntry.delta, LedgerEntry.at, LedgerEntry.expires_at,
                   LedgerEntry.lot_id, func.coalesce(Purchase.refund_of_id, LedgerEntry.purchase_id))
            .outerjoin(Purchase, Purchase.id == LedgerEntry.purchase_id))


def _lot_rows(session: Session, customer_id: int) -> list:
    """The customer's ledger rows as the lot replay reads them, in time order."""
    return session.execute(
        lot_query()
        .where(LedgerEntry.customer_id == customer_id)
        .order_by(LedgerEntry.at, LedgerEntry.id)
    ).all()


def replay(rows, as_of: datetime) -> LotState:
    """FIFO replay of ledger rows (id, kind, delta, at, expires_at, lot_id[, sale]) ordered by time (``sale``:
    see ``lot_query``).

    Two heaps keep it O(n log n): lots by expiry date (to expire them as time passes) and lots in
    the order debits use them (soonest-expiring first, lots without expiry last). A refund's row takes
    the points of its own sale's lots first (what is left of them), then the oldest as any debit: a
    refund of a new sale does not keep old points from expiring.
    """
    lots: list[Lot] = []
    by_id: dict[int, Lot] = {}
    written: dict[int, int] = {}
    due: dict[int, int] = {}
    deficit = 0
    by_expiry: list[tuple[datetime, int]] = []
    by_use: list[tuple[bool, datetime, datetime, int]] = []
    of_sale: dict[int, list[int]] = {}  # sale -> its earn lots (indices)

    def expire_until(moment: datetime) -> None:
        while by_expiry and by_expiry[0][0] <= moment:
            _, index = heapq.heappop(by_expiry)
            lot = lots[index]
            if lot.remaining > 0:
                due[lot.entry_id] = lot.remaining
                lot.remaining = 0

    for entry_id, kind, delta, at, expires_at, lot_id, *rest in rows:
        sale = rest[0] if rest else None
        if kind == "expire":
            written[lot_id] = written.get(lot_id, 0) - delta
            continue
        if at > as_of:
            break
        expire_until(at)
        if delta > 0:
            # a credit first pays back any deficit left by a refund
            paid = min(deficit, delta)
            deficit -= paid
            lot = Lot(entry_id, at, expires_at, delta, delta - paid)
            index = len(lots)
            lots.append(lot)
            by_id[entry_id] = lot
            if kind == "earn" and sale is not None:
                of_sale.setdefault(sale, []).append(index)
            if expires_at is not None:
                heapq.heappush(by_expiry, (expires_at, index))
            heapq.heappush(by_use, (expires_at is None, expires_at or at, at, index))
        elif delta < 0:
            need = -delta
            if kind == "refund" and sale in of_sale:  # its own sale's lots first
                for index in of_sale[sale]:
                    lot = lots[index]
                    take = min(lot.remaining, need)
                    lot.remaining -= take
                    need -= take
            while need and by_use:
                lot = lots[by_use[0][3]]
                take = min(lot.remaining, need)
                lot.remaining -= take
                need -= take
                if lot.remaining == 0:
                    heapq.heappop(by_use)
            deficit += need
    expire_until(as_of)
    for lot_id, amount in written.items():
        if lot_id in by_id:
            by_id[lot_id].expired_written = amount
    outstanding = {}
    for lot_id, amount in due.items():
        left = amount - written.get(lot_id, 0)
        if left > 0:
            outstanding[lot_id] = left
    return LotState(lots, outstanding, deficit)


def expire_customer(session: Session, customer_id: int, as_of: datetime) -> int:
    """Write expiry rows for every lot of one customer that expired by ``as_of``; returns points expired."""
    state = lot_state(session, customer_id, as_of)
    total = 0
    for lot in state.lots:
        amount = state.due.get(lot.entry_id, 0)
        if amount > 0:
            post(session, customer_id, "expire", -amount, lot.expires_at, lot_id=lot.entry_id,
                 note=expiry_note(amount, lot.at))
            total += amount
    return total


def expiry_note(points: int, earned_at: datetime) -> tuple[str, str, str]:
    """The note of an expiry row: the points of a lot earned on a (local) day."""
    from loyaltycli.engine.notes import make

    return make("expire", points=points, day=clock.local_text(earned_at)[:10])


def expiring_soon(session: Session, customer_id: int, now: datetime, days: int = 30) -> list[tuple[datetime, int]]:
    """(expiry date, points) of lots that still hold points and expire within ``days``."""
    return _expiring(lot_state(session, customer_id, now), now, days)


def spendable_and_expiring(session: Session, customer_id: int, now: datetime,
                           days: int = 30) -> tuple[int, list[tuple[datetime, int]]]:
    """``spendable`` and ``expiring_soon`` from one read and one replay of the ledger (`balance`)."""
    return _spendable(_lot_rows(session, customer_id), now, days)


def spendable(session: Session, customer_id: int, now: datetime) -> int:
    """The balance a customer can spend at ``now``, as `balance` shows it: every row, less the points that
    expired by then and are not written off yet (what a sale, refund or award reports after it).

    The sum alone when every lot that expired by ``now`` has an expiry row (one statement): `expire` wrote
    off what was left of each, and rows added since can only leave less in a lot, never more. Else (a lot
    expired unwritten, or used up before it expired) the ledger is replayed, as `balance` does."""
    total, expired, written = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.delta), 0),
               func.count(case((and_(LedgerEntry.delta > 0, LedgerEntry.expires_at <= now), 1))),
               # an expiry row is dated at its lot's expiry: one at or before now wrote off a lot expired by now
               func.count(distinct(case((and_(LedgerEntry.kind == "expire", LedgerEntry.at <= now),
                                         LedgerEntry.lot_id)))))
        .where(LedgerEntry.customer_id == customer_id)).one()
    if expired == written:
        return total
    return spendable_and_expiring(session, customer_id, now, 0)[0]


def _spendable(rows, now: datetime, days: int) -> tuple[int, list[tuple[datetime, int]]]:
    """The balance (every row, as ``balance`` sums them) less the points expired and not yet written off,
    and the points due soon, from the customer's rows (id, kind, delta, at, expires_at, lot_id) by time."""
    total = sum(row[2] for row in rows)
    state = replay(rows, now)
    return total - (sum(state.due.values()) if total > 0 else 0), _expiring(state, now, days)


def statement_and_spendable(session: Session, customer_id: int, now: datetime,
                            days: int = 30) -> tuple[list[dict], int, list[tuple[datetime, int]]]:
    """``history``, ``spendable`` and ``expiring_soon`` from one read of the ledger (`customer show`)."""
    from loyaltycli.store.models import Purchase

    found = session.execute(
        select(LedgerEntry, func.coalesce(Purchase.refund_of_id, LedgerEntry.purchase_id))  # the row's sale
        .outerjoin(Purchase, Purchase.id == LedgerEntry.purchase_id)
        .where(LedgerEntry.customer_id == customer_id).order_by(LedgerEntry.at, LedgerEntry.id)).all()
    entries = [e for e, _ in found]
    points, expiring = _spendable([(e.id, e.kind, e.delta, e.at, e.expires_at, e.lot_id, sale) for e, sale in found],
                                  now, days)
    return _statement(entries), points, expiring


def _expiring(state: LotState, now: datetime, days: int) -> list[tuple[datetime, int]]:
    horizon = now + clock.DAY * days
    return sorted((lot.expires_at, lot.remaining) for lot in state.lots
                  if lot.remaining > 0 and lot.expires_at is not None and now < lot.expires_at <= horizon)


def history(session: Session, customer_id: int) -> list[dict]:
    """The statement: every row oldest first with the running balance."""
    return _statement(_entries(session, customer_id))


def _entries(session: Session, customer_id: int) -> list[LedgerEntry]:
    return session.execute(
        select(LedgerEntry).where(LedgerEntry.customer_id == customer_id).order_by(LedgerEntry.at, LedgerEntry.id)
    ).scalars().all()


def _statement(rows: list[LedgerEntry]) -> list[dict]:
    running = 0
    out = []
    for row in rows:
        running += row.delta
        out.append({"at": row.at, "kind": row.kind, "points": row.delta, "balance": running, "note": row.note,
                    "purchase_id": row.purchase_id, "operator": row.operator, "note_kind": row.note_kind,
                    "note_args": row.note_args})
    return out
