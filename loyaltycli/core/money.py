"""Money as integers of minor units (cents), parsed from decimal strings; never floats."""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from loyaltycli.core.errors import InvalidInput

# Optional currency sign or code, optional sign, digits with optional thousands separators, decimals.
_AMOUNT = re.compile(
    r"^\s*(?P<sign>[-+]?)\s*(?:[€$£]|EUR|USD|GBP)?\s*(?P<sign2>[-+]?)"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d*))?\s*(?:€|EUR)?\s*$",
    re.IGNORECASE | re.ASCII,
)

# 1,000,000,000.00 in cents: far above any sale, far below 64-bit overflow.
MAX_AMOUNT = 100_000_000_000


def parse_amount(text: str, *, decimals: int = 2, allow_negative: bool = False,
                 allow_zero: bool = True, what: str = "amount") -> int:
    """Parse a decimal string such as '12.50', '€8', '1,234.56' into minor units."""
    if text is None:
        raise InvalidInput(f"{what} is missing")
    raw = str(text)
    m = _AMOUNT.match(raw)
    if not m or (m.group("int") is None and not m.group("frac")):
        raise InvalidInput(f"{what} {raw.strip()!r} is not a decimal amount like 12.50")
    if m.group("sign") and m.group("sign2"):
        raise InvalidInput(f"{what} {raw.strip()!r} is not a decimal amount like 12.50")
    sign = -1 if "-" in (m.group("sign") + m.group("sign2")) else 1
    whole = int((m.group("int") or "0").replace(",", ""))
    frac = m.group("frac") or ""
    if len(frac) > decimals:
        raise InvalidInput(f"{what} {raw.strip()!r} has more than {decimals} decimals")
    cents = whole * 10**decimals + (int(frac.ljust(decimals, "0")) if decimals else 0)
    cents *= sign
    if cents < 0 and not allow_negative:
        raise InvalidInput(f"{what} {raw.strip()!r} must not be negative")
    if cents == 0 and not allow_zero:
        raise InvalidInput(f"{what} must be more than zero")
    if abs(cents) > MAX_AMOUNT:
        raise InvalidInput(f"{what} {raw.strip()!r} is too large (at most {format_amount(MAX_AMOUNT)})")
    return cents


def format_amount(cents: int, *, decimals: int = 2) -> str:
    """Format minor units as a plain decimal string: 1250 -> '12.50'."""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    if decimals == 0:
        return f"{sign}{cents}"
    unit = 10**decimals
    return f"{sign}{cents // unit}.{cents % unit:0{decimals}d}"


def parse_decimal(text: str, *, what: str = "value", minimum: Decimal | None = None,
                  maximum: Decimal | None = None) -> Decimal:
    """Parse a finite decimal such as a multiplier ('1.25') or a percentage."""
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise InvalidInput(f"{what} {text!r} is not a finite number")
    if minimum is not None and value < minimum:
        raise InvalidInput(f"{what} {text!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{what} {text!r} must be at most {maximum}")
    return value


def floor_int(value: Decimal) -> int:
    """Round a Decimal down to an integer (towards minus infinity)."""
    return int(value.to_integral_value(rounding=ROUND_FLOOR))
