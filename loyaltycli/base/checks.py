"""What a receipt id, a channel, a SKU and a receipt's items may be: plain checks, shared by the counter and
the till reader."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Iterable

from loyaltycli.base.errors import InvalidInput
from loyaltycli.base import numbers
from loyaltycli.base.money import format_money
from loyaltycli.i18n import _

_CHANNEL = re.compile(r"^[a-z0-9_-]{1,32}$")


MAX_SKU = 64  # characters of a SKU


def check_sku(text: str) -> str:
    sku = (text or "").strip()
    if not sku or len(sku) > MAX_SKU or any(ord(ch) < 32 for ch in sku):
        raise InvalidInput(_('sku {text!r} must be 1 to 64 printable characters').format(text=text))
    return sku


MAX_RECEIPT = 64  # characters of a receipt id


def check_receipt(text: str) -> str:
    """1 to MAX_RECEIPT printable characters, spaces inside allowed (a Portuguese 'FS 2026/101')."""
    value = (text or "").strip()
    if not value or len(value) > MAX_RECEIPT or not value.isprintable():
        raise InvalidInput(_('receipt id {text!r} must be 1 to 64 printable characters (e.g. 0042 or FS 2026/101)').format(text=text))
    return value


def receipts_pass(texts: list[str]) -> bool:
    """Whether every one of many receipt ids (an import's block) passes ``check_receipt``, seen in C; False
    may still leave them all valid (one with a tab around it): then ask ``check_receipt`` one by one."""
    sizes = list(map(len, map(str.strip, texts)))
    return bool(sizes) and min(sizes) >= 1 and max(sizes) <= MAX_RECEIPT and "".join(texts).isprintable()


def check_channel(text: str) -> str:
    value = (text or "").strip().lower()
    if not _CHANNEL.match(value):
        raise InvalidInput(_('channel {text!r} must be a short word such as store or online').format(text=text))
    return value



def item_texts(quantity: Decimal, unit_price: Decimal) -> tuple[str, str]:
    """A quantity and unit price as a message shows them: 0.5 and 0.05, 1.2345 (no trailing zeros past cents)."""
    quantity_text = numbers.plain(quantity, 3).rstrip("0").rstrip(".")
    price_text = numbers.plain(unit_price, 6).rstrip("0")
    return quantity_text, price_text if len(price_text.partition(".")[2]) > 2 else numbers.plain(unit_price)


def check_item(sku: str, quantity: Decimal, unit_price: Decimal, amount: int) -> None:
    """An item's amount (cents) is its quantity (up to 3 decimals) x its unit price, rounded half-even to
    cents. A return may carry its sign on the quantity, the amount or both (tills differ), so the sign is
    not compared."""
    expected = numbers.line_amount(quantity, unit_price)
    if abs(amount) != abs(expected):
        quantity_text, price_text = item_texts(quantity, unit_price)
        raise InvalidInput(_("item {sku}: amount {amount} is not quantity {quantity} x unit price {price} = "
                             "{expected} (rounded half-even to cents)").format(
            sku=sku or _("(no sku)"), amount=format_money(amount), quantity=quantity_text, price=price_text,
            expected=format_money(expected)))


def check_items(amount: int, items: Iterable[tuple[str, Decimal, Decimal, int]]) -> None:
    """A receipt's items, (sku, quantity, unit price, amount in cents) each: every item's amount is its
    quantity x unit price (``check_item``) and they add up to the receipt's ``amount``."""
    total = 0
    for sku, quantity, unit_price, item_amount in items:
        check_item(sku, quantity, unit_price, item_amount)
        total += item_amount
    if total != amount:
        raise InvalidInput(_("items add up to {sum} but the amount is {amount}").format(
            sum=format_money(total), amount=format_money(amount)))
