"""Receipts as read from a till file: lines, blocks parsed column by column, amounts in cents."""

from __future__ import annotations

import re
from datetime import datetime
from itertools import compress, repeat
from operator import is_not
from typing import Iterable, Iterator, NamedTuple

from loyaltycli.base.errors import LoyaltyError
from loyaltycli.base.money import parse_amount
from loyaltycli.base import numbers

# how a till names the sale a refund belongs to: R1-R, R1/R2
REFUND_SUFFIX = re.compile(r"^(.+?)(?:-R|/R\d+)$")

_SIMPLE_AMOUNT = re.compile(r"(-?)(\d{1,9})(?:\.(\d\d?))?")


class Reject(Exception):
    """A receipt (or row) that cannot be imported: the reason, and the line it concerns."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line



class Line:
    """One row of a receipt (a plain slotted class: one is made per row of the file)."""

    __slots__ = ("line", "fields", "amount", "sku", "quantity", "unit_price")

    def __init__(self, line: int, fields: list[str], amount: int = 0, sku: str = "", quantity: int = 1000,
                 unit_price: int = 0):
        self.line = line
        self.fields = fields
        self.amount = amount
        self.sku = sku
        self.quantity = quantity
        self.unit_price = unit_price


class Block(NamedTuple):
    """Rows of the file parsed column by column: the receipts' lines refer to them by position."""

    rows: list
    starts: list[int]
    skus: list[str]
    quantities: list[int]
    prices: list[int]
    amounts: list[int]


class Span:
    """The lines of one receipt in a Block: what ``receipt.lines`` is on the column-by-column path."""

    __slots__ = ("block", "first", "end")

    def __init__(self, block: Block, first: int, end: int):
        self.block = block
        self.first = first
        self.end = end

    def __len__(self) -> int:
        return self.end - self.first

    def __iter__(self) -> Iterator[Line]:
        b = self.block
        for i in range(self.first, self.end):
            yield Line(b.starts[i], b.rows[i], b.amounts[i], b.skus[i], b.quantities[i], b.prices[i])


def receipt_items(lines, purchase_id: int) -> Iterable[tuple]:
    """(purchase_id, sku, quantity, unit_price, amount) of a receipt's lines that name a product."""
    if isinstance(lines, Span):
        b, i, j = lines.block, lines.first, lines.end
        rows = zip(repeat(purchase_id, j - i), b.skus[i:j], b.quantities[i:j], b.prices[i:j], b.amounts[i:j])
        return rows if "" not in b.skus[i:j] else [row for row in rows if row[1]]
    return [(purchase_id, line.sku, line.quantity, line.unit_price, line.amount) for line in lines if line.sku]


def sku_quantity_price(lines) -> list[tuple]:
    """(sku, quantity in thousandths, unit price) of each of a receipt's lines (a Span's in C)."""
    if isinstance(lines, Span):
        b, i, j = lines.block, lines.first, lines.end
        return list(zip(b.skus[i:j], b.quantities[i:j], b.prices[i:j]))
    return [(line.sku, line.quantity, line.unit_price) for line in lines]


def block_items(receipts: list, purchase_ids: list[int]) -> list[tuple]:
    """``receipt_items`` of many receipts (``purchase_ids[receipt.index]`` each), the lines of each Block taken
    column by column in C, in the Block's order (a receipt's lines in file order); other receipts' one by one."""
    items: list[tuple] = []
    by_block: dict[int, tuple[Block, list]] = {}
    for receipt in receipts:
        lines = receipt.lines
        if isinstance(lines, Span):
            found = by_block.get(id(lines.block))
            if found is None:
                found = by_block[id(lines.block)] = (lines.block, [None] * len(lines.block.skus))
            column = found[1]
            if lines.end - lines.first == 1:
                column[lines.first] = purchase_ids[receipt.index]
            else:
                column[lines.first:lines.end] = repeat(purchase_ids[receipt.index], lines.end - lines.first)
        else:
            items.extend(receipt_items(lines, purchase_ids[receipt.index]))
    for b, column in by_block.values():
        rows = zip(column, b.skus, b.quantities, b.prices, b.amounts)
        if None in column or "" in b.skus:
            rows = compress(rows, map(all, zip(map(is_not, column, repeat(None)), b.skus)))
        items.extend(rows)
    return items




class Receipt:
    __slots__ = ("receipt_id", "first_line", "at_text", "at", "customer_key", "channel", "lines", "error",
                 "negate", "amount", "customer", "sale_link", "index", "us")

    def __init__(self, receipt_id: str, first_line: int, at_text: str, customer_key: str, channel: str):
        self.receipt_id = receipt_id
        self.first_line = first_line
        self.at_text = at_text
        self.at: datetime | None = None
        self.customer_key = customer_key
        self.channel = channel
        self.lines: list[Line] = []
        self.error: Reject | None = None
        self.amount = 0
        self.customer = None
        self.sale_link: int | None = None  # a refund of a sale in the same block: the sale's index there
        self.index = -1


AMOUNT_MEMO: dict[str, int] = {}


def cents(text: str, what: str) -> int:
    """Cents of a decimal string; till files repeat their prices, so answers are remembered."""
    cents = AMOUNT_MEMO.get(text)
    if cents is not None:
        return cents
    cents = parse_cents(text, what)
    if len(AMOUNT_MEMO) > 100_000:
        AMOUNT_MEMO.clear()
    AMOUNT_MEMO[text] = cents
    return cents


QUANTITY_MEMO: dict[str, int] = {}


def cents_or_none(text: str) -> int | None:
    try:
        return cents(text, "amount")
    except LoyaltyError:
        return None


def quantity_or_none(text: str) -> int | None:
    """A line's quantity in thousandths (-100000 to 100000 units, not 0; up to 3 decimals), remembered;
    None if it is not one."""
    try:
        quantity = int(text) * 1000
    except ValueError:
        try:
            quantity = numbers.milli(numbers.parse_quantity(text))
        except LoyaltyError:
            return None
    if quantity == 0 or abs(quantity) > 100_000_000:
        return None
    if len(QUANTITY_MEMO) < 10_000:
        QUANTITY_MEMO[text] = quantity
    return quantity


def parsed_column(texts, memo: dict, parse) -> list | None:
    """A column's values: looked up in ``memo`` (in C), the few new ones parsed; None if one does not parse."""
    texts = list(map(str.strip, texts))
    values = list(map(memo.get, texts))
    if None in values:
        for i, value in enumerate(values):
            if value is None:
                value = values[i] = parse(texts[i])
                if value is None:
                    return None
    return values


def parse_cents(text: str, what: str) -> int:
    m = _SIMPLE_AMOUNT.fullmatch(text)
    if m:
        cents = int(m.group(2)) * 100 + (int(m.group(3).ljust(2, "0")) if m.group(3) else 0)
        return -cents if m.group(1) else cents
    return parse_amount(text, allow_negative=True, what=what)
