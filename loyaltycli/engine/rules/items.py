"""Item rules (``program rule add --points``): fixed points per matching item unit, or once per sale
with a matching item, as earn rows (a refund reverses them with the spend points)."""

from __future__ import annotations

import json

from loyaltycli.base.errors import InvalidInput
from loyaltycli.base.settings import PATTERNS, TEXT, WHOLE, rules_setting
from loyaltycli.engine.cards import ItemRule, item_points, rule_definition
from loyaltycli.engine.note import Note
from loyaltycli.engine.rules import Rule
from loyaltycli.i18n import N_, _

ORDER = 30


def read_item_rules(text: str) -> tuple[ItemRule, ...]:
    """The item rules as stored (a JSON list of {name, skus, points, per})."""
    try:
        data = json.loads(str(text) or "[]")
        rules = tuple(ItemRule(str(r["name"]), tuple(str(p) for p in r["skus"]), int(r["points"]),
                               str(r.get("per", "item"))) for r in data)
    except (ValueError, TypeError, KeyError):
        raise InvalidInput(_("item_rules must be a JSON list of {fields}; use `program rule add`").format(
            fields="{name, skus, points, per}"))
    for rule in rules:
        if not rule.name or not rule.skus or rule.per not in ("item", "visit") or not 0 < rule.points <= 10**6:
            raise InvalidInput(_('item rule {name!r} needs a name, SKU patterns, 1 to 1000000 points and per item or visit').format(name=rule.name))
    return rules


def _checked_rule(table: dict) -> ItemRule:
    """One rule given, its keys and their kinds checked already: as `program rule add` checks it."""
    points, per = table["points"], table.get("per", "item")
    if not 0 < points <= 10**6 or per not in ("item", "visit"):
        raise InvalidInput(_('item rule {name!r} needs a name, SKU patterns, 1 to 1000000 points and per item or '
                             'visit').format(name=table["name"]))
    name, patterns = rule_definition(table["name"], table["skus"])
    return ItemRule(name, patterns, points, per)


ITEM_RULES = rules_setting(
    "item_rules", N_("bonus points for items of SKU patterns (see `program rule add`)"),
    {"name": TEXT, "skus": PATTERNS, "points": WHOLE, "per": TEXT}, 3, read_item_rules,
    lambda r: {"name": r.name, "skus": list(r.skus), "points": r.points, "per": r.per}, _checked_rule)
SETTINGS = (ITEM_RULES,)
ITEM_RULE = Note("item_rule", N_("receipt {receipt}: {rule}"))
NOTES = (ITEM_RULE,)


class ItemPoints(Rule):
    KEY = "items"
    items = True

    def __init__(self, rules: tuple):
        self.rules = rules

    def sale(self, engine, event) -> None:
        for rule, points in item_points(self.rules, event.items):
            event.out.earned += points
            event.out.rows.append(engine.row(event.account.id, "earn", points, event.at, engine.expires(event.at),
                                             ITEM_RULE.make(receipt=event.receipt_id, rule=rule.name)))


def build(program):
    rules = tuple(rule for rule in getattr(program, "item_rules", None) or () if getattr(rule, "points", 0))
    return ItemPoints(rules) if rules else None
