"""What the rules need to know of one customer: purchases as running sums, memberships, once-only bonus
keys, a pending referral. Plain data, read by the storage side and changed by the engine as it decides."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import accumulate

_NONE: frozenset = frozenset()


@dataclass
class Referrer:
    """The customer who referred someone: shared by all their referees, so that the count of successful
    referrals (which sets the referrer's bonus) moves as each referee is rewarded."""

    id: int
    code: str
    active: bool
    successful: int


@dataclass
class Referral:
    """A referral not rewarded yet: the referee's first purchase of at least the minimum rewards both."""

    referrer: Referrer


class Account:
    """One customer as the rules see it (purchases in time order from ``loaded_from`` on)."""

    __slots__ = ("id", "code", "enrolled_at", "times", "amounts", "cum", "memberships", "bonus_keys", "referral",
                 "loaded_from", "cards", "card_ends", "card_log", "state")

    def __init__(self, id_: int, code: str, enrolled_at: datetime):
        self.id = id_
        self.code = code
        self.enrolled_at = enrolled_at
        self.reset(None)

    def reset(self, loaded_from: int | None) -> None:
        """Empty, to be read from the database from ``loaded_from`` on (None: not read yet)."""
        # purchases in time order as compact arrays: times (microseconds since 1970, UTC), amounts, and
        # running totals (cum[k] = sum of amounts[:k]) so that a window's spend is one subtraction
        self.times = array("q")
        self.amounts = array("q")
        self.cum = array("q", [0])
        # most customers have neither: one shared empty value until they do (a set costs 216 bytes)
        self.memberships: list[tuple] | tuple = ()
        self.bonus_keys: set[str] | frozenset = _NONE
        self.referral: Referral | None = None
        self.loaded_from = loaded_from
        self.cards: dict[int, int] | None = None  # stamp card id -> stamps on the current card (read with the rest)
        self.card_ends: dict[int, datetime | None] | None = None  # card id -> its deadline (--expires-days cards)
        # card id -> its rows in time order (engine.cards.Logged), for cards that expire: the card at any
        # time (a receipt arriving late is put in its place and the card replayed, engine.cards.restate)
        self.card_log: dict[int, list] | None = None
        self.state: dict = {}  # rule KEY -> the state a rule of its own declares (engine.rules), as its store loads it

    def trim(self, start: int) -> None:
        """Forget purchases before ``start`` (a later sale before it has the account read again)."""
        i = bisect_left(self.times, start)
        del self.times[:i], self.amounts[:i], self.cum[:i]
        self.loaded_from = start

    def add_bonus(self, key: str) -> None:
        if self.bonus_keys is _NONE:
            self.bonus_keys = set()
        self.bonus_keys.add(key)

    def spend_between(self, start: int, end: int, *, inclusive: bool = False) -> int:
        """Net spend from ``start`` up to ``end`` (excluded unless ``inclusive``), times in microseconds."""
        i = bisect_left(self.times, start)
        j = bisect_right(self.times, end) if inclusive else bisect_left(self.times, end)
        return self.cum[j] - self.cum[i]

    def add(self, at: int, amount: int) -> None:
        times = self.times
        if not times or at >= times[-1]:  # the usual case: the newest purchase
            times.append(at)
            self.amounts.append(amount)
            self.cum.append(self.cum[-1] + amount)
            return
        k = bisect_right(times, at)
        times.insert(k, at)
        self.amounts.insert(k, amount)
        self.cum = array("q", accumulate(self.amounts, initial=self.cum[0]))

    def add_membership(self, start: datetime, end: datetime, cancelled: datetime | None, multiplier) -> None:
        self.memberships = [*self.memberships, (start, end, cancelled, Decimal(multiplier))]

    def membership_multiplier(self, at: datetime) -> Decimal:
        """The multiplier of the best paid membership active at ``at`` (1 without one)."""
        return max((m for start, end, cancelled, m in self.memberships
                    if start <= at < end and (cancelled is None or cancelled > at)), default=Decimal(1))
