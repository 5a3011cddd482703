"""Item rules (``program rule add --points``): fixed points per matching item unit, or once per sale
with a matching item, as earn rows (a refund reverses them with the spend points)."""

from __future__ import annotations

from loyaltycli.engine.cards import item_points
from loyaltycli.engine.notes import make as note
from loyaltycli.engine.rules import Rule

ORDER = 30


class ItemPoints(Rule):
    KEY = "items"
    items = True

    def __init__(self, rules: tuple):
        self.rules = rules

    def sale(self, engine, event) -> None:
        for rule, points in item_points(self.rules, event.items):
            event.out.earned += points
            event.out.rows.append(engine.row(event.account.id, "earn", points, event.at, engine.expires(event.at),
                                             note("item_rule", receipt=event.receipt_id, rule=rule.name)))


def build(program):
    rules = tuple(rule for rule in getattr(program, "item_rules", None) or () if getattr(rule, "points", 0))
    return ItemPoints(rules) if rules else None
