"""Merging duplicate customers and forgetting a customer's personal data.

The ledger stays append-only through both: a merge moves points with a `merge_out` row on the
duplicate and `merge_in` rows on the customer kept; forgetting erases the profile (and the reasons
typed for the customer's awards) but keeps the anonymous rows, so every total still adds up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.store import ledger
from loyaltycli.base.errors import RuleNotMet
from loyaltycli.store.models import (Customer, Donation, LedgerEntry, Membership, Purchase, Redemption, Referral,
                                    SurveyResponse)
from loyaltycli.i18n import _


@dataclass
class MergeResult:
    keep: str
    duplicate: str
    points: int
    lots: list[dict] = field(default_factory=list)
    moved: dict[str, int] = field(default_factory=dict)
    filled: list[str] = field(default_factory=list)
    balance: int = 0


def merge_customers(session: Session, keep: Customer, duplicate: Customer, *,
                    at: datetime | None = None) -> MergeResult:
    """Fold ``duplicate`` into ``keep``: points (lot by lot, each with its own expiry date), purchases,
    surveys, referrals, redemptions, donations and memberships. The duplicate becomes unusable."""
    if keep.id == duplicate.id:
        raise RuleNotMet(_('{code} and {code2} are the same customer; nothing to merge').format(code=keep.code, code2=duplicate.code))
    for customer in (keep, duplicate):
        if customer.status != "active":
            raise RuleNotMet(_('customer {code} is {status}; only active customers can be merged').format(code=customer.code, status=_(customer.status)))
    at = at or clock.now()
    for customer_id in sorted((keep.id, duplicate.id)):
        ledger.lock_customer(session, customer_id)
    # Points that expired by now are written off first: they do not travel.
    ledger.expire_customer(session, duplicate.id, at)
    points = ledger.balance(session, duplicate.id)
    state = ledger.lot_state(session, duplicate.id, at)
    from loyaltycli.engine.notes import make as make_note

    codes = {"duplicate": duplicate.code, "keep": keep.code}
    note = make_note("merge", **codes)
    ledger.post(session, duplicate.id, "merge_out", -points, at, note=note)
    lots = []
    carried = 0
    for lot in state.lots:
        if lot.remaining > 0:
            ledger.post(session, keep.id, "merge_in", lot.remaining, at, expires_at=lot.expires_at,
                        note=make_note("merge_lot", **codes, points=lot.remaining,
                                       day=clock.local_text(lot.at)[:10]))
            lots.append({"points": lot.remaining, "expires_at": lot.expires_at})
            carried += lot.remaining
    rest = points - carried
    if rest or not lots:
        # A negative balance (after refunds) travels as a debt; a zero balance still records the merge.
        ledger.post(session, keep.id, "merge_in", rest, at, note=note)
    # Once-only bonuses the duplicate already had stay once-only for the merged customer.
    keep_keys = set(session.execute(select(LedgerEntry.bonus_key).where(
        LedgerEntry.customer_id == keep.id, LedgerEntry.bonus_key.is_not(None))).scalars())
    for key in session.execute(select(LedgerEntry.bonus_key).where(
            LedgerEntry.customer_id == duplicate.id, LedgerEntry.bonus_key.is_not(None))).scalars().all():
        if key not in keep_keys:
            ledger.post(session, keep.id, "merge_in", 0, at, bonus_key=key,
                        note=make_note("merge_bonus", **codes, key=key))

    from loyaltycli.services import cards

    cards.merge(session, keep.id, duplicate.id, at, note)  # stamps and vouchers travel too
    moved = {}
    for name, model in (("purchases", Purchase), ("surveys", SurveyResponse), ("redemptions", Redemption),
                        ("donations", Donation), ("memberships", Membership)):
        moved[name] = session.execute(update(model).where(model.customer_id == duplicate.id)
                                      .values(customer_id=keep.id)).rowcount
    # Referrals: those the duplicate made now count for the customer kept (not a referral of keep by
    # itself); the duplicate's own referrer moves over only if the customer kept has none.
    moved["referrals"] = session.execute(
        update(Referral).where(Referral.referrer_id == duplicate.id, Referral.referee_id != keep.id)
        .values(referrer_id=keep.id)).rowcount
    has_referrer = session.execute(select(Referral.id).where(Referral.referee_id == keep.id)).first()
    if not has_referrer:
        moved["referrals"] += session.execute(
            update(Referral).where(Referral.referee_id == duplicate.id, Referral.referrer_id != keep.id)
            .values(referee_id=keep.id)).rowcount
    # Customers merged into the duplicate earlier now point at the customer kept.
    session.execute(update(Customer).where(Customer.merged_into_id == duplicate.id)
                    .values(merged_into_id=keep.id))

    # Contact details the customer kept lacks come from the duplicate (unique ones leave it first).
    filled = []
    for name in ("phone", "email", "card", "tax_id", "name", "birthday"):
        if getattr(keep, name) in (None, "") and getattr(duplicate, name) not in (None, ""):
            value = getattr(duplicate, name)
            if name in ("phone", "email", "card", "tax_id"):
                setattr(duplicate, name, None)
                session.flush()
            setattr(keep, name, value)
            filled.append(name)
    from loyaltycli.services import consent

    consent.merge(session, keep, duplicate)
    if keep.language is None:
        keep.language = duplicate.language
    duplicate.status = "merged"
    duplicate.merged_into_id = keep.id
    session.flush()
    return MergeResult(keep=keep.code, duplicate=duplicate.code, points=points, lots=lots, moved=moved,
                       filled=filled, balance=ledger.spendable(session, keep.id, at))


PERSONAL_FIELDS = ("name", "phone", "email", "card", "birthday", "tax_id")
# ledger rows whose note is a reason typed by staff (`award --reason`), and what replaces it on forget
FREE_TEXT_KINDS = ("award", "adjust")
ERASED_REASON = "reason erased: customer forgotten"


# program_setting row that marks erased values that may still sit in the file's free space or WAL (a
# forget killed before its VACUUM): `db check` reports it, the next forget (or the same one again) clears it
SCRUB_PENDING = "_scrub_pending"


@dataclass
class ForgetResult:
    code: str
    forfeited: int
    erased: list[str]
    comments: int
    reasons: int = 0
    duplicates: list[str] = field(default_factory=list)
    again: bool = False


def forget_customer(session: Session, customer: Customer, *, at: datetime | None = None) -> ForgetResult:
    """Erase a customer's personal data (profile, survey comments, award reasons), and that of every
    duplicate merged into it; keep the anonymous ledger.

    Call inside a write session; overwrite freed space with ``PRAGMA secure_delete`` before, and
    ``scrub_file`` after the commit, so the old values are gone from the file itself. A customer already
    forgotten is not refused: what is left is erased (and the caller scrubs the file again)."""
    if customer.status == "merged":
        raise RuleNotMet(_('customer {code} was merged; forget the customer it was merged into').format(code=customer.code))
    at = at or clock.now()
    ledger.lock_customer(session, customer.id, require_active=False)
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        session.connection().exec_driver_sql("PRAGMA secure_delete=ON")
    from loyaltycli.services import consent

    again = customer.status == "forgotten"
    left = 0
    if not again:
        ledger.expire_customer(session, customer.id, at)
        left = ledger.balance(session, customer.id)
        if left > 0:
            # Nobody can spend them any more: write them off so the points owed add up.
            from loyaltycli.engine.notes import make as make_note

            ledger.post(session, customer.id, "forget", -left, at, note=make_note("forget"))
    duplicates = session.execute(select(Customer).where(Customer.merged_into_id == customer.id)
                                 .order_by(Customer.id)).scalars().all()
    people = [customer, *duplicates]
    erased = [name for name in PERSONAL_FIELDS if any(getattr(c, name) not in (None, "") for c in people)]
    for person in people:
        for name in PERSONAL_FIELDS:
            setattr(person, name, None)
        consent.withdraw(session, person, how="customer forget (personal data erased)", at=at)
    customer.status = "forgotten"
    ids = [person.id for person in people]
    from loyaltycli.services.passes import revoke_all

    revoke_all(session, ids, at=at)  # their cards stop working
    comments = session.execute(update(SurveyResponse).where(SurveyResponse.customer_id.in_(ids),
                                                            SurveyResponse.comment.is_not(None))
                               .values(comment=None)).rowcount
    # The one change ever made to ledger rows: the free text staff typed as a reason (award, adjust) may
    # name the person. Kind, points and times stay; the text goes.
    reasons = session.execute(update(LedgerEntry).where(LedgerEntry.customer_id.in_(ids),
                                                        LedgerEntry.kind.in_(FREE_TEXT_KINDS),
                                                        LedgerEntry.note != ERASED_REASON)
                              .values(note=ERASED_REASON)).rowcount
    if sqlite:
        _mark_scrub_pending(session, customer.code)
    session.flush()
    return ForgetResult(code=customer.code, forfeited=max(left, 0), erased=erased, comments=comments,
                        reasons=reasons, duplicates=[d.code for d in duplicates], again=again)


def _mark_scrub_pending(session: Session, code: str) -> None:
    import json

    from loyaltycli.store.models import ProgramSetting

    row = session.get(ProgramSetting, SCRUB_PENDING)
    codes = json.loads(row.value) if row is not None else []
    if code not in codes:
        codes.append(code)
    if row is None:
        session.add(ProgramSetting(key=SCRUB_PENDING, value=json.dumps(codes)))
    else:
        row.value = json.dumps(codes)


def scrub_pending(session: Session) -> list[str]:
    """Codes of forgotten customers whose erased values may still be in the file (a forget was stopped
    before it compacted the file)."""
    import json

    from loyaltycli.store.models import ProgramSetting

    row = session.get(ProgramSetting, SCRUB_PENDING)
    return json.loads(row.value) if row is not None else []


def scrub_file(database) -> bool:
    """VACUUM (outside any transaction) and fold the WAL back, so erased values leave the file; then clear
    the pending mark.

    Returns False when another process kept the WAL from being truncated (the mark stays: `db check`
    reports it and the next forget finishes it)."""
    import sqlite3

    database.sweep()  # an import or restore killed earlier may have left the person's data beside the database
    if not database.is_sqlite:
        return True
    with database.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        try:
            raw.execute("PRAGMA secure_delete=ON")
            # VACUUM, the checkpoints and the BEGIN each wait for the write lock: an import running is told
            # (WriteWaiters) and gives it back at its next block instead of holding it its 10 s
            with database.waiters.waiting():
                raw.execute("VACUUM")
                busy, _log, _done = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if busy == 0:
                    raw.execute("BEGIN IMMEDIATE")
                    raw.execute("DELETE FROM program_setting WHERE key = ?", (SCRUB_PENDING,))
                    raw.execute("COMMIT")
                    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            # Another till held the lock past the timeout: the erasure is committed and its freed pages
            # were zeroed (secure_delete); only the compaction is left for the next forget.
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            return False
        finally:
            raw.execute("PRAGMA secure_delete=OFF")
    return busy == 0
