"""Item rules (``program rule add --points``): fixed points per matching item unit, or once per sale
with a matching item, as earn rows (a refund reverses them with the spend points)."""

from __future__ import annotations

import json

from loyaltycli.base.errors import InvalidInput
from loyaltycli.base.settings import PATTERNS, TEXT, WHOLE, Setting, each_rule, tables
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


def item_rules_toml(rules) -> list[dict]:
    """The item rules as the program file writes them: a table each (name, skus, points, per)."""
    return [{"name": r.name, "skus": list(r.skus), "points": r.points, "per": r.per} for r in rules]


def format_item_rules(rules) -> str:
    return json.dumps(item_rules_toml(rules), ensure_ascii=False)


def item_rules_from_toml(value) -> str:
    return json.dumps(tables(KEYS, value, required=3), ensure_ascii=False, default=str)


KEYS = {"name": TEXT, "skus": PATTERNS, "points": WHOLE, "per": TEXT}


def check_item_rules(text: str) -> str:
    """The item rules as a person gives them (`program set`, the program file's ``[[item_rules]]``), each
    checked as `program rule add` checks one; their canonical text."""
    try:
        value = json.loads(str(text) or "[]")
    except ValueError:
        value = None
    return format_item_rules(each_rule(tables(KEYS, value, required=3), _checked_rule))


def _checked_rule(table: dict) -> ItemRule:
    """One rule of the list, its keys and their kinds checked already: as `program rule add` checks it."""
    points, per = table["points"], table.get("per", "item")
    if not 0 < points <= 10**6 or per not in ("item", "visit"):
        raise InvalidInput(_('item rule {name!r} needs a name, SKU patterns, 1 to 1000000 points and per item or '
                             'visit').format(name=table["name"]))
    name, patterns = rule_definition(table["name"], table["skus"])
    return ItemRule(name, patterns, points, per)


SETTINGS = (Setting("item_rules", "[]", N_("bonus points for items of SKU patterns (see `program rule add`)"),
                    read_item_rules, format_item_rules, to_toml=item_rules_toml, from_toml=item_rules_from_toml,
                    check=check_item_rules),)
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
