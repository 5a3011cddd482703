"""`loyalty init --demo`: a living sample shop from sample_data/."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.services import customers
from loyaltycli.services import surveys as surveys_core
from loyaltycli.base.errors import InvalidInput, RuleNotMet
from loyaltycli.store.models import Customer, Purchase
from loyaltycli.store.program import load_program
from loyaltycli.i18n import _


def sample_dir() -> Path:
    """The project's sample_data/ folder (next to the package in a checkout)."""
    return Path(__file__).resolve().parents[2] / "sample_data"


def _rows(path: Path):
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def load_demo(session: Session, folder: Path | None = None) -> dict:
    """Enroll the sample customers, record the sample till's sales and refunds, store the surveys."""
    folder = Path(folder) if folder else sample_dir()
    try:
        found = (folder / "customers.csv").is_file()
    except OSError:  # a name too long for the file system
        found = False
    if not found:
        raise InvalidInput(_('no sample data in {folder}; give --sample-dir').format(folder=folder))
    existing = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    if existing:
        # Running the Quick start twice: the demo is there already, which is what was asked for.
        if session.execute(select(Purchase.id).where(Purchase.source == "demo-till").limit(1)).first():
            return {"customers": existing, "already_loaded": True}
        raise RuleNotMet(_('the demo needs a fresh database: this one already has customers of its own; give the demo a new file (`loyalty --db demo.db init --demo`, or another name)'))
    program = load_program(session)
    by_email = {}
    for row in _rows(folder / "customers.csv"):
        referrer = by_email.get((row.get("referred_by") or "").lower())
        customer = customers.enroll(
            session, program, row["name"], phone=row["phone"] or None, email=row["email"] or None,
            card=row["card"] or None, birthday=row["birthday"] or None, consent=True,
            referral_code=referrer.referral_code if referrer else None, consent_how="demo data (sample_data)",
            at=clock.parse_timestamp(row["enrolled_at"]))
        if customer.email:
            by_email[customer.email] = customer
    # A café's coffee card: every latte, espresso or cappuccino a stamp, the 10th is on the house.
    from loyaltycli.programs.cards import add_card

    add_card(session, "Coffee", 10, "Free coffee", skus=["LAT-*", "ESP-*", "CAP-*"], per="item", expires_days=365)
    # The sample till goes through the nightly importer, exactly as a shop's own export would.
    from loyaltycli.services.importer import Importer

    result = Importer(folder / "till.csv", source="demo-till").run_in(session)
    if result.rejected:
        raise InvalidInput(_('the sample till has {rejected} bad rows: {first_rejects}').format(rejected=result.rejected, first_rejects='; '.join(result.first_rejects[:3])))
    sales, refunds = result.receipts, result.refunds
    surveys = 0
    for row in _rows(folder / "surveys.csv"):
        customer = customers.find(session, row["customer"], program)
        cli = [row["cli1"], row["cli2"], row["cli3"]]
        surveys_core.record_survey(
            session, customer, nps=row["nps"] or None, csat=row["csat"] or None,
            cli=cli if any(cli) else None, comment=row["comment"] or None, at=clock.parse_timestamp(row["at"]))
        surveys += 1
    session.flush()
    redemptions, expired = _living_program(session, program)
    enrolled = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    return {"customers": enrolled, "purchases": sales, "refunds": refunds, "surveys": surveys,
            "redemptions": redemptions, "points_expired": expired}


def _living_program(session: Session, program) -> tuple[int, int]:
    """A reward catalogue, a membership plan, a free coffee for every customer who could afford one at
    their latest visit, and the expiry of lots older than a year: a program as it looks after a while."""
    from loyaltycli.programs import cards
    from loyaltycli.services import expiry, memberships, points, rewards
    from loyaltycli.store import ledger

    rewards.add_reward(session, program, "Free coffee", 150)
    rewards.add_reward(session, program, "Tote bag", 400)
    memberships.add_plan(session, "Friends of the Shop", 3000, 12, "1.5", "double stamps on event nights")
    now = clock.now()
    latest = session.execute(select(Purchase.customer_id, func.max(Purchase.at)).where(Purchase.amount > 0)
                             .group_by(Purchase.customer_id).order_by(Purchase.customer_id)).all()
    redeemed = 0
    for customer_id, last in latest:
        at = min(last + timedelta(minutes=1), now)
        ledger.expire_customer(session, customer_id, at)
        if ledger.balance(session, customer_id) >= 400:
            points.redeem(session, program, session.get(Customer, customer_id), reward="Free coffee", at=at)
            redeemed += 1
        try:  # a coffee card's voucher is used at the latest visit, while it is valid
            cards.use_voucher(session, session.get(Customer, customer_id), "Free coffee", at)
        except RuleNotMet:
            pass
    return redeemed, expiry.expire_all(session, now).points
