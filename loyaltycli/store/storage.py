"""Storage for the rules engine: accounts loaded for one customer or a batch (``load_accounts``), the sales
refunds name (``sales_by_receipt``), and one bulk writer (``write_rows``; a row is a batch of one). The counter
and the import both go through here. Finding and enrolling an import's customers is a use case
(services/import_customers.py); the rules' own state (loyaltycli.programs) is passed in by the services.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import bindparam, func, insert, literal, literal_column, select, update
from sqlalchemy.orm import Session

from loyaltycli.shop.clock import UTC
from loyaltycli.store.models import (Customer, LedgerEntry, Membership, MembershipPlan, Purchase, PurchaseItem,
                                    Referral, UTCDateTime)
from loyaltycli.engine.account import Account, Referral as PendingReferral, Referrer
from loyaltycli.base.instants import microseconds
from loyaltycli.engine.earning import Sale
from loyaltycli.engine.rules.welcome import WELCOME as WELCOME_NOTE
from loyaltycli.i18n import gettext

if TYPE_CHECKING:  # the program is passed in (store/program.py writes card and goal rows through here)
    from loyaltycli.store.program import Program

WELCOME = WELCOME_NOTE.make()  # the welcome bonus's note, as rows store it

_IN_CHUNK = 500
_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
PURCHASE_COLUMNS = ("id", "customer_id", "source", "receipt_id", "at", "amount", "channel", "refund_of_id",
                    "import_file", "import_line")
ITEM_COLUMNS = ("purchase_id", "sku", "quantity_milli", "unit_price", "amount")
_SQLITE_SPEND = ("SELECT customer_id, at, amount FROM purchase WHERE customer_id IN (SELECT value FROM json_each(?)) "
                 "AND at >= ? AND at <= ? ORDER BY customer_id, at")


def is_sqlite(session: Session) -> bool:
    """SQLite: ids taken under the write lock and rows handed straight to the driver. Elsewhere
    (PostgreSQL) the portable SQLAlchemy statements, which tests also run on SQLite."""
    return session.get_bind().dialect.name == "sqlite"


def id_param(session: Session, values: list):
    return json.dumps(values) if is_sqlite(session) else values


def id_lists(session: Session, values: list):
    """The parameter values for ``ids`` that cover ``values``: one JSON list on SQLite, else chunks."""
    if is_sqlite(session):
        if values:
            yield json.dumps(values)
        return
    yield from chunks(values)


def in_ids(session: Session, column):
    """``column IN`` the parameter ``ids`` as ``id_lists`` gives it: one JSON list on SQLite, a chunk
    elsewhere (one statement, compiled once)."""
    return (_json_each if is_sqlite(session) else _expanding)(column)


_BUILT: dict = {}  # (builder, SQLite?) -> the statement it built


def built(session: Session, build):
    """The statement ``build(ids_in)`` makes, built once per kind of database and kept (compiled once):
    ``ids_in(column)`` is ``column IN`` the parameter ``ids`` as ``id_lists`` gives it. For the set-based
    reads of a rule's store, which would otherwise build (and look up) their statement at every block."""
    key = (build, is_sqlite(session))
    statement = _BUILT.get(key)
    if statement is None:
        statement = _BUILT[key] = build(_json_each if key[1] else _expanding)
    return statement


def chunks(values: list, size: int = _IN_CHUNK):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def queries(session: Session) -> dict:
    """The statements of storage's set-based reads, built once per kind of database (``built``)."""
    return built(session, _queries)


# -- accounts ------------------------------------------------------------------------------------------
def load_accounts(session: Session, accounts: Iterable[Account], since: datetime,
                  referrers: dict[int, Referrer] | None = None, *, importing: bool = False,
                  locked: bool = False, needs=frozenset({"cards"}), rules) -> None:
    """Read what the rules need of ``accounts`` from ``since`` on (purchases, memberships, milestone keys, a
    pending referral); accounts already read from ``since`` or earlier are left as they are. ``referrers``
    (kept by the caller for a run) shares one Referrer per referrer among all their referees. ``locked``: the
    caller holds the customers' row locks already (``ledger.lock_customer``); ``needs``: the state the
    shop's rules declare (``Engine.needs``): a rule's own (stamp cards, goals...) is read by its store
    (loyaltycli.programs, passed in as ``rules`` by the services: the store does not import it) only where
    a rule needs it."""
    referrers = {} if referrers is None else referrers
    sqlite = is_sqlite(session)
    lo_us = microseconds(since)
    states = {}
    for account in accounts:
        if account.loaded_from is None or account.loaded_from > lo_us:
            account.reset(lo_us)
            states[account.id] = account
    if not states:
        return
    ids = sorted(states)
    q = queries(session)
    for chunk in chunks(ids, len(ids) if sqlite else _IN_CHUNK):
        param = id_param(session, chunk)
        if not sqlite and not locked:  # PostgreSQL: lock first (in id order), then read: another import may add a bonus
            if importing:  # and a batch whose customer was merged or forgotten meanwhile rolls back
                lock_active(session, chunk)
            else:
                session.execute(select(Customer.id).where(Customer.id.in_(chunk)).order_by(Customer.id)
                                .with_for_update())
        if sqlite:
            # the driver's rows: the stored times are the microseconds the accounts hold
            rows = session.connection().exec_driver_sql(_SQLITE_SPEND, (param, microseconds(since), microseconds(_END_OF_TIME)))
        else:
            rows = [(customer_id, microseconds(at), amount) for customer_id, at, amount
                    in session.execute(q["spend"], {"ids": param, "lo": since, "hi": _END_OF_TIME})]
        for customer_id, us, amount in rows:  # by customer and time
            state = states[customer_id]
            state.times.append(us)
            state.amounts.append(amount)
            state.cum.append(state.cum[-1] + amount)
        for customer_id, start, end, cancelled, multiplier in session.execute(q["memberships"], {"ids": param}):
            states[customer_id].add_membership(start, end, cancelled, Decimal(multiplier))
        for customer_id, key in session.execute(q["milestones"], {"ids": param}):
            states[customer_id].add_bonus(key)
        pending = session.execute(q["referrals"], {"ids": param}).all()
        if pending:
            new = sorted({r.referrer_id for r in pending} - referrers.keys())
            counts = dict(session.execute(
                select(Referral.referrer_id, func.count()).where(Referral.referrer_id.in_(new or [-1]),
                                                                 Referral.rewarded_purchase_id.is_not(None))
                .group_by(Referral.referrer_id)).all())
            for row in pending:
                if row.referrer_id not in referrers:
                    referrers[row.referrer_id] = Referrer(row.referrer_id, row.code, row.status == "active",
                                                          counts.get(row.referrer_id, 0))
                states[row.referee_id].referral = PendingReferral(referrers[row.referrer_id])
    rules.load(session, needs, states)  # stamps on each current stamp card, goals' progress...


def load_account(session: Session, customer: Customer, since: datetime, *, needs=frozenset({"cards"}),
                 rules) -> Account:
    """One customer's account (the counter's case of ``load_accounts``), read under the customer's lock,
    which the caller holds (``ledger.lock_customer``)."""
    account = Account(customer.id, customer.code, customer.enrolled_at)
    load_accounts(session, [account], since, locked=True, needs=needs, rules=rules)
    return account


def mark_rewarded(session: Session, rewarded: list[tuple[int, int, datetime]]) -> None:
    """Referrals rewarded: (referee id, purchase id, time)."""
    if rewarded:
        table = Referral.__table__
        session.execute(update(table).where(table.c.referee_id == bindparam("referee"))
                        .values(rewarded_purchase_id=bindparam("purchase"), rewarded_at=bindparam("when")),
                        [{"referee": r, "purchase": p, "when": at} for r, p, at in rewarded])


def receipts_in(receipt_ids) -> object:
    """Purchases whose receipt id is one of ``receipt_ids`` in any case, found through the unique index on
    (upper(receipt_id), source, receipt_id) (0010_lean); the caller keeps those in the exact case it wants.
    The ids are upper-cased by the database itself (SQLite's upper() folds ASCII only, PostgreSQL's more:
    the database's own is the one that matches its index). (Not ``AND receipt_id IN (...)``: SQLite puts a
    lone id's constant into upper(receipt_id) too, and then no longer sees the index.)"""
    return func.upper(Purchase.receipt_id).in_([func.upper(literal(i)) for i in receipt_ids])


# -- sales that refunds name --------------------------------------------------------------------------
def sales_by_receipt(session: Session, source: str, receipt_ids: list[str], *,
                     rules) -> tuple[dict[str, Sale], set[str]]:
    """The sales of ``source`` with these receipt ids, with what they earned and what was refunded of them;
    and the ids among them that are refunds (a refund of a refund is refused). ``rules``: loyaltycli.programs
    (what each sale gave: stamps, goals' progress)."""
    found: dict[str, Sale] = {}
    refunds_named: set[str] = set()
    records: dict[int, Sale] = {}  # one Sale per purchase, however many ids name it
    named_query = queries(session)["named"]  # built and compiled once (SQLite); else built per chunk
    ids = sorted(set(receipt_ids))
    for chunk in chunks(ids, max(1, len(ids)) if named_query is not None else _IN_CHUNK):  # SQLite: at once
        if named_query is not None:
            rows = session.execute(named_query, {"source": source, "ids": id_param(session, chunk)}).all()
        else:
            rows = session.execute(_named_sales(receipts_in(chunk)), {"source": source}).all()
        # as the counter finds a sale (services/points.find_sale): the id as written first, else the one
        # receipt that differs from it only in case (ab-1 names AB-1); several such receipts: none
        by_case: dict[str, list] = {}
        for row in rows:
            by_case.setdefault(row.receipt_id.upper(), []).append(row)
        named: dict[str, object] = {}  # the id a return names -> the purchase it names
        for receipt_id in chunk:
            same = by_case.get(receipt_id.upper(), ())
            exact = [row for row in same if row.receipt_id == receipt_id]
            if exact or len(same) == 1:
                named[receipt_id] = (exact or same)[0]
        sales = {row.id: row for row in named.values() if row.amount > 0 and row.refund_of_id is None}
        records.update((sale.id, sale) for sale in _sales(session, [row for key, row in sales.items()
                                                                    if key not in records], rules))
        for receipt_id, row in named.items():
            if row.id in sales:
                found[receipt_id] = records[row.id]
            else:
                refunds_named.add(receipt_id)
    return found, refunds_named


def sale_record(session: Session, purchase: Purchase, *, rules) -> Sale:
    """The counter's case: one sale, by its row."""
    code = session.execute(select(Customer.code).where(Customer.id == purchase.customer_id)).scalar_one()
    row = type("Row", (), dict(id=purchase.id, receipt_id=purchase.receipt_id, customer_id=purchase.customer_id,
                                at=purchase.at, amount=purchase.amount, channel=purchase.channel, code=code))
    return next(iter(_sales(session, [row], rules)))


def _ledger_sums(session: Session, purchase_ids: list[int], kind: str) -> dict[int, int]:
    """Purchase id -> the sum of its ledger rows of ``kind`` (purchases with none left out). The kind is
    picked here, not in SQL: with ``kind = ?`` beside the id list SQLite chose the (kind, at) index and
    read every row of that kind, once per import block (a cost growing with the ledger)."""
    sums: dict[int, int] = {}
    for ids in id_lists(session, purchase_ids):
        for purchase_id, row_kind, total in session.execute(queries(session)["ledger_sums"], {"ids": ids}):
            if row_kind == kind:
                sums[purchase_id] = total
    return sums


def _sales(session: Session, sales: list, rules) -> Iterable[Sale]:
    if not sales:
        return []
    ids = [sale.id for sale in sales]
    earned = _ledger_sums(session, ids, "earn")
    q = queries(session)
    refunds = [row for chunk in id_lists(session, ids) for row in session.execute(q["refunds_of"], {"ids": chunk})]
    reversed_ = _ledger_sums(session, [r.id for r in refunds], "refund") if refunds else {}
    given = rules.given(session, ids, {r.id: r.refund_of_id for r in refunds})  # stamps, goals' progress...
    items: dict[int, list] = {}
    for chunk in id_lists(session, ids):
        for purchase_id, sku, quantity, price in session.execute(q["items_of"], {"ids": chunk}):
            items.setdefault(purchase_id, []).append((sku, quantity, price))
    by_sale: dict[int, list] = {}
    for refund in refunds:
        by_sale.setdefault(refund.refund_of_id, []).append(refund)
    out = []
    for sale in sales:
        mine = by_sale.get(sale.id, ())
        out.append(Sale(sale.receipt_id, sale.customer_id, sale.code, sale.at, sale.amount, earned.get(sale.id, 0),
                        sale.channel, id=sale.id, refunded=-sum(r.amount for r in mine),
                        reversed=-sum(reversed_.get(r.id, 0) for r in mine), refunds=len(mine),
                        given=given.get(sale.id, ({}, {}))[0], taken=given.get(sale.id, ({}, {}))[1],
                        items=items.get(sale.id, ())))
    return out


# -- writing ---------------------------------------------------------------------------------------------
def insert_purchases(session: Session, purchases: list[list], links: list[tuple[int, int]] = (),
                     cache: dict | None = None) -> list[int]:
    """Purchases as lists in PURCHASE_COLUMNS order (id left None); their ids back. ``links``: (refund's index,
    sale's index) of refunds of a sale in the same list."""
    table = Purchase.__table__
    if is_sqlite(session):
        # BEGIN IMMEDIATE holds the database's write lock: the next ids are ours to take,
        # so a refund of a sale in the same batch is written already linked (the sale comes first).
        first = (session.execute(select(func.max(Purchase.id))).scalar() or 0) + 1
        for offset, row in enumerate(purchases):
            row[0] = first + offset
        for refund, sale in links:
            purchases[refund][7] = first + sale
        write_rows(session, table, PURCHASE_COLUMNS, purchases, cache)
        return list(range(first, first + len(purchases)))
    rows = [dict(zip(PURCHASE_COLUMNS[1:], row[1:])) for row in purchases]
    result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    ids = list(result.scalars())
    if links:
        session.execute(update(table).where(table.c.id == bindparam("refund_id"))
                        .values(refund_of_id=bindparam("sale_id")),
                        [{"refund_id": ids[refund], "sale_id": ids[sale]} for refund, sale in links])
    return ids


def _expanding(column, name="ids"):
    return column.in_(bindparam(name, expanding=True))


def _json_each(column, name="ids"):
    # SQLite: the whole id list as one JSON parameter, instead of one bound parameter per id
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name))))


def _named_sales(receipts):
    """The purchases of a source (``source``) whose receipt ids ``receipts`` finds, with their customer's code."""
    return (select(Purchase.id, Purchase.receipt_id, Purchase.customer_id, Purchase.at, Purchase.amount,
                   Purchase.channel, Purchase.refund_of_id, Customer.code)
            .join(Customer, Customer.id == Purchase.customer_id)
            .where(Purchase.source == bindparam("source"), receipts))


def _queries(ids_in) -> dict:
    return {
        "spend": (select(Purchase.customer_id, Purchase.at, Purchase.amount)
                  .where(ids_in(Purchase.customer_id), Purchase.at >= bindparam("lo"), Purchase.at <= bindparam("hi"))
                  .order_by(Purchase.customer_id, Purchase.at)),
        "memberships": (select(Membership.customer_id, Membership.started_at, Membership.ends_at,
                               Membership.cancelled_at, MembershipPlan.multiplier)
                        .join(MembershipPlan, Membership.plan_id == MembershipPlan.id)
                        .where(ids_in(Membership.customer_id))),
        "milestones": (select(LedgerEntry.customer_id, LedgerEntry.bonus_key)
                       .where(ids_in(LedgerEntry.customer_id), LedgerEntry.bonus_key.like("milestone:%"))),
        "referrals": (select(Referral.referee_id, Referral.referrer_id, Customer.code, Customer.status)
                      .join(Customer, Customer.id == Referral.referrer_id)
                      .where(ids_in(Referral.referee_id), Referral.rewarded_purchase_id.is_(None))),
        "customers": (select(Customer.id, Customer.code, Customer.card, Customer.email, Customer.phone,
                             Customer.status, Customer.enrolled_at, Customer.merged_into_id, Customer.tax_id)
                      .where(ids_in(Customer.code) | ids_in(Customer.card) | ids_in(Customer.email, "lowered")
                             | ids_in(Customer.phone, "keys") | ids_in(Customer.tax_id, "tax_ids"))),
        # receipt ids in any case (ab-1 is AB-1): the ids are given upper-cased (index on upper(receipt_id))
        "existing": (select(func.upper(Purchase.receipt_id), Purchase.id, Purchase.import_line)
                     .where(Purchase.source == bindparam("source"), ids_in(func.upper(Purchase.receipt_id)))),
        # the sales (and refunds) returns name, ids in any case: on SQLite the ids upper-cased by SQLite itself,
        # as its unique index on upper(receipt_id) holds them (elsewhere built per chunk: receipts_in)
        "named": (_named_sales(func.upper(Purchase.receipt_id).in_(
            select(func.upper(literal_column("value"))).select_from(func.json_each(bindparam("ids")))))
                  if ids_in is _json_each else None),
        "ledger_sums": (select(LedgerEntry.purchase_id, LedgerEntry.kind, func.sum(LedgerEntry.delta))
                        .where(ids_in(LedgerEntry.purchase_id))
                        .group_by(LedgerEntry.purchase_id, LedgerEntry.kind)),
        "refunds_of": select(Purchase.id, Purchase.refund_of_id, Purchase.amount).where(ids_in(Purchase.refund_of_id)),
        "items_of": (select(PurchaseItem.purchase_id, PurchaseItem.sku, PurchaseItem.quantity_milli,
                            PurchaseItem.unit_price)
                     .where(ids_in(PurchaseItem.purchase_id)).order_by(PurchaseItem.id)),
        # the same ids under other sources: the same till's receipts imported under another --source?
        "elsewhere": (select(func.upper(Purchase.receipt_id), Purchase.customer_id, Purchase.at, Purchase.amount,
                             Purchase.source)
                      .where(ids_in(func.upper(Purchase.receipt_id)), Purchase.source != bindparam("source"))),
    }


def write_rows(session: Session, table, columns: tuple[str, ...], rows: list,
               cache: dict[datetime, int] | None = None) -> None:
    """One executemany of rows given as sequences in ``columns`` order. On SQLite straight to the driver,
    with times written the way the UTCDateTime column stores them (the rows as given are left alone; each
    distinct time converted once: ``cache`` holds a block's times, as a sale's time recurs in its ledger
    rows); elsewhere through SQLAlchemy."""
    if not is_sqlite(session):
        session.execute(insert(table), [dict(zip(columns, row)) for row in rows])
        return
    times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, UTCDateTime)]
    if times and rows:  # column by column: each new time converted once, the rest looked up in C
        cache = {} if cache is None else cache
        cache[None] = None
        cols: list = list(zip(*rows))
        for i in times:
            for value in set(cols[i]).difference(cache):
                cache[value] = microseconds(value)
            cols[i] = map(cache.__getitem__, cols[i])
        params = list(zip(*cols))
    else:
        params = rows
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    cursor = session.connection().connection.cursor()  # the DBAPI cursor, in the session's transaction
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def move_enrolment_back(session: Session, program: Program, earliest: dict[int, datetime]) -> dict[int, datetime]:
    """A late file (a missed night imported after later ones) holds sales from before its customers were
    enrolled by an import: such a customer is enrolled at their earliest imported sale, so their enrolment
    and welcome bonus move back to it (``earliest``: customer id -> the earliest sale of the block). Only
    customers an import enrolled move (their enrolment is the time of an imported purchase); the welcome
    row is the one ledger row whose time changes, written by the import that enrolled them, for a ledger
    that reads as if the nights had come in order. Returns id -> new enrolment time of those moved."""
    moved: dict[int, datetime] = {}
    for chunk in chunks(sorted(earliest)):
        rows = session.execute(
            select(Customer.id, Customer.enrolled_at)
            .where(Customer.id.in_(chunk), Customer.status == "active",
                   select(Purchase.id).where(Purchase.customer_id == Customer.id,
                                             Purchase.at == Customer.enrolled_at,
                                             Purchase.import_file.is_not(None)).exists())).all()
        for id_, enrolled_at in rows:
            if earliest[id_] < enrolled_at:
                moved[id_] = earliest[id_]
    for id_, at in moved.items():
        session.execute(update(Customer).where(Customer.id == id_, Customer.enrolled_at > at).values(enrolled_at=at))
        session.execute(update(LedgerEntry).where(LedgerEntry.customer_id == id_, LedgerEntry.kind == "welcome",
                                                  LedgerEntry.bonus_key == "welcome", LedgerEntry.at > at)
                        .values(at=at, expires_at=program.expiry_for(at)))
    return moved


# -- returns without a link: the sales they may belong to (issue 12) ----------------------------------------
def _returnable_query(ids_in):
    """Per sale of the given customers (at or before ``until``) and per (sku, unit price) of the given SKUs:
    the quantity sold and the quantity already returned by the refunds linked to it."""
    from sqlalchemy.orm import aliased

    from loyaltycli.store.models import PurchaseItem

    # The customers' sales are found by customer (not by "refund_of_id IS NULL", every sale), a sale's
    # returned quantity through its refunds (not through every line of that SKU): ``+ 0`` and ``|| ''``
    # keep SQLite from choosing those indexes, whose reads grew with the database, once per import block.
    refund, returned_item = aliased(Purchase), aliased(PurchaseItem)
    returned = (select(func.coalesce(-func.sum(returned_item.quantity_milli), 0))
                .select_from(refund).join(returned_item, refund.id == returned_item.purchase_id)
                .where(refund.refund_of_id == Purchase.id, returned_item.sku.concat("") == PurchaseItem.sku,
                       returned_item.unit_price == PurchaseItem.unit_price)
                .scalar_subquery())
    return (select(Purchase.id, Purchase.customer_id, PurchaseItem.sku, PurchaseItem.unit_price,
                   func.sum(PurchaseItem.quantity_milli), returned)
            .join(PurchaseItem, PurchaseItem.purchase_id == Purchase.id)
            .where(ids_in(Purchase.customer_id), ids_in(PurchaseItem.sku, "skus"), Purchase.amount > 0,
                   (Purchase.refund_of_id + 0).is_(None), Purchase.at <= bindparam("until"))
            .group_by(Purchase.id, Purchase.customer_id, PurchaseItem.sku, PurchaseItem.unit_price))


def returnable_sales(session: Session, customer_ids: Iterable[int], skus: Iterable[str], until: datetime,
                     *, rules) -> tuple[dict[int, list[tuple[str, int, int]]], dict[int, Sale]]:
    """The sales (any source) of ``customer_ids`` up to ``until`` that sold one of ``skus``: per purchase id
    its items not returned yet (sku, quantity left in thousandths, unit price), and the Sale records (what
    they earned, what was refunded of them). One query for the items of a batch (SQLite; elsewhere one per
    500 customers), a few for the records, whatever the number of returns."""
    sqlite = is_sqlite(session)
    query = built(session, _returnable_query)
    ids, skus = sorted(set(customer_ids)), sorted(set(skus))
    items: dict[int, list[tuple[str, int, int]]] = {}
    if not ids or not skus:
        return items, {}
    for chunk in chunks(ids, len(ids) if sqlite else _IN_CHUNK):
        for purchase_id, _, sku, price, sold, returned in session.execute(
                query, {"ids": id_param(session, chunk), "skus": id_param(session, skus), "until": until}):
            if sold - returned > 0:
                items.setdefault(purchase_id, []).append((sku, sold - returned, price))
    records: dict[int, Sale] = {}
    for chunk in id_lists(session, sorted(items)):
        rows = session.execute(built(session, _sale_rows), {"ids": chunk}).all()
        records.update((sale.id, sale) for sale in _sales(session, rows, rules))
    return items, records


def _sale_rows(ids_in):
    return (select(Purchase.id, Purchase.receipt_id, Purchase.customer_id, Purchase.at, Purchase.amount,
                   Purchase.channel, Customer.code)
            .join(Customer, Customer.id == Purchase.customer_id).where(ids_in(Purchase.id)))


def lock_active(session, ids: list[int]) -> None:
    """PostgreSQL: lock a batch's customers (in id order, so two imports never deadlock) before their
    state is read, and refuse the batch when one was merged or forgotten by another till since it was
    looked up: the batch rolls back, earlier batches stay, and a re-run finishes the file."""
    from sqlalchemy import select

    from loyaltycli.base.errors import DatabaseUnavailable
    from loyaltycli.store.models import Customer

    rows = session.execute(select(Customer.id, Customer.code, Customer.status)
                           .where(Customer.id.in_(sorted(ids))).order_by(Customer.id).with_for_update()).all()
    gone = [f"{code} ({status})" for _id, code, status in rows if status != "active"]
    if gone:
        raise DatabaseUnavailable(gettext('customer {gone} changed while this import ran (another till); this batch was rolled back, the batches before it are kept: run the import again to finish it (what was imported is skipped)').format(gone=', '.join(gone[:5])))
