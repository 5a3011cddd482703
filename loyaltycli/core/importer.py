"""Import of till exports: the file read by loyaltycli.tillcsv into blocks of whole receipts, the rules
applied, the rows written with a few set-based INSERTs.

The receipts of a block get their points in Python with the same rules as ``points.post_purchase`` /
``points.post_refund`` (tier at the time of each sale, membership multiplier, milestone and referral
bonuses), from per-customer states (purchases in the tier window and the year as running totals) read once
and kept from block to block. Blocks are committed in batches (about 100,000 rows, one transaction each).
A receipt already recorded from the same source is skipped, so a re-run (or the run after a kill)
completes the file without writing anything twice.
"""

from __future__ import annotations

import gc
import json
import re
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import Callable

from sqlalchemy import bindparam, func, insert, literal_column, select, text, update
from sqlalchemy.orm import Session

from loyaltycli.core import clock, customers, points, products, rules
from loyaltycli.core.clock import UTC
from loyaltycli.core.errors import InvalidInput, LoyaltyError
from loyaltycli.core.models import (Customer, ImportRun, LedgerEntry, Membership, MembershipPlan, Purchase,
                                    PurchaseItem, Referral, UTCDateTime)
from loyaltycli.core.money import format_amount
from loyaltycli.core.program import Program, load_program
from loyaltycli.tillcsv import runs
from loyaltycli.tillcsv.translate import ReadOptions
from loyaltycli.tillcsv.presets import CANONICAL, Preset, list_presets, load_preset, parse_map
from loyaltycli.tillcsv.reader import Reader
from loyaltycli.tillcsv.records import Receipt, Reject, amount_text, receipt_items

# rows per transaction, and rows held in memory and applied at once
BATCH_ROWS = 100_000
BLOCK_ROWS = 10_000
SQLITE_CACHE_KIB = 32_768
_IN_CHUNK = 500
# customers whose state is kept from block to block, and purchases kept per customer, before forgetting
MAX_STATES = 50_000
MAX_HISTORY = 64
_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_NONE: frozenset = frozenset()


# -- results -------------------------------------------------------------------------------------
@dataclass
class ImportSummary:
    file: str
    source: str
    dry_run: bool = False
    read: int = 0
    imported: int = 0
    skipped: int = 0
    anonymous: int = 0
    rejected: int = 0
    points_awarded: int = 0
    receipts: int = 0
    refunds: int = 0
    enrolled: int = 0
    rejects_file: str | None = None
    run_id: int | None = None
    legacy_encoding_lines: int = 0
    first_rejects: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"file": self.file, "source": self.source, "dry_run": self.dry_run, "read": self.read,
                "imported": self.imported, "skipped": self.skipped, "anonymous": self.anonymous,
                "rejected": self.rejected,
                "points_awarded": self.points_awarded, "sales": self.receipts, "refunds": self.refunds,
                "customers_enrolled": self.enrolled, "rejects_file": self.rejects_file, "run_id": self.run_id,
                "legacy_encoding_lines": self.legacy_encoding_lines, "first_rejects": self.first_rejects}

@dataclass
class _Sale:
    """What a refund needs of the sale it names: from this block (``index``) or the database (``id``)."""

    receipt_id: str
    customer: object  # _CustomerState
    at: datetime
    amount: int
    earned: int
    index: int | None = None
    id: int | None = None
    refunded: int = 0
    reversed: int = 0
    refunds: int = 0


class _CustomerState:
    """What the rules need to know of one customer, kept from block to block during a run (the in-memory
    twin of the rules in core/rules.py: tier spend, membership multiplier, milestone keys)."""

    __slots__ = ("id", "code", "enrolled_at", "times", "amounts", "cum", "memberships", "bonus_keys", "referral_pending",
                 "loaded_from")

    def __init__(self, id_: int, code: str, enrolled_at: datetime):
        self.id = id_
        self.code = code
        self.enrolled_at = enrolled_at
        self.reset(None)

    def reset(self, loaded_from: int | None) -> None:
        """Empty, to be read from the database from ``loaded_from`` on (None: not read yet)."""
        # purchases in time order as compact arrays: times (microseconds since 1970, UTC), amounts, and
        # running totals (cum[k] = sum of amounts[:k]) so that a window's spend is one subtraction
        self.times = array("q")
        self.amounts = array("q")
        self.cum = array("q", [0])
        # most customers have neither: one shared empty value until they do (a set costs 216 bytes)
        self.memberships: list[tuple] | tuple = ()
        self.bonus_keys: set[str] | frozenset = _NONE
        self.referral_pending = False
        self.loaded_from = loaded_from

    def trim(self, start: int) -> None:
        """Forget purchases before ``start`` (a later sale before it has the state read again)."""
        i = bisect_left(self.times, start)
        del self.times[:i], self.amounts[:i], self.cum[:i]
        self.loaded_from = start

    def add_bonus(self, key: str) -> None:
        if self.bonus_keys is _NONE:
            self.bonus_keys = set()
        self.bonus_keys.add(key)

    def spend_between(self, start: int, end: int, *, inclusive: bool = False) -> int:
        """Net spend from ``start`` up to ``end`` (excluded unless ``inclusive``), times in microseconds."""
        i = bisect_left(self.times, start)
        j = bisect_right(self.times, end) if inclusive else bisect_left(self.times, end)
        return self.cum[j] - self.cum[i]

    def add(self, at: int, amount: int) -> None:
        times = self.times
        if not times or at >= times[-1]:  # the usual case: the newest purchase
            times.append(at)
            self.amounts.append(amount)
            self.cum.append(self.cum[-1] + amount)
            return
        k = bisect_right(times, at)
        times.insert(k, at)
        self.amounts.insert(k, amount)
        self.cum = array("q", accumulate(self.amounts, initial=self.cum[0]))

    def membership_multiplier(self, at: datetime) -> Decimal:
        return max((m for start, end, cancelled, m in self.memberships
                    if start <= at < end and (cancelled is None or cancelled > at)), default=Decimal(1))


# -- the engine --------------------------------------------------------------------------------------
class Importer:
    """One import of one file. ``run()`` returns the summary; it raises only when the file cannot be read."""

    def __init__(self, path: str | Path, *, source: str = "till", preset: str | None = None,
                 mapping: dict[str, str] | None = None, enroll_unknown: bool = False, dry_run: bool = False,
                 rejects: str | Path | None = None, batch_rows: int = BATCH_ROWS,
                 progress: Callable[[int, int], None] | None = None,
                 after_batch: Callable[[Session, int], None] | None = None,
                 options: ReadOptions | None = None, again: bool = False):
        self.path = Path(path)
        self.label = str(path)
        self.source = (source or "till").strip()
        if not re.fullmatch(r"[\w.:-]{1,64}", self.source):
            raise InvalidInput(f"--source {source!r} must be 1 to 64 letters, digits or . : - _")
        self.preset = load_preset(preset) if preset else Preset()
        self.mapping = mapping or {}
        self.enroll_unknown = enroll_unknown
        self.dry_run = dry_run
        self.rejects_path = Path(rejects) if rejects else None
        self.batch_rows = max(1, batch_rows)
        self.progress = progress
        self.after_batch = after_batch
        self.summary = ImportSummary(file=self.label, source=self.source, dry_run=dry_run)
        self.reader = Reader(self.path, self.label, self.preset, self.mapping, self.summary, self.rejects_path, dry_run,
                             options=options)
        self.again = again
        self._digest: tuple[str, int] | None = None
        self._first_block = True
        self._temp: Path | None = None
        self._customer_cache: dict[str, object] = {}
        self._watermark = 0
        self._zone = clock.local_zone()
        self._year_starts: dict[int, datetime] = {}
        self._year_starts_us: dict[int, int] = {}
        self._channels: dict[str, str] = {}
        self._record_run = False
        self._tuned = False
        self._started = clock.now()
        self._rates: dict[tuple, str] = {}
        self._tx = None
        self._session: Session | None = None
        self._states: dict[int, _CustomerState] = {}
        self._data_version = None

    # -- entry points ----------------------------------------------------------------------------
    def run(self, database) -> ImportSummary:
        """Import into ``database`` (a Database: one transaction per batch; dry run: one rolled back)."""
        self._prepare(database)
        handle = self.reader.open()
        try:
            if self.dry_run:
                with database.session() as session:
                    self._run(handle, lambda: _Same(session))
                    session.rollback()
                return self.summary
            self._record_run = True
            self._run(handle, database.session)
            return self.summary
        finally:
            handle.close()
            self.reader.close_rejects()
            self._cleanup()

    def _prepare(self, database=None) -> None:
        """Before anything is read: the file's digest checked against earlier runs (unless --again); a
        SAF-T (PT) file turned into canonical rows in a temporary file (tillcsv/saft.py)."""
        if not self.path.is_file():
            self.reader.open().close()  # its one-line message for a folder or a missing file
        if database is not None:
            self._digest = runs.digest(self.path)
            if not self.again:
                with database.session() as session:
                    runs.check_not_imported(session, *self._digest, self.label, self.source)
        if self.preset.format == "saft-pt":
            import tempfile

            from loyaltycli.tillcsv import saft

            fd, name = tempfile.mkstemp(prefix="loyalty-saft-", suffix=".csv")
            self._temp = Path(name)
            with open(fd, "w", encoding="utf-8", newline="") as out, self.path.open("rb") as xml:
                saft.to_csv(xml, out, self.label)
            self.reader.path = self._temp

    def _cleanup(self) -> None:
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None

    def run_in(self, session: Session) -> ImportSummary:
        """Import inside the caller's transaction (used by `init --demo`); no rejects file unless given."""
        self._prepare()
        handle = self.reader.open()
        try:
            self._run(handle, lambda: _Same(session))
            return self.summary
        finally:
            handle.close()
            self.reader.close_rejects()
            self._cleanup()


    def _run(self, handle, transaction) -> None:
        # The run allocates millions of short-lived objects (rows, receipts, ledger rows) beside the
        # long-lived customer states, and makes no reference cycles of its own: Python's cyclic collector
        # would walk the states over and over (a third of the time of a 1M-row import). Reference counting
        # frees the rows; the collector runs once per transaction instead.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._read(handle, transaction)
        except BaseException as exc:
            if self._tx is None:
                raise
            self._abort(exc)
        finally:
            if collecting:
                gc.enable()

    def _read(self, handle, transaction) -> None:
        for receipts, rows, last in self.reader.blocks(handle, min(self.batch_rows, BLOCK_ROWS)):
            self._flush(receipts, transaction, rows, last)

    # -- blocks of receipts; batches of blocks: one transaction ----------------------------------------
    def _flush(self, batch: list[Receipt], transaction, rows: int, last: bool = False) -> None:
        """Apply one block of whole receipts in the open transaction (opened first if need be); commit once
        the transaction holds ``batch_rows`` rows, and at the end."""
        if self._tx is None:
            if not batch and not last:
                return
            tx = transaction()
            self._session = tx.__enter__()
            self._tx = tx
            self._tx_rows = self._tx_receipts = 0
            self._begin(self._session)
        session = self._session
        self._process(session, self._program, batch)
        self._tx_rows += rows
        self._tx_receipts += len(batch)
        if last or self._tx_rows >= self.batch_rows:
            if self.summary.run_id is not None and not self.dry_run:
                values = dict(read=self.summary.read, imported=self.summary.imported,
                              skipped=self.summary.skipped, rejected=self.summary.rejected,
                              points_awarded=self.summary.points_awarded)
                if last:
                    values["finished_at"] = clock.now()
                session.execute(update(ImportRun).where(ImportRun.id == self.summary.run_id).values(**values))
            if self.after_batch is not None:
                self.after_batch(session, self._tx_receipts)
            if self._sqlite and self._data_version is not None:  # this import's own changes
                driver = session.connection().connection.dbapi_connection
                self._data_version = (*self._data_version[:2], driver.total_changes)
            tx, self._tx, self._session = self._tx, None, None
            tx.__exit__(None, None, None)  # commits
            gc.collect(1)
            self.reader.flush_rejects()
        if self.progress is not None:
            self.progress(self.reader.lines.bytes_read, self.reader.total_bytes)

    def _abort(self, exc: BaseException) -> None:
        """Roll the open transaction back (the database's context manager does it) and re-raise."""
        tx, self._tx, self._session = self._tx, None, None
        if tx is not None and tx.__exit__(type(exc), exc, exc.__traceback__):
            return
        raise exc

    def _begin(self, session: Session) -> None:
        """What every transaction needs first: locks, settings, the run's row, still-valid caches."""
        self._sqlite = session.get_bind().dialect.name == "sqlite"
        if not self._sqlite:
            # PostgreSQL: SQLite's BEGIN IMMEDIATE lets one writer at a time take the watermark and look
            # for the batch's receipts; here two imports of overlapping files would both find a receipt
            # missing and both insert it. One batch per source at a time, until its transaction ends.
            session.execute(text("SELECT pg_advisory_xact_lock(7412002, hashtext(:source))"),
                            {"source": self.source})
            self._states.clear()  # row locks are per transaction: reload (and lock) the customers
        else:
            driver = session.connection().connection.dbapi_connection
            if not self._tuned:
                # a bigger page cache for this connection: index pages of a long backfill stay in memory
                session.connection().exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
                self._tuned = True
            # Customer states carry over from one transaction to the next unless something else wrote in
            # between (a till's sale, a merge): another connection (data_version), or this very connection
            # used by someone else (its count of changes moved since this import's last commit).
            version = (id(driver), session.connection().exec_driver_sql("PRAGMA data_version").scalar(),
                       driver.total_changes)
            if version != self._data_version:
                self._states.clear()
                self._customer_cache.clear()
                self._data_version = version
        self._q = _QUERIES["sqlite" if self._sqlite else "other"]
        program = self._program = load_program(session)
        self._expiry = clock.DAY * program.expiry_days
        self._window_us = program.tier_window_days * 86_400_000_000
        self._milestone = (program.milestone_bonus, program.milestone_spend)
        self._cashback = program.earn_mode == "cashback"
        self._points_memo: dict[tuple, int] = {}
        # times are held in UTC: where the shop's zone is UTC too, a sale's year needs no conversion
        self._utc = isinstance(self._zone, timezone) and self._zone.utcoffset(None) == timedelta(0)
        if not self._watermark:
            self._watermark = session.execute(select(func.coalesce(func.max(Purchase.id), 0))).scalar_one() or -1
        if self._record_run and self.summary.run_id is None:
            # written with the first batch: a file refused at its header leaves no trace
            run = ImportRun(source=self.source, file=self.label[-255:], started_at=self._started)
            session.add(run)
            session.flush()
            self.summary.run_id = run.id
            if self._digest is not None:
                runs.record(session, run.id, *self._digest, self.source)

    def _process(self, session: Session, program: Program, batch: list[Receipt]) -> None:
        summary = self.summary
        self.summary.legacy_encoding_lines = self.reader.lines.legacy
        # 1. receipts with a bad line, bad id or time; duplicates within the batch
        seen: dict[str, Receipt] = {}
        ready: list[Receipt] = []
        now_limit = clock.now() + points.FUTURE_SLACK
        for receipt in batch:
            if receipt.error is not None:
                self.reader.reject_receipt(receipt, receipt.error.reason, receipt.error.line)
                continue
            try:
                points.check_receipt(receipt.receipt_id)
                channel = self._channels.get(receipt.channel)
                if channel is None:
                    channel = self._channels[receipt.channel] = points.check_channel(receipt.channel)
                receipt.channel = channel
                receipt.at = self.reader.when(receipt.at_text)
                receipt.us = (receipt.at - _EPOCH) // _MICROSECOND
            except LoyaltyError as exc:
                self.reader.reject_receipt(receipt, str(exc))
                continue
            if receipt.at > now_limit:
                self.reader.reject_receipt(receipt, f"time {clock.local_text(receipt.at)} is in the future")
                continue
            if receipt.amount == 0:
                self.reader.reject_receipt(receipt, f"receipt {receipt.receipt_id} adds up to 0.00: nothing to record")
                continue
            if not receipt.customer_key:
                self.reader.reject_receipt(receipt, "customer is empty; give a code, card, e-mail or phone")
                continue
            earlier = seen.get(receipt.receipt_id)
            if earlier is not None:
                self.reader.reject_receipt(receipt, f"receipt {receipt.receipt_id} appears twice in the file "
                                              f"(first at line {earlier.first_line}); lines of a receipt must "
                                              "be consecutive")
                continue
            seen[receipt.receipt_id] = receipt
            ready.append(receipt)
        if self._first_block and ready and not self.again:  # the same export under another --source?
            runs.check_other_sources(session, [r.receipt_id for r in ready], self.source, self.label)
        self._first_block = False
        # 2. receipts already recorded from this source: skipped (or, recorded by this very run: duplicates)
        existing = {}
        q = self._q
        for chunk in self._id_lists([r.receipt_id for r in ready]):
            for receipt_id, purchase_id, line in session.execute(q["existing"], {"source": self.source, "ids": chunk}):
                existing[receipt_id] = (purchase_id, line)
        if existing:
            kept = []
            for receipt in ready:
                found = existing.get(receipt.receipt_id)
                if found is None:
                    kept.append(receipt)
                elif found[0] > self._watermark and found[1] != receipt.first_line:
                    self.reader.reject_receipt(receipt, f"receipt {receipt.receipt_id} appears twice in the file "
                                                  f"(first at line {found[1]}); lines of a receipt must "
                                                  "be consecutive")
                else:
                    summary.skipped += len(receipt.lines)
            ready = kept
        if not ready:
            return
        # 3. customers
        states = self._resolve_customers(session, program, ready)
        ready = [r for r in ready if r.customer is not None]
        if not ready:
            return
        # 4. what the rules need, loaded once for the batch
        self._load_states(session, program, states, ready)
        # 5. the rules, in time order (per customer this is the order of the sales)
        self._db_sales = self._sales_in_db(session, states, [
            candidate for r in ready if r.amount < 0 for candidate in self.reader.sale_candidates(r.receipt_id)])
        ready.sort(key=lambda r: (r.at, r.first_line))
        self._stored_times: dict[datetime, str] = {}
        sales_in_batch: dict[str, tuple | _Sale] = {}
        purchases: list[list] = []
        ledger_rows: list[list] = []
        source, import_file = self.source, self.label[-255:]
        referral_checks: list[tuple[int, Receipt]] = []
        recorded = clock.now()
        accepted: list[Receipt] = []
        for receipt in ready:
            state: _CustomerState = receipt.customer
            at = receipt.at
            try:
                if receipt.amount > 0:
                    rows = self._sale(program, receipt, state, at, recorded)
                    # what a refund in this block needs of the sale (made into a record if one does)
                    sales_in_batch[receipt.receipt_id] = (
                        receipt, len(purchases), rows[0][_DELTA] if rows and rows[0][_KIND] == "earn" else 0)
                    if state.referral_pending and receipt.amount >= program.referral_min_purchase:
                        referral_checks.append((len(purchases), receipt))
                    refund_of = None
                else:
                    rows, refund_of = self._refund(session, program, receipt, state, at, recorded, sales_in_batch)
            except Reject as exc:
                self.reader.reject_receipt(receipt, exc.reason)
                continue
            index = len(purchases)
            receipt.index = index
            purchases.append([None, state.id, source, receipt.receipt_id, at, receipt.amount, receipt.channel,
                              refund_of, import_file, receipt.first_line])
            for row in rows:
                row[_PURCHASE] = index  # the purchase's index for now; its id once written
                ledger_rows.append(row)
            state.add(receipt.us, receipt.amount)
            accepted.append(receipt)
        if not purchases:
            return
        # 6. write: purchases (ids back), their items, their ledger rows
        # refunds of a sale in this batch: (refund's index, sale's index), linked once ids are known
        links = [(r.index, r.sale_link) for r in accepted if r.sale_link is not None]
        ids = self._insert_purchases(session, purchases, links)
        items: list[tuple] = []
        for receipt in accepted:
            if receipt.amount > 0:
                items.extend(receipt_items(receipt.lines, ids[receipt.index]))
        if items:
            _write_rows(session, PurchaseItem.__table__, _ITEM_COLUMNS, items, self._stored_times)
            names = self.reader.descriptions(accepted)  # the description column, per SKU (latest wins)
            if names:
                products.remember(session, names, recorded)
        if ledger_rows:
            for row in ledger_rows:
                row[_PURCHASE] = ids[row[_PURCHASE]]
            _write_rows(session, LedgerEntry.__table__, _LEDGER_COLUMNS, ledger_rows, self._stored_times)
        awarded = sum(row[_DELTA] for row in ledger_rows)
        # 7. referral rewards (rare): the shared rule, now that the purchases exist
        for i, receipt in referral_checks:
            customer = session.get(Customer, receipt.customer.id)
            for bonus in rules.referral_bonuses(session, program, customer, receipt.at, receipt.amount, ids[i]):
                awarded += bonus.points
            receipt.customer.referral_pending = False
        summary.points_awarded += awarded
        summary.imported += sum(len(r.lines) for r in accepted)
        summary.receipts += sum(1 for r in accepted if r.amount > 0)
        summary.refunds += sum(1 for r in accepted if r.amount < 0)

    def _insert_purchases(self, session: Session, purchases: list[list], links: list[tuple[int, int]]) -> list[int]:
        table = Purchase.__table__
        if _sqlite_fast_path(session):
            # BEGIN IMMEDIATE holds the database's write lock: the next ids are ours to take,
            # so a refund of a sale in the same batch is written already linked (the sale comes first).
            first = (session.execute(select(func.max(Purchase.id))).scalar() or 0) + 1
            for offset, row in enumerate(purchases):
                row[0] = first + offset
            for refund, sale in links:
                purchases[refund][7] = first + sale
            _write_rows(session, table, _PURCHASE_COLUMNS, purchases, self._stored_times)
            return list(range(first, first + len(purchases)))
        rows = [dict(zip(_PURCHASE_COLUMNS[1:], row[1:])) for row in purchases]
        result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        ids = list(result.scalars())
        if links:
            session.execute(update(table).where(table.c.id == bindparam("refund_id"))
                            .values(refund_of_id=bindparam("sale_id")),
                            [{"refund_id": ids[refund], "sale_id": ids[sale]} for refund, sale in links])
        return ids

    # -- the rules ------------------------------------------------------------------------------------
    def _sale(self, program: Program, receipt: Receipt, state: _CustomerState, at: datetime,
              recorded: datetime) -> list[list]:
        if at < state.enrolled_at:
            raise Reject(f"{clock.local_text(at)} is before {state.code} enrolled "
                          f"({clock.local_text(state.enrolled_at)})")
        us = receipt.us
        spend = state.spend_between(us - self._window_us, us)
        tier = program.tier_for_spend(spend)
        multiplier = tier.multiplier * state.membership_multiplier(at) if state.memberships else tier.multiplier
        amount = receipt.amount
        earned = self._points(program, amount, multiplier)
        rows = []
        expires = at + self._expiry if self._expiry else None  # program.expiry_for, without its import
        if earned:
            rate = self._rates.get((tier.name, multiplier))
            if rate is None:
                rate = self._rates[(tier.name, multiplier)] = f"({tier.name} x{multiplier.normalize()})"
            rows.append([state.id, "earn", earned, at, expires, None, None, None,
                         f"receipt {receipt.receipt_id} {amount_text(amount)} {receipt.channel} {rate}"[:500],
                         recorded])
        milestone_bonus, milestone_spend = self._milestone
        if milestone_bonus and milestone_spend:
            year = at.year if self._utc else at.astimezone(self._zone).year
            key = f"milestone:{year}"
            if key not in state.bonus_keys:
                start = self._year_start_us(year)
                year_spend = state.spend_between(start, us, inclusive=True) + amount
                if year_spend >= milestone_spend:
                    state.add_bonus(key)
                    row = self._ledger_row(state.id, "milestone", milestone_bonus, at, expires, recorded,
                                           f"milestone: {year} spend reached {milestone_spend // 100}")
                    row[_BONUS_KEY] = key
                    rows.append(row)
        return rows

    def _points(self, program: Program, amount: int, multiplier: Decimal) -> int:
        """rules.points_for_amount, remembered: it depends only on whole units (or cents in cashback mode)."""
        if amount <= 0:
            return 0
        key = (amount if self._cashback else amount // 100, multiplier)
        earned = self._points_memo.get(key)
        if earned is None:
            earned = self._points_memo[key] = rules.points_for_amount(program, amount, multiplier)
        return earned

    def _refund(self, session: Session, program: Program, receipt: Receipt, state: _CustomerState,
                at: datetime, recorded: datetime, sales_in_batch: dict) -> tuple[list[list], int | None]:
        amount = -receipt.amount
        sale = None
        for candidate in self.reader.sale_candidates(receipt.receipt_id):
            sale = sales_in_batch.get(candidate)
            if isinstance(sale, tuple):
                original, index, earned = sale
                sale = sales_in_batch[candidate] = _Sale(original.receipt_id, original.customer, original.at,
                                                         original.amount, earned, index=index)
            sale = sale or self._db_sales.get(candidate)
            if sale is not None:
                break
        if sale is None:
            for candidate in self.reader.sale_candidates(receipt.receipt_id):
                if candidate in self.reader.rejected_ids:
                    raise Reject(f"refund {receipt.receipt_id} is of receipt {candidate}, which was rejected")
            # Not linked to a sale: reverse points at the customer's earn rate at the time of the refund.
            spend = state.spend_between(receipt.us - self._window_us, receipt.us)
            tier = program.tier_for_spend(spend)
            multiplier = tier.multiplier * state.membership_multiplier(at) if state.memberships else tier.multiplier
            reverse = rules.points_for_amount(program, amount, multiplier)
            rows = []
            if reverse:
                rows.append(self._ledger_row(state.id, "refund", -reverse, at, None, recorded,
                                             f"refund {receipt.receipt_id}: {format_amount(amount)} "
                                             f"({tier.name} x{multiplier.normalize()}, no sale linked)"))
            return rows, None
        if sale.customer.id != state.id:
            raise Reject(f"refund {receipt.receipt_id} names {state.code} but sale {sale.receipt_id} "
                          f"belongs to {sale.customer.code}")
        remaining = sale.amount - sale.refunded
        if remaining <= 0:
            raise Reject(f"receipt {sale.receipt_id} is already fully refunded")
        if amount > remaining:
            raise Reject(f"refund {format_amount(amount)} is more than what is left of receipt "
                          f"{sale.receipt_id} ({format_amount(remaining)})")
        if at < sale.at:
            raise Reject("a refund cannot be earlier than its sale")
        reversed_total = sale.earned * (sale.refunded + amount) // sale.amount
        reverse = reversed_total - sale.reversed
        sale.refunded += amount
        sale.reversed = reversed_total
        sale.refunds += 1
        rows = []
        if reverse:
            rows.append(self._ledger_row(state.id, "refund", -reverse, at, None, recorded,
                                         f"refund of receipt {sale.receipt_id}: {format_amount(amount)}"))
        if sale.id is None:  # the sale is in this batch: link once its id is known
            receipt.sale_link = sale.index
            return rows, None
        return rows, sale.id

    def _sales_in_db(self, session: Session, states: dict, receipt_ids: list[str]) -> dict[str, _Sale]:
        """The sales these refunds may name, with what they earned and what was refunded of them."""
        found: dict[str, _Sale] = {}
        for chunk in _chunks(sorted(set(receipt_ids))):
            sales = session.execute(select(Purchase.id, Purchase.receipt_id, Purchase.customer_id, Purchase.at,
                                           Purchase.amount).where(
                Purchase.source == self.source, Purchase.receipt_id.in_(chunk), Purchase.amount > 0,
                Purchase.refund_of_id.is_(None))).all()
            if not sales:
                continue
            ids = [sale.id for sale in sales]
            earned = dict(session.execute(select(LedgerEntry.purchase_id, func.sum(LedgerEntry.delta)).where(
                LedgerEntry.purchase_id.in_(ids), LedgerEntry.kind == "earn").group_by(LedgerEntry.purchase_id)).all())
            refunds = session.execute(select(Purchase.id, Purchase.refund_of_id, Purchase.amount)
                                      .where(Purchase.refund_of_id.in_(ids))).all()
            reversed_ = dict(session.execute(select(LedgerEntry.purchase_id, func.sum(LedgerEntry.delta)).where(
                LedgerEntry.purchase_id.in_([r.id for r in refunds] or [-1]), LedgerEntry.kind == "refund")
                .group_by(LedgerEntry.purchase_id)).all())
            for sale in sales:
                state = states.get(sale.customer_id)
                if state is None:
                    row = session.get(Customer, sale.customer_id)
                    state = _CustomerState(row.id, row.code, row.enrolled_at)
                mine = [r for r in refunds if r.refund_of_id == sale.id]
                found[sale.receipt_id] = _Sale(
                    sale.receipt_id, state, sale.at, sale.amount, earned.get(sale.id, 0), id=sale.id,
                    refunded=-sum(r.amount for r in mine), reversed=-sum(reversed_.get(r.id, 0) for r in mine),
                    refunds=len(mine))
        return found

    def _year_start_us(self, year: int) -> int:
        start = self._year_starts_us.get(year)
        if start is None:
            start = self._year_starts_us[year] = (self._year_start(year) - _EPOCH) // _MICROSECOND
        return start

    def _year_start(self, year: int) -> datetime:
        start = self._year_starts.get(year)
        if start is None:
            start = self._year_starts[year] = clock.year_bounds(year)[0]
        return start

    @staticmethod
    def _ledger_row(customer_id: int, kind: str, delta: int, at: datetime, expires: datetime | None,
                    recorded: datetime, note: str) -> list:
        """A ledger row as a list in _LEDGER_COLUMNS order."""
        return [customer_id, kind, delta, at, expires, None, None, None, note[:500], recorded]


    # -- customers ----------------------------------------------------------------------------------
    def _resolve_customers(self, session: Session, program: Program, ready: list[Receipt]) -> dict:
        cache = self._customer_cache
        if len(cache) > 200_000:
            cache.clear()
        keys = {r.customer_key for r in ready} - cache.keys()
        if keys:
            self._lookup(session, program, keys)
        unknown: dict[str, datetime] = {}
        for receipt in ready:
            found = cache.get(receipt.customer_key)
            if found is None and receipt.customer_key not in unknown:
                unknown[receipt.customer_key] = receipt.at
            elif found is None:
                unknown[receipt.customer_key] = min(unknown[receipt.customer_key], receipt.at)
        if unknown and self.enroll_unknown:
            for key, first_at in unknown.items():
                cache[key] = self._enroll(session, program, key, first_at)
        states = self._states
        for receipt in ready:
            found = cache.get(receipt.customer_key)
            if found is None:
                self.reader.reject_receipt(receipt, f"unknown customer {receipt.customer_key!r}; enroll them first or "
                                              "run the import with --enroll-unknown")
                continue
            if isinstance(found, str):
                self.reader.reject_receipt(receipt, found)
                continue
            id_, code, enrolled_at = found
            state = states.get(id_)
            if state is None:
                state = states[id_] = _CustomerState(id_, code, enrolled_at)
            receipt.customer = state
        return states

    def _lookup(self, session: Session, program: Program, keys: set[str]) -> None:
        """customers.find semantics for many keys at once; odd ones (phones to normalize) one by one."""
        cache = self._customer_cache
        keys = list(keys)
        code_match = customers._CODE.match
        for chunk in _chunks(keys, 5_000 if self._sqlite else 200):
            candidates, lowered = set(), set()
            for key in chunk:
                candidates.update((key, key.upper(), key.lower()))
                if code_match(key):
                    candidates.add(customers.customer_code(int(key[1:])))
                lowered.add(key.lower())
            rows = session.execute(self._q["customers"], {"ids": self._id_param(sorted(candidates)),
                                                          "lowered": self._id_param(sorted(lowered)),
                                                          "keys": self._id_param(chunk)}).all()
            index: dict[str, dict] = {}
            for row in rows:
                for value in {row.code, row.card}:
                    if value:
                        index.setdefault(("id", value), {})[row.id] = row
                if row.email:
                    index.setdefault(("email", row.email), {})[row.id] = row
                if row.phone:
                    index.setdefault(("phone", row.phone), {})[row.id] = row
            for key in chunk:
                cands = {key, key.upper(), key.lower()}
                if customers._CODE.match(key):
                    cands.add(customers.customer_code(int(key[1:])))
                matches = {}
                for probe in [("id", c) for c in cands] + [("email", key.lower()), ("phone", key)]:
                    matches.update(index.get(probe, {}))
                if len(matches) == 1:
                    row = next(iter(matches.values()))
                    if row.status == "active":
                        cache[key] = (row.id, row.code, row.enrolled_at)
                        continue
                if matches or re.match(r"^[+0-9][0-9 ()./-]{5,}$", key):
                    # the library says it best: ambiguous, merged, forgotten, or a phone to normalize
                    try:
                        customer = customers.find(session, key, program)
                        cache[key] = (customer.id, customer.code, customer.enrolled_at)
                    except LoyaltyError as exc:
                        cache[key] = None if "unknown customer" in str(exc) else str(exc)
                else:
                    cache[key] = None

    def _enroll(self, session: Session, program: Program, key: str, first_at: datetime):
        kind = self.reader.options.customer_kind
        if kind == "code":  # the file names our customer codes: an unknown one is not enrolled
            return f"unknown customer code {key!r}; --customer-kind code enrolls no one"
        if kind == "contact":  # a phone or an e-mail, never a card
            kind = "email" if "@" in key else "phone"
        elif kind not in ("card", "email", "phone"):
            # a number valid for the shop's phone region is a phone; anything else a card
            kind = "email" if "@" in key else "phone" if _is_phone(key, program.phone_region) else "card"
        try:
            customer = customers.enroll(session, program, None, **{kind: key}, at=first_at)
        except LoyaltyError as exc:
            return f"cannot enroll unknown customer {key!r}: {exc}"
        self.summary.enrolled += 1
        if program.welcome_bonus:
            self.summary.points_awarded += program.welcome_bonus
        return (customer.id, customer.code, customer.enrolled_at)

    def _load_states(self, session: Session, program: Program, states: dict, ready: list[Receipt]) -> None:
        """Read what the rules need of the block's customers, unless an earlier block of the run already did
        (their states then hold everything since, the run's own sales included)."""
        first = min(r.at for r in ready)
        lo = min(first - clock.DAY * program.tier_window_days, self._year_start(first.astimezone(self._zone).year))
        mine = {r.customer.id: r.customer for r in ready}
        if len(states) > MAX_STATES:  # memory stays flat: forget customers this block does not name
            for id_ in [i for i in states if i not in mine]:
                del states[id_]
        lo_us = (lo - _EPOCH) // _MICROSECOND
        ids = []
        for state in mine.values():
            if state.loaded_from is None or state.loaded_from > lo_us:
                state.reset(lo_us)
                ids.append(state.id)
            elif len(state.times) > MAX_HISTORY:
                state.trim(lo_us)
        if not ids:
            return
        hi = _END_OF_TIME
        q = self._q
        for chunk in _chunks(ids, len(ids) if self._sqlite else _IN_CHUNK):
            param = self._id_param(chunk)
            if _sqlite_fast_path(session):
                # the driver's rows, each stored time parsed once (SQLAlchemy's per-row conversion costs more)
                spend = session.connection().exec_driver_sql(_SQLITE_SPEND, (param, _stored(lo), _stored(hi)))
                parsed: dict[str, int] = {}
                rows = []
                for customer_id, stamp, amount in spend:
                    us = parsed.get(stamp)
                    if us is None:
                        us = parsed[stamp] = (datetime.fromisoformat(stamp) - _EPOCH_NAIVE) // _MICROSECOND
                    rows.append((customer_id, us, amount))
            else:
                rows = [(customer_id, (at - _EPOCH) // _MICROSECOND, amount) for customer_id, at, amount
                        in session.execute(q["spend"], {"ids": param, "lo": lo, "hi": hi})]
            for customer_id, us, amount in rows:  # by customer and time
                state = states[customer_id]
                state.times.append(us)
                state.amounts.append(amount)
                state.cum.append(state.cum[-1] + amount)
            for customer_id, start, end, cancelled, multiplier in session.execute(q["memberships"], {"ids": param}):
                state = states[customer_id]
                state.memberships = [*state.memberships, (start, end, cancelled, Decimal(multiplier))]
            for customer_id, key in session.execute(q["milestones"], {"ids": param}):
                states[customer_id].add_bonus(key)
            for (customer_id,) in session.execute(q["referrals"], {"ids": param}):
                states[customer_id].referral_pending = True
            # PostgreSQL: hold the batch's customers against a counter till writing at the same time
            if not self._sqlite:
                session.execute(select(Customer.id).where(Customer.id.in_(chunk)).with_for_update())

    def _id_param(self, values: list):
        return json.dumps(values) if self._sqlite else values

    def _id_lists(self, values: list):
        """The parameter values for ``ids`` that cover ``values``: one JSON list on SQLite, else chunks."""
        if self._sqlite:
            if values:
                yield json.dumps(values)
            return
        yield from _chunks(values)


def _is_phone(key: str, region: str) -> bool:
    """A key that is a valid phone number for the shop's region (or with its +country code)."""
    if not key or key[0] not in "+0123456789" or not any(ch.isdigit() for ch in key):
        return False
    try:
        customers.normalize_phone(key, region)
    except LoyaltyError:
        return False
    return True


def _expanding(column, name="ids"):
    return column.in_(bindparam(name, expanding=True))


def _json_each(column, name="ids"):
    # SQLite: the whole id list as one JSON parameter, instead of one bound parameter per id
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name))))


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
        "referrals": select(Referral.referee_id).where(ids_in(Referral.referee_id),
                                                       Referral.rewarded_purchase_id.is_(None)),
        "customers": (select(Customer.id, Customer.code, Customer.card, Customer.email, Customer.phone,
                             Customer.status, Customer.enrolled_at, Customer.merged_into_id)
                      .where(ids_in(Customer.code) | ids_in(Customer.card) | ids_in(Customer.email, "lowered")
                             | ids_in(Customer.phone, "keys"))),
        "existing": (select(Purchase.receipt_id, Purchase.id, Purchase.import_line)
                     .where(Purchase.source == bindparam("source"), ids_in(Purchase.receipt_id))),
    }


# Built once: compiled once and cached. Elsewhere the id lists are expanded at execution, in chunks.
_QUERIES = {"sqlite": _queries(_json_each), "other": _queries(_expanding)}


class _Same:
    """A 'transaction' that reuses the caller's session (dry run, demo)."""

    def __init__(self, session: Session):
        self.session = session

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *exc) -> bool:
        if exc[0] is None:
            self.session.flush()
        return False


def _sqlite_fast_path(session: Session) -> bool:
    """SQLite: ids taken under the write lock and rows handed straight to the driver. Elsewhere
    (PostgreSQL) the portable SQLAlchemy statements, which tests also run on SQLite."""
    return session.get_bind().dialect.name == "sqlite"


_PURCHASE_COLUMNS = ("id", "customer_id", "source", "receipt_id", "at", "amount", "channel", "refund_of_id",
                     "import_file", "import_line")
_ITEM_COLUMNS = ("purchase_id", "sku", "quantity_milli", "unit_price", "amount")
_LEDGER_COLUMNS = ("customer_id", "kind", "delta", "at", "expires_at", "purchase_id", "lot_id", "bonus_key", "note",
                   "recorded_at")
_KIND, _DELTA, _PURCHASE, _BONUS_KEY = 1, 2, 5, 7
_SQLITE_SPEND = ("SELECT customer_id, at, amount FROM purchase WHERE customer_id IN (SELECT value FROM json_each(?)) "
                 "AND at >= ? AND at <= ? ORDER BY customer_id, at")


def _stored(value: datetime) -> str:
    """How the UTCDateTime column stores an aware time on SQLite (naive UTC, microseconds)."""
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _write_rows(session: Session, table, columns: tuple[str, ...], rows: list,
                cache: dict[datetime, str] | None = None) -> None:
    """One executemany of rows given as sequences in ``columns`` order. On SQLite straight to the driver,
    with times written the way the UTCDateTime column stores them (lists in place; each distinct time formatted once:
    ``cache`` holds a block's times, as a sale's time recurs in its ledger rows); elsewhere through
    SQLAlchemy."""
    if not _sqlite_fast_path(session):
        session.execute(insert(table), [dict(zip(columns, row)) for row in rows])
        return
    times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, UTCDateTime)]
    if times:
        cache = {} if cache is None else cache
        params = []
        for row in rows:
            if not isinstance(row, list):
                row = list(row)
            for i in times:
                value = row[i]
                if value is not None:
                    text = cache.get(value)
                    if text is None:
                        stored = value if value.tzinfo is UTC else value.astimezone(UTC)
                        text = cache[value] = stored.isoformat(" ", "microseconds")[:26]
                    row[i] = text
            params.append(row)
    else:
        params = rows
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    cursor = session.connection().connection.cursor()  # the DBAPI cursor, in the session's transaction
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def _chunks(values: list, size: int = _IN_CHUNK):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def default_rejects_path(path: str | Path) -> Path:
    """till.csv -> till.csv.rejects.csv, next to the input."""
    path = Path(path)
    if not path.name:
        raise InvalidInput(f"{str(path)!r} is not a file name; give the CSV file to import")
    return path.with_name(path.name + ".rejects.csv")


def import_file(database, path: str | Path, **kwargs) -> ImportSummary:
    """Import one CSV file; see ``Importer`` for the options."""
    return Importer(path, **kwargs).run(database)


__all__ = ["CANONICAL", "Importer", "ImportSummary", "Preset", "default_rejects_path", "import_file",
           "list_presets", "load_preset", "parse_map"]

