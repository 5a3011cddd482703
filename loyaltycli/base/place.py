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
# Told whenever the place in force changes (the clock forgets the zone it found); registered by them.
_listeners: list[Callable[[], None]] = []


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever the place in force is set or forgotten."""
    _listeners.append(listener)


def _changed() -> None:
    for listener in _listeners:
        listener()


def set_loader(loader: Callable[[], dict | None] | None) -> None:
    """Forget the place in force; ``loader`` finds it again when first needed."""
    global _values, _loader
    _values, _loader = None, loader
    i18n.forget_shop()
    _changed()


def activate(values: dict) -> None:
    """Put a place in force (the program's settings)."""
    global _values
    _values = {key: values.get(key) for key in KEYS}
    i18n.set_shop_locale(_values.get("locale"))  # messages in the shop's language from here on
    _changed()


def known() -> dict | None:
    """The place in force if it is known already (read or put in force), without reading it; else None."""
    return _values


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

