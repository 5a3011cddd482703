"""`loyalty init --demo`: a living sample shop from sample_data/."""

from __future__ import annotations

import csv
from itertools import groupby
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyaltycli.core import clock, customers, points
from loyaltycli.core import surveys as surveys_core
from loyaltycli.core.errors import InvalidInput, RuleNotMet
from loyaltycli.core.models import Customer
from loyaltycli.core.money import parse_amount
from loyaltycli.core.program import load_program


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
        raise InvalidInput(f"no sample data in {folder}; give --sample-dir")
    if session.execute(select(func.count()).select_from(Customer)).scalar_one():
        raise RuleNotMet("the demo needs a fresh database: this one already has customers "
                         "(use --db demo.db for a separate one)")
    program = load_program(session)
    by_email = {}
    for row in _rows(folder / "customers.csv"):
        referrer = by_email.get((row.get("referred_by") or "").lower())
        customer = customers.enroll(
            session, program, row["name"], phone=row["phone"] or None, email=row["email"] or None,
            card=row["card"] or None, birthday=row["birthday"] or None, consent=True,
            referral_code=referrer.referral_code if referrer else None,
            at=clock.parse_timestamp(row["enrolled_at"]))
        if customer.email:
            by_email[customer.email] = customer
    sales = refunds = 0
    rows = list(_rows(folder / "till.csv"))
    for receipt_id, lines in groupby(rows, key=lambda r: r["receipt_id"]):
        lines = list(lines)
        first = lines[0]
        customer = customers.find(session, first["customer"], program)
        at = clock.parse_timestamp(first["timestamp"])
        amount = sum(parse_amount(line["amount"], allow_negative=True) for line in lines)
        if amount > 0:
            items = [points.Item(line["sku"], int(line["quantity"]), parse_amount(line["unit_price"]))
                     for line in lines]
            points.post_purchase(session, program, customer, amount, at=at, receipt_id=receipt_id,
                                 source="demo-till", channel=first["channel"], items=items)
            sales += 1
        elif amount < 0:
            sale = points.find_sale(session, receipt_id.removesuffix("-R"), "demo-till")
            points.post_refund(session, program, sale, -amount, at=at, refund_receipt=receipt_id)
            refunds += 1
    surveys = 0
    for row in _rows(folder / "surveys.csv"):
        customer = customers.find(session, row["customer"], program)
        cli = [row["cli1"], row["cli2"], row["cli3"]]
        surveys_core.record_survey(
            session, customer, nps=row["nps"] or None, csat=row["csat"] or None,
            cli=cli if any(cli) else None, comment=row["comment"] or None, at=clock.parse_timestamp(row["at"]))
        surveys += 1
    session.flush()
    enrolled = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    return {"customers": enrolled, "purchases": sales, "refunds": refunds, "surveys": surveys}
