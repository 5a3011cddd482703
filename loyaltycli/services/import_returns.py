"""Which sale each return of an import's block gives back: the sale its id names (this block's or one in the
database), else the same customer's latest earlier sale that its SKUs fit (engine.returns), else none.

The database side is read set-based once per block (storage.sales_by_receipt, storage.returnable_sales);
the block's own sales are added as the rules apply them, in time order.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from loyaltycli import programs
from loyaltycli.store import storage
from loyaltycli.base.errors import InvalidInput, RuleNotMet
from loyaltycli.base.instants import microseconds
from loyaltycli.engine.earning import Sale
from loyaltycli.engine.returns import ReturnMatcher, wanted
from loyaltycli.i18n import gettext
from loyaltycli.tillcsv.records import Receipt, sku_quantity_price


class BlockReturns:
    """The sales the returns of one block may give back. ``block``: the block's receipts by id."""

    def __init__(self, session: Session, reader, source: str, ready: list[Receipt], block: dict[str, Receipt]):
        self.reader = reader
        self.block = block
        # ids in any case (ab-1 names AB-1, as at the counter): a block holds no two ids differing only in case
        self._cases = {receipt_id.upper(): receipt_id for receipt_id in block}
        # this block's sales applied so far: receipt id -> (receipt, index, earned, stamps), or its Sale
        # once a return needs it
        self.sales: dict[str, tuple | Sale] = {}
        # the sales each return's id may name, worked out once (a preset's rules, the lines' refund_of)
        self._named_by: dict[str, list[str]] = {
            r.receipt_id: reader.sale_candidates(r.receipt_id, reader.refund_of(r)) for r in ready if r.amount < 0}
        named = [c for candidates in self._named_by.values() for c in candidates]
        self.db_sales, self.db_refunds = (storage.sales_by_receipt(session, source, named, rules=programs) if named
                                          else ({}, set()))
        self._matching: set[int] = set()  # customers with a return that names no sale: theirs are matched
        self.matcher, self.db_by_id = self._returnable(session, ready)

    def _candidates(self, receipt: Receipt) -> list[str]:
        return self._named_by[receipt.receipt_id]

    def _in_block(self, candidate: str) -> str | None:
        """The id of this block's receipt that ``candidate`` names, as written or in another case."""
        return candidate if candidate in self.block else self._cases.get(candidate.upper())

    def add_sale(self, receipt: Receipt, index: int, decision) -> None:
        """A sale of the block, applied (``index``: its purchase row, written later; ``decision``: the
        engine's, what it earned and gave each rule)."""
        self.sales[receipt.receipt_id] = (receipt, index, decision.earned, decision.given)
        # only the sales of customers whose returns are matched by their items can be matched (the others'
        # would never be asked for)
        if self.matcher is not None and receipt.customer.id in self._matching:
            self.matcher.add(receipt.customer.id, receipt.receipt_id, receipt.us, sku_quantity_price(receipt.lines))

    def sale_of(self, receipt: Receipt) -> Sale | None:
        """The sale a return gives back; None when it names none and none fits (the documented fallback).
        A return naming a refund, a rejected receipt or a later sale is refused (LoyaltyError)."""
        sale = self._named(receipt)
        if self.matcher is None:
            return sale
        need = wanted(receipt.lines)
        if sale is not None:  # its items are no longer there to return
            self.matcher.take(sale.id if sale.id is not None else sale.receipt_id, need)
            return sale

        def resolve(key) -> Sale:
            return self.db_by_id[key] if isinstance(key, int) else self._block_sale(key)

        def fits(key) -> bool:
            found = resolve(key)
            return found.at <= receipt.at and found.amount - found.refunded >= -receipt.amount

        key = self.matcher.match(receipt.customer.id, receipt.us, need, fits)
        return resolve(key) if key is not None else None

    def _block_sale(self, receipt_id: str) -> Sale:
        """A sale of this block as a Sale record (made once, when a return needs it)."""
        sale = self.sales[receipt_id]
        if isinstance(sale, tuple):
            original, index, earned, given = sale
            sale = self.sales[receipt_id] = Sale(original.receipt_id, original.customer.id, original.customer.code,
                                                 original.at, original.amount, earned, original.channel,
                                                 index=index, given=given,
                                                 items=[(line.sku, line.quantity, line.unit_price)
                                                        for line in original.lines if line.sku and line.quantity > 0])
        return sale

    def _named(self, receipt: Receipt) -> Sale | None:
        """The sale a refund's id names (``R123-R``, ``R123/R2``, a preset's prefix), from this block or the
        database; None when it names none. A refund of a refund, or of a sale later than itself, is refused."""
        candidates = self._candidates(receipt)
        for candidate in candidates:
            mine = self._in_block(candidate)
            sale = self._block_sale(mine) if mine in self.sales else self.db_sales.get(candidate)
            if sale is not None:
                return sale
            other = self.block.get(mine) if mine is not None else None
            if candidate in self.db_refunds or (other is not None and other.amount < 0):
                raise RuleNotMet(gettext('refund {receipt_id} names {candidate}, which is a refund: a refund of a refund is refused').format(receipt_id=receipt.receipt_id, candidate=candidate))
        for candidate in candidates:
            if candidate.upper() in self.reader.rejected_ids:
                raise RuleNotMet(gettext('refund {receipt_id} is of receipt {candidate}, which was rejected').format(receipt_id=receipt.receipt_id, candidate=candidate))
            if self._in_block(candidate) is not None:  # a sale of this block not applied yet: later than the refund
                raise InvalidInput(gettext('a refund cannot be earlier than its sale'))
        return None

    def _returnable(self, session: Session, ready: list[Receipt]) -> tuple[ReturnMatcher | None, dict[int, Sale]]:
        """For the block's returns that name no sale we have: the earlier sales of their customers with their
        SKUs, from the database, read set-based at once (storage.returnable_sales). None when every return
        names its sale (a till's `R1-R`: nothing more is read) or none has SKUs."""
        def named(receipt: Receipt) -> bool:
            for candidate in self._candidates(receipt):
                mine = self._in_block(candidate)  # the block's receipt of that id, in any case
                if candidate in self.db_sales or (mine is not None and self.block[mine].amount > 0):
                    return True
            return False

        returns = [r for r in ready if r.amount < 0 and not named(r)]
        skus = {line.sku for r in returns for line in r.lines if line.sku}
        if not skus:
            return None, {}
        self._matching = {r.customer.id for r in returns}
        items, records = storage.returnable_sales(session, self._matching, skus,
                                                  max(r.at for r in returns), rules=programs)
        by_id = {sale.id: sale for sale in self.db_sales.values()}  # one Sale per purchase, named or matched
        for purchase_id, sale in records.items():
            by_id.setdefault(purchase_id, sale)
        matcher = ReturnMatcher()
        for purchase_id, sale_items in items.items():
            sale = by_id[purchase_id]
            matcher.add(sale.customer_id, purchase_id, microseconds(sale.at), sale_items)
        return matcher, by_id
