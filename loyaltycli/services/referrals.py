"""Referrals: each customer's code, who referred whom, and a late code at the counter.

The rewards themselves are paid by ``rules.referral_bonuses`` on the referee's first qualifying purchase.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session, aliased

from loyaltycli.shop import clock
from loyaltycli.services.customers import find_by_referral_code, new_referral_code
from loyaltycli.base.errors import RuleNotMet
from loyaltycli.store.models import Customer, LedgerEntry, Purchase, Referral
from loyaltycli.store.program import Program
from loyaltycli.i18n import _

# A code forgotten at enrollment may still be given the same day, before the first purchase.
LATE_CODE_WINDOW = clock.DAY


def referral_code(session: Session, customer: Customer) -> str:
    """The customer's code; issued now if the customer has none (e.g. created by an old import)."""
    if not customer.referral_code:
        customer.referral_code = new_referral_code(session)
        session.flush()
    return customer.referral_code


def successful_count(session: Session, referrer_id: int) -> int:
    """How many of the referrer's referees have made their first qualifying purchase."""
    return session.execute(
        select(func.count()).select_from(Referral)
        .where(Referral.referrer_id == referrer_id, Referral.rewarded_purchase_id.is_not(None))
    ).scalar_one()


def add_referral(session: Session, program: Program, customer: Customer, code: str,
                 at: datetime | None = None) -> Referral:
    """Link a referrer to a customer who forgot the code at enrollment.

    Refused for a second referrer, self-referral, after the first purchase, or more than a day after
    enrollment: a code counts only when given at enrollment.
    """
    at = at or clock.now()
    existing = session.execute(select(Referral).where(Referral.referee_id == customer.id)).scalar()
    if existing is not None:
        referrer = session.get(Customer, existing.referrer_id)
        raise RuleNotMet(_('{code} was already referred by {code2} (code {code3}); one referrer per customer').format(code=customer.code, code2=referrer.code, code3=existing.code))
    referrer = find_by_referral_code(session, code)
    # Each refusal names its own reason: the owner of the code, or which detail they share.
    if referrer.id == customer.id:
        raise RuleNotMet(_("self-referral: code {referral_code} is {code}'s own code").format(referral_code=referrer.referral_code, code=customer.code))
    if customer.phone and customer.phone == referrer.phone:
        raise RuleNotMet(_('self-referral: code {referral_code} belongs to {code}, who has the same phone {phone}').format(referral_code=referrer.referral_code, code=referrer.code, phone=customer.phone))
    if customer.email and customer.email == referrer.email:
        raise RuleNotMet(_('self-referral: code {referral_code} belongs to {code}, who has the same e-mail {email}').format(referral_code=referrer.referral_code, code=referrer.code, email=customer.email))
    if referrer.enrolled_at > customer.enrolled_at:
        raise RuleNotMet(_('referral code {referral_code} was issued after {code} enrolled').format(referral_code=referrer.referral_code, code=customer.code))
    bought = session.execute(select(Purchase.receipt_id, Purchase.at).where(Purchase.customer_id == customer.id)
                             .order_by(Purchase.at).limit(1)).first()
    if bought is not None:
        raise RuleNotMet(_('a referral code is accepted only at enrollment (or the same day, before the first purchase): {code} already bought (receipt {receipt_id}, {at})').format(code=customer.code, receipt_id=bought.receipt_id, at=clock.local_text(bought.at)))
    if at - customer.enrolled_at > LATE_CODE_WINDOW:
        raise RuleNotMet(_('a referral code is accepted only at enrollment (or the same day, before the first purchase): {code} enrolled {enrolled_at}, more than a day ago').format(code=customer.code, enrolled_at=clock.local_text(customer.enrolled_at)))
    referral = Referral(referee_id=customer.id, referrer_id=referrer.id, code=referrer.referral_code, at=at)
    session.add(referral)
    session.flush()
    return referral


def list_referrals(session: Session, referrer: Customer | None = None) -> list[dict]:
    """Referrals, oldest first (one referrer's only, when given), with the points each side got."""
    referee = aliased(Customer)
    referrer_c = aliased(Customer)
    _bonus_key = literal("referral:", String).concat(cast(Referral.referee_id, String))
    referee_points = (select(LedgerEntry.delta).where(
        LedgerEntry.customer_id == Referral.referee_id,
        LedgerEntry.bonus_key == _bonus_key).scalar_subquery())
    referrer_points = (select(LedgerEntry.delta).where(
        LedgerEntry.customer_id == Referral.referrer_id,
        LedgerEntry.bonus_key == _bonus_key).scalar_subquery())
    query = (select(referrer_c.code, referee.code, referee.name, Referral.code, Referral.at, Referral.rewarded_at,
                    referee_points, referrer_points)
             .join(referee, referee.id == Referral.referee_id)
             .join(referrer_c, referrer_c.id == Referral.referrer_id)
             .order_by(Referral.at, Referral.id))
    if referrer is not None:
        query = query.where(Referral.referrer_id == referrer.id)
    return [{"referrer": a, "referee": b, "referee_name": name, "code": code, "at": at,
             "status": "rewarded" if rewarded_at else "pending", "rewarded_at": rewarded_at,
             "referee_points": rp or 0, "referrer_points": rrp or 0}
            for a, b, name, code, at, rewarded_at, rp, rrp in session.execute(query)]
