"""Where the shop is: country, currency, phone region, time zone and locale, in force for one command.

The program's settings hold them; ``activate`` puts them in force when the program is loaded, and a
loader (installed by the CLI) reads them on first need when input is parsed before that (an amount
or a time typed on the command line).
"""

from __future__ import annotations

from typing import Callable

from loyaltycli import i18n

# Keys of the place, and what they are when nothing is stored.
KEYS = ("country", "currency", "phone_region", "timezone", "locale")

_values: dict | None = None
_loader: Callable[[], dict | None] | None = None


def set_loader(loader: Callable[[], dict | None] | None) -> None:
    """Forget the place in force; ``loader`` finds it again when first needed."""
    global _values, _loader
    from loyaltycli.shop import clock

    _values, _loader = None, loader
    clock.set_loader(lambda: get("timezone"))
    i18n.forget_shop()


def activate(values: dict) -> None:
    """Put a place in force (the program's settings)."""
    global _values
    from loyaltycli.shop import clock

    _values = {key: values.get(key) for key in KEYS}
    i18n.set_shop_locale(_values.get("locale"))  # messages in the shop's language from here on
    if _values.get("timezone"):
        clock.use_zone(_values["timezone"])


def get(key: str, default=None):
    """One value of the place in force (``default`` when unknown)."""
    global _values
    if _values is None and _loader is not None:
        try:
            loaded = _loader()
        except Exception:  # noqa: BLE001  no database yet: the defaults
            loaded = None
        _values = {k: (loaded or {}).get(k) for k in KEYS} if loaded is not None else None
    if _values is None:
        return default
    value = _values.get(key)
    return default if value is None else value


def read_settings(session) -> dict:
    """The place's settings as stored (text), without loading the whole program."""
    import json

    from sqlalchemy import select

    from loyaltycli.store.models import ProgramSetting

    rows = session.execute(select(ProgramSetting.key, ProgramSetting.value)
                           .where(ProgramSetting.key.in_(KEYS + ("max_purchase",)))).all()
    return {key: json.loads(value) for key, value in rows}
