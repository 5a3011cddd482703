"""Accounts as people read them: one customer's card, and the customer list with balances and tiers."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.store import ledger, tiers as rules
from loyaltycli.store.models import Customer, LedgerEntry, Purchase
from loyaltycli.store.program import Program
from loyaltycli.i18n import _


def _consent(session: Session, customer: Customer) -> dict:
    """Every channel's current answer (loyaltycli/services/consent.py), and when and how the e-mail offers were
    agreed to under the older keys (None when not agreed, or agreed before records were kept)."""
    from loyaltycli.services import consent

    answers = consent.current(session, customer.id)
    email = answers[consent.EMAIL] if customer.consent else None
    return {"consent_at": email.at if email and email.given else None,
            "consent_how": email.how if email and email.given else None,
            "consents": {channel: answer.as_dict() if answer else None for channel, answer in answers.items()}}


def merged_into(session: Session, customer: Customer) -> str | None:
    """The code of the customer a merged duplicate was folded into (None for everyone else)."""
    if customer.status != "merged" or customer.merged_into_id is None:
        return None
    target = session.get(Customer, customer.merged_into_id)
    return target.code if target is not None else None


def _expiring(expiring) -> list[dict]:
    return [{"expires_at": when, "points": pts} for when, pts in expiring]


def balance(session: Session, program: Program, customer: Customer) -> dict:
    """What `balance` shows of a customer: the spendable balance, the tier, the points due to expire soon, the
    customer a merged duplicate went into and, in a shop with stamp cards, the customer's cards."""
    now = clock.now()
    points, expiring = ledger.spendable_and_expiring(session, customer.id, now)  # one read, one replay
    out = {"balance": points, "tier": rules.current_tier(session, program, customer.id, now).name,
           "expiring_soon": _expiring(expiring),
           "merged_into": merged_into(session, customer)}
    if program.cards:
        out["cards"] = _cards(session, customer.id, now, program)
    _programs(session, program, customer.id, now, out)
    return out


def _programs(session: Session, program: Program, customer_id: int, now, out: dict) -> None:
    """What the other program types show of the customer (loyaltycli.programs: goals...): each under its
    JSON key, and their texts for people under ``shown`` (key -> text; not part of the JSON)."""
    from loyaltycli import programs

    out["shown"] = {}
    for key, value, text in programs.shown(session, program, customer_id, now):
        out[key] = value
        out["shown"][key] = text


def account(session: Session, program: Program, customer: Customer, *, recent: int = 10) -> dict:
    """A customer's profile with balance, tier, progress to the next tier, expiring points, recent rows."""
    now = clock.now()
    spend = rules.qualifying_spend(session, program, customer.id, now, inclusive=True)
    tier = program.tier_for_spend(spend)
    nxt = program.next_tier(spend)
    rows, points, expiring = ledger.statement_and_spendable(session, customer.id, now)  # one read of the ledger
    out = {
        "code": customer.code, "name": customer.name, "phone": customer.phone, "email": customer.email,
        "card": customer.card, "birthday": customer.birthday, "consent": customer.consent,
        "enrolled_at": customer.enrolled_at, "status": customer.status,
        "merged_into": merged_into(session, customer),
        **_consent(session, customer),
        "balance": points,
        "tier": tier.name, "spend": spend,
        "next_tier": nxt.name if nxt else None, "missing_for_next": (nxt.min_spend - spend) if nxt else None,
        "referral_code": customer.referral_code,
        "tax_id": customer.tax_id,  # after the older keys: CSV columns keep their places
        "language": customer.language,  # None: the shop's
        "expiring_soon": _expiring(expiring),
        "recent": rows[-recent:],
    }
    if program.cards:  # a shop with stamp cards: the customer's cards (stamps, vouchers)
        out["cards"] = _cards(session, customer.id, now, program)
    _programs(session, program, customer.id, now, out)
    return out


def _cards(session: Session, customer_id: int, now, program: Program) -> list[dict]:
    from loyaltycli.services.cards import customer_cards

    return customer_cards(session, customer_id, now, program.cards)


def list_accounts(session: Session, program: Program, *, search: str | None = None,
                  tier: str | None = None) -> list[dict]:
    """Active customers with balance, qualifying spend and tier, in one set-based query."""
    now = clock.now()
    balances = (select(LedgerEntry.customer_id, func.sum(LedgerEntry.delta).label("balance"))
                .group_by(LedgerEntry.customer_id).subquery())
    spends = (select(Purchase.customer_id, func.sum(Purchase.amount).label("spend"))
              .where(rules.in_window(program, now, inclusive=True))
              .group_by(Purchase.customer_id).subquery())
    query = (select(Customer.id, Customer.code, Customer.name, Customer.phone, Customer.email, Customer.card,
                    func.coalesce(balances.c.balance, 0), func.coalesce(spends.c.spend, 0))
             .outerjoin(balances, balances.c.customer_id == Customer.id)
             .outerjoin(spends, spends.c.customer_id == Customer.id)
             .where(Customer.status == "active").order_by(Customer.id))
    if search:
        from loyaltycli.services.customers import search_conditions

        query = query.where(or_(*search_conditions(search, program)))
    wanted = tier.strip().lower() if tier else None
    if wanted and wanted not in {t.name.lower() for t in program.tiers}:
        from loyaltycli.base.errors import InvalidInput

        raise InvalidInput(_('unknown tier {tier!r}; tiers are {value}').format(tier=tier, value=', '.join(t.name for t in program.tiers)))
    out = []
    # points expired but not written off yet are not spendable: only customers who may have some are replayed
    from loyaltycli.services.expiry import candidates

    expired = ledger.unwritten_expiry(session, candidates(session, now), now)
    for id_, code, name, phone, email, card, balance, spend in session.execute(query):
        balance -= expired.get(id_, 0)
        tier_name = program.tier_for_spend(spend).name
        if wanted and tier_name.lower() != wanted:
            continue
        out.append({"code": code, "name": name, "phone": phone, "email": email, "card": card,
                    "balance": balance, "tier": tier_name, "spend": spend})
    return out
