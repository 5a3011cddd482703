"""Import of till exports: the file read by loyaltycli.tillcsv into blocks of whole receipts, the rules
applied, the rows written with a few set-based INSERTs.

The receipts of a block get their points in Python with the same rules as ``points.post_purchase`` /
``points.post_refund`` (tier at the time of each sale, membership multiplier, milestone and referral
bonuses), from per-customer states (purchases in the tier window and the year as running totals) read once
and kept from block to block. Blocks are committed in short transactions paced so that tills keep selling
(store/batches.py); returns find their sales in services/import_returns.py.
A receipt already recorded from the same source is skipped, so a re-run (or the run after a kill)
completes the file without writing anything twice.
"""

from __future__ import annotations

import gc
import re
from itertools import repeat
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from loyaltycli.services import cards, points
from loyaltycli.shop import clock
from loyaltycli.store import products
from loyaltycli.store import spill, storage
from loyaltycli.store.batches import BATCH_ROWS, LONG_HOLD_SECONDS, Transactions
from loyaltycli.services.import_returns import BlockReturns
from loyaltycli.services.import_setup import ImportSetUp
from loyaltycli.services.import_customers import BlockCustomers
from loyaltycli.base.checks import receipts_pass
from loyaltycli.base.errors import InvalidInput, LoyaltyError
from loyaltycli.base.money import format_money
from loyaltycli.store.models import ImportRun, LedgerEntry, Purchase, PurchaseItem
from loyaltycli.store.program import Program, load_program
from loyaltycli import programs
from loyaltycli.engine.account import Account, Referrer
from loyaltycli.base.instants import EPOCH, instant, microseconds
from loyaltycli.engine.earning import LEDGER_COLUMNS, PURCHASE, Engine
from loyaltycli.services import import_runs as runs
from loyaltycli.tillcsv.translate import ReadOptions
from loyaltycli.tillcsv.presets import (CANONICAL, Preset, list_presets, load_preset, parse_map,
                                       parse_skip_when)
from loyaltycli.tillcsv.reader import Reader
from loyaltycli.tillcsv.records import Receipt, block_items
from loyaltycli.i18n import gettext

# rows held in memory and applied at once (transactions: store/batches.py)
BLOCK_ROWS = 2_500
SQLITE_CACHE_KIB = 32_768
# customers whose state is kept from block to block, and purchases kept per customer, before forgetting
MAX_STATES = 50_000
MAX_HISTORY = 64


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
    returns_without_sale: int = 0  # rows of returns of customers never seen (their sales predate us): skipped
    rejected: int = 0
    points_awarded: int = 0
    receipts: int = 0
    refunds: int = 0
    refunds_linked: int = 0
    enrolled: int = 0
    rejects_file: str | None = None
    run_id: int | None = None
    legacy_encoding_lines: int = 0
    date_order: str | None = None  # DMY or MDY when the file's dates needed one; None: year-first dates
    date_order_source: str | None = None  # option, preset, file (what its dates show) or shop (its locale)
    shop_locale: str | None = None
    encoding: str | None = None  # the file's encoding: given, or found (utf-8, cp1250, cp1252)
    first_rejects: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"file": self.file, "source": self.source, "dry_run": self.dry_run, "read": self.read,
                "imported": self.imported, "skipped": self.skipped, "anonymous": self.anonymous,
                "returns_without_sale": self.returns_without_sale, "rejected": self.rejected,
                "points_awarded": self.points_awarded, "sales": self.receipts, "refunds": self.refunds,
                "refunds_linked": self.refunds_linked, "refunds_unlinked": self.refunds - self.refunds_linked,
                "customers_enrolled": self.enrolled, "rejects_file": self.rejects_file, "run_id": self.run_id,
                "legacy_encoding_lines": self.legacy_encoding_lines, "date_order": self.date_order,
                "date_order_source": self.date_order_source, "shop_locale": self.shop_locale,
                "encoding": self.encoding, "first_rejects": self.first_rejects}

# -- the import --------------------------------------------------------------------------------------
class Importer(ImportSetUp, BlockCustomers):
    """One import of one file. ``run()`` returns the summary; it raises only when the file cannot be read."""

    def __init__(self, path: str | Path, *, source: str = "till", preset: str | None = None,
                 mapping: dict[str, str] | None = None, enroll_unknown: bool = False, dry_run: bool = False,
                 rejects: str | Path | None = None, batch_rows: int = BATCH_ROWS,
                 progress: Callable[[int, int], None] | None = None,
                 after_batch: Callable[[Session, int], None] | None = None,
                 options: ReadOptions | None = None, again: bool = False,
                 skip_when: dict[str, list[str]] | None = None):
        self.path = Path(path)
        self.label = str(path)
        self.source = (source or "till").strip()
        if not re.fullmatch(r"[\w.:-]{1,64}", self.source):
            raise InvalidInput(gettext('--source {source!r} must be 1 to 64 letters, digits or . : - _').format(source=source))
        self.preset = load_preset(preset) if preset else Preset()
        self.mapping = mapping or {}
        self.enroll_unknown = enroll_unknown
        self.dry_run = dry_run
        self.rejects_path = Path(rejects) if rejects else None
        self.batch_rows = max(1, batch_rows)
        self.progress = progress
        self.after_batch = after_batch
        self.summary = ImportSummary(file=self.label, source=self.source, dry_run=dry_run)
        self.skip_when = skip_when or {}  # --skip-when COLUMN=VALUE: rows left out (annulled documents...)
        self.reader = Reader(self.path, self.label, self.preset, self.mapping, self.summary, self.rejects_path, dry_run,
                             options=options, skip_when=self.skip_when)
        self.again = again
        self._options = options or ReadOptions()
        self._digest: tuple[str, int] | None = None
        self._first_block = True
        self._temp: Path | None = None
        self._url = ""  # the database's: temporary data is kept beside it
        self._customer_cache: dict[str, object] = {}
        self._phone_tails: set[str] | None = None  # find_many: the customers' phones' last 7 digits
        self._enrolled_some = False  # customers enrolled by this run: unknown phones are looked up again
        self._watermark = 0
        self._zone = clock.local_zone()
        self._channels: dict[str, str] = {}
        self._record_run = False
        self._tuned = False
        self._started = clock.now()
        self._transactions: Transactions | None = None
        self._accounts: dict[int, Account] = {}
        self._referrers: dict[int, Referrer] = {}
        self._data_version = None
        self._times: spill.Times | None = None  # the first pass's times of the receipts (streamed files)
        self._described: dict[str, str] = {}  # SKU -> the description this run wrote (not written again)

    # -- entry points ----------------------------------------------------------------------------
    def run(self, database) -> ImportSummary:
        """Import into ``database`` (a Database: paced transactions, store/batches.py; dry run: one, rolled
        back)."""
        self._url = database.url
        try:
            self._prepare(database)
            if self.dry_run:
                with database.session() as session:
                    self._run(lambda: _Same(session), float("inf"))
                    session.rollback()
            else:
                self._record_run = True
                # transactions of up to LONG_HOLD_SECONDS, committed at once when a till waits for the lock
                if database.is_sqlite:
                    database.waiters.any()  # its file made now: a till that starts waiting from here says so
                self._run(database.session, LONG_HOLD_SECONDS,
                          waiting=lambda: database.writers_waiting(self._transactions.session))
        except Exception as exc:
            stopped = self._disk_full(exc)
            if stopped is None:
                raise
            raise stopped from None
        finally:
            self._drop_temp()
        return self.summary

    def run_in(self, session: Session) -> ImportSummary:
        """Import inside the caller's transaction (used by `init --demo`); no rejects file unless given."""
        self._url = str(session.get_bind().url)
        try:
            self._prepare()
            self._run(lambda: _Same(session), float("inf"))
        finally:
            self._drop_temp()
        return self.summary

    @property
    def kept_receipts(self) -> int:
        """Receipts in committed transactions: what a killed run keeps."""
        return self._transactions.kept_receipts if self._transactions is not None else 0

    def _run(self, transaction, hold_seconds: float, waiting=None) -> None:
        # The run allocates millions of short-lived objects (rows, receipts, ledger rows) beside the
        # long-lived customer states, and makes no reference cycles of its own: Python's cyclic collector
        # would walk the states over and over (a third of the time of a 1M-row import). Reference counting
        # frees the rows; the collector runs once per transaction instead.
        self._transactions = Transactions(transaction, batch_rows=self.batch_rows, hold_seconds=hold_seconds,
                                          begin=self._begin, end=self._end, waiting=waiting)
        collecting = gc.isenabled()
        gc.disable()
        handle = None
        try:
            handle = self.reader.open()
            self._read(handle)
        except BaseException as exc:
            if not self._transactions.open:
                raise
            self._transactions.abort(exc)
        finally:
            if collecting:
                gc.enable()
            if handle is not None:
                handle.close()
            self.reader.close_rejects()
            self._drop_temp()

    def _read(self, handle) -> None:
        size = min(self.batch_rows, BLOCK_ROWS)
        scan = Reader(self.reader.path, self.label, self.preset, self.mapping,
                      ImportSummary(file=self.label, source=self.source), None, True,
                      options=self._options, skip_when=self.skip_when)  # the same file, read the same way
        with self.reader.path.open("rb") as again:
            times = spill.Times()
            streamed = spill.in_order(scan, again, size, times)
        self.reader.dates_read = scan._translator  # a preset's dates it read: not read again
        if streamed:  # receipts in time order, each on consecutive lines: applied as they are read
            self._times = times  # the times it read: not read again
            for receipts, rows, last in self.reader.blocks(handle, size):
                self._flush(receipts, rows, last)
            return
        # out of time order, or a receipt's lines apart: every receipt set aside first, then applied oldest first
        from loyaltycli.store.db import temp_path

        aside = spill.Spill(self.reader, temp_path(self._url, "spill"))
        try:
            for receipts, _, _ in self.reader.blocks(handle, size):
                aside.add(receipts)
            for receipts, rows, last in aside.blocks(size):
                self._flush(receipts, rows, last)
        finally:
            aside.close()

    # -- blocks of receipts, in paced transactions ------------------------------------------------------
    def _flush(self, batch: list[Receipt], rows: int, last: bool = False) -> None:
        """Apply one block of whole receipts in the open transaction (opened first if need be)."""
        transactions = self._transactions
        if not transactions.open and not batch and not last:
            return
        session = transactions.enter()
        self._process(session, self._program, batch)
        if transactions.done(rows, len(batch), last):
            gc.collect(1)
        if self.progress is not None:
            self.progress(self.reader.lines.bytes_read, self.reader.total_bytes)

    def _end(self, session: Session, receipts: int, last: bool) -> None:
        """Before each commit: the run's row brought up to date, the caller's hook, this import's own
        changes noted (so that they do not count as another writer's)."""
        if self.summary.run_id is not None and not self.dry_run:
            values = dict(read=self.summary.read, imported=self.summary.imported,
                          skipped=self.summary.skipped, rejected=self.summary.rejected,
                          points_awarded=self.summary.points_awarded)
            if last:
                values["finished_at"] = clock.now()
            session.execute(update(ImportRun).where(ImportRun.id == self.summary.run_id).values(**values))
        if self.after_batch is not None:
            self.after_batch(session, receipts)
        if self._sqlite and self._data_version is not None:
            driver = session.connection().connection.dbapi_connection
            self._data_version = (*self._data_version[:2], driver.total_changes)

    def _begin(self, session: Session) -> None:
        """What every transaction needs first: locks, settings, the run's row, still-valid caches."""
        self._sqlite = session.get_bind().dialect.name == "sqlite"
        if not self._sqlite:
            # PostgreSQL: SQLite's BEGIN IMMEDIATE lets one writer at a time take the watermark and look
            # for the batch's receipts; here two imports of overlapping files would both find a receipt
            # missing and both insert it. One batch per source at a time, until its transaction ends.
            session.execute(text("SELECT pg_advisory_xact_lock(7412002, hashtext(:source))"),
                            {"source": self.source})
            # row locks are per transaction: reload (and lock) the customers, and look their keys up again
            # (merged or forgotten meanwhile?)
            self._forget_customers()
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
                self._forget_customers()
                self._data_version = version
        program = self._program = load_program(session)
        self._engine = Engine(program, self._zone, clock.now())
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

    def _forget_customers(self) -> None:
        """Forget what was read of customers (their accounts, referrers, the keys looked up, the phones
        known): another writer may have changed them."""
        self._accounts.clear()
        self._referrers.clear()
        self._customer_cache.clear()
        self._phone_tails = None

    def _process(self, session: Session, program: Program, batch: list[Receipt]) -> None:
        summary = self.summary
        reject = self.reader.reject_receipt
        summary.legacy_encoding_lines = self.reader.lines.legacy
        # 1. receipts with a bad line, bad id or time; duplicates within the batch
        seen: dict[str, Receipt] = {}
        any_case: dict[str, Receipt] = {}
        ready: list[Receipt] = []
        now_limit = clock.now() + points.FUTURE_SLACK
        # per receipt: what the checks call, looked up once per block
        check_receipt, channels, above_max = points.check_receipt, self._channels, points.above_max_purchase
        times_of = self._times.of if self._times is not None else None
        # the times the first pass read: the whole block's at once when it is the next receipts there
        block_ids = [r.receipt_id for r in batch]
        block_us = self._times.block(block_ids) if self._times is not None else None
        ids_checked = receipts_pass(block_ids)  # check_receipt for the whole block at once
        block_at = (map(EPOCH.__add__, map(timedelta, repeat(0), repeat(0), block_us)) if block_us is not None
                    else repeat(None))
        for receipt, at, us in zip(batch, block_at, block_us if block_us is not None else repeat(None)):
            if receipt.error is not None:
                reject(receipt, receipt.error.reason, receipt.error.line)
                continue
            try:
                if not ids_checked:
                    check_receipt(receipt.receipt_id)
                channel = channels.get(receipt.channel)
                if channel is None:
                    channel = channels[receipt.channel] = points.check_channel(receipt.channel)
                receipt.channel = channel
                if at is not None:
                    receipt.at, receipt.us = at, us
                else:
                    us = times_of(receipt.receipt_id) if times_of is not None else None
                    if us is None:
                        receipt.at = self.reader.when(receipt.at_text)
                        receipt.us = microseconds(receipt.at)
                    else:
                        receipt.at, receipt.us = instant(us), us
            except LoyaltyError as exc:
                reject(receipt, str(exc))
                continue
            if receipt.at > now_limit:
                reject(receipt, gettext('time {at} is in the future').format(at=clock.local_text(receipt.at)))
                continue
            if receipt.amount == 0:
                reject(receipt, gettext('receipt {receipt_id} adds up to 0.00: nothing to record').format(receipt_id=receipt.receipt_id))
                continue
            if above_max(program, receipt.amount):  # as at the counter: typed in the wrong box?
                reject(receipt, gettext('receipt {receipt_id} of {amount} is more than max_purchase {max_purchase}').format(receipt_id=receipt.receipt_id, amount=format_money(receipt.amount), max_purchase=format_money(program.max_purchase)))
                continue
            if not receipt.customer_key:
                reject(receipt, gettext('customer is empty; give a code, card, e-mail or phone'))
                continue
            upper = receipt.receipt_id.upper()
            earlier = any_case.get(upper)  # receipt ids in any case: ab-1 is AB-1
            if earlier is not None:
                reject(receipt, gettext('receipt {receipt_id} appears twice in the file (first at line {first_line}); lines of a receipt must be consecutive').format(receipt_id=receipt.receipt_id, first_line=earlier.first_line))
                continue
            seen[receipt.receipt_id] = any_case[upper] = receipt
            ready.append(receipt)
        if self._first_block and ready and not self.again:  # the same export under another --source?
            runs.check_other_sources(session, [r.receipt_id for r in ready], self.source, self.label)
        self._first_block = False
        # 2. receipts already recorded from this source: skipped (or, recorded by this very run: duplicates)
        existing = {}
        q = storage.queries(session)
        for chunk in storage.id_lists(session, [r.receipt_id.upper() for r in ready]):
            for receipt_id, purchase_id, line in session.execute(q["existing"], {"source": self.source, "ids": chunk}):
                existing[receipt_id] = (purchase_id, line)
        if existing:
            kept = []
            for receipt in ready:
                found = existing.get(receipt.receipt_id.upper())
                if found is None:
                    kept.append(receipt)
                elif found[0] > self._watermark and found[1] != receipt.first_line:
                    reject(receipt, gettext('receipt {receipt_id} appears twice in the file (first at line {found}); lines of a receipt must be consecutive').format(receipt_id=receipt.receipt_id, found=found[1]))
                else:
                    summary.skipped += len(receipt.lines)
            ready = kept
        if not ready:
            return
        # 3. customers
        self._resolve_customers(session, program, ready)
        ready = [r for r in ready if r.customer is not None]
        if ready and not self.again:
            ready = self._not_under_other_sources(session, ready)
        if not ready:
            return
        # 4. what the rules need, loaded once for the batch
        self._load_accounts(session, ready)
        returns = BlockReturns(session, self.reader, self.source, ready, seen)
        # 5. the rules, in time order (per customer this is the order of the sales)
        ready.sort(key=lambda r: (r.at, r.first_line))
        engine = self._engine
        purchases: list[list] = []
        ledger_rows: list[list] = []
        writes: dict[str, list] = {}  # the rules' own rows (stamp cards...), by table
        rewarded: list[tuple[int, int, datetime]] = []
        source, import_file = self.source, self.label[-255:]
        accepted: list[Receipt] = []
        on_sale, add_sale, wants_items = engine.sale, returns.add_sale, engine.wants_items
        add_purchase, add_ledger, accept = purchases.append, ledger_rows.append, accepted.append
        for receipt in ready:
            account: Account = receipt.customer
            index = len(purchases)
            refund_of = None
            try:
                if receipt.amount > 0:
                    items = cards.sale_items(engine, receipt.lines) if wants_items else []
                    decision = on_sale(account, receipt.receipt_id, receipt.at, receipt.amount, receipt.channel,
                                       receipt.us, items)
                    add_sale(receipt, index, decision)
                    if decision.rewarded is not None:
                        rewarded.append((account.id, index, receipt.at))
                else:
                    sale = returns.sale_of(receipt)
                    if sale is None and receipt.at < account.enrolled_at:
                        # a return from before the customer was ours: its sale predates what we have
                        summary.returns_without_sale += len(receipt.lines)
                        continue
                    decision = engine.refund(account, receipt.receipt_id, receipt.at, -receipt.amount, sale,
                                             receipt.us, cards.returned_items(engine, receipt.lines) if sale else ())
                    if sale is not None:
                        summary.refunds_linked += 1
                        receipt.channel = sale.channel  # a refund goes back through the sale's channel
                        if sale.id is None:  # the sale is in this batch: linked once its id is known
                            receipt.sale_link = sale.index
                        else:
                            refund_of = sale.id
            except LoyaltyError as exc:
                reject(receipt, str(exc))
                continue
            receipt.index = index
            add_purchase([None, account.id, source, receipt.receipt_id, receipt.at, receipt.amount,
                          receipt.channel, refund_of, import_file, receipt.first_line])
            for row in decision.rows:
                row[PURCHASE] = index  # the purchase's index for now; its id once written
                add_ledger(row)
            if decision.writes and any(decision.writes.values()):
                programs.placed(decision.writes, index, writes)  # the rules' own rows: index for now too
            accept(receipt)
        if not purchases:
            return
        # 6. write: purchases (ids back), their items, their ledger rows (in the order of events)
        # refunds of a sale in this batch: (refund's index, sale's index), linked once ids are known
        links = [(r.index, r.sale_link) for r in accepted if r.sale_link is not None]
        times: dict[datetime, int] = {}
        ids = storage.insert_purchases(session, purchases, links, times)
        items = block_items(accepted, ids)  # a return's items too (negative quantities): what is left to return
        if items:
            storage.write_rows(session, PurchaseItem.__table__, storage.ITEM_COLUMNS, items, times)
            names = self.reader.descriptions(accepted)  # the description column, per SKU (latest wins)
            written = self._described
            names = {sku: name for sku, name in names.items() if written.get(sku) != name}  # new to this run
            if names:
                products.remember(session, names, clock.now())
                if len(written) > 200_000:
                    written.clear()
                written.update(names)
        if ledger_rows:
            for row in ledger_rows:
                row[PURCHASE] = ids[row[PURCHASE]]
            storage.write_rows(session, LedgerEntry.__table__, LEDGER_COLUMNS, ledger_rows, times)
        programs.write(session, writes, ids)
        storage.mark_rewarded(session, [(referee, ids[i], at) for referee, i, at in rewarded])
        summary.points_awarded += sum(row[2] for row in ledger_rows)
        summary.imported += sum(len(r.lines) for r in accepted)
        summary.receipts += sum(1 for r in accepted if r.amount > 0)
        summary.refunds += sum(1 for r in accepted if r.amount < 0)

    def _not_under_other_sources(self, session: Session, ready: list[Receipt]) -> list[Receipt]:
        """Receipts already imported under another --source of the same till (same id in any case, same
        customer, time and amount) are rejected as duplicates (``--again`` imports them anyway); the rest."""
        q = storage.queries(session)
        found: dict[tuple, str] = {}
        for chunk in storage.id_lists(session, [r.receipt_id.upper() for r in ready]):
            for receipt_id, customer_id, at, amount, source in session.execute(
                    q["elsewhere"], {"source": self.source, "ids": chunk}):
                found.setdefault((receipt_id, customer_id, microseconds(clock.as_utc(at)), amount), source)
        if not found:
            return ready
        kept = []
        for receipt in ready:
            other = found.get((receipt.receipt_id.upper(), receipt.customer.id, receipt.us, receipt.amount))
            if other is None:
                kept.append(receipt)
            else:
                self.reader.reject_receipt(receipt, gettext('receipt {receipt_id} was already imported under source {other} (same customer, time and amount): the same till under another --source? Add --again if it is another sale').format(receipt_id=receipt.receipt_id, other=other))
        return kept

    def _load_accounts(self, session: Session, ready: list[Receipt]) -> None:
        """Read what the rules need of the block's customers, unless an earlier block of the run already did
        (their accounts then hold everything since, the run's own sales included)."""
        since = self._engine.since(min(r.at for r in ready))
        mine = {r.customer.id: r.customer for r in ready}
        accounts = self._accounts
        if len(accounts) > MAX_STATES:  # memory stays flat: forget customers this block does not name
            for id_ in [i for i in accounts if i not in mine]:
                del accounts[id_]
        since_us = microseconds(since)
        for account in mine.values():
            if account.loaded_from is not None and account.loaded_from <= since_us and len(account.times) > MAX_HISTORY:
                account.trim(since_us)
        storage.load_accounts(session, mine.values(), since, self._referrers, importing=True,
                              needs=self._engine.needs, rules=programs)  # as the counter: what the shop's rules need


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


def default_rejects_path(path: str | Path) -> Path:
    """till.csv -> till.csv.rejects.csv, next to the input."""
    path = Path(path)
    if not path.name:
        raise InvalidInput(gettext('{path!r} is not a file name; give the CSV file to import').format(path=str(path)))
    return path.with_name(path.name + ".rejects.csv")


def import_file(database, path: str | Path, **kwargs) -> ImportSummary:
    """Import one CSV file; see ``Importer`` for the options."""
    return Importer(path, **kwargs).run(database)


__all__ = ["CANONICAL", "Importer", "ImportSummary", "Preset", "default_rejects_path", "import_file",
           "list_presets", "load_preset", "parse_map", "parse_skip_when"]

