"""A program setting as data: its key, default, help, and how its text is read, written back and checked.

The shop's settings are declared where they are used: the core ones (the shop's place, spend points and
tiers, redemption, surveys, e-mail) in ``store/program.py``, each program type's own in its rule module
(``SETTINGS`` beside ``ORDER`` and ``build`` in ``engine/rules/``), so that a program type is its module.
The readers here are shared by both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from loyaltycli.base.errors import InvalidInput
from loyaltycli.base.money import format_amount, parse_amount, parse_decimal
from loyaltycli.i18n import N_, _


@dataclass(frozen=True)
class Setting:
    """One setting: how to read it from text, how to write it back, and what it means."""

    key: str
    default: str
    help: str
    parse: Callable[[str], Any]
    format: Callable[[Any], str] = str
    # How the program file writes the value (None: its text); a number, or a list of tables, reads better.
    to_toml: Callable[[Any], Any] | None = None
    # The setting's text from a list or a table of the program file (None: the file gives a single value).
    from_toml: Callable[[Any], str] | None = None
    # Strict validation when a person sets the value (imports that cost start-up time live here, not
    # in ``parse``, which reads the stored value at every command); returns the canonical text.
    check: Callable[[str], str] | None = None

    def toml(self, value) -> Any:
        """The value as the program file writes it."""
        return self.format(value) if self.to_toml is None else self.to_toml(value)


def whole(minimum: int = 0, maximum: int = 10**9):
    """A whole number from ``minimum`` to ``maximum``."""
    def parse(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise InvalidInput(_('{text!r} is not a whole number').format(text=text)) from None
        if not minimum <= value <= maximum:
            raise InvalidInput(_('{value} is out of range ({minimum} to {maximum})').format(value=value, minimum=minimum, maximum=maximum))
        return value
    return parse


def amount(text: str) -> int:
    """An amount as stored (canonical, dot-decimal: 12.50), in cents."""
    return parse_amount(str(text))


def money_check(text: str) -> str:
    """An amount setting as a person types it: the shop's way (12,50 in pt_PT, like every other amount
    option); stored canonical (12.50), which ``amount`` reads back."""
    from loyaltycli.base.money import parse_money

    return format_amount(parse_money(str(text)))


def decimal(minimum: str = "0", maximum: str = "1000"):
    """A decimal number from ``minimum`` to ``maximum``."""
    def parse(text: str) -> Decimal:
        return parse_decimal(text, minimum=Decimal(minimum), maximum=Decimal(maximum))
    return parse


def choice(*allowed: str):
    """One of the ``allowed`` words (any case)."""
    def parse(text: str) -> str:
        value = str(text).strip().lower()
        if value not in allowed:
            raise InvalidInput(_('{text!r} is not one of {allowed}').format(text=text, allowed=', '.join(allowed)))
        return value
    return parse


# What a value of a table (the program file's, a JSON setting's) must be, as its refusal says it.
WHOLE, TEXT, PATTERNS, YES_NO, AMOUNT = (N_("a whole number"), N_("text"), N_("a list of SKU patterns"),
                                         N_("true or false"), N_("an amount such as \"12.50\""))
NUMBER = N_("a number such as \"1.5\"")


def is_kind(kind: str, value) -> bool:
    """``value`` is of ``kind`` as TOML or JSON gives it (true is not a whole number)."""
    if kind == WHOLE:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == YES_NO:
        return isinstance(value, bool)
    if kind == PATTERNS:
        return isinstance(value, list) and all(isinstance(p, str) for p in value)
    if kind in (AMOUNT, NUMBER):
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def table_problem(keys: dict[str, str], required, table: dict) -> tuple[str, dict] | None:
    """What is wrong with one table whose keys are ``keys`` (key -> kind), the ``required`` ones in it:
    (message id, its values) of the first problem, None when there is none."""
    for key in table:
        if key not in keys:
            return N_("unknown key {key!r}; the keys are {keys}"), {"key": key, "keys": ", ".join(keys)}
    for key in required:
        if key not in table:
            return N_("{key} is missing"), {"key": key}
    for key, value in table.items():
        if not is_kind(keys[key], value):
            return N_("{key} must be {kind}"), {"key": key, "kind": _(keys[key])}
    return None


def tables(keys: dict[str, str], value, required: int | None = None) -> list[dict]:
    """A list of tables (the program file's ``[[key]]`` or ``key = [{...}]``, a JSON setting's list), each
    with no key but ``keys`` (key -> kind), the first ``required`` of them (all by default), each value of
    its kind."""
    needed = tuple(keys)[:required]
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise InvalidInput(_("a list of tables, each with {fields}").format(fields=", ".join(needed)))
    for number, table in enumerate(value, start=1):
        problem = table_problem(keys, needed, table)
        if problem is not None:
            raise InvalidInput(_("#{number}: {problem}").format(number=number,
                                                                 problem=_(problem[0]).format(**problem[1])))
    return value


def each_rule(value, check) -> list:
    """``check(table)`` of every rule of a list in turn, its refusal numbered (``#2 (Tea): ...``); no two
    rules of one name (any case: `program rule remove` names one)."""
    out, names = [], set()
    for number, table in enumerate(value, start=1):
        try:
            rule = check(table)
            if rule.name.lower() in names:
                raise InvalidInput(_("the same name as a rule before it: each name once"))
        except InvalidInput as exc:
            raise InvalidInput(_("#{number} ({name}): {problem}").format(
                number=number, name=str(table.get("name", ""))[:40], problem=exc)) from None
        names.add(rule.name.lower())
        out.append(rule)
    return out


def rules_setting(key: str, help: str, keys: dict[str, str], required: int, read: Callable[[str], tuple],
                  table: Callable[[Any], dict], checked: Callable[[dict], Any]) -> Setting:
    """A setting holding a list of rules (item rules, earn rules): stored as JSON text (``read`` reads it
    back), written by the program file as tables (``table`` of each rule), checked when a person gives it
    (`program set`, the file) table by table: ``keys`` (key -> kind), the first ``required`` of them in
    each, then ``checked(table)`` as `program rule add` checks one rule."""
    import json

    def listed(rules) -> list[dict]:
        return [table(rule) for rule in rules]

    def text(rules) -> str:
        return json.dumps(listed(rules), ensure_ascii=False)

    def check(given: str) -> str:
        try:
            value = json.loads(str(given) or "[]")
        except ValueError:
            value = None
        return text(each_rule(tables(keys, value, required), checked))

    def from_toml(value) -> str:  # checked by ``check`` as any value a person gives
        return json.dumps(value, ensure_ascii=False, default=str)

    return Setting(key, "[]", help, read, text, to_toml=listed, from_toml=from_toml, check=check)


def whole_setting(key: str, default: str, help: str, minimum: int = 0, maximum: int = 10**9) -> Setting:
    """A whole-number setting (points, days), a TOML integer in the program file."""
    return Setting(key, default, help, whole(minimum, maximum), str, to_toml=int)


def amount_setting(key: str, default: str, help: str) -> Setting:
    """An amount setting (cents), typed the shop's way and stored canonical."""
    return Setting(key, default, help, amount, format_amount, check=money_check)
