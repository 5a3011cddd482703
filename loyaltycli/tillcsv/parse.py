"""A block of till records into whole receipts (the reader's part that reads numbers, SKUs and times): a
plain block column by column in C (``_fast_receipts``; ``_fast_priced_receipts`` for a file without an
amount column, as UCI's), any other block row by row with every rule and message (``_slow_receipts``).
A mixin of ``tillcsv.reader.Reader``: it uses the reader's column indexes (``_get``, ``_width``), preset,
options, summary, ``when`` and ``reject_row``."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cached_property
from itertools import accumulate, compress, repeat
from operator import floordiv, gt, itemgetter, methodcaller, mod, mul, ne

from loyaltycli.base import numbers
from loyaltycli.base.checks import MAX_SKU, check_sku, item_texts
from loyaltycli.base.errors import InvalidInput, LoyaltyError
from loyaltycli.tillcsv.translate import LONE_GROUP
from loyaltycli.tillcsv.records import (AMOUNT_MEMO, QUANTITY_MEMO, Block, Line, Receipt, Reject, Span, cents,
                                        cents_or_none, parsed_column, quantity_or_none)
from loyaltycli.i18n import N_, _


# an amount with a decimal comma (12,50 / 1.234,50), where the file is read with decimal points
_COMMA_DECIMAL = re.compile(r"-?\d{1,3}(?:\.\d{3})*,\d{1,2}|-?\d+,\d{1,2}")


class BlockParsing:
    @cached_property
    def _needed(self) -> int:
        """The fields a row must have: up to its receipt, its time and its amount (or quantity and unit price).
        A row that stops before them is rejected: it was cut short, or a quote left open swallowed the lines
        after it. (Worked out once: the columns are found before any row is read.)"""
        get = self._get
        amount = (get["amount"],) if get["amount"] is not None else (get["quantity"], get["unit_price"])
        return max(i for i in (get["receipt_id"], get["timestamp"], *amount) if i is not None) + 1

    def _passed_over(self, fields: list[str], error: bool) -> bool:
        """Whether the row-by-row path (``_slow_receipts``) gives this row to no receipt: blank, unreadable or
        cut short (both rejected), skipped by the preset or --skip-when, or anonymous where the preset skips
        those. The lines of a receipt around such a row stay one receipt. (A customer number's '.0', which
        card numbers drop, never leaves a key empty.)"""
        if error or len(fields) < self._needed:
            return True
        width = len(fields)  # fields missing at the row's end read as empty
        skip_rules = self._rule_columns["skip_when"]
        if skip_rules and any((fields[c] if c < width else "").strip().lower() == v for c, v in skip_rules):
            return True
        i = self._get["customer"]
        return self.preset.anonymous == "skip" and not (fields[i] if i < width else "").strip()

    @cached_property
    def _number_columns(self) -> list[int]:
        """The columns of numbers a lone '1,500' may be in, when the file is read with decimal points."""
        if self.options.decimal_comma:
            return []
        return [i for i in (self._get["amount"], self._get["quantity"], self._get["unit_price"]) if i is not None]

    @cached_property
    def _shop_decimal_comma(self) -> bool:
        from loyaltycli.base.money import shop_decimal_mark

        return shop_decimal_mark() == ","

    def _has_commas(self, rows: list) -> bool:
        """Whether a number column of the block holds a comma (each column joined in C)."""
        try:
            return any("," in "\x00".join(map(itemgetter(i), rows)) for i in self._number_columns)
        except IndexError:  # a short row: the row-by-row path takes the block anyway
            return False

    def _two_readings(self, text: str, what: str) -> None:
        """Refuses a number the shop could read two ways: 1,500 read with decimal points is 1500, and 1.5 in
        a shop whose locale writes decimal commas; 0,750 can only be 0.75, never 750."""
        found = LONE_GROUP.fullmatch(text.strip()) if "," in text else None
        if found and (found[1] == "0" or self._shop_decimal_comma):
            raise Reject(_("{what} {raw!r} is thousands or a decimal comma: give --decimal-comma if the file "
                           "writes decimal commas, else write {whole}{frac}").format(
                what=_(what), raw=text.strip(), whole=found[1], frac=found[2]))

    def _receipts(self, rows: list, starts: list[int], errors: dict[int, str]) -> list[Receipt]:
        """The whole receipts of a block of records."""
        if not errors and rows and self._has_commas(rows):  # a number with two readings? row by row, where
            return self._slow_receipts(rows, starts, errors)  # it is refused
        if not errors and rows:
            if self._get["amount"] is None:
                receipts = self._fast_priced_receipts(rows, starts)
            else:
                receipts = self._fast_receipts(rows, starts)
            if receipts is not None:
                return receipts
        return self._slow_receipts(rows, starts, errors)

    def _fast_priced_receipts(self, rows: list, starts: list[int]) -> list[Receipt] | None:
        """``_fast_receipts`` for a file with no amount column (UCI Online Retail: quantity x unit price),
        with what such presets do, column by column: anonymous rows passed over and counted, a
        cancellation's lines made a return whatever their sign, a receipt's time its earliest line's (lines
        straddling a minute). None for any other block (row by row, with every rule and message): an amount
        that is not a whole number of cents, a negative or over-precise price, a receipt whose customer
        changes, a time that does not read..."""
        get, width, preset = self._get, self._width, self.preset
        i_sku, i_qty, i_price = get["sku"], get["quantity"], get["unit_price"]
        if (None in (i_sku, i_qty, i_price) or self._rule_columns["negate_when"]
                or self._rule_columns["skip_when"]):
            return None
        i_refund = get.get("refund_of")
        if i_refund is not None and any(len(row) > i_refund and row[i_refund].strip() for row in rows):
            return None  # credit notes: row by row (a row naming the document it credits is a return)
        if set(map(len, rows)) != {width}:
            return None
        strip = str.strip
        read = len(rows)
        keys = list(map(strip, map(itemgetter(get["customer"]), rows)))
        anonymous = 0
        if "" in keys:
            if preset.anonymous != "skip":
                return None
            anonymous = keys.count("")
            rows, starts, keys = list(compress(rows, keys)), list(compress(starts, keys)), list(filter(None, keys))
            if not rows:
                self.summary.read += read
                self.summary.anonymous += anonymous
                return []
        if self.options.customer_kind == "card" and ".0\x00" in "\x00".join(keys) + "\x00":
            return None
        columns = list(zip(*rows))
        receipt_ids = list(map(strip, columns[get["receipt_id"]]))
        whens = list(map(strip, columns[get["timestamp"]]))
        if "" in receipt_ids:
            return None
        # a new receipt where the id changes; within a receipt the customer must not change
        new = list(map(ne, receipt_ids[1:], receipt_ids[:-1]))
        if any(map(gt, map(ne, keys[1:], keys[:-1]), new)):
            return None
        prices = parsed_column(columns[i_price], AMOUNT_MEMO, cents_or_none)
        quantities = parsed_column(columns[i_qty], QUANTITY_MEMO, quantity_or_none)
        if prices is None or quantities is None or min(prices) < 0:
            return None
        # quantity (thousandths) x unit price (cents): whole cents, or row by row (rounded there, with the rules)
        products = list(map(mul, quantities, prices))
        if any(map(mod, products, repeat(1000))):
            return None
        amounts = list(map(floordiv, products, repeat(1000)))
        prefix = preset.cancellation_prefix
        if prefix and any(map(methodcaller("startswith", prefix), receipt_ids)):
            for i, receipt_id in enumerate(receipt_ids):  # a return whatever the sign the till wrote
                if receipt_id.startswith(prefix) and receipt_id != prefix:
                    amounts[i], quantities[i] = -abs(amounts[i]), -abs(quantities[i])
        parts = self._block_parts(columns, rows, starts, new, quantities, prices, amounts)
        if parts is None:
            return None
        channels, block, totals, firsts = parts
        default_channel = preset.default_channel
        # the lines where the time changes within a receipt (a receipt straddling a minute)
        moved = set(compress(range(1, len(rows)), map(gt, map(ne, whens[1:], whens[:-1]), new)))
        when = self.when
        out = []
        for first, end in zip(firsts, firsts[1:] + [len(rows)]):
            at_text = whens[first]
            if moved and not moved.isdisjoint(range(first + 1, end)):
                try:  # as the row-by-row path: the earliest line's time (the first of equal ones)
                    for text in whens[first + 1:end]:
                        if text != at_text and when(text) < when(at_text):
                            at_text = text
                except InvalidInput:
                    return None
            receipt = Receipt(receipt_ids[first], starts[first], at_text, keys[first],
                               (channels[first] if channels is not None else "") or default_channel)
            receipt.lines = Span(block, first, end)
            receipt.amount = totals[end] - totals[first]
            out.append(receipt)
        self.summary.read += read
        self.summary.anonymous += anonymous
        return out

    def _block_parts(self, columns, rows, starts, new, quantities, prices, amounts):
        """What both column-by-column paths build once a block's numbers are read: (channels, the Block,
        running totals, each receipt's first row); None when a SKU is too long or unprintable (row by row,
        with the reason)."""
        strip = str.strip
        skus = list(map(strip, columns[self._get["sku"]]))
        if max(map(len, skus)) > MAX_SKU or not all(map(str.isprintable, skus)):
            return None
        i_channel = self._get["channel"]
        channels = list(map(strip, columns[i_channel])) if i_channel is not None else None
        return (channels, Block(rows, starts, skus, quantities, prices, amounts),
                list(accumulate(amounts, initial=0)), [0, *compress(range(1, len(rows)), new)])

    def _fast_receipts(self, rows: list, starts: list[int]) -> list[Receipt] | None:
        """The common block (every row as wide as the header, plain amounts and quantities, whole receipts
        on consecutive lines, no preset rule to apply) is parsed column by column, in C; None for any
        other block, which the row-by-row path takes with its full rules and messages."""
        get, width, preset = self._get, self._width, self.preset
        i_amount, i_sku, i_qty, i_price = get["amount"], get["sku"], get["quantity"], get["unit_price"]
        if (None in (i_amount, i_sku, i_qty, i_price) or self._rule_columns["negate_when"]
                or self._rule_columns["skip_when"]):
            return None
        i_refund = get.get("refund_of")
        if i_refund is not None and any(len(row) > i_refund and row[i_refund].strip() for row in rows):
            return None  # credit notes: row by row (a row naming the document it credits is a return)
        widths = set(map(len, rows))
        if widths != {width}:
            return None
        columns = list(zip(*rows))
        strip = str.strip
        receipt_ids = list(map(strip, columns[get["receipt_id"]]))
        whens = list(map(strip, columns[get["timestamp"]]))
        keys = list(map(strip, columns[get["customer"]]))
        if "" in receipt_ids or ("" in keys and preset.anonymous == "skip"):
            return None
        if self.options.customer_kind == "card" and ".0\x00" in "\x00".join(keys) + "\x00":
            return None
        # a new receipt where the id changes; within a receipt, time and customer must not change
        new = list(map(ne, receipt_ids[1:], receipt_ids[:-1]))
        if (any(map(gt, map(ne, whens[1:], whens[:-1]), new))
                or any(map(gt, map(ne, keys[1:], keys[:-1]), new))):
            return None
        amounts = parsed_column(columns[i_amount], AMOUNT_MEMO, cents_or_none)
        prices = parsed_column(columns[i_price], AMOUNT_MEMO, cents_or_none)
        quantities = parsed_column(columns[i_qty], QUANTITY_MEMO, quantity_or_none)
        if amounts is None or prices is None or quantities is None:
            return None
        prefix = preset.cancellation_prefix
        if prefix and any(map(methodcaller("startswith", prefix), receipt_ids)) and any(
                amount > 0 and rid.startswith(prefix) for rid, amount in zip(receipt_ids, amounts)):
            return None  # a cancellation written with positive amounts: row by row, where it is made a return
        # every amount quantity x unit price (checks.check_item), compared in thousandths of a cent, in C;
        # a weighed quantity to round, or an amount that is not that, goes row by row (with the reason)
        if any(map(ne, map(abs, map(mul, quantities, prices)), map(abs, map(mul, amounts, repeat(1000))))):
            return None
        if any(map(gt, repeat(0), map(mul, quantities, amounts))):
            return None  # a return signed on its quantity alone (-1 x 10.00 = 10.00): row by row, where it is made one
        parts = self._block_parts(columns, rows, starts, new, quantities, prices, amounts)
        if parts is None:
            return None
        channels, block, totals, firsts = parts
        default_channel = preset.default_channel
        out = []
        for first, end in zip(firsts, firsts[1:] + [len(rows)]):
            receipt = Receipt(receipt_ids[first], starts[first], whens[first], keys[first],
                               (channels[first] if channels is not None else "") or default_channel)
            receipt.lines = Span(block, first, end)
            receipt.amount = totals[end] - totals[first]
            out.append(receipt)
        self.summary.read += len(rows)
        return out

    def _slow_receipts(self, rows: list, starts: list[int], errors: dict[int, str]) -> list[Receipt]:
        """Row by row, with every rule and message: short or long rows, preset rules, odd values."""
        get = self._get
        out: list[Receipt] = []
        current: Receipt | None = None
        width = self._width
        i_receipt, i_when, i_customer = get["receipt_id"], get["timestamp"], get["customer"]
        i_amount, i_channel, i_sku = get["amount"], get["channel"], get["sku"]
        i_qty, i_price = get["quantity"], get["unit_price"]
        negate_rules = self._rule_columns["negate_when"]
        skip_rules = self._rule_columns["skip_when"]
        i_refund = get.get("refund_of")
        prefix = self.preset.cancellation_prefix or None

        def credits(fields: list[str], receipt_id: str) -> bool:
            """A return whatever the sign the till wrote: by its type (a preset's negate_when: NC, Refund...;
            its cancellation prefix), or because it names the document it credits (refund_of)."""
            return bool((negate_rules and any(fields[i].strip().lower() == v for i, v in negate_rules))
                        or (i_refund is not None and fields[i_refund].strip())
                        or (prefix and receipt_id.startswith(prefix) and receipt_id != prefix))

        anonymous_skip = self.preset.anonymous == "skip"
        card_numbers = self.options.customer_kind == "card"  # the preset's, or --customer-kind
        default_channel = self.preset.default_channel
        summary = self.summary
        # the common canonical row (whole quantity, prices seen before, a plain SKU) is parsed inline;
        # anything else goes through _parse_line, which has the full rules and messages
        fast = None not in (i_amount, i_sku, i_qty, i_price)
        known_amount = AMOUNT_MEMO.get
        # a row may leave out empty fields at its end, but not the receipt, its time or its amount
        # (the rows it gives to no receipt are those ``_passed_over`` tells)
        needed = self._needed
        for i, fields in enumerate(rows):
            start, error = starts[i], errors.get(i)
            if error is None and not fields:
                continue  # a blank line
            summary.read += 1
            if error is not None:
                self.reject_row(start, fields or [], error)
                continue
            if len(fields) < needed:
                swallowed = any("\n" in field for field in fields)
                self.reject_row(start, fields, (_(
                    'a quote opened in line {line} is not closed: the lines after it were read as one field') if swallowed
                    else _('line {line} has {count} fields; the header has {width}')).format(
                    line=start, count=len(fields), width=width))
                continue
            if len(fields) < width:
                fields = fields + [""] * (width - len(fields))
            if skip_rules and any(fields[i].strip().lower() == v for i, v in skip_rules):
                summary.skipped += 1
                continue
            receipt_id = fields[i_receipt].strip()
            key = fields[i_customer].strip()
            if card_numbers and key.endswith(".0") and key[:-2].isdigit():
                key = key[:-2]  # spreadsheets write customer numbers as 17850.0
            if not key and anonymous_skip:
                summary.anonymous += 1
                continue
            when = fields[i_when].strip()
            if current is None or receipt_id != current.receipt_id or not receipt_id:
                if current is not None:
                    out.append(current)
                channel = fields[i_channel].strip() if i_channel is not None else ""
                current = Receipt(receipt_id, start, when, key, channel or default_channel)
            if current.error is not None:
                current.lines.append(Line(start, fields))
                continue
            if fast and receipt_id and when == current.at_text and key == current.customer_key:
                qty_text = fields[i_qty].strip()
                unit_price = known_amount(fields[i_price].strip())
                amount = known_amount(fields[i_amount].strip())
                sku = fields[i_sku].strip()
                if (unit_price is not None and amount is not None and qty_text.isdecimal()
                        and 0 < len(sku) <= MAX_SKU and sku.isprintable()):
                    quantity = int(qty_text) * 1000  # thousandths
                    if 0 < quantity <= 100_000_000 and abs(amount) == abs(quantity // 1000 * unit_price):
                        if credits(fields, receipt_id):
                            amount, quantity = -abs(amount), -quantity
                        current.lines.append(Line(start, fields, amount, sku, quantity, unit_price))
                        current.amount += amount
                        continue
            line = Line(start, fields)
            current.lines.append(line)
            try:
                if not receipt_id:
                    raise Reject(_('receipt id is empty'), start)
                if key != current.customer_key:
                    raise Reject(_('lines of receipt {receipt_id} disagree on the customer (line {first_line} has {customer_key!r})').format(receipt_id=receipt_id, first_line=current.first_line, customer_key=current.customer_key),
                                  start)
                if when != current.at_text:  # lines straddling a minute: the receipt's time is its earliest line's
                    try:
                        if self.when(when) < self.when(current.at_text):
                            current.at_text = when
                    except InvalidInput as exc:
                        raise Reject(str(exc), start) from None
                self._parse_line(line, fields, i_amount, i_sku, i_qty, i_price)
                if credits(fields, receipt_id):
                    line.amount, line.quantity = -abs(line.amount), -abs(line.quantity)
                current.amount += line.amount
            except Reject as exc:
                current.error = exc if exc.line else Reject(exc.reason, start)
            except LoyaltyError as exc:
                current.error = Reject(str(exc), start)
        if current is not None:
            out.append(current)
        return out

    def _parse_line(self, line: Line, fields: list[str], i_amount, i_sku, i_qty, i_price) -> None:
        qty_text = fields[i_qty].strip() if i_qty is not None else ""
        price_text = fields[i_price].strip() if i_price is not None else ""
        amount_text = fields[i_amount].strip() if i_amount is not None else ""
        # a file repeats a few quantities and prices (UCI: ~50 quantities, ~20 prices in 540,000 lines): each
        # combination read once (the outcome depends on these texts only; a refusal is not kept)
        key = (qty_text, price_text, amount_text)
        numbers_of = self._line_numbers.get(key)
        if numbers_of is None:
            self._parse_numbers(line, fields, i_amount, i_sku, qty_text, price_text, amount_text)
            if len(self._line_numbers) > 50_000:
                self._line_numbers.clear()
            self._line_numbers[key] = (line.quantity, line.unit_price, line.amount)
        else:
            line.quantity, line.unit_price, line.amount = numbers_of
        if i_sku is not None:
            sku = fields[i_sku].strip()
            if sku:
                line.sku = sku if len(sku) <= MAX_SKU and sku.isprintable() else check_sku(sku)

    def _parse_numbers(self, line: Line, fields: list[str], i_amount, i_sku, qty_text: str, price_text: str,
                       amount_text: str) -> None:
        # quantities whole or up to 3 decimals (weighed goods), in thousandths; unit prices to 6 decimals
        for text, what in ((qty_text, N_("quantity")), (price_text, N_("unit price")), (amount_text, N_("amount"))):
            if text and self._number_columns:
                self._two_readings(text, what)
        if qty_text:
            try:
                exact = numbers.parse_quantity(qty_text[:40])
            except InvalidInput:
                raise Reject(_('quantity {qty_text!r} must be a number from 0.001 to 100000 (negative for a return; at most 3 decimals)').format(qty_text=qty_text[:40])) from None
        else:
            exact = Decimal(1)
        quantity = numbers.milli(exact)
        price = numbers.to_decimal(price_text, decimals=6, what=N_("unit price")) if price_text else None
        unit_price = numbers.cents(price) if price is not None else None
        if amount_text:
            try:
                amount = cents(amount_text, "amount")
                if exact < 0 < amount:  # a return may carry its sign on the quantity alone
                    amount = -amount
            except InvalidInput:
                if _COMMA_DECIMAL.fullmatch(amount_text.strip()):  # 12,50 in a file read with decimal points
                    raise Reject(_("amount {raw!r} is written with a decimal comma: give --decimal-comma (or a "
                                   "preset that reads them)").format(raw=amount_text.strip()[:40])) from None
                raise
            if price is not None and qty_text:  # quantity x unit price, or less (a discount)
                self._check_line_total(fields[i_sku].strip() if i_sku is not None else "", exact, price, amount)
        elif price is not None:
            amount = numbers.line_amount(exact, price)
        else:
            raise Reject(_('amount is empty (and there is no unit_price to compute it)'))
        line.quantity = quantity
        line.unit_price = unit_price if unit_price is not None else (
            amount * 1000 // quantity if amount * 1000 % quantity == 0 else amount)
        if unit_price is None and amount * 1000 % quantity:
            line.quantity = 1000
        line.amount = amount

    def _check_line_total(self, sku: str, quantity: Decimal, price: Decimal, amount: int) -> None:
        """A line total below quantity x unit price is a discount (recorded as paid: points on what was paid);
        above it, the line is refused, its numbers written as the file writes them (1.234,56 or 1,234.56)."""
        expected = numbers.line_amount(quantity, price)
        if abs(amount) <= abs(expected):
            return
        comma = self.options.decimal_comma

        def shown(text: str) -> str:
            return text.translate(str.maketrans(".,", ",.")) if comma else text

        quantity_text, price_text = item_texts(quantity, price)
        raise Reject(_("item {sku}: amount {amount} is more than quantity {quantity} x unit price {price} = "
                       "{expected}").format(sku=sku or _("(no sku)"),
                                            amount=shown(numbers.plain(Decimal(abs(amount)) / 100)),
                                            quantity=shown(quantity_text), price=shown(price_text),
                                            expected=shown(numbers.plain(Decimal(abs(expected)) / 100))))
