"""Earning by product (``program rule add NAME --sku PATTERN --earn RATE``): items of SKU patterns earn
spend points at their own rate (0: none, e.g. coffee that earns stamps only). It runs before the spend
points and cuts the event's amount into portions: each rule's matching items (the first rule an item
matches wins) at the rule's rate, the rest at the program's. In cashback mode the rate is the percent of
those items given back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from loyaltycli.base.errors import InvalidInput
from loyaltycli.base.settings import NUMBER, PATTERNS, TEXT, rules_setting
from loyaltycli.engine.cards import matches, rule_definition
from loyaltycli.engine.rules import Rule
from loyaltycli.i18n import N_, _

ORDER = 5


@dataclass(frozen=True)
class EarnRule:
    """Items of the SKU patterns earn ``rate`` points per whole currency unit (cashback: percent)."""

    name: str
    skus: tuple[str, ...]
    rate: Decimal


def read_earn_rules(text: str) -> tuple[EarnRule, ...]:
    """The earn rules as stored (a JSON list of {name, skus, earn})."""
    try:
        data = json.loads(str(text) or "[]")
        rules = tuple(EarnRule(str(r["name"]), tuple(str(p) for p in r["skus"]), Decimal(str(r["earn"])))
                      for r in data)
    except (ValueError, TypeError, KeyError, ArithmeticError):
        raise InvalidInput(_("earn_rules must be a JSON list of {fields}; use `program rule add --earn`").format(
            fields="{name, skus, earn}")) from None
    for rule in rules:
        if not rule.name or not rule.skus or not rule.rate.is_finite() or not 0 <= rule.rate <= 1000:
            raise InvalidInput(_('earn rule {name!r} needs a name, SKU patterns and a rate of 0 to 1000').format(
                name=rule.name))
    return rules


def _checked_rule(table: dict) -> EarnRule:
    """One rule given, its keys and their kinds checked already: as `program rule add --earn` checks it."""
    from loyaltycli.base.money import parse_decimal

    name, patterns = rule_definition(table["name"], table["skus"])
    return EarnRule(name, patterns, parse_decimal(str(table["earn"]), what="earn", minimum=Decimal(0),
                                                  maximum=Decimal(1000)))


EARN_RULES = rules_setting(
    "earn_rules", N_("items of SKU patterns earning spend points at another rate, 0: none (see `program rule add "
                     "--earn`)"),
    {"name": TEXT, "skus": PATTERNS, "earn": NUMBER}, 3, read_earn_rules,
    lambda r: {"name": r.name, "skus": list(r.skus), "earn": str(r.rate)}, _checked_rule)
SETTINGS = (EARN_RULES,)


def portions(rules, amount: int, items) -> list:
    """``amount`` as (cents, rate) portions: each rule's matching items at its rate, the rest at None
    (the program's own)."""
    taken: dict[int, int] = {}
    for sku, cents in ((item[0], item[2]) for item in items):
        if not sku or cents <= 0:
            continue
        for n, rule in enumerate(rules):
            if matches(sku, rule.skus):
                taken[n] = taken.get(n, 0) + cents
                break
    if not taken:
        return [(amount, None)]
    rest = amount - sum(taken.values())
    return [(max(rest, 0), None)] + [(cents, rules[n].rate) for n, cents in sorted(taken.items())]


class EarningByProduct(Rule):
    KEY = "by_product"
    items = True

    def __init__(self, rules: tuple[EarnRule, ...]):
        self.rules = rules

    def sale(self, engine, event) -> None:
        event.portions = portions(self.rules, event.amount, event.items)

    def refund(self, engine, event) -> None:
        event.portions = portions(self.rules, event.amount, event.items)


def build(program):
    rules = tuple(getattr(program, "earn_rules", None) or ())
    return EarningByProduct(rules) if rules else None
