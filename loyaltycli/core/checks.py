"""What a receipt id, a channel and a SKU may be: plain checks, shared by the counter and the till reader."""

from __future__ import annotations

import re

from loyaltycli.core.errors import InvalidInput
from loyaltycli.i18n import _

_CHANNEL = re.compile(r"^[a-z0-9_-]{1,32}$")


def check_sku(text: str) -> str:
    sku = (text or "").strip()
    if not sku or len(sku) > 64 or any(ord(ch) < 32 for ch in sku):
        raise InvalidInput(_('sku {text!r} must be 1 to 64 printable characters').format(text=text))
    return sku


def check_receipt(text: str) -> str:
    """1 to 64 printable characters, spaces inside allowed (a Portuguese 'FS 2026/101')."""
    value = (text or "").strip()
    if not value or len(value) > 64 or not value.isprintable():
        raise InvalidInput(_('receipt id {text!r} must be 1 to 64 printable characters (e.g. 0042 or FS 2026/101)').format(text=text))
    return value


def check_channel(text: str) -> str:
    value = (text or "").strip().lower()
    if not _CHANNEL.match(value):
        raise InvalidInput(_('channel {text!r} must be a short word such as store or online').format(text=text))
    return value

