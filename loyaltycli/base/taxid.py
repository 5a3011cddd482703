"""A customer's tax id: Portuguese NIF, Spanish NIF/NIE, Romanian CNP/CUI, Italian codice fiscale.

Checked with python-stdnum (check digits, lengths, dates inside a CNP or a codice fiscale) for the shop's
country; stored in stdnum's compact form (no spaces, dots, dashes or country prefix, upper-case), so
``PT 123 456 789``, ``123456789`` and ``123.456.789`` are one customer.

A shop whose country is none of the four (or not set) takes an id valid in any of them: it may serve
customers from across the border, and the compact form is the same whichever scheme reads it.
"""

from __future__ import annotations

import importlib
import re

from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import gettext

# country -> (name people use, stdnum module), in the order they are tried
SCHEMES: dict[str, tuple[tuple[str, str], ...]] = {
    "PT": (("NIF", "stdnum.pt.nif"),),
    "ES": (("NIF", "stdnum.es.nif"), ("NIE", "stdnum.es.nie")),
    "RO": (("CNP", "stdnum.ro.cnp"), ("CUI", "stdnum.ro.cui")),
    "IT": (("codice fiscale", "stdnum.it.codicefiscale"),),
}
_LOOSE = re.compile(r"[\s./-]")


def _names(schemes) -> str:
    names = [f"{country} {name}" for country, name, _ in schemes]
    if len(names) == 1:
        return names[0]
    return gettext("{first} or {last}").format(first=", ".join(names[:-1]), last=names[-1])


def schemes_for(country: str | None) -> list[tuple[str, str, str]]:
    """(country, name, module) of the tax ids a shop in ``country`` accepts."""
    code = (country or "").strip().upper()
    countries = [code] if code in SCHEMES else list(SCHEMES)
    return [(c, name, module) for c in countries for name, module in SCHEMES[c]]


def normalize(text: str, country: str | None) -> str:
    """The compact form of a valid tax id for a shop in ``country``; InvalidInput says which ids were tried."""
    from stdnum.exceptions import ValidationError

    raw = (text or "").strip()
    if not raw:
        raise InvalidInput(gettext("tax id is empty"))
    if len(raw) > 64:
        raise InvalidInput(gettext("tax id {raw!r}... is longer than 64 characters").format(raw=raw[:20]))
    if any(not (ch.isalnum() or ch in " ./-") for ch in raw):
        raise InvalidInput(gettext("tax id {raw!r} may hold only letters, digits, spaces, dots and dashes").format(
            raw=raw[:64]))
    schemes = schemes_for(country)
    for _country, _name, module_name in schemes:
        module = importlib.import_module(module_name)
        try:
            return module.compact(module.validate(raw))
        except ValidationError:
            continue
    raise InvalidInput(gettext("tax id {raw!r} is not a valid {names}").format(raw=raw, names=_names(schemes)))


def loose(text: str) -> str:
    """A typed KEY as a tax id would be stored, without validating it (look-ups): upper-case, without
    spaces, dots and dashes, and without a leading country prefix of the four (PT, ES, RO, IT)."""
    value = _LOOSE.sub("", (text or "").strip()).upper()
    if len(value) > 2 and value[:2] in SCHEMES and value[2:3].isdigit():
        value = value[2:]
    return value
