"""Which sale a return without a link belongs to: the same customer's latest earlier sale that has every
returned SKU at the same unit price, with enough quantity not yet returned (and enough of its amount left).

Pure: the caller gives the candidate sales (from the database, read set-based once per batch, and the sales
of the batch as it applies them) and the return's lines; no database, no clock.
"""

from __future__ import annotations

from bisect import insort
from typing import Callable, Hashable, Iterable


def wanted(lines: Iterable) -> dict[tuple[str, int], int] | None:
    """(sku, unit price) -> quantity returned (thousandths, positive) of a return's lines; None when a line
    names no SKU or is not a return (quantity 0 or more): such a return is never matched by its items."""
    need: dict[tuple[str, int], int] = {}
    for line in lines:
        if not line.sku or line.quantity >= 0:
            return None
        key = (line.sku, line.unit_price)
        need[key] = need.get(key, 0) - line.quantity
    return need or None


class _Candidate:
    __slots__ = ("us", "order", "key", "left")

    def __init__(self, us: int, order: int, key: Hashable, left: dict):
        self.us = us
        self.order = order
        self.key = key
        self.left = left

    def __lt__(self, other: "_Candidate") -> bool:
        return (self.us, self.order) < (other.us, other.order)


class ReturnMatcher:
    """Candidate sales per customer, in time order; what is left of each (sku, unit price)."""

    def __init__(self) -> None:
        self._by_customer: dict[int, list[_Candidate]] = {}
        self._by_key: dict[Hashable, _Candidate] = {}
        self._order = 0

    def add(self, customer_id: int, key: Hashable, us: int, items: Iterable[tuple[str, int, int]]) -> None:
        """A sale (``key``: how the caller finds it again) at ``us`` with items (sku, quantity left in
        thousandths, unit price); items without SKU or quantity left are ignored."""
        left: dict[tuple[str, int], int] = {}
        for sku, quantity, price in items:
            if sku and quantity > 0:
                left[(sku, price)] = left.get((sku, price), 0) + quantity
        if not left:
            return
        candidate = self._by_key.get(key)
        if candidate is not None:  # more lines of the same sale
            for k, q in left.items():
                candidate.left[k] = candidate.left.get(k, 0) + q
            return
        self._order += 1
        candidate = self._by_key[key] = _Candidate(us, self._order, key, left)
        insort(self._by_customer.setdefault(customer_id, []), candidate)

    def match(self, customer_id: int, us: int, need: dict[tuple[str, int], int] | None,
              fits: Callable[[Hashable], bool] = lambda key: True) -> Hashable | None:
        """The key of the latest sale of ``customer_id`` at or before ``us`` that has all of ``need`` left
        (and that ``fits``, e.g. has enough of its amount left); what it returns is taken from it. None if
        no sale has."""
        if not need:
            return None
        for candidate in reversed(self._by_customer.get(customer_id, ())):
            if candidate.us > us:
                continue
            left = candidate.left
            if all(left.get(k, 0) >= q for k, q in need.items()) and fits(candidate.key):
                self.take(candidate.key, need)
                return candidate.key
        return None

    def take(self, key: Hashable, need: dict[tuple[str, int], int] | None) -> None:
        """A return linked to sale ``key`` (by its items or by name): what it returns is no longer left."""
        candidate = self._by_key.get(key)
        if candidate is None or not need:
            return
        for k, q in need.items():
            if k in candidate.left:
                candidate.left[k] = max(0, candidate.left[k] - q)
