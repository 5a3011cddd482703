"""Products: their names as the till exports describe them (one description per SKU, the latest import
wins)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyaltycli.store.models import Product

MAX_DESCRIPTION = 200


def remember(session: Session, descriptions: dict[str, str], at: datetime) -> None:
    """Store each SKU's description (insert, or replace the one stored): one statement per batch."""
    rows = [{"sku": sku, "description": text[:MAX_DESCRIPTION], "updated_at": at}
            for sku, text in descriptions.items() if sku and text]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(Product.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["sku"], set_={"description": statement.excluded.description,
                                      "updated_at": statement.excluded.updated_at})
    session.execute(statement, rows)


def descriptions(session: Session, skus: list[str]) -> dict[str, str]:
    """SKU -> description, for the SKUs that have one."""
    if not skus:
        return {}
    return dict(session.execute(select(Product.sku, Product.description).where(Product.sku.in_(sorted(set(skus)))))
                .all())
