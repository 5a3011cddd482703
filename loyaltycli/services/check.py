"""`db check`: recompute what can be recomputed and report every difference (beancount's balance
assertions, for a loyalty ledger)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from loyaltycli.services.merge import ERASED_REASON, FREE_TEXT_KINDS, PERSONAL_FIELDS  # what forget erases
from loyaltycli.tillcsv.records import REFUND_SUFFIX  # how a till names the sale it refunds
from loyaltycli.i18n import N_, _, ngettext


@dataclass
class Problem:
    check: str
    detail: str


# (name, what it verifies) in the order they run.
CHECKS = (
    ("integrity", "SQLite's integrity_check and foreign_key_check pass"),
    ("ledger_links", "every ledger row names an existing customer and, if any, an existing purchase"),
    ("expiry", "expiry rows name an earning row of the same customer and never exceed it"),
    ("bonuses", "no once-only bonus was written twice to one customer"),
    ("redemptions", "every redemption has its ledger row (same points, same customer) and vice versa"),
    ("donations", "every donation has its ledger row (same points, same customer)"),
    ("refunds", "refunds of a sale never exceed the sale; no refund is of a refund"),
    ("merged", "merged customers have a balance of zero and point at an existing customer"),
    ("forgotten", "forgotten customers (and duplicates merged into them) hold no personal data, and no "
                  "erasure waits for the file to be compacted"),
    ("cards", "every used (or moved) voucher names a voucher of the same customer and card, once"),
)


def _holds_personal_data(alias: str) -> str:
    """SQL: the customer row ``alias`` still holds a field that `customer forget` erases."""
    return "(" + " OR ".join(f"{alias}.{name} IS NOT NULL" for name in PERSONAL_FIELDS) + ")"


def _rows(session: Session, sql: str):
    return session.execute(text(sql)).all()


def _owner(merged: dict[int, int], customer_id: int) -> int:
    """The customer that now holds ``customer_id``'s account (following merges)."""
    seen = set()
    while customer_id in merged and customer_id not in seen:
        seen.add(customer_id)
        customer_id = merged[customer_id]
    return customer_id


DAMAGED = N_('the file is damaged, other checks skipped: restore the latest good backup (`loyalty restore FILE`)')


_TEMP_KINDS = {"restore": N_("a restore's copy of a backup"), "aside": N_("a restore's copy of the database"),
               "saft": N_("an import's rows of a SAF-T file"), "spill": N_("an import's receipts set aside")}


def leftover_notes(database) -> list[dict]:
    """Temporary files beside the database: those of killed runs (removed when the database was opened,
    Database.sweep) and those of runs still going (left alone)."""
    from loyaltycli.base import files

    database.sweep()
    notes = []
    for path in database.swept:
        tag = files.temp_tag(path)
        notes.append({"file": files.shown(path), "state": "removed", "detail": _(
            'removed {file}: {what} left by a run that was killed (it held personal data)').format(
            file=files.shown(path), what=_(_TEMP_KINDS.get(tag, N_("a temporary file"))))})
    for path, pid, _alive in files.leftovers(database.temp_base.parent, files.DATABASE_TEMP_TAGS):
        notes.append({"file": files.shown(path), "state": "in_use", "detail": _(
            '{file} belongs to process {pid}, still running (removed when it ends)').format(
            file=files.shown(path), pid=pid)})
    return notes


def unfinished_imports(database) -> list[dict]:
    """Import runs stopped half-way that no later run completed (services/import_runs.py), each with a
    ``detail`` saying what to do. Not a problem of the data: each of a run's transactions wrote whole
    receipts, and running the same import again writes the rest."""
    from loyaltycli.services import import_runs
    from loyaltycli.shop import clock

    with database.session(write=False) as session:
        runs = import_runs.unfinished(session)
    for run in runs:
        run["detail"] = ngettext(
            "import run {run} of {file} (source {source}, started {at}) did not finish: it was stopped "
            "after {count} receipt, or is still running; run the same import again to complete it",
            "import run {run} of {file} (source {source}, started {at}) did not finish: it was stopped "
            "after {count} receipts, or is still running; run the same import again to complete it",
            run["imported"]).format(run=run["run_id"], file=run["file"], source=run["source"],
                                    at=clock.local_text(run["started_at"]), count=run["imported"])
        run["started_at"] = clock.iso(run["started_at"])
    return runs


def run_checks(database) -> list[Problem]:
    """All checks of one database; a damaged SQLite file is reported without reading it further."""
    if database.is_sqlite:
        database.ensure_schema()
        problems = []
        with database.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            try:
                for (message,) in raw.execute("PRAGMA integrity_check").fetchall():
                    if message != "ok":
                        problems.append(Problem("integrity", " ".join(message.split())))
            except Exception as exc:  # noqa: BLE001  sqlite3.DatabaseError: too damaged to check at all
                problems.append(Problem("integrity", str(exc).splitlines()[0]))
        if problems:
            return problems + [Problem("integrity", _(DAMAGED))]
    with database.session(write=False) as session:
        return check_database(session, integrity=False)


def check_database(session: Session, *, integrity: bool = True) -> list[Problem]:
    """Every difference found; an empty list means the database is consistent."""
    out: list[Problem] = []
    sqlite = session.get_bind().dialect.name == "sqlite"

    def add(check: str, detail: str) -> None:
        out.append(Problem(check, detail))

    if sqlite and integrity:
        for (message,) in _rows(session, "PRAGMA integrity_check"):
            if message != "ok":
                add("integrity", " ".join(message.split()))
        if out:
            out.append(Problem("integrity", _(DAMAGED)))
            return out
    if sqlite:
        for table, rowid, parent, _fk in _rows(session, "PRAGMA foreign_key_check"):
            add("integrity", _('{table} row {rowid} points at a missing {parent} row').format(table=table, rowid=rowid, parent=parent))

    for entry_id, customer_id in _rows(session, """
            SELECT l.id, l.customer_id FROM ledger l LEFT JOIN customer c ON c.id = l.customer_id
            WHERE c.id IS NULL"""):
        add("ledger_links", _('ledger row {entry_id} belongs to missing customer {customer_id}').format(entry_id=entry_id, customer_id=customer_id))
    for entry_id, purchase_id in _rows(session, """
            SELECT l.id, l.purchase_id FROM ledger l LEFT JOIN purchase p ON p.id = l.purchase_id
            WHERE l.purchase_id IS NOT NULL AND p.id IS NULL"""):
        add("ledger_links", _('ledger row {entry_id} references missing purchase {purchase_id}').format(entry_id=entry_id, purchase_id=purchase_id))

    for entry_id, lot_id in _rows(session, """
            SELECT e.id, e.lot_id FROM ledger e LEFT JOIN ledger lot ON lot.id = e.lot_id
            WHERE e.kind = 'expire' AND (lot.id IS NULL OR lot.customer_id != e.customer_id
                                         OR lot.delta <= 0 OR e.delta > 0)"""):
        add("expiry", _('expiry row {entry_id} does not write off an earning row of its customer (lot {lot_id})').format(entry_id=entry_id, lot_id=lot_id))
    for lot_id, earned, expired in _rows(session, """
            SELECT lot.id, lot.delta, -SUM(e.delta) FROM ledger e JOIN ledger lot ON lot.id = e.lot_id
            WHERE e.kind = 'expire' GROUP BY lot.id, lot.delta HAVING -SUM(e.delta) > lot.delta"""):
        add("expiry", _('{expired} points expired from ledger row {lot_id}, which earned only {earned}').format(expired=expired, lot_id=lot_id, earned=earned))

    for customer_id, key, n in _rows(session, """
            SELECT customer_id, bonus_key, COUNT(*) FROM ledger WHERE bonus_key IS NOT NULL
            GROUP BY customer_id, bonus_key HAVING COUNT(*) > 1"""):
        add("bonuses", _('bonus {key} was written {n} times to customer {customer_id}').format(key=key, n=n, customer_id=customer_id))

    merged = dict(_rows(session, "SELECT id, merged_into_id FROM customer WHERE merged_into_id IS NOT NULL"))
    for kind, table in (("redemptions", "redemption"), ("donations", "donation")):
        for row_id, entry_id, points, customer_id, delta, entry_customer in _rows(session, f"""
                SELECT r.id, r.ledger_id, r.points, r.customer_id, l.delta, l.customer_id
                FROM {table} r LEFT JOIN ledger l ON l.id = r.ledger_id"""):
            if delta is None:
                add(kind, _('{table} {row_id} references missing ledger row {entry_id}').format(table=table, row_id=row_id, entry_id=entry_id))
            elif delta != -points:
                add(kind, _('{table} {row_id} is {points} points but its ledger row {entry_id} is {delta}').format(table=table, row_id=row_id, points=points, entry_id=entry_id, delta=delta))
            elif _owner(merged, entry_customer) != _owner(merged, customer_id):
                add(kind, _('{table} {row_id} belongs to customer {customer_id} but its ledger row {entry_id} to customer {entry_customer}').format(table=table, row_id=row_id, customer_id=customer_id, entry_id=entry_id, entry_customer=entry_customer))
    for entry_id, delta in _rows(session, """
            SELECT l.id, l.delta FROM ledger l LEFT JOIN redemption r ON r.ledger_id = l.id
            WHERE l.kind = 'redeem' AND r.id IS NULL"""):
        add("redemptions", _('ledger row {entry_id} redeems {value} points but has no redemption record').format(entry_id=entry_id, value=-delta))

    for sale_id, receipt, amount, refunded in _rows(session, """
            SELECT s.id, s.receipt_id, s.amount, -SUM(r.amount) FROM purchase r JOIN purchase s ON s.id = r.refund_of_id
            WHERE r.refund_of_id IS NOT NULL GROUP BY s.id, s.receipt_id, s.amount HAVING -SUM(r.amount) > s.amount"""):
        add("refunds", _('receipt {receipt} (purchase {sale_id}) of {amount} cents has {refunded} cents refunded').format(receipt=receipt, sale_id=sale_id, amount=amount, refunded=refunded))
    for refund_id, receipt, sale_receipt in _rows(session, """
            SELECT r.id, r.receipt_id, s.receipt_id FROM purchase r JOIN purchase s ON s.id = r.refund_of_id
            WHERE r.refund_of_id IS NOT NULL AND (s.amount <= 0 OR s.refund_of_id IS NOT NULL)"""):
        add("refunds", _('refund {receipt} (purchase {refund_id}) is of {sale_receipt}, which is a refund').format(receipt=receipt, refund_id=refund_id, sale_receipt=sale_receipt))
    refunds = {(source, receipt) for source, receipt in _rows(session, """
            SELECT source, receipt_id FROM purchase WHERE amount < 0""")}
    for source, receipt in sorted(refunds):
        named = REFUND_SUFFIX.match(receipt)
        if named and (source, named.group(1)) in refunds:
            add("refunds", _('refund {receipt} (source {source}) names {group}, which is a refund').format(receipt=receipt, source=source, group=named.group(1)))

    for code, target, balance in _rows(session, """
            SELECT c.code, t.id, COALESCE((SELECT SUM(delta) FROM ledger WHERE customer_id = c.id), 0)
            FROM customer c LEFT JOIN customer t ON t.id = c.merged_into_id WHERE c.status = 'merged'"""):
        if target is None:
            add("merged", _('{code} is merged into a missing customer').format(code=code))
        if balance != 0:
            add("merged", _('{code} is merged but still has a balance of {balance}').format(code=code, balance=balance))
    for (code,) in _rows(session, f"""
            SELECT c.code FROM customer c WHERE c.status = 'forgotten' AND {_holds_personal_data("c")}"""):
        add("forgotten", _('{code} is forgotten but still holds personal data').format(code=code))
    for (response_id,) in _rows(session, """
            SELECT s.id FROM survey_response s JOIN customer c ON c.id = s.customer_id
            LEFT JOIN customer t ON t.id = c.merged_into_id
            WHERE (c.status = 'forgotten' OR t.status = 'forgotten') AND s.comment IS NOT NULL"""):
        add("forgotten", _('survey response {response_id} of a forgotten customer keeps its comment').format(response_id=response_id))
    for code, target in _rows(session, f"""
            SELECT c.code, t.code FROM customer c JOIN customer t ON t.id = c.merged_into_id
            WHERE t.status = 'forgotten' AND {_holds_personal_data("c")}"""):
        add("forgotten", _('{code} was merged into forgotten {target} but still holds personal data (run `loyalty customer forget {target} --yes` again)').format(code=code, target=target))
    kinds = ", ".join(f"'{kind}'" for kind in FREE_TEXT_KINDS)
    for (entry_id,) in _rows(session, f"""
            SELECT l.id FROM ledger l JOIN customer c ON c.id = l.customer_id
            LEFT JOIN customer t ON t.id = c.merged_into_id
            WHERE (c.status = 'forgotten' OR t.status = 'forgotten') AND l.kind IN ({kinds})
            AND l.note != '{ERASED_REASON}'"""):
        add("forgotten", _('ledger row {entry_id} of a forgotten customer keeps its typed reason').format(entry_id=entry_id))
    if sqlite:
        from loyaltycli.services.merge import scrub_pending

        for code in scrub_pending(session):
            add("forgotten", _("erased data of {code} may still sit in the file's free space (a forget was stopped before compacting it); run `loyalty customer forget {code} --yes` again").format(code=code))
    # stamp cards: a voucher ends once (used, or moved by a merge), and only its own customer's on its card
    for row_id, voucher_id, kind in _rows(session, """
            SELECT e.id, e.voucher_id, v.kind FROM card_ledger e LEFT JOIN card_ledger v ON v.id = e.voucher_id
            WHERE e.unit = 'voucher' AND e.delta < 0 AND (v.id IS NULL OR v.kind != 'voucher'
            OR v.customer_id != e.customer_id OR v.card_id != e.card_id)"""):
        add("cards", _('card ledger row {row_id} ends voucher {voucher_id}, which is not a voucher of the same customer and card').format(row_id=row_id, voucher_id=voucher_id))
    for voucher_id, times in _rows(session, """
            SELECT voucher_id, COUNT(*) FROM card_ledger WHERE unit = 'voucher' AND delta < 0
            GROUP BY voucher_id HAVING COUNT(*) > 1"""):
        add("cards", _('voucher {voucher_id} was used or moved {times} times').format(voucher_id=voucher_id, times=times))
    return out
