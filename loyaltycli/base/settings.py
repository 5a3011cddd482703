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
from loyaltycli.i18n import _


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


def tables(keys: tuple[str, ...], value, required: int | None = None) -> list[dict]:
    """A list of tables of the program file (``[[key]]`` or ``key = [{...}]``) or of a JSON setting, with
    no key but ``keys``, the first ``required`` of them (all by default) in each."""
    needed = keys if required is None else keys[:required]
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise InvalidInput(_("a list of tables, each with {fields}").format(fields=", ".join(needed)))
    for number, table in enumerate(value, start=1):
        for key in table:
            if key not in keys:
                raise InvalidInput(_("#{number}: unknown key {key!r}; the keys are {keys}").format(
                    number=number, key=key, keys=", ".join(keys)))
        for key in needed:
            if key not in table:
                raise InvalidInput(_("#{number}: {key} is missing").format(number=number, key=key))
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


def plain(value, kind) -> bool:
    """``value`` is of ``kind`` as a file or JSON gives it (True is not a whole number)."""
    return isinstance(value, kind) and not isinstance(value, bool)


def whole_setting(key: str, default: str, help: str, minimum: int = 0, maximum: int = 10**9) -> Setting:
    """A whole-number setting (points, days), a TOML integer in the program file."""
    return Setting(key, default, help, whole(minimum, maximum), str, to_toml=int)


def amount_setting(key: str, default: str, help: str) -> Setting:
    """An amount setting (cents), typed the shop's way and stored canonical."""
    return Setting(key, default, help, amount, format_amount, check=money_check)
