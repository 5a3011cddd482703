"""CSV meant for people, opened in a spreadsheet: one home for what makes it safe and readable.

- ``safe_cell``: a cell a spreadsheet would run as a formula (OWASP CSV injection: text starting with
  = + - @, TAB or CR) gets a leading apostrophe; plain numbers (``-5``, ``-3.00``, ``-5,00``, a phone
  ``+351 912 345 678``) stay as they are: digits, spaces and separators compute nothing.
- ``excel_dialect``: what European Excel opens directly: a UTF-8 byte order mark, and ``;`` between
  cells with decimal commas where the shop's locale writes ``12,50``.

Used by ``--csv`` and ``--excel`` output, ``loyalty export`` and the import's rejects file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DANGER = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?\d[\d .,()/]*")
BOM = "\ufeff"


def safe_cell(value):
    """``value`` as a CSV cell no spreadsheet runs as a formula (non-text values are returned as they are)."""
    if type(value) is not str and not isinstance(value, str):
        return value
    if not value or value[0] not in _DANGER or _NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_row(values) -> list:
    return [safe_cell(v) for v in values]


@dataclass(frozen=True)
class Dialect:
    delimiter: str = ","
    decimal: str = "."
    bom: bool = False

    def amount(self, text: str) -> str:
        """A plain decimal amount ('1234.50') written with this dialect's decimal mark."""
        return text.replace(".", self.decimal) if self.decimal != "." else text


PLAIN = Dialect()


def excel_dialect(locale: str | None) -> Dialect:
    """BOM always; ``;`` and decimal commas where ``locale`` writes a decimal comma (pt_PT, ro_RO, it_IT,
    es_ES...), else ``,`` and points (en_IE, en_GB, no locale)."""
    decimal = "."
    if locale:
        try:
            from babel.numbers import get_decimal_symbol

            decimal = get_decimal_symbol(locale)
        except Exception:  # noqa: BLE001  an unknown locale: the plain reading
            decimal = "."
    if decimal == ",":
        return Dialect(delimiter=";", decimal=",", bom=True)
    return Dialect(bom=True)
