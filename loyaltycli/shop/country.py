"""The shop's country and what follows from it: currency, phone region, time zone, locale.

Validation of each (ISO 3166 regions known to phonenumbers, ISO 4217 currencies, IANA zones, Babel
locales) imports its library only when a person sets a value, never at a command's start.
"""

from __future__ import annotations

from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import _

# The countries the first shops are in, and their neighbours; others are derived from Babel and the
# zone table (`place_for`).
COUNTRIES = {
    "PT": ("EUR", "Europe/Lisbon", "pt_PT"),
    "RO": ("RON", "Europe/Bucharest", "ro_RO"),
    "IT": ("EUR", "Europe/Rome", "it_IT"),
    "ES": ("EUR", "Europe/Madrid", "es_ES"),
    "IE": ("EUR", "Europe/Dublin", "en_IE"),
    "GB": ("GBP", "Europe/London", "en_GB"),
    "FR": ("EUR", "Europe/Paris", "fr_FR"),
    "DE": ("EUR", "Europe/Berlin", "de_DE"),
    "NL": ("EUR", "Europe/Amsterdam", "nl_NL"),
    "BE": ("EUR", "Europe/Brussels", "fr_BE"),
    "AT": ("EUR", "Europe/Vienna", "de_AT"),
    "GR": ("EUR", "Europe/Athens", "el_GR"),
    "PL": ("PLN", "Europe/Warsaw", "pl_PL"),
    "MD": ("MDL", "Europe/Chisinau", "ro_MD"),
    "BR": ("BRL", "America/Sao_Paulo", "pt_BR"),
    "US": ("USD", "America/New_York", "en_US"),
}

# Names people type for a region that ISO 3166 spells otherwise.
REGION_ALIASES = {"UK": "GB", "EN": "GB", "EL": "GR"}


def _region(text: str, what: str) -> str:
    import phonenumbers

    value = str(text or "").strip().upper()
    if value in phonenumbers.SUPPORTED_REGIONS:
        return value
    if value in REGION_ALIASES:
        raise InvalidInput(_('{what} {text!r} is not an ISO 3166 region code; did you mean {region_aliases}?').format(what=_(what), text=text, region_aliases=REGION_ALIASES[value]))
    raise InvalidInput(_('{what} {text!r} is not an ISO 3166 region code like PT, RO, IT, ES, IE or GB').format(what=_(what), text=text))


def _currency(text: str) -> str:
    from babel.numbers import list_currencies

    value = str(text or "").strip().upper()
    if len(value) == 3 and value in list_currencies():
        return value
    raise InvalidInput(_('{text!r} is not an ISO 4217 currency code like EUR, RON or GBP').format(text=text))


def _locale(text: str) -> str:
    from babel import Locale, UnknownLocaleError

    value = str(text or "").strip().replace("-", "_")
    if not value:
        return ""  # plain amounts (12.50), dates ISO or day first
    try:
        locale = Locale.parse(value)
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvalidInput(_('{text!r} is not a known locale like pt_PT, ro_RO, it_IT, es_ES or en_IE').format(text=text)) from None
    return str(locale)


def validate(key: str, text: str) -> str:
    """The canonical text of one place setting, or InvalidInput saying what is wrong."""
    if key == "country":
        return "" if not str(text or "").strip() else _region(text, "country")
    if key == "phone_region":
        return _region(text, "phone_region")
    if key == "currency":
        return _currency(text)
    if key == "timezone":
        from loyaltycli.shop.clock import parse_zone

        return parse_zone(text)
    if key == "locale":
        return _locale(text)
    raise KeyError(key)


def _zone_of(country: str) -> str | None:
    """The first zone the IANA zone table lists for ``country``."""
    from pathlib import Path

    candidates = [Path("/usr/share/zoneinfo/zone.tab")]
    try:
        import tzdata

        candidates.insert(0, Path(tzdata.__file__).parent / "zoneinfo" / "zone.tab")
    except ImportError:
        pass
    for path in candidates:
        try:
            for line in path.read_text(encoding="utf-8").splitlines():
                bits = line.split("\t")
                if len(bits) >= 3 and bits[0] == country:
                    return bits[2]
        except OSError:
            continue
    return None


def place_for(text: str) -> dict[str, str]:
    """country, currency, phone_region, timezone and locale for a country code (validated)."""
    code = _region(text, "country")
    if code in COUNTRIES:
        currency, zone, locale = COUNTRIES[code]
    else:
        from babel import Locale
        from babel.core import get_global
        from babel.numbers import get_territory_currencies

        currencies = get_territory_currencies(code)
        languages = get_global("territory_languages").get(code, {})
        language = max(languages, key=lambda lang: languages[lang].get("population_percent", 0), default=None)
        zone = _zone_of(code)
        if not currencies or not language or not zone:
            raise InvalidInput(_('no currency, language or time zone known for {code}; set currency, phone_region, timezone and locale one by one with `loyalty program set`').format(code=code))
        currency = currencies[0]
        try:
            locale = str(Locale.parse(f"{language}_{code}"))
        except Exception:  # noqa: BLE001  a language Babel has no data for in that country
            locale = "en_" + code if _known_locale("en_" + code) else "en_GB"
    return {"country": code, "currency": currency, "phone_region": code, "timezone": zone, "locale": locale}


def _known_locale(name: str) -> bool:
    from babel import localedata

    return localedata.exists(name)

