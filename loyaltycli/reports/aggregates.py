"""The SQL aggregates behind every report. No Rich here: plain dicts with cents, points and counts.

Every report covers a period [start, end) (reports/sql.py): by default the 365 days up to now. Spend is net of refunds
(a refund is a purchase row with a negative amount, counted at its own date). The aggregation runs in
SQL (one or two set-based queries per report) so that reports stay fast on a shop with a million sales.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, distinct, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.base.errors import InvalidInput
from loyaltycli.store.models import Customer, LedgerEntry, Purchase, PurchaseItem, Redemption, SurveyResponse
from loyaltycli.store.program import Program
from loyaltycli.reports.sql import (YEAR_DAYS, Period, as_days, by_customer_at, counted_customers, dialect,
                                    fetch, ledger_kinds, month_bounds, months, pct, ratio, rounded, tier_case,
                                    to_cents, tune, unix_seconds)
from loyaltycli.store import tiers as rules
from loyaltycli.i18n import gettext

RETENTION_DAYS = 365  # SPEC: counted at D when enrolled or purchased within the 365 days before D
CLOSE_TO_NEXT_PCT = 20  # "close to the next tier": missing at most 20% of the next tier's minimum

# Segments (recency / frequency / monetary), first matching rule wins; see README "Segments".
NEW_DAYS = 90
LAPSED_DAYS = 180
AT_RISK_DAYS = 90
CHAMPION_RECENCY_DAYS = 30
CHAMPION_PURCHASES = 6
LOYAL_PURCHASES = 4
SEGMENTS = ("champions", "loyal", "occasional", "new", "at risk", "lapsed")


# ---------------------------------------------------------------- tiers

def tiers_report(session: Session, program: Program, period: Period, *, close_list: int = 0) -> dict:
    """Customers and net spend in the period by tier (the tier at the period's end), and who is close
    to the next tier (missing at most CLOSE_TO_NEXT_PCT % of its minimum); ``close_list`` names the
    closest customers (a second pass)."""
    tune(session)
    window_start = rules.window_start(program, period.end)
    lower = min(window_start, period.start)
    at = by_customer_at(session)
    per = (select(Purchase.customer_id.label("customer_id"),
                  func.sum(case((at >= window_start, Purchase.amount), else_=0)).label("qual"),
                  func.sum(case((at >= period.start, Purchase.amount), else_=0)).label("spend"))
           .where(at >= lower, at < period.end)
           .group_by(Purchase.customer_id).subquery("per"))
    qual = func.coalesce(per.c.qual, 0)
    tier = tier_case(program, qual).label("tier")
    # The next tier's minimum for each tier, and the threshold from which a customer is "close".
    nxt = {t.name: program.tiers[i + 1] for i, t in enumerate(program.tiers[:-1])}
    close_whens = [(tier_case(program, qual) == literal(name),
                    qual >= n.min_spend * (100 - CLOSE_TO_NEXT_PCT) // 100) for name, n in nxt.items()]
    is_close = case(*close_whens, else_=False) if close_whens else literal(False)
    base = (select(Customer.id, Customer.code, Customer.name, Customer.phone, tier, qual.label("qual"),
                   func.coalesce(per.c.spend, 0).label("spend"), is_close.label("close"))
            .outerjoin(per, per.c.customer_id == Customer.id)
            .where(counted_customers(period.end))).subquery("base")
    rows = fetch(session, 
        select(base.c.tier, func.count(), func.sum(base.c.spend),
               func.sum(case((base.c.close, 1), else_=0)))
        .group_by(base.c.tier)).all()
    found = {r[0]: r for r in rows}
    total = sum(r[2] or 0 for r in rows)
    tiers = []
    for t in program.tiers:
        r = found.get(t.name)
        customers, spend, close = (r[1], r[2] or 0, r[3] or 0) if r else (0, 0, 0)
        tiers.append({"tier": t.name, "customers": customers, "spend": spend, "share": pct(spend, total),
                      "min_spend": t.min_spend, "close_to_next": close})
    close_rows = fetch(session, 
        select(base.c.code, base.c.name, base.c.phone, base.c.tier, base.c.qual)
        .where(base.c.close).order_by(base.c.qual.desc(), base.c.code).limit(close_list)).all() if close_list else []
    close = [{"code": code, "name": name, "phone": phone, "tier": t, "qualifying_spend": q, "next_tier": nxt[t].name,
              "missing": nxt[t].min_spend - q} for code, name, phone, t, q in close_rows]
    return {"period": period.as_dict(), "tiers": tiers, "total_spend": total, "close_to_next": close}


# ---------------------------------------------------------------- surveys

def nps_report(session: Session, program: Program, period: Period, *, comments: int = 5) -> dict:
    """NPS (% promoters 9-10 - % detractors 0-6), CSAT (% of 4-5), CLI (mean of the three question means)."""
    tune(session)
    in_period = and_(SurveyResponse.at >= period.start, SurveyResponse.at < period.end)
    s = SurveyResponse
    row = fetch(session, select(
        func.count(s.nps), func.sum(case((s.nps >= 9, 1), else_=0)),
        func.sum(case((and_(s.nps >= 7, s.nps <= 8), 1), else_=0)), func.sum(case((s.nps <= 6, 1), else_=0)),
        func.count(s.csat), func.sum(case((s.csat >= 4, 1), else_=0)),
        func.avg(s.cli1), func.avg(s.cli2), func.avg(s.cli3)).where(in_period)).one()
    responses, promoters, passives, detractors = row[0], row[1] or 0, row[2] or 0, row[3] or 0
    cli_means = [Decimal(str(v)) for v in row[6:9] if v is not None]
    out = {"period": period.as_dict(), "responses": responses, "promoters": promoters, "passives": passives,
           "detractors": detractors, "nps": _nps(promoters, detractors, responses),
           "csat_responses": row[4], "csat": pct(row[5] or 0, row[4]),
           "cli": rounded(sum(cli_means) / len(cli_means), 2) if len(cli_means) == 3 else None}
    qual = rules.window_spend(program, s.customer_id, period.end).correlate(s)
    scored = (select(tier_case(program, qual).label("tier"), s.nps.label("nps"))
              .where(in_period, s.nps.is_not(None), s.customer_id.is_not(None)).subquery())
    by_tier = fetch(session, 
        select(scored.c.tier, func.count(), func.sum(case((scored.c.nps >= 9, 1), else_=0)),
               func.sum(case((scored.c.nps <= 6, 1), else_=0))).group_by(scored.c.tier)).all()
    found = {r[0]: r for r in by_tier}
    out["by_tier"] = [{"tier": t.name, "responses": found[t.name][1] if t.name in found else 0,
                       "nps": _nps(found[t.name][2], found[t.name][3], found[t.name][1]) if t.name in found else None}
                      for t in program.tiers]
    out["trend"] = []
    for label, start, end in month_bounds(period):
        n, p, d = fetch(session, select(func.count(s.nps), func.sum(case((s.nps >= 9, 1), else_=0)),
                                         func.sum(case((s.nps <= 6, 1), else_=0)))
                                  .where(s.at >= start, s.at < end)).one()
        out["trend"].append({"month": label, "responses": n, "nps": _nps(p or 0, d or 0, n)})
    out["comments"] = [{"at": at, "code": code, "nps": nps, "comment": comment} for at, code, nps, comment in
                       fetch(session, select(s.at, Customer.code, s.nps, s.comment)
                                       .outerjoin(Customer, Customer.id == s.customer_id)
                                       .where(in_period, s.comment.is_not(None), s.comment != "")
                                       .order_by(s.at.desc(), s.id.desc()).limit(comments)).all()]
    return out


def _nps(promoters, detractors, responses) -> float | None:
    if not responses:
        return None
    return rounded(Decimal(promoters - detractors) * 100 / Decimal(responses), 1)


# ---------------------------------------------------------------- retention

def active_count(session: Session, at: datetime) -> int:
    """SPEC: customers enrolled before ``at`` who enrolled or purchased within the 365 days before it."""
    since = at - timedelta(days=RETENTION_DAYS)
    bought = exists().where(Purchase.customer_id == Customer.id, Purchase.at >= since, Purchase.at < at,
                            Purchase.amount > 0)
    return fetch(session, select(func.count()).select_from(Customer).where(
        counted_customers(at), or_(Customer.enrolled_at >= since, bought))).scalar_one()


def retention_report(session: Session, program: Program, period: Period) -> dict:
    """CRR = (E - N) / S x 100; churn = (S + N - E) / (S + N) x 100."""
    tune(session)
    start_count = active_count(session, period.start)
    end_count = active_count(session, period.end)
    new = fetch(session, select(func.count()).select_from(Customer).where(
        Customer.enrolled_at >= period.start, counted_customers(period.end))).scalar_one()
    return {"period": period.as_dict(), "start_count": start_count, "end_count": end_count, "new": new,
            "crr": pct(end_count - new, start_count),
            "churn": pct(start_count + new - end_count, start_count + new)}


# ---------------------------------------------------------------- CLV

def clv_report(session: Session, program: Program, period: Period) -> dict:
    """CLV = average order value x purchases per customer per year x average lifespan in years.

    Over the customers who bought in the period: AOV = net spend / sales; purchases per year = sales /
    customers / period years; a customer's lifespan runs from their first to their last sale (all
    history up to the period's end), at least one period long.
    """
    tune(session)
    window_start = rules.window_start(program, period.end)
    sale = Purchase.amount > 0
    at = by_customer_at(session)
    in_period = at >= period.start
    per = (select(Purchase.customer_id.label("customer_id"),
                  func.sum(case((and_(sale, in_period), 1), else_=0)).label("orders"),
                  func.sum(case((in_period, Purchase.amount), else_=0)).label("spend"),
                  func.sum(case((at >= window_start, Purchase.amount), else_=0)).label("qual"),
                  func.max(case((sale, at))).label("last"))
           .where(at >= min(period.start, window_start), at < period.end)
           .group_by(Purchase.customer_id).subquery("per"))
    # The first purchase, from all history: one index seek per customer.
    first = (select(func.min(Purchase.at)).where(Purchase.customer_id == per.c.customer_id)
             .correlate(per).scalar_subquery())
    span = as_days(session, per.c.last) - as_days(session, first)
    lifespan = func.max(span, period.days) if dialect(session) == "sqlite" else func.greatest(span, period.days)
    tier = tier_case(program, per.c.qual)
    base = (select(per.c.orders, per.c.spend, lifespan.label("life"), tier.label("tier"))
            .where(per.c.orders > 0)).subquery("base")
    rows = fetch(session, select(base.c.tier, func.count(), func.sum(base.c.orders), func.sum(base.c.spend),
                                  func.sum(base.c.life)).group_by(base.c.tier)).all()

    def figures(customers, orders, spend, life_days) -> dict:
        if not customers:
            return {"customers": 0, "orders": 0, "spend": 0, "aov": None, "purchases_per_year": None,
                    "lifespan_years": None, "clv": None}
        aov = Decimal(spend) / orders
        per_year = Decimal(orders) / customers / Decimal(str(period.years))
        life_years = Decimal(str(life_days)) / customers / YEAR_DAYS
        return {"customers": customers, "orders": orders, "spend": spend, "aov": to_cents(aov),
                "purchases_per_year": rounded(per_year, 2), "lifespan_years": rounded(life_years, 2),
                "clv": to_cents(aov * per_year * life_years)}

    found = {r[0]: r for r in rows}
    total = figures(sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows),
                    sum(r[4] for r in rows))
    by_tier = [{"tier": t.name, **(figures(*found[t.name][1:]) if t.name in found else figures(0, 0, 0, 0))}
               for t in program.tiers]
    return {"period": period.as_dict(), **total, "by_tier": by_tier}


# ---------------------------------------------------------------- redemption

def points_by_month(session: Session, period: Period) -> dict[str, tuple[int, int]]:
    """month -> (points issued: every positive ledger row, points redeemed)."""
    kinds = ledger_kinds(session)
    out = {}
    for label, start, end in month_bounds(period):
        issued, redeemed = fetch(session, 
            select(func.sum(case((LedgerEntry.delta > 0, LedgerEntry.delta), else_=0)),
                   -func.sum(case((LedgerEntry.kind == "redeem", LedgerEntry.delta), else_=0)))
            .where(LedgerEntry.kind.in_(kinds), LedgerEntry.at >= start, LedgerEntry.at < end)).one()
        out[label] = (issued or 0, redeemed or 0)
    return out


def _local_day(session: Session, column, shifts: list[tuple[datetime, int]]):
    """SQL: the shop's calendar date of a (UTC) timestamp column, from the zone's offsets in force
    (``clock.offsets``: one CASE branch per daylight-saving change), on SQLite and PostgreSQL alike."""
    postgres = dialect(session) == "postgresql"

    def shifted(seconds: int):
        if postgres:
            return func.date(column + literal(timedelta(seconds=seconds)))
        return func.date(unix_seconds(column) + seconds, "unixepoch")

    if len(shifts) == 1:
        return shifted(shifts[0][1])
    return case(*[(column < shifts[i + 1][0], shifted(offset)) for i, (_, offset) in enumerate(shifts[:-1])],
                else_=shifted(shifts[-1][1]))


def redemption_report(session: Session, program: Program, period: Period) -> dict:
    """Redemption rate = points redeemed / points earned (issued: every positive ledger row) in the period;
    average basket of the sales made on a day the customer redeemed vs the other sales."""
    tune(session)
    by_month = points_by_month(session, period)
    earned = sum(v[0] for v in by_month.values())
    redeemed = sum(v[1] for v in by_month.values())
    count, value = fetch(session, select(func.count(), func.coalesce(func.sum(Redemption.value), 0)).where(
        Redemption.at >= period.start, Redemption.at < period.end)).one()
    # "The same day" is the shop's calendar day (its time zone), not a UTC day.
    lo, hi = period.start - timedelta(days=1), period.end + timedelta(days=1)
    first, last = fetch(session, select(func.min(Redemption.at), func.max(Redemption.at))
                       .where(Redemption.at >= lo, Redemption.at < hi)).one()
    n_with = sum_with = 0
    if first is not None:
        first, last = clock.as_utc(first), clock.as_utc(last)
        shifts = clock.offsets(first - timedelta(days=2), last + timedelta(days=2))
        # From each redemption to the same customer's sales that local day (few redemptions, indexed sales).
        matched = (select(Purchase.id, Purchase.amount)
                   .join(Redemption, and_(Redemption.customer_id == Purchase.customer_id,
                                          _local_day(session, Purchase.at, shifts)
                                          == _local_day(session, Redemption.at, shifts)))
                   .where(Redemption.at >= lo, Redemption.at < hi,
                          Purchase.at >= max(period.start, first - timedelta(days=2)),
                          Purchase.at < min(period.end, last + timedelta(days=2)), Purchase.amount > 0)
                   .distinct().subquery())
        n_with, sum_with = fetch(session, select(func.count(), func.coalesce(func.sum(matched.c.amount), 0))).one()
    n_all, sum_all = fetch(session, 
        select(func.count(), func.coalesce(func.sum(Purchase.amount), 0))
        .where(Purchase.at >= period.start, Purchase.at < period.end, Purchase.amount > 0)).one()
    n_without, sum_without = n_all - n_with, sum_all - sum_with
    return {"period": period.as_dict(), "points_earned": earned, "points_redeemed": redeemed,
            "rate": ratio(redeemed, earned, 4), "redemptions": count, "value": value,
            "sales_with_redemption": n_with, "avg_basket_with": to_cents(Decimal(sum_with) / n_with) if n_with else None,
            "sales_without_redemption": n_without,
            "avg_basket_without": to_cents(Decimal(sum_without) / n_without) if n_without else None}


# ---------------------------------------------------------------- upsell

def upsell_report(session: Session, program: Program, period: Period) -> dict:
    """Upsell ratio = customers who bought more than one distinct product / customers who bought exactly one
    (from the line items of the period's sales)."""
    tune(session)
    # More than one distinct product <=> the smallest and largest SKU differ (no DISTINCT needed).
    per = (select(Purchase.customer_id, func.min(PurchaseItem.sku).label("low"),
                  func.max(PurchaseItem.sku).label("high"))
           .join(PurchaseItem, PurchaseItem.purchase_id == Purchase.id)
           .where(by_customer_at(session) >= period.start, by_customer_at(session) < period.end,
                  Purchase.amount > 0)
           .group_by(Purchase.customer_id)).subquery()
    multi, single = fetch(session, select(func.coalesce(func.sum(case((per.c.low != per.c.high, 1), else_=0)), 0),
                                           func.coalesce(func.sum(case((per.c.low == per.c.high, 1), else_=0)), 0))
                                    ).one()
    return {"period": period.as_dict(), "customers_multi": multi, "customers_single": single,
            "customers": multi + single, "ratio": ratio(multi, single, 2),
            "products": top_products(session, period)}


def top_products(session: Session, period: Period, limit: int = 10) -> list[dict]:
    """The period's most bought products (by customers who bought them, then quantity), with the product's
    name (the description column of imports, store/products.py)."""
    from loyaltycli.store import products
    from loyaltycli.base.numbers import quantity_text

    buyers = func.count(distinct(Purchase.customer_id))
    quantity = func.sum(PurchaseItem.quantity_milli)
    rows = fetch(session, select(PurchaseItem.sku, buyers, quantity)
                .join(Purchase, Purchase.id == PurchaseItem.purchase_id)
                .where(Purchase.at >= period.start, Purchase.at < period.end, Purchase.amount > 0)
                .group_by(PurchaseItem.sku).order_by(buyers.desc(), quantity.desc(), PurchaseItem.sku)
                .limit(limit)).all()
    names = products.descriptions(session, [sku for sku, _, _ in rows])
    return [{"sku": sku, "description": names.get(sku, ""), "customers": int(n), "quantity": quantity_text(q)}
            for sku, n, q in rows]


# ---------------------------------------------------------------- channels

def channels_report(session: Session, program: Program, period: Period) -> dict:
    """Sales, refunds, net spend, customers and average basket by channel."""
    tune(session)
    sale = Purchase.amount > 0
    rows = fetch(session, 
        select(Purchase.channel, func.sum(case((sale, 1), else_=0)),
               func.sum(case((sale, Purchase.amount), else_=0)),
               -func.sum(case((sale, 0), else_=Purchase.amount)), func.sum(Purchase.amount),
               func.count(distinct(Purchase.customer_id)))
        .where(Purchase.at >= period.start, Purchase.at < period.end)
        .group_by(Purchase.channel).order_by(func.sum(Purchase.amount).desc(), Purchase.channel)).all()
    total = sum(r[4] for r in rows)
    out = [{"channel": ch, "sales": n, "gross": gross, "refunds": refunds, "spend": net, "customers": customers,
            "avg_basket": to_cents(Decimal(gross) / n) if n else None, "share": pct(net, total)}
           for ch, n, gross, refunds, net, customers in rows]
    return {"period": period.as_dict(), "channels": out, "total_spend": total}


# ---------------------------------------------------------------- segments

def _segment_base(session: Session, program: Program, period: Period):
    """Per active customer: recency (days since last sale), frequency, monetary, segment."""
    end = period.end
    at = by_customer_at(session)
    per = (select(Purchase.customer_id.label("customer_id"),
                  func.max(case((Purchase.amount > 0, at))).label("last_sale"),
                  func.sum(case((and_(Purchase.amount > 0, at >= period.start), 1), else_=0)).label("freq"),
                  func.sum(case((at >= period.start, Purchase.amount), else_=0)).label("money"))
           .where(at < end, at >= min(period.start, end - timedelta(days=LAPSED_DAYS)))
           .group_by(Purchase.customer_id)).subquery("per")
    last = per.c.last_sale
    freq = func.coalesce(per.c.freq, 0)
    money = func.coalesce(per.c.money, 0)
    champion_spend = min((t.min_spend for t in program.tiers if t.min_spend > 0), default=0)
    segment = case(
        (Customer.enrolled_at >= end - timedelta(days=NEW_DAYS), literal("new")),
        (or_(last.is_(None), last < end - timedelta(days=LAPSED_DAYS)), literal("lapsed")),
        (last < end - timedelta(days=AT_RISK_DAYS), literal("at risk")),
        (and_(last >= end - timedelta(days=CHAMPION_RECENCY_DAYS), freq >= CHAMPION_PURCHASES,
              money >= champion_spend), literal("champions")),
        (freq >= LOYAL_PURCHASES, literal("loyal")),
        else_=literal("occasional"))
    recency = func.round(as_days(session, literal(end, Purchase.at.type)) - as_days(session, last))
    return (select(Customer.id.label("id"), Customer.code.label("code"), Customer.name.label("name"),
                   Customer.phone.label("phone"), Customer.email.label("email"),
                   Customer.consent.label("consent"), segment.label("segment"), recency.label("recency_days"),
                   freq.label("frequency"), money.label("monetary"), last.label("last_sale"))
            .outerjoin(per, per.c.customer_id == Customer.id)
            .where(Customer.status == "active", Customer.enrolled_at < end)).subquery("seg")


def segments_report(session: Session, program: Program, period: Period) -> dict:
    """Customers per segment with their spend in the period."""
    tune(session)
    base = _segment_base(session, program, period)
    rows = {r[0]: r for r in fetch(session, 
        select(base.c.segment, func.count(), func.sum(base.c.monetary), func.sum(case((base.c.consent, 1), else_=0)))
        .group_by(base.c.segment)).all()}
    total = sum(r[1] for r in rows.values())
    return {"period": period.as_dict(), "customers": total, "segments": [
        {"segment": name, "customers": rows[name][1] if name in rows else 0,
         "share": pct(rows[name][1], total) if name in rows else (0.0 if total else None),
         "spend": rows[name][2] or 0 if name in rows else 0,
         "with_consent": rows[name][3] or 0 if name in rows else 0} for name in SEGMENTS]}


def segment_members(session: Session, program: Program, period: Period, *, segment: str | None = None,
                    consent_only: bool = False) -> list[dict]:
    """One row per customer with contact details and consent, for an e-mail or SMS campaign."""
    if segment is not None and segment.strip().lower() not in SEGMENTS:
        raise InvalidInput(gettext('unknown segment {segment!r}; segments are {segments}').format(segment=segment, segments=', '.join(SEGMENTS)))
    tune(session)
    base = _segment_base(session, program, period)
    from loyaltycli.store.models import ConsentRecord

    # the proof of consent: the latest record of each customer (when and how it was given)
    # of e-mail offers (``consent`` is that answer: loyaltycli/services/consent.py)
    latest = (select(ConsentRecord.customer_id, func.max(ConsentRecord.id).label("record_id"))
              .where(ConsentRecord.channel == "email").group_by(ConsentRecord.customer_id).subquery())
    query = (select(base.c.code, base.c.name, base.c.phone, base.c.email, base.c.consent, base.c.segment,
                    base.c.recency_days, base.c.frequency, base.c.monetary, ConsentRecord.at, ConsentRecord.how)
             .select_from(base)
             .outerjoin(latest, latest.c.customer_id == base.c.id)
             .outerjoin(ConsentRecord, ConsentRecord.id == latest.c.record_id)
             .order_by(base.c.id))
    if segment is not None:
        query = query.where(base.c.segment == segment.strip().lower())
    if consent_only:
        query = query.where(base.c.consent)
    return [{"code": code, "name": name, "phone": phone, "email": email, "consent": bool(consent),
             "segment": seg, "recency_days": int(rec) if rec is not None else None, "frequency": freq,
             "monetary": money, "consent_at": at if consent else None, "consent_how": how if consent else None}
            for code, name, phone, email, consent, seg, rec, freq, money, at, how in fetch(session, query)]


# ---------------------------------------------------------------- summary

def sales_by_month(session: Session, period: Period) -> dict[str, tuple[int, int]]:
    """month -> (sales, net spend)."""
    out = {}
    for label, start, end in month_bounds(period):
        n, net = fetch(session, select(func.sum(case((Purchase.amount > 0, 1), else_=0)), func.sum(Purchase.amount))
                                 .where(Purchase.at >= start, Purchase.at < end)).one()
        out[label] = (n or 0, net or 0)
    return out


def summary_report(session: Session, program: Program, period: Period) -> dict:
    """The headline figures and monthly series of the one-screen dashboard."""
    tune(session)
    customers = fetch(session, select(func.count()).select_from(Customer).where(
        Customer.status == "active", Customer.enrolled_at < period.end)).scalar_one()
    sales = sales_by_month(session, period)
    points = points_by_month(session, period)
    nps = nps_report(session, program, period, comments=3)
    retention = retention_report(session, program, period)
    clv = clv_report(session, program, period)
    n_sales = sum(v[0] for v in sales.values())
    spend = sum(v[1] for v in sales.values())
    issued = sum(v[0] for v in points.values())
    redeemed = sum(v[1] for v in points.values())
    monthly = [{"month": m, "sales": sales.get(m, (0, 0))[0], "spend": sales.get(m, (0, 0))[1],
                "points_earned": points.get(m, (0, 0))[0], "points_redeemed": points.get(m, (0, 0))[1],
                "nps": t["nps"]} for m, t in zip(months(period), nps["trend"])]
    out = {"period": period.as_dict(), "customers": customers, "new": retention["new"], "sales": n_sales,
           "spend": spend, "aov": clv["aov"], "points_earned": issued, "points_redeemed": redeemed,
           "redemption_rate": ratio(redeemed, issued, 4), "nps": nps["nps"], "responses": nps["responses"],
           "crr": retention["crr"], "churn": retention["churn"], "clv": clv["clv"],
           "monthly": monthly, "comments": nps["comments"]}
    if program.cards:  # a shop with stamp cards: `report cards` over the same period in the summary
        out["cards"] = cards_report(session, program, period)["cards"]
    return out


# ---------------------------------------------------------------- stamp cards

def cards_report(session: Session, program: Program, period: Period) -> dict:
    """Per stamp card, in the period: customers who got a stamp (started), stamps given, taken back by
    refunds and expired, cards completed, vouchers issued, used, expired (their date in the period, unused);
    vouchers open (usable) at the end of the period. One GROUP BY over the stamp-card ledger."""
    from loyaltycli.store.cards import VOUCHER_GONE
    from loyaltycli.store.models import Card, CardEntry

    tune(session)
    start, end = period.start, period.end
    moment = min(end, clock.now())  # "open at the end": a voucher is not expired before its date has come
    gone = (select(CardEntry.voucher_id.label("voucher_id"), func.min(CardEntry.at).label("gone_at"))
            .where(CardEntry.kind.in_(VOUCHER_GONE), CardEntry.voucher_id.is_not(None))
            .group_by(CardEntry.voucher_id).subquery())
    row = CardEntry
    within = and_(row.at >= start, row.at < end)

    def total(condition, value=row.delta):
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    voucher = row.kind == "voucher"
    unused_at = lambda when: or_(gone.c.gone_at.is_(None), gone.c.gone_at >= when)  # noqa: E731
    ledger = (select(row.card_id.label("card_id"),
                     func.count(distinct(case((and_(within, row.kind == "stamp"), row.customer_id)))).label("started"),
                     total(and_(within, row.kind == "stamp")).label("stamps"),
                     -total(and_(within, row.kind == "unstamp")).label("stamps_taken_back"),
                     -total(and_(within, row.kind == "expire", row.unit == "stamp")).label("stamps_expired"),
                     # a receipt that came late may undo a completion (a complete row giving stamps back)
                     total(and_(within, row.kind == "complete"), case((row.delta < 0, 1), else_=-1)).label("completed"),
                     (total(and_(within, voucher), 1)
                      - total(and_(within, row.kind.in_(("merge_out", "voucher_void")), row.unit == "voucher"), 1)
                      ).label("issued"),
                     total(and_(within, row.kind == "voucher_used"), 1).label("used"),
                     total(and_(voucher, row.expires_at.is_not(None), row.expires_at >= start, row.expires_at < end,
                                row.expires_at <= moment, unused_at(row.expires_at)), 1).label("expired"),
                     total(and_(voucher, row.at < end, or_(row.expires_at.is_(None), row.expires_at > moment),
                                unused_at(end)), 1).label("open"))
              .select_from(row).outerjoin(gone, gone.c.voucher_id == row.id)
              .group_by(row.card_id).subquery())
    zero = lambda column: func.coalesce(column, 0)  # noqa: E731  (a card without a row: all zeros)
    rows = fetch(session, select(Card.name, Card.reward, Card.stamps, Card.per, Card.active,
                                *(zero(c) for c in list(ledger.c)[1:]))
                .select_from(Card).outerjoin(ledger, ledger.c.card_id == Card.id).order_by(Card.id)).all()
    out = [{"card": name, "reward": reward, "stamps_needed": needed, "per": per, "active": bool(active),
            "started": started, "stamps": stamps, "stamps_taken_back": back, "stamps_expired": expired_stamps,
            "completed": completed, "vouchers_issued": issued, "vouchers_used": used, "vouchers_expired": expired,
            "vouchers_open": open_}
           for name, reward, needed, per, active, started, stamps, back, expired_stamps, completed, issued, used,
           expired, open_ in rows]
    return {"period": period.as_dict(), "cards": out}
