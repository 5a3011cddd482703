"""The earning rules, once, for the counter and the import: a sale earns points at the tier of the spend
in the window before it, times the best membership multiplier; a year's spend reaching the milestone
earns the milestone bonus once; a referee's first purchase of at least the minimum rewards referee and
referrer; a refund reverses the sale's points in proportion (cumulative, rounded down).

Pure: no database, no clock, no I/O. The caller gives the program, the shop's time zone and the moment
the rows are recorded, loads the accounts, and writes the rows the engine returns (lists in
``LEDGER_COLUMNS`` order; ``purchase_id`` is left for the caller to fill in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from loyaltycli.base.errors import InvalidInput, RuleNotMet
from loyaltycli.base.money import floor_int, format_amount, format_money
from loyaltycli.engine.account import Account, Referral
from loyaltycli.engine.cards import card_refund, card_sale, expire_cards, item_points
from loyaltycli.i18n import _

if TYPE_CHECKING:  # the Program is read by attribute only: the engine does not import the settings' storage
    from loyaltycli.store.program import Program, Tier

LEDGER_COLUMNS = ("customer_id", "kind", "delta", "at", "expires_at", "purchase_id", "lot_id", "bonus_key", "note",
                  "recorded_at")
KIND, DELTA, PURCHASE = 1, 2, 5
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
DAY = timedelta(days=1)


def microseconds(at: datetime) -> int:
    """An aware time as microseconds since 1970 (UTC): how accounts hold purchase times."""
    return (at - EPOCH) // MICROSECOND


def points_for_amount(program: Program, amount: int, multiplier: Decimal) -> int:
    """Points for a purchase: whole currency units x earn rate x multipliers, rounded down."""
    if amount <= 0:
        return 0
    if program.earn_mode == "cashback":  # 1 point = 1 cent of store credit
        return floor_int(Decimal(amount) * program.cashback_percent / 100 * multiplier)
    return floor_int(Decimal(amount // 100) * program.earn_rate * multiplier)


@dataclass
class Sale:
    """What a refund needs of the sale it names (``index``: a sale the caller has not written yet)."""

    receipt_id: str
    customer_id: int
    customer_code: str
    at: datetime
    amount: int
    earned: int
    channel: str = "store"
    index: int | None = None
    id: int | None = None
    refunded: int = 0
    reversed: int = 0
    refunds: int = 0
    stamps: dict | None = None  # card id -> stamps the sale earned (stamp cards)
    stamps_back: dict = field(default_factory=dict)  # card id -> stamps its refunds took back so far


@dataclass
class Decision:
    """The rows of one sale or refund, and what the caller reports or must also write."""

    rows: list
    earned: int = 0
    tier: Tier | None = None
    multiplier: Decimal = Decimal(1)
    rewarded: Referral | None = None  # a referral this sale rewarded: mark it rewarded
    card_rows: list = field(default_factory=list)  # stamp-card ledger rows (engine.cards.CARD_COLUMNS)
    stamps: dict | None = None  # card id -> stamps this sale earned


class Engine:
    """The rules of one program in one time zone; rows stamped ``recorded``."""

    def __init__(self, program: Program, zone, recorded: datetime):
        self.program = program
        self.zone = zone
        self.recorded = recorded
        self.expiry = DAY * program.expiry_days if program.expiry_days else None
        self.window_us = program.tier_window_days * 86_400_000_000
        self.window = DAY * program.tier_window_days
        self.cashback = program.earn_mode == "cashback"
        # times are held in UTC: where the shop's zone is UTC too, a sale's year needs no conversion
        self.utc = isinstance(zone, timezone) and zone.utcoffset(None) == timedelta(0)
        self._points: dict[tuple, int] = {}
        self._rates: dict[tuple, str] = {}
        self._year_starts: dict[int, datetime] = {}
        self._amounts: dict[int, str] = {}
        # stamp cards, item rules and visit points (engine.cards); absent from programs made by hand
        self.cards = tuple(getattr(program, "cards", None) or ())
        self.cards_expire = any(card.expires_days for card in self.cards)
        self.item_rules = tuple(getattr(program, "item_rules", None) or ())
        self.visit_points = getattr(program, "earn_per_visit", 0) or 0
        self.visit_min = getattr(program, "visit_min_amount", 0) or 0

    # -- helpers ------------------------------------------------------------------------------------
    def year_of(self, at: datetime) -> int:
        return at.year if self.utc else at.astimezone(self.zone).year

    def year_start(self, year: int) -> datetime:
        start = self._year_starts.get(year)
        if start is None:
            start = self._year_starts[year] = datetime(year, 1, 1, tzinfo=self.zone).astimezone(timezone.utc)
        return start

    def since(self, at: datetime) -> datetime:
        """The earliest purchase time the rules look at for a sale at ``at``: tier window and year."""
        return min(at - self.window, self.year_start(self.year_of(at)))

    def points(self, amount: int, multiplier: Decimal) -> int:
        """points_for_amount, remembered: it depends only on whole units (or cents in cashback mode)."""
        if amount <= 0:
            return 0
        key = (amount if self.cashback else amount // 100, multiplier)
        earned = self._points.get(key)
        if earned is None:
            earned = self._points[key] = points_for_amount(self.program, amount, multiplier)
        return earned

    def amount_text(self, cents: int) -> str:
        """format_amount, remembered (a till's prices repeat)."""
        text = self._amounts.get(cents)
        if text is None:
            if len(self._amounts) > 20_000:
                self._amounts.clear()
            text = self._amounts[cents] = format_amount(cents)
        return text

    def rate(self, account: Account, at: datetime, us: int) -> tuple[Tier, Decimal]:
        """The tier in force at ``at`` (spend in the window before it) and the multiplier with membership."""
        tier = self.program.tier_for_spend(account.spend_between(us - self.window_us, us))
        multiplier = tier.multiplier * account.membership_multiplier(at) if account.memberships else tier.multiplier
        return tier, multiplier

    def row(self, customer_id: int, kind: str, delta: int, at: datetime, expires: datetime | None, note: str,
            bonus_key: str | None = None) -> list:
        """A ledger row as a list in LEDGER_COLUMNS order."""
        return [customer_id, kind, delta, at, expires, None, None, bonus_key, note[:500], self.recorded]

    # -- the rules ------------------------------------------------------------------------------------
    def sale(self, account: Account, receipt_id: str, at: datetime, amount: int, channel: str,
             us: int | None = None, items: tuple | list = ()) -> Decision:
        """A sale of ``amount`` cents at ``at``: its points and bonuses. The account takes the sale."""
        if at < account.enrolled_at:
            raise RuleNotMet(_('{at} is before {code} enrolled ({enrolled_at})').format(at=_local(at, self.zone), code=account.code, enrolled_at=_local(account.enrolled_at, self.zone)))
        us = microseconds(at) if us is None else us
        program = self.program
        tier, multiplier = self.rate(account, at, us)
        earned = self.points(amount, multiplier)
        expires = at + self.expiry if self.expiry else None
        rows = []
        if earned:
            rate = self._rates.get((tier.name, multiplier))
            if rate is None:
                rate = self._rates[(tier.name, multiplier)] = f"({tier.name} x{multiplier.normalize()})"
            rows.append([account.id, "earn", earned, at, expires, None, None, None,
                         f"receipt {receipt_id} {self.amount_text(amount)} {channel} {rate}"[:500], self.recorded])
        if self.visit_points or self.item_rules:  # fixed points: earn rows, reversed by a refund with the rest
            earned += self._fixed_points(rows, account, receipt_id, at, amount, items, expires)
        bonus, goal = program.milestone_bonus, program.milestone_spend
        if bonus and goal:
            year = self.year_of(at)
            key = f"milestone:{year}"
            if key not in account.bonus_keys:
                start = microseconds(self.year_start(year))
                if account.spend_between(start, us, inclusive=True) + amount >= goal:
                    account.add_bonus(key)
                    rows.append(self.row(account.id, "milestone", bonus, at, expires,
                                         f"milestone: {year} spend reached {goal // 100}", key))
        decision = Decision(rows, earned, tier, multiplier)
        referral = account.referral
        if referral is not None and amount >= program.referral_min_purchase:
            referrer = referral.referrer
            referrer.successful += 1
            key = f"referral:{account.id}"
            if program.referral_referee_bonus:
                rows.append(self.row(account.id, "referral", program.referral_referee_bonus, at, expires,
                                     f"referral: welcome via {referrer.code}", key))
            points = program.referrer_bonus(referrer.successful)
            if points and referrer.active:
                rows.append(self.row(referrer.id, "referral", points, at, expires,
                                     f"referral: {account.code} made a first purchase (referral "
                                     f"#{referrer.successful})", key))
            account.referral = None
            decision.rewarded = referral
        account.add(us, amount)
        if self.cards:
            if account.cards is None:
                account.cards = {}
            if account.card_ends is None and self.cards_expire:
                account.card_ends = {}
            decision.card_rows, decision.stamps = card_sale(self.cards, account.cards, account.id, receipt_id, at,
                                                            amount, items, self.recorded, account.card_ends)
        return decision

    def _fixed_points(self, rows: list, account: Account, receipt_id: str, at: datetime, amount: int, items,
                      expires: datetime | None) -> int:
        """Visit points and item rules' points of a sale, appended to ``rows`` as earn rows; their sum."""
        total = 0
        if self.visit_points and amount >= self.visit_min:
            total += self.visit_points
            rows.append(self.row(account.id, "earn", self.visit_points, at, expires,
                                 f"receipt {receipt_id}: visit points"))
        for rule, points in item_points(self.item_rules, items):
            total += points
            rows.append(self.row(account.id, "earn", points, at, expires, f"receipt {receipt_id}: {rule.name}"))
        return total

    def refund(self, account: Account, receipt_id: str, at: datetime, amount: int, sale: Sale | None,
               us: int | None = None, items: tuple | list = ()) -> Decision:
        """A refund of ``amount`` cents (positive) at ``at``, of ``sale`` (None: no sale linked, the points
        reversed at the customer's earn rate at the time), returning ``items`` ((sku, quantity, amount),
        quantities positive; they decide the stamps taken back). ``sale`` is updated; the account takes the
        refund."""
        us = microseconds(at) if us is None else us
        if sale is None:
            tier, multiplier = self.rate(account, at, us)
            reverse = points_for_amount(self.program, amount, multiplier)
            rows = []
            if reverse:
                rows.append(self.row(account.id, "refund", -reverse, at, None,
                                     f"refund {receipt_id}: {format_amount(amount)} "
                                     f"({tier.name} x{multiplier.normalize()}, no sale linked)"))
            account.add(us, -amount)
            return Decision(rows, -reverse, tier, multiplier)
        if sale.customer_id != account.id:
            raise RuleNotMet(_('refund {receipt_id} names {code} but sale {receipt_id2} belongs to {customer_code}').format(receipt_id=receipt_id, code=account.code, receipt_id2=sale.receipt_id, customer_code=sale.customer_code))
        check_refund(sale, amount, at)
        # Cumulative rounding: after a full refund exactly the earned points are reversed. Expiry comes
        # before any debit: once the sale's points have expired there is nothing of them to take back.
        reversed_total = sale.earned * (sale.refunded + amount) // sale.amount
        if self.expiry is not None and at >= sale.at + self.expiry:
            reversed_total = sale.reversed
        reverse = reversed_total - sale.reversed
        card_rows = []
        if account.card_ends and account.cards is not None:  # cards past their deadline expire first
            card_rows = expire_cards(self.cards, account.cards, account.card_ends, account.id, at, self.recorded)
        if sale.stamps:
            if account.cards is None:
                account.cards = {}
            card_rows += card_refund(self.cards, sale.stamps, sale.stamps_back, account.cards, account.id,
                                    sale.receipt_id, at, sale.amount - sale.refunded - amount, items, self.recorded)
        sale.refunded += amount
        sale.reversed = reversed_total
        sale.refunds += 1
        rows = []
        if reverse:
            rows.append(self.row(account.id, "refund", -reverse, at, None,
                                 f"refund of receipt {sale.receipt_id}: {format_amount(amount)}"))
        account.add(us, -amount)
        return Decision(rows, -reverse, card_rows=card_rows)


def check_refund(sale: Sale, amount: int, at: datetime) -> None:
    """What may be refunded of a sale: something left, no more than is left, never before the sale."""
    remaining = sale.amount - sale.refunded
    if remaining <= 0:
        raise RuleNotMet(_('receipt {receipt_id} is already fully refunded').format(receipt_id=sale.receipt_id))
    if amount <= 0:
        raise InvalidInput(_('refund amount must be more than zero'))
    if amount > remaining:
        raise RuleNotMet(_('refund {amount} is more than what is left of receipt {receipt_id} ({remaining})').format(amount=format_money(amount), receipt_id=sale.receipt_id, remaining=format_money(remaining)))
    if at < sale.at:
        raise InvalidInput(_('a refund cannot be earlier than its sale'))


def _local(at: datetime, zone) -> str:
    """clock.local_text without the clock module's environment look-up."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
