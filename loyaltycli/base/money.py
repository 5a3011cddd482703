"""Money as integers of minor units (cents), parsed from decimal strings; never floats."""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import gettext
from loyaltycli.i18n import speaking_locale

# Optional currency sign or code, optional sign, digits with optional thousands separators, decimals.
_AMOUNT = re.compile(
    r"^\s*(?P<sign>[-+]?)\s*(?:[€$£]|EUR|USD|GBP)?\s*(?P<sign2>[-+]?)"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d*))?\s*(?:€|EUR)?\s*$",
    re.IGNORECASE | re.ASCII,
)

# 1,000,000,000.00 in cents: far above any sale, far below 64-bit overflow.
MAX_AMOUNT = 100_000_000_000


def _like() -> str:
    """An amount as the shop writes it, for messages: '12,50' (pt_PT, ro...), '12.50' (English)."""
    return format_number(Decimal("12.50"), decimals=2)


def parse_amount(text: str, *, decimals: int = 2, allow_negative: bool = False,
                 allow_zero: bool = True, what: str = "amount", shown: str | None = None) -> int:
    """Parse a decimal string such as '12.50', '€8', '1,234.56' into minor units. ``shown``: the text as the
    person typed it, for messages (parse_money hands over its canonical form)."""
    if text is None:
        raise InvalidInput(gettext('{what} is missing').format(what=gettext(what)))
    raw = str(text) if shown is None else shown
    text = str(text)
    m = _AMOUNT.match(text)
    if not m or (m.group("int") is None and not m.group("frac")):
        raise InvalidInput(gettext('{what} {raw!r} is not a decimal amount like {example}').format(example=_like(), what=gettext(what), raw=raw.strip()))
    if m.group("sign") and m.group("sign2"):
        raise InvalidInput(gettext('{what} {raw!r} is not a decimal amount like {example}').format(example=_like(), what=gettext(what), raw=raw.strip()))
    sign = -1 if "-" in (m.group("sign") + m.group("sign2")) else 1
    whole = int((m.group("int") or "0").replace(",", ""))
    frac = m.group("frac") or ""
    if len(frac) > decimals:
        raise InvalidInput(gettext('{what} {raw!r} has more than {decimals} decimals').format(what=gettext(what), raw=raw.strip(), decimals=decimals))
    cents = whole * 10**decimals + (int(frac.ljust(decimals, "0")) if decimals else 0)
    cents *= sign
    if cents < 0 and not allow_negative:
        raise InvalidInput(gettext('{what} {raw!r} must not be negative').format(what=gettext(what), raw=raw.strip()))
    if cents == 0 and not allow_zero:
        raise InvalidInput(gettext('{what} must be more than zero').format(what=gettext(what)))
    if abs(cents) > MAX_AMOUNT:
        raise InvalidInput(gettext('{what} {raw!r} is too large (at most {max_amount})').format(what=gettext(what), raw=raw.strip(), max_amount=format_money(MAX_AMOUNT)))
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
        raise InvalidInput(gettext('{what} {text!r} is not a number').format(what=gettext(what), text=text)) from None
    if not value.is_finite():
        raise InvalidInput(gettext('{what} {text!r} is not a finite number').format(what=gettext(what), text=text))
    if minimum is not None and value < minimum:
        raise InvalidInput(gettext('{what} {text!r} must be at least {minimum}').format(what=gettext(what), text=text, minimum=minimum))
    if maximum is not None and value > maximum:
        raise InvalidInput(gettext('{what} {text!r} must be at most {maximum}').format(what=gettext(what), text=text, maximum=maximum))
    return value


def floor_int(value: Decimal) -> int:
    """Round a Decimal down to an integer (towards minus infinity)."""
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


# -- the shop's way: shown and typed in its locale and currency -----------------------------------

# Where the local name of a currency differs from Babel's symbol (Romanians write "lei", not "RON").
LOCAL_SYMBOLS = {("ro", "RON"): "lei", ("ro", "MDL"): "lei"}
# Signs people type, and the currency each means.
SIGNS = {"€": "EUR", "£": "GBP", "$": "USD", "lei": "RON", "leu": "RON", "kr": "SEK", "zł": "PLN", "zl": "PLN",
         "ft": "HUF", "kč": "CZK", "r$": "BRL", "us$": "USD", "¥": "JPY", "chf": "CHF"}


def shop_currency() -> str:
    from loyaltycli.base import place

    return (place.get("currency", "EUR") or "EUR").upper()


def shop_locale() -> str:
    """The locale amounts are shown and typed in ('' : plain 12.50 with a decimal point)."""
    from loyaltycli.base import place

    return place.get("locale", "") or ""


def format_money(cents: int, *, currency: str | None = None, locale: str | None = None) -> str:
    """Minor units the shop's way: '12,50 €' (pt_PT), '149,90 lei' (ro_RO), '€12.50' (en_IE); with no
    locale set, the plain decimal '12.50'. Inside ``i18n.speaking(lang)`` the shop's currency is written
    the way that language writes it ('2,80 €' for a Portuguese customer of an Irish shop)."""
    if locale is None:
        locale = speaking_locale() or shop_locale()
    if not locale:
        return format_amount(cents)
    currency = currency or shop_currency()
    from babel.numbers import format_currency

    value = Decimal(int(cents)).scaleb(-2)
    text = format_currency(value, currency, locale=locale, currency_digits=False, format_type="standard")
    local = LOCAL_SYMBOLS.get((locale.split("_")[0], currency))
    if local:
        text = text.replace(currency, local)
    return text


class Money(str):
    """An amount: the plain decimal string ('12.50') for JSON and CSV, shown the shop's way in tables
    and in messages (``f"{amount}"``)."""

    cents: int

    def __new__(cls, cents: int):
        obj = str.__new__(cls, format_amount(cents))
        obj.cents = int(cents)
        return obj

    def __format__(self, spec: str) -> str:
        return format_money(self.cents) if not spec else format(str(self), spec)

    def shown(self) -> str:
        return format_money(self.cents)


def money(cents: int | None) -> Money | None:
    """``Money`` of minor units (None stays None)."""
    return None if cents is None else Money(cents)


_TYPED = re.compile(r"^[+-]?[\d\s.,'\u00a0\u202f]*$")


def _separators(locale: str) -> tuple[str, str]:
    """(decimal, group) of the locale; ('.', ',') when none is set."""
    if not locale:
        return ".", ","
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return get_decimal_symbol(locale), get_group_symbol(locale)


def shop_decimal_mark() -> str:
    """The decimal mark of the shop's locale: ',' (pt_PT, ro_RO, it_IT, es_ES) or '.'."""
    return _separators(shop_locale())[0]


def _strip_currency(raw: str, what: str) -> str:
    """The number of '12,50 €', '€12.50', '12.50 RON', '12,50 lei'; another currency is refused."""
    text = raw.strip()
    m = re.match(r"^(?P<pre>[^\d\s.,+-]+)?\s*(?P<num>[-+]?[^A-Za-z€£$¥]*?)\s*(?P<post>[^\d\s.,]+)?$", text)
    if not m:
        return text
    sign_text = [part for part in (m.group("pre"), m.group("post")) if part]
    number = m.group("num")
    if m.group("pre") and m.group("pre").endswith(("-", "+")):
        pass
    if not sign_text:
        return text
    if not re.search(r"\d", number or ""):
        raise InvalidInput(gettext('{what} {raw!r} is not a decimal amount like {example}').format(example=_like(), what=gettext(what), raw=raw.strip()))
    if len(sign_text) > 1:
        raise InvalidInput(gettext('{what} {raw!r} names a currency twice').format(what=gettext(what), raw=raw.strip()))
    token = sign_text[0].strip()
    sign = ""
    if token.startswith(("-", "+")):
        sign, token = token[0], token[1:].strip()
    shop = shop_currency()
    meant = token.upper() if re.fullmatch(r"[A-Za-z]{3}", token) and token.lower() not in SIGNS else \
        SIGNS.get(token.lower())
    local = LOCAL_SYMBOLS.get((shop_locale().split("_")[0], shop))
    if token.lower() == (local or "").lower():
        meant = shop
    if meant is None:
        raise InvalidInput(gettext('{what} {raw!r} is not an amount like {example}').format(example=_like(), what=gettext(what), raw=raw.strip()))
    if meant != shop:
        raise InvalidInput(gettext('{what} {raw!r} is in {meant}; this shop counts in {shop}').format(what=gettext(what), raw=raw.strip(), meant=meant, shop=shop))
    return sign + number


def parse_money(text: str, *, allow_negative: bool = False, allow_zero: bool = True, what: str = "amount") -> int:
    """An amount typed the shop's way into minor units: '12,50', '1.234,56', '12,50 €', '12.50 RON'.

    A decimal point or comma is read as such wherever only one reading exists ('12,50' anywhere); an
    amount the locale could read two ways ('2,500' in English, '1.234' in Portuguese) is refused with
    both readings in the message.
    """
    if text is None:
        raise InvalidInput(gettext('{what} is missing').format(what=gettext(what)))
    raw = str(text)
    number = _strip_currency(raw, what).strip()
    if not number or not _TYPED.match(number):
        raise InvalidInput(gettext('{what} {raw!r} is not a decimal amount like {example}').format(example=_like(), what=gettext(what), raw=raw.strip()))
    sign = ""
    if number[0] in "+-":
        sign, number = number[0], number[1:].strip()
    for space in (" ", "\u00a0", "\u202f", "'"):  # group separators people type
        number = number.replace(space, "")
    decimal_symbol, _group = _separators(shop_locale())
    canonical = _read_separators(number, raw.strip(), decimal_symbol, what)
    return parse_amount(sign + canonical, allow_negative=allow_negative, allow_zero=allow_zero, what=gettext(what),
                        shown=raw.strip())


def _read_separators(number: str, shown: str, decimal_symbol: str, what: str) -> str:
    """'1.234,56' -> '1234.56'; refuses what has two readings."""
    marks = [ch for ch in number if ch in ".,"]
    if not marks:
        return number
    kinds = set(marks)
    if len(kinds) == 2:  # both: the last is the decimal mark, the other groups thousands
        decimal = number[max(number.rfind("."), number.rfind(","))]
        group = "," if decimal == "." else "."
        whole, _, frac = number.rpartition(decimal)
        if not re.fullmatch(r"\d{1,3}(?:" + re.escape(group) + r"\d{3})*", whole):
            raise InvalidInput(gettext('{what} {shown!r} is not a decimal amount like {example}').format(example=_like(), what=gettext(what), shown=shown))
        return whole.replace(group, "") + "." + frac
    mark = marks[0]
    parts = number.split(mark)
    if len(parts) > 2:  # 1.234.567: only thousands
        if not re.fullmatch(r"\d{1,3}(?:" + re.escape(mark) + r"\d{3})+", number):
            raise InvalidInput(gettext('{what} {shown!r} is not a decimal amount like {example}').format(example=_like(), what=gettext(what), shown=shown))
        return number.replace(mark, "")
    whole, frac = parts
    if len(frac) == 3 and whole and len(whole) <= 3 and whole != "0" and mark != decimal_symbol.strip():
        # 2,500 or 1.234: thousands or decimals?
        as_group = format_money(int(whole + frac) * 100)
        as_decimal = format_money(int(whole) * 100 + int(frac[:2])) if frac[2] == "0" else f"{whole}{mark}{frac}"
        # (error lines escape what is not printable: plain spaces rather than no-break ones)
        as_group, as_decimal = (t.replace("\xa0", " ").replace("\u202f", " ") for t in (as_group, as_decimal))
        raise InvalidInput(gettext('{what} {shown!r} could be {as_group} or {as_decimal}; write {whole}{frac} or {whole}{decimal_symbol}{frac2}').format(what=gettext(what), shown=shown, as_group=as_group, as_decimal=as_decimal, whole=whole, frac=frac, decimal_symbol=decimal_symbol, frac2=frac[:2]))
    return whole + "." + frac


def format_percent(value, *, decimals: int = 1, locale: str | None = None) -> str:
    """A percentage (20.83 for 20.83 %) the shop's way: '20,8 %' (pt_PT, ro_RO...), '20.8%' (English or
    no locale)."""
    locale = shop_locale() if locale is None else locale
    number = format_number(value, decimals=decimals, locale=locale)
    return number + ("%" if not locale or locale.split("_")[0] == "en" else "\u00a0%")


def format_number(value, *, decimals: int = 1, locale: str | None = None) -> str:
    """A decimal number (an NPS of 42.5) the shop's way: '42,5' (pt_PT), '42.5' (English or no locale)."""
    locale = shop_locale() if locale is None else locale
    number = f"{Decimal(str(value)):.{decimals}f}"
    if not locale:
        return number
    from babel.numbers import format_decimal

    return format_decimal(Decimal(number), format="#,##0." + "0" * decimals if decimals else "#,##0",
                          locale=locale)
