"""The engine: the shop's rules (loyaltycli.engine.rules, one module per program type) composed in their
fixed order and run on each event (a sale, a refund, an enrollment, an expiry, an occasion), once for the
counter and the import. The helpers the rules share (the tier of the window, the multiplier, the expiry
date of a credit, ledger rows) are here; what each program type decides is in its rule module.

Pure: no database, no clock, no I/O. The caller gives the program, the shop's time zone and the moment
the rows are recorded, loads the accounts (the state ``Engine.needs``), and writes the rows the engine
returns (lists in ``LEDGER_COLUMNS`` order, and ``Decision.writes`` for the rules' own tables;
``purchase_id`` is left for the caller to fill in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from json import dumps
from json.encoder import encode_basestring
from typing import TYPE_CHECKING

from loyaltycli.base.errors import InvalidInput, RuleNotMet
from loyaltycli.base.instants import EPOCH, microseconds
from loyaltycli.base.money import floor_int, format_amount, format_money
from loyaltycli.engine.account import Account, Referral
from loyaltycli.engine.rules import Event, Rule, compose, rate_points
from loyaltycli.i18n import _
from loyaltycli.base.numbers import decimal_text

if TYPE_CHECKING:  # the Program is read by attribute only: the engine does not import the settings' storage
    from loyaltycli.store.program import Program, Tier

LEDGER_COLUMNS = ("customer_id", "kind", "delta", "at", "expires_at", "purchase_id", "lot_id", "bonus_key", "note",
                  "recorded_at", "note_kind", "note_args")
KIND, DELTA, PURCHASE = 1, 2, 5
DAY = timedelta(days=1)


def points_for_amount(program: Program, amount: int, multiplier: Decimal) -> int:
    """Points for a purchase: whole currency units x earn rate x multipliers, rounded down."""
    return floor_int(rate_points(program, amount, multiplier))


def credit_expiry(program: Program, at: datetime) -> datetime | None:
    """When points credited at ``at`` expire (None: never): the one home of the rule."""
    return at + DAY * program.expiry_days if program.expiry_days else None


@dataclass
class Sale:
    """What a refund needs of the sale it names (``index``: a sale the caller has not written yet).
    ``given``: rule KEY -> what the sale gave that rule (stamps per card, a goal's progress...);
    ``taken``: rule KEY -> what its refunds took back so far; ``items``: the sale's lines as
    (sku, quantity in thousandths, unit price)."""

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
    given: dict = field(default_factory=dict)
    taken: dict = field(default_factory=dict)
    items: tuple | list = ()


@dataclass
class Decision:
    """The rows of one event, and what the caller reports or must also write: ``rows`` for the points
    ledger, ``writes`` table name -> rows for the rules' own tables, ``given`` rule KEY -> what a sale gave."""

    rows: list
    earned: int = 0
    tier: Tier | None = None
    multiplier: Decimal = Decimal(1)
    rewarded: Referral | None = None  # a referral this sale rewarded: mark it rewarded
    writes: dict = field(default_factory=dict)
    given: dict = field(default_factory=dict)

    @property
    def card_rows(self) -> list:
        """Stamp-card ledger rows (engine.cards.CARD_COLUMNS)."""
        return self.writes.setdefault("card_ledger", [])

    @property
    def stamps(self) -> dict | None:
        """Card id -> stamps this sale earned."""
        return self.given.get("cards")


class Engine:
    """The rules of one program in one time zone, composed in their order (engine.rules); rows stamped
    ``recorded``."""

    def __init__(self, program: Program, zone, recorded: datetime):
        self.program = program
        self.zone = zone
        self.recorded = recorded
        self.window_us = program.tier_window_days * 86_400_000_000
        self.window = DAY * program.tier_window_days
        self.cashback = program.earn_mode == "cashback"
        # times are held in UTC: where the shop's zone is UTC too, a sale's year needs no conversion
        self.utc = isinstance(zone, timezone) and zone.utcoffset(None) == timedelta(0)
        self._points: dict[tuple, int] = {}
        self._rates: dict[tuple, tuple[str, str]] = {}
        self._year_starts: dict[int, datetime] = {}
        self._span = (0, 0, 0)  # year_span's last answer
        self._amounts: dict[int, str] = {}
        # the one rule of a credit's expiry (credit_expiry), as a span worked out once
        probe = credit_expiry(program, EPOCH)
        self._expiry = None if probe is None else probe - EPOCH
        self.rules = compose(program)
        self.needs = frozenset().union(*(rule.needs for rule in self.rules))
        self.wants_items = any(rule.items for rule in self.rules)
        self._hooks: dict[str, tuple] = {}
        # the hooks of the events the import runs per receipt, found once (a rule not in force costs nothing)
        self._expire_hooks = self.hooks("expire")
        self._sale_hooks = self.hooks("sale")
        self._refund_hooks = self.hooks("refund")

    def hooks(self, name: str) -> tuple:
        """The rules that implement hook ``name``, in order (a rule's no-op is skipped)."""
        found = self._hooks.get(name)
        if found is None:
            found = self._hooks[name] = tuple(getattr(rule, name) for rule in self.rules
                                              if getattr(type(rule), name) is not getattr(Rule, name))
        return found

    # -- helpers the rules share ----------------------------------------------------------------------
    def year_of(self, at: datetime) -> int:
        return at.year if self.utc else at.astimezone(self.zone).year

    def year_span(self, at: datetime, us: int) -> tuple[int, int, int]:
        """(year, its start, the next year's start) of the shop's calendar year of ``at`` (``us`` its
        microseconds), starts in microseconds: the last one asked is kept (sales come in time order)."""
        span = self._span
        if span[1] <= us < span[2]:
            return span
        year = self.year_of(at)
        span = self._span = (year, microseconds(self.year_start(year)), microseconds(self.year_start(year + 1)))
        return span

    def year_start(self, year: int) -> datetime:
        start = self._year_starts.get(year)
        if start is None:
            start = self._year_starts[year] = datetime(year, 1, 1, tzinfo=self.zone).astimezone(timezone.utc)
        return start

    def since(self, at: datetime) -> datetime:
        """The earliest purchase time the rules look at for a sale at ``at``: tier window and year."""
        return min(at - self.window, self.year_start(self.year_of(at)))

    def expires(self, at: datetime) -> datetime | None:
        """When points credited at ``at`` expire (credit_expiry)."""
        return at + self._expiry if self._expiry is not None else None

    def points(self, amount: int, multiplier: Decimal) -> int:
        """points_for_amount, remembered: it depends only on whole units (or cents in cashback mode)."""
        if amount <= 0:
            return 0
        key = (amount if self.cashback else amount // 100, multiplier)
        earned = self._points.get(key)
        if earned is None:
            earned = self._points[key] = points_for_amount(self.program, amount, multiplier)
        return earned

    def portion_points(self, portions: list, multiplier: Decimal) -> int:
        """The points of an amount cut into (cents, rate) portions (rate None: the program's), rounded
        down once."""
        if len(portions) == 1 and portions[0][1] is None:
            return self.points(portions[0][0], multiplier)
        return floor_int(sum((rate_points(self.program, cents, multiplier, rate) for cents, rate in portions),
                             Decimal(0)))

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

    def earn_note(self, receipt_id: str, amount: int, channel: str, tier: Tier, multiplier: Decimal) -> tuple:
        """The note of a sale's spend points (engine.notes' kind "earn"), built here at the import's pace:
        (English text, "earn", JSON of the values), the rate's part cached per tier, multiplier and channel."""
        rate = self._rates.get((tier.name, multiplier, channel))
        if rate is None:
            mult = decimal_text(multiplier)
            rate = self._rates[(tier.name, multiplier, channel)] = (
                f"{channel} ({tier.name} x{mult})",
                "," + dumps({"channel": channel, "tier": tier.name, "multiplier": mult},
                            ensure_ascii=False, separators=(",", ":"))[1:])
        return (f"receipt {receipt_id} {self.amount_text(amount)} {rate[0]}"[:500], "earn",
                f'{{"receipt":{encode_basestring(receipt_id)},"amount":{amount}{rate[1]}')  # = dumps(ensure_ascii=False)

    def row(self, customer_id: int, kind: str, delta: int, at: datetime, expires: datetime | None,
            note: tuple[str, str, str], bonus_key: str | None = None) -> list:
        """A ledger row as a list in LEDGER_COLUMNS order; ``note`` as ``engine.notes.make`` gives it."""
        text, note_kind, note_args = note
        return [customer_id, kind, delta, at, expires, None, None, bonus_key, text, self.recorded, note_kind,
                note_args]

    def _run(self, hook: str, event: Event) -> None:
        for call in self.hooks(hook):
            call(self, event)

    # -- the events -------------------------------------------------------------------------------------
    def sale(self, account: Account, receipt_id: str, at: datetime, amount: int, channel: str,
             us: int | None = None, items: tuple | list = ()) -> Decision:
        """A sale of ``amount`` cents at ``at``: what each rule decides, in order. The account takes the sale."""
        if at < account.enrolled_at:
            raise RuleNotMet(_('{at} is before {code} enrolled ({enrolled_at})').format(at=_local(at, self.zone), code=account.code, enrolled_at=_local(account.enrolled_at, self.zone)))
        us = microseconds(at) if us is None else us
        event = Event("sale", account, at, Decision([]), receipt_id, amount, channel, us, items,
                      portions=[(amount, None)])
        for call in self._expire_hooks:
            call(self, event)
        for call in self._sale_hooks:
            call(self, event)
        account.add(us, amount)
        return event.out

    def refund(self, account: Account, receipt_id: str, at: datetime, amount: int, sale: Sale | None,
               us: int | None = None, items: tuple | list = ()) -> Decision:
        """A refund of ``amount`` cents (positive) at ``at``, of ``sale`` (None: no sale linked, the points
        reversed at the customer's earn rate at the time), returning ``items`` ((sku, quantity, amount),
        quantities positive; none named: see ``refund_items``). ``sale`` is updated; the account takes the
        refund."""
        us = microseconds(at) if us is None else us
        if sale is not None:
            if sale.customer_id != account.id:
                raise RuleNotMet(_('refund {receipt_id} names {code} but sale {receipt_id2} belongs to {customer_code}').format(receipt_id=receipt_id, code=account.code, receipt_id2=sale.receipt_id, customer_code=sale.customer_code))
            check_refund(sale, amount, at)
            items = refund_items(sale, amount, items)
        event = Event("refund", account, at, Decision([]), receipt_id, amount, "", us, items, sale,
                      portions=[(amount, None)])
        for call in self._expire_hooks:
            call(self, event)
        for call in self._refund_hooks:
            call(self, event)
        if sale is not None:
            sale.refunded += amount
            sale.refunds += 1
        account.add(us, -amount)
        return event.out

    def enroll(self, account: Account, at: datetime) -> Decision:
        """An enrollment at ``at``: its rows (the welcome bonus)."""
        event = Event("enroll", account, at, Decision([]))
        self._run("enroll", event)
        return event.out

    def expire(self, account: Account, at: datetime) -> Decision:
        """What has lapsed by ``at`` (stamp cards past their deadline)."""
        event = Event("expire", account, at, Decision([]))
        self._run("expire", event)
        return event.out

    def occasion(self, account: Account, occasion: str, at: datetime, key: str, detail: str = "") -> Decision:
        """A dated bonus (``occasion``: birthday) at ``at``, once per ``key`` (the caller checks)."""
        event = Event("occasion", account, at, Decision([]), occasion=occasion, key=key, detail=detail)
        self._run("occasion", event)
        return event.out


def refund_items(sale: Sale, amount: int, items: tuple | list) -> tuple | list:
    """The items a refund returns. Named: as named. None named, a partial refund of a sale of one product
    at one price: that many of it when the amount is a whole number of them (3.00 back of three coffees
    at 3.00: one coffee); else none. One reading for the counter and the import."""
    if items or not sale.items or amount >= sale.amount - sale.refunded:
        return items
    kinds = {(sku.upper(), price) for sku, _, price in sale.items}
    if len(kinds) != 1:
        return items
    sku, _, price = sale.items[0]
    if price <= 0 or amount % price or amount // price * 1000 > sum(q for _, q, _ in sale.items):
        return items
    return [(sku, amount // price, amount)]


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
