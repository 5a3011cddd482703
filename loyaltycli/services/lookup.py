"""Finding customers while their key is still being typed (completion at the counter)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from loyaltycli.services.customers import customer_code
from loyaltycli.store.models import Customer
from loyaltycli.base.textkey import fold


@dataclass(frozen=True)
class Match:
    code: str
    name: str | None
    email: str | None
    phone: str | None
    card: str | None


def _prefix(text: str) -> str:
    """A LIKE pattern for values starting with ``text`` (wildcards escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def customers_starting_with(session: Session, text: str, *, limit: int = 12) -> list[Match]:
    """Active customers whose code, e-mail, card or phone starts with ``text``, or one of whose name's
    words does (case-insensitive), or whose code it is in short form (c12 is C000012); by code.
    Merged and forgotten customers are left out."""
    raw = (text or "").strip()
    if not raw or len(raw) > 200 or "\x00" in raw:  # nobody's key is that long (and SQLite caps LIKE patterns)
        return []
    low = raw.lower()
    exact = [customer_code(int(raw[1:]))] if raw[:1] in "cC" and raw[1:].isdigit() and len(raw) < 14 else []
    columns = (Customer.code, Customer.name, Customer.email, Customer.phone, Customer.card)
    query = (
        select(*columns)
        .where(Customer.status == "active", or_(
            Customer.code.in_(exact),
            func.lower(Customer.code).like(_prefix(low), escape="\\"),
            # the stored name key: case and accents folded (alvaro finds Álvaro), by word start
            Customer.search_key.like(_prefix(fold(raw)), escape="\\"),
            Customer.search_key.like("% " + _prefix(fold(raw)), escape="\\"),
            Customer.email.like(_prefix(low), escape="\\"),
            func.upper(Customer.card).like(_prefix(raw.upper()), escape="\\"),
            Customer.phone.like(_prefix(raw), escape="\\"),
        ))
        .order_by(Customer.code)
        .limit(limit)
    )
    return [Match(*row) for row in session.execute(query)]


def looks_like_a_name(text: str) -> bool:
    """Whether a KEY that named nobody may be a person's name: letters, no digit and no '@' (a code,
    phone, e-mail, card or tax id that is unknown is not searched as a name)."""
    raw = (text or "").strip()
    return any(ch.isalpha() for ch in raw) and not any(ch.isdigit() or ch == "@" for ch in raw)


def customers_named(session: Session, text: str, *, limit: int = 20) -> list[Match]:
    """Active customers whose name holds ``text``, case and accents folded as `customer list --search`
    reads it (alvaro finds Álvaro Costa); by name, then code."""
    from loyaltycli.services.customers import like_pattern

    key = fold(text or "").strip()
    if not key:
        return []
    columns = (Customer.code, Customer.name, Customer.email, Customer.phone, Customer.card)
    query = (select(*columns)
             .where(Customer.status == "active", Customer.search_key.like(like_pattern(key), escape="\\"))
             .order_by(Customer.search_key, Customer.code).limit(limit))
    return [Match(*row) for row in session.execute(query)]
