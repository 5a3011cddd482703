"""Numbers of till exports: amounts with a currency sign or code, decimal commas, sub-cent unit prices and
weighed quantities, read exactly (Decimal) and turned into cents and thousandths.

A line's amount is quantity x unit price rounded half-even to cents; a receipt's total is the sum of its
lines. Quantities have at most 3 decimals (0,750 kg) and are stored in thousandths.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import gettext

MILLI = 1000
MAX_QUANTITY = 100_000
_CURRENCY = re.compile(r"^(?:[€$£¥₺]|R\$|zł|lei|kr|Kč|Ft|[A-Z]{3}(?![A-Z]))\s*|\s*(?:[€$£¥₺]|zł|lei|kr|Kč|Ft|[A-Z]{3})$",
                       re.IGNORECASE)
_GROUP = "[ \u00a0\u202f']"
_DOT = re.compile(rf"(?:[1-9]\d{{0,2}}(?:(?:,|{_GROUP})\d{{3}})+|\d+)?(?:\.(\d+))?")
_COMMA = re.compile(rf"(?:[1-9]\d{{0,2}}(?:(?:\.|{_GROUP})\d{{3}})+|\d+)?(?:,(\d+))?")
_CENT = Decimal("0.01")


def to_decimal(text: str, *, decimal_comma: bool = False, decimals: int = 2, what: str = "amount") -> Decimal:
    """'1.234,56' (decimal comma), '$8.00', '8,00 €', 'EUR 12.5', '-3', '(4.00)' -> Decimal; at most
    ``decimals`` decimals. A comma where a decimal point is expected (or the other way) is refused, never
    read as a thousands separator of '0,750'."""
    raw = (text or "").strip()
    s = raw
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    for _ in range(2):
        if s[:1] in ("+", "-"):
            negative ^= s[0] == "-"
            s = s[1:].strip()
        s = _CURRENCY.sub("", s, count=1).strip()
    if s[:1] in ("+", "-"):
        negative ^= s[0] == "-"
        s = s[1:].strip()
    m = (_COMMA if decimal_comma else _DOT).fullmatch(s)
    if not s or not m or s in (".", ","):
        hint = "" if decimal_comma or "," not in s else " ({})".format(gettext("a decimal comma? give --decimal-comma"))
        raise InvalidInput(gettext('{what} {raw!r} is not a number like {value}{hint}').format(what=gettext(what), raw=raw, value='12,50' if decimal_comma else '12.50', hint=hint))
    frac = m.group(1) or ""
    if len(frac) > decimals:
        raise InvalidInput(gettext('{what} {raw!r} has more than {decimals} decimals').format(what=gettext(what), raw=raw, decimals=decimals))
    whole = re.sub(r"[^0-9]", "", s[:len(s) - len(frac) - (1 if frac or s.endswith((".", ",")) else 0)]) or "0"
    value = Decimal(f"{whole}.{frac}") if frac else Decimal(whole)
    return -value if negative else value


def cents(value: Decimal) -> int:
    """Decimal money -> cents, rounded half-even."""
    return int(value.quantize(_CENT, rounding=ROUND_HALF_EVEN) * 100)


def parse_quantity(text: str, *, decimal_comma: bool = False, what: str = "quantity") -> Decimal:
    """A line's quantity: whole or up to 3 decimals (weighed goods), not 0, at most 100000 either way."""
    value = to_decimal(text, decimal_comma=decimal_comma, decimals=3, what=gettext(what))
    if value == 0 or abs(value) > MAX_QUANTITY:
        raise InvalidInput(gettext('{what} {text!r} must be 0.001 to 100000 (or negative for a return)').format(what=gettext(what), text=text.strip()))
    return value


def milli(quantity: Decimal) -> int:
    """Quantity in thousandths, as stored: 0.750 -> 750, 2 -> 2000."""
    return int(quantity * MILLI)


def line_amount(quantity: Decimal, unit_price: Decimal) -> int:
    """quantity x unit price, rounded half-even to cents."""
    return cents(quantity * unit_price)


def plain(value: Decimal, places: int = 2) -> str:
    """The dot-decimal text of a value: what the importer reads without options."""
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):f}"


def decimal_text(value: Decimal) -> str:
    """A rate or multiplier as written: no trailing zeros, never an exponent (10, not 1E+1; 1.25; 0.5)."""
    return f"{value.normalize():f}"


def quantity_text(quantity_milli: int) -> str:
    """Thousandths as shown: 2000 -> '2', 750 -> '0.75'."""
    value = (Decimal(quantity_milli) / MILLI).normalize()
    return f"{value:f}"
