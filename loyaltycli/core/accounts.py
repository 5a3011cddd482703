"""Accounts as people read them: one customer's card, and the customer list with balances and tiers."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from loyaltycli.core import clock, ledger, rules
from loyaltycli.core.models import Customer, LedgerEntry, Purchase
from loyaltycli.core.program import Program


def account(session: Session, program: Program, customer: Customer, *, recent: int = 10) -> dict:
    """A customer's profile with balance, tier, progress to the next tier, expiring points, recent rows."""
    now = clock.now()
    spend = rules.qualifying_spend(session, program, customer.id, now, inclusive=True)
    tier = program.tier_for_spend(spend)
    nxt = program.next_tier(spend)
    rows = ledger.history(session, customer.id)
    return {
        "code": customer.code, "name": customer.name, "phone": customer.phone, "email": customer.email,
        "card": customer.card, "birthday": customer.birthday, "consent": customer.consent,
        "enrolled_at": customer.enrolled_at, "status": customer.status,
        "balance": rows[-1]["balance"] if rows else 0,
        "tier": tier.name, "spend": spend,
        "next_tier": nxt.name if nxt else None, "missing_for_next": (nxt.min_spend - spend) if nxt else None,
        "referral_code": customer.referral_code,
        "expiring_soon": [{"expires_at": when, "points": pts}
                          for when, pts in ledger.expiring_soon(session, customer.id, now)],
        "recent": rows[-recent:],
    }


def list_accounts(session: Session, program: Program, *, search: str | None = None,
                  tier: str | None = None) -> list[dict]:
    """Active customers with balance, qualifying spend and tier, in one set-based query."""
    from loyaltycli.core.customers import like_pattern

    now = clock.now()
    balances = (select(LedgerEntry.customer_id, func.sum(LedgerEntry.delta).label("balance"))
                .group_by(LedgerEntry.customer_id).subquery())
    spends = (select(Purchase.customer_id, func.sum(Purchase.amount).label("spend"))
              .where(Purchase.at >= now - clock.DAY * program.tier_window_days, Purchase.at <= now)
              .group_by(Purchase.customer_id).subquery())
    query = (select(Customer.code, Customer.name, Customer.phone, Customer.email, Customer.card,
                    func.coalesce(balances.c.balance, 0), func.coalesce(spends.c.spend, 0))
             .outerjoin(balances, balances.c.customer_id == Customer.id)
             .outerjoin(spends, spends.c.customer_id == Customer.id)
             .where(Customer.status == "active").order_by(Customer.id))
    if search:
        from loyaltycli.core.customers import search_conditions

        query = query.where(or_(*search_conditions(search, program)))
    wanted = tier.strip().lower() if tier else None
    if wanted and wanted not in {t.name.lower() for t in program.tiers}:
        from loyaltycli.core.errors import InvalidInput

        raise InvalidInput(f"unknown tier {tier!r}; tiers are {', '.join(t.name for t in program.tiers)}")
    out = []
    for code, name, phone, email, card, balance, spend in session.execute(query):
        tier_name = program.tier_for_spend(spend).name
        if wanted and tier_name.lower() != wanted:
            continue
        out.append({"code": code, "name": name, "phone": phone, "email": email, "card": card,
                    "balance": balance, "tier": tier_name, "spend": spend})
    return out
