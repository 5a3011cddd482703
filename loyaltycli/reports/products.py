"""The products to suggest to a customer (`customer suggest`): what customers with similar baskets bought."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.store.models import Purchase, PurchaseItem
from loyaltycli.reports.sql import YEAR_DAYS, fetch, tune
from loyaltycli.store.products import descriptions

def suggest_products(session: Session, customer_id: int, *, limit: int = 5, neighbours: int = 50,
                     favourites: int = 10, days: int = YEAR_DAYS) -> list[dict]:
    """Products bought by the customers with the most similar baskets that this customer has not bought.

    Similar customers: those who bought most of this customer's ``favourites`` most bought products in
    the last ``days`` days (the top ``neighbours``). Each product they bought and this customer never did
    scores the number of favourites its buyers share; ties go to the product more of them bought.
    """
    tune(session)
    since = clock.now() - timedelta(days=days)
    bought = (select(PurchaseItem.sku).join(Purchase, Purchase.id == PurchaseItem.purchase_id)
              .where(Purchase.customer_id == customer_id, Purchase.amount > 0))
    mine = {sku for (sku,) in fetch(session, bought.distinct()).all()}
    if not mine:
        return []
    top = [sku for (sku,) in fetch(session, bought.group_by(PurchaseItem.sku)
                                   .order_by(func.sum(PurchaseItem.quantity_milli).desc(), PurchaseItem.sku)
                                   .limit(favourites)).all()]
    near = (select(Purchase.customer_id.label("customer_id"), func.count(distinct(PurchaseItem.sku)).label("shared"))
            .join(Purchase, Purchase.id == PurchaseItem.purchase_id)
            .where(PurchaseItem.sku.in_(top), Purchase.customer_id != customer_id, Purchase.amount > 0,
                   Purchase.at >= since)
            .group_by(Purchase.customer_id).order_by(func.count(distinct(PurchaseItem.sku)).desc(),
                                                     Purchase.customer_id)
            .limit(neighbours).subquery("near"))
    their = (select(Purchase.customer_id.label("customer_id"), PurchaseItem.sku.label("sku"))
             .join(PurchaseItem, PurchaseItem.purchase_id == Purchase.id)
             .where(Purchase.customer_id.in_(select(near.c.customer_id)), Purchase.amount > 0,
                    PurchaseItem.sku.not_in(mine)).distinct().subquery("their"))
    rows = fetch(session,
        select(their.c.sku, func.sum(near.c.shared).label("score"), func.count().label("buyers"))
        .join(near, near.c.customer_id == their.c.customer_id)
        .group_by(their.c.sku).order_by(func.sum(near.c.shared).desc(), func.count().desc(), their.c.sku)
        .limit(limit)).all()
    names = descriptions(session, [sku for sku, _, _ in rows])
    return [{"sku": sku, "description": names.get(sku, ""), "score": int(score), "buyers": int(buyers)}
            for sku, score, buyers in rows]
