"""Earning by product (``program rule add NAME --sku PATTERN --earn RATE``): items of SKU patterns earn
spend points at their own rate (0: none, e.g. coffee that earns stamps only). It runs before the spend
points and cuts the event's amount into portions: each rule's matching items (the first rule an item
matches wins) at the rule's rate, the rest at the program's. In cashback mode the rate is the percent of
those items given back."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from loyaltycli.engine.cards import matches
from loyaltycli.engine.rules import Rule

ORDER = 5


@dataclass(frozen=True)
class EarnRule:
    """Items of the SKU patterns earn ``rate`` points per whole currency unit (cashback: percent)."""

    name: str
    skus: tuple[str, ...]
    rate: Decimal


def portions(rules, amount: int, items) -> list:
    """``amount`` as (cents, rate) portions: each rule's matching items at its rate, the rest at None
    (the program's own)."""
    taken: dict[int, int] = {}
    for sku, _, cents in ((item[0], item[1], item[2]) for item in items):
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
