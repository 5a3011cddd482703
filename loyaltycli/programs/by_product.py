"""Earning by product: `program rule add --earn` / `program rule remove` (with the item rules' --points); the
``earn_rules`` setting (a JSON list of {name, skus, earn}) is declared and read by its rule module,
engine/rules/by_product.py."""

from __future__ import annotations

from decimal import Decimal

from loyaltycli.i18n import gettext
from loyaltycli.base.numbers import decimal_text

KEY = "by_product"


def add_earn_rule(session, name: str, skus: list[str], earn: str) -> dict:
    """`program rule add NAME --sku PATTERN --earn RATE`: matching items earn spend points at RATE (0: none)."""
    from loyaltycli.base.money import parse_decimal
    from loyaltycli.engine.cards import rule_definition
    from loyaltycli.engine.rules.by_product import EARN_RULES, EarnRule
    from loyaltycli.store.program import check_rule_name_free, load_program, set_setting

    name, patterns = rule_definition(name, skus)
    rate = parse_decimal(earn, what="--earn", minimum=Decimal(0), maximum=Decimal(1000))
    program = load_program(session)
    check_rule_name_free(program, name)
    set_setting(session, "earn_rules", EARN_RULES.format((*program.earn_rules, EarnRule(name, patterns, rate))),
                whole=False)
    return {"name": name, "skus": list(patterns), "earn": decimal_text(rate)}


def remove_rule(session, name: str) -> dict:
    """`program rule remove NAME`: an earn rule or an item rule, by name (any case)."""
    from loyaltycli.base.errors import NotFound
    from loyaltycli.engine.rules.by_product import EARN_RULES
    from loyaltycli.engine.rules.items import ITEM_RULES
    from loyaltycli.store.program import load_program, set_setting

    wanted = (name or "").strip().lower()
    program = load_program(session)
    for key, rules, fmt in (("earn_rules", program.earn_rules, EARN_RULES.format),
                            ("item_rules", program.item_rules, ITEM_RULES.format)):
        kept = tuple(r for r in rules if r.name.lower() != wanted)
        if len(kept) != len(rules):
            set_setting(session, key, fmt(kept), whole=False)
            return {"name": next(r.name for r in rules if r.name.lower() == wanted), "removed": True}
    raise NotFound(gettext('unknown rule {name!r}; see `loyalty program rule list`').format(name=(name or "").strip()))
