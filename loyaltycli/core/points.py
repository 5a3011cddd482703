"""Points at the counter: purchases, refunds, awards and redemptions."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyaltycli.core import clock, ledger, rules
from loyaltycli.core.errors import (AmbiguousCustomer, DuplicateReceipt, InsufficientPoints, InvalidInput,
                                    NotFound, RuleNotMet, UnknownReceipt)
from loyaltycli.core.models import Customer, LedgerEntry, Purchase, PurchaseItem, Redemption, Reward
from loyaltycli.core.money import format_amount, parse_amount, parse_money
from loyaltycli.core.program import Program

_RECEIPT = re.compile(r"^[\w./:#-]{1,64}$")
_CHANNEL = re.compile(r"^[a-z0-9_-]{1,32}$")
# Clocks of two tills may differ a little; anything later than this is a typo.
FUTURE_SLACK = clock.DAY / 24 / 12


@dataclass
class Item:
    sku: str
    quantity: int
    unit_price: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


def parse_item(text: str) -> Item:
    """'SKU:QTY:PRICE' -> Item ('COF-250:2:4.50')."""
    bits = (text or "").rsplit(":", 2)
    if len(bits) != 3 or not bits[0].strip():
        raise InvalidInput(f"item {text!r} is not SKU:QTY:PRICE (e.g. COF-250:2:4.50)")
    try:
        quantity = int(bits[1])
    except ValueError:
        raise InvalidInput(f"item {text!r}: quantity {bits[1]!r} is not a whole number") from None
    if quantity == 0 or abs(quantity) > 100_000:
        raise InvalidInput(f"item {text!r}: quantity must be 1 to 100000")
    return Item(check_sku(bits[0]), quantity, parse_money(bits[2], what="unit price"))


def check_sku(text: str) -> str:
    sku = (text or "").strip()
    if not sku or len(sku) > 64 or any(ord(ch) < 32 for ch in sku):
        raise InvalidInput(f"sku {text!r} must be 1 to 64 printable characters")
    return sku


def check_receipt(text: str) -> str:
    value = (text or "").strip()
    if not _RECEIPT.match(value):
        raise InvalidInput(f"receipt id {text!r} must be 1 to 64 letters, digits or . / : # - _")
    return value


def check_channel(text: str) -> str:
    value = (text or "").strip().lower()
    if not _CHANNEL.match(value):
        raise InvalidInput(f"channel {text!r} must be a short word such as store or online")
    return value


def check_when(at: datetime | None, customer: Customer | None = None) -> datetime:
    """``at`` or now; never in the future, never before the customer enrolled."""
    now = clock.now()
    at = at or now
    if at > now + FUTURE_SLACK:
        raise InvalidInput(f"time {clock.local_text(at)} is in the future")
    if customer is not None and at < customer.enrolled_at:
        raise RuleNotMet(f"{clock.local_text(at)} is before {customer.code} enrolled "
                         f"({clock.local_text(customer.enrolled_at)})")
    return at


@dataclass
class PurchaseResult:
    receipt_id: str
    code: str
    amount: int
    points: int
    balance: int
    tier: str
    earn_tier: str
    multiplier: str
    bonuses: list[rules.Bonus] = field(default_factory=list)
    purchase_id: int = 0


def post_purchase(session: Session, program: Program, customer: Customer, amount: int, *,
                  at: datetime | None = None, receipt_id: str | None = None, source: str = "counter",
                  channel: str = "store", items: list[Item] | None = None,
                  import_file: str | None = None, import_line: int | None = None) -> PurchaseResult:
    """Record a sale and earn its points: tier at the time of sale, multipliers, bonuses."""
    if amount <= 0:
        raise InvalidInput("purchase amount must be more than zero (use `loyalty refund` for returns)")
    items = items or []
    if items and sum(i.amount for i in items) != amount:
        raise InvalidInput(f"items add up to {format_amount(sum(i.amount for i in items))} "
                           f"but the amount is {format_amount(amount)}")
    at = check_when(at, customer)
    channel = check_channel(channel)
    receipt_id = check_receipt(receipt_id) if receipt_id else new_receipt_id(at)
    ledger.lock_customer(session, customer.id)
    if session.execute(select(Purchase.id).where(Purchase.source == source,
                                                 Purchase.receipt_id == receipt_id)).first():
        raise DuplicateReceipt(f"receipt {receipt_id} was already recorded (source {source}); nothing changed")
    tier = rules.tier_at(session, program, customer.id, at)
    multiplier = tier.multiplier * rules.membership_multiplier(session, customer.id, at)
    purchase = Purchase(customer_id=customer.id, source=source, receipt_id=receipt_id, at=at, amount=amount,
                        channel=channel, import_file=import_file, import_line=import_line)
    session.add(purchase)
    session.flush()
    for item in items:
        session.add(PurchaseItem(purchase_id=purchase.id, sku=item.sku, quantity=item.quantity,
                                 unit_price=item.unit_price, amount=item.amount))
    points = rules.points_for_amount(program, amount, multiplier)
    if points:
        ledger.post(session, customer.id, "earn", points, at, expires_at=program.expiry_for(at),
                    purchase_id=purchase.id,
                    note=f"receipt {receipt_id} {format_amount(amount)} {channel} ({tier.name} x{multiplier.normalize()})")
    bonuses = []
    milestone = rules.milestone_bonus(session, program, customer, at, purchase.id)
    if milestone:
        bonuses.append(milestone)
    bonuses.extend(rules.referral_bonuses(session, program, customer, at, amount, purchase.id))
    return PurchaseResult(
        receipt_id=receipt_id, code=customer.code, amount=amount, points=points,
        balance=ledger.balance(session, customer.id),
        tier=rules.current_tier(session, program, customer.id).name, earn_tier=tier.name,
        multiplier=str(multiplier.normalize()), bonuses=bonuses, purchase_id=purchase.id)


def check_max_purchase(program, amount: int) -> None:
    """Refuse a sale above ``max_purchase`` (the CLI asks on a terminal and then skips this check)."""
    from loyaltycli.core.errors import AboveMaxPurchase
    from loyaltycli.core.money import format_amount

    if amount > program.max_purchase:
        raise AboveMaxPurchase(f"{format_amount(amount)} is more than max_purchase "
                               f"{format_amount(program.max_purchase)} (an amount typed in the wrong box?); "
                               "raise it with `loyalty program set max_purchase AMOUNT` if it is right",
                               amount, program.max_purchase)


def new_receipt_id(at: datetime) -> str:
    local = clock.to_local(at)
    return f"S{local:%Y%m%d-%H%M%S}-{secrets.token_hex(2).upper()}"


@dataclass
class RefundResult:
    receipt_id: str
    refund_id: str
    code: str
    amount: int
    points: int
    balance: int


def find_sale(session: Session, receipt_id: str, source: str | None = None) -> Purchase:
    query = select(Purchase).where(Purchase.receipt_id == receipt_id.strip(), Purchase.refund_of_id.is_(None),
                                   Purchase.amount > 0)
    if source:
        query = query.where(Purchase.source == source)
    sales = session.execute(query).scalars().all()
    if not sales:
        raise UnknownReceipt(f"unknown receipt {receipt_id.strip()!r}; see `loyalty history KEY` for receipt ids")
    if len(sales) > 1:
        raise AmbiguousCustomer(f"receipt {receipt_id!r} exists in several sources "
                                f"({', '.join(s.source for s in sales)}); give --source")
    return sales[0]


def post_refund(session: Session, program: Program, sale: Purchase, amount: int | None = None, *,
                at: datetime | None = None, refund_receipt: str | None = None) -> RefundResult:
    """Refund all or part of a sale and reverse its earned points in proportion (rounded down)."""
    ledger.lock_customer(session, sale.customer_id)
    customer = session.get(Customer, sale.customer_id)
    refunds = session.execute(select(Purchase).where(Purchase.refund_of_id == sale.id)).scalars().all()
    refunded = -sum(r.amount for r in refunds)
    remaining = sale.amount - refunded
    if remaining <= 0:
        raise RuleNotMet(f"receipt {sale.receipt_id} is already fully refunded")
    amount = remaining if amount is None else amount
    if amount <= 0:
        raise InvalidInput("refund amount must be more than zero")
    if amount > remaining:
        raise RuleNotMet(f"refund {format_amount(amount)} is more than what is left of receipt "
                         f"{sale.receipt_id} ({format_amount(remaining)})")
    at = check_when(at)
    if at < sale.at:
        raise InvalidInput("a refund cannot be earlier than its sale")
    earned = session.execute(select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
        LedgerEntry.purchase_id == sale.id, LedgerEntry.kind == "earn")).scalar_one()
    reversed_before = -session.execute(select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
        LedgerEntry.purchase_id.in_([r.id for r in refunds] or [-1]), LedgerEntry.kind == "refund")).scalar_one()
    # Cumulative rounding: after a full refund exactly the earned points are reversed.
    reversed_total = earned * (refunded + amount) // sale.amount
    points = reversed_total - reversed_before
    refund_id = check_receipt(refund_receipt) if refund_receipt else f"{sale.receipt_id}/R{len(refunds) + 1}"
    if session.execute(select(Purchase.id).where(Purchase.source == sale.source,
                                                 Purchase.receipt_id == refund_id)).first():
        raise DuplicateReceipt(f"refund {refund_id} was already recorded; nothing changed")
    refund = Purchase(customer_id=sale.customer_id, source=sale.source, receipt_id=refund_id, at=at,
                      amount=-amount, channel=sale.channel, refund_of_id=sale.id)
    session.add(refund)
    session.flush()
    if points:
        ledger.post(session, sale.customer_id, "refund", -points, at, purchase_id=refund.id,
                    note=f"refund of receipt {sale.receipt_id}: {format_amount(amount)}")
    return RefundResult(receipt_id=sale.receipt_id, refund_id=refund_id, code=customer.code, amount=amount,
                        points=-points, balance=ledger.balance(session, sale.customer_id))


def award(session: Session, program: Program, customer: Customer, points: int, reason: str, *,
          at: datetime | None = None, kind: str = "award", bonus_key: str | None = None) -> int:
    """Give (or, negative, take back) points for a stated reason; returns the new balance."""
    from loyaltycli.core.textkey import check_plain_text

    reason = (check_plain_text(reason, "reason") or "").strip()
    if not reason:
        raise InvalidInput("--reason is required: say why the points are given")
    if points == 0 or abs(points) > ledger.MAX_POINTS:
        raise InvalidInput(f"points must be a non-zero whole number up to {ledger.MAX_POINTS}")
    at = check_when(at)
    ledger.lock_customer(session, customer.id)
    if points < 0:
        ledger.expire_customer(session, customer.id, at)
        available = ledger.balance(session, customer.id)
        if available + points < 0:
            raise InsufficientPoints(f"{customer.code} has {available} points; cannot take back {-points}")
        kind = "adjust"
        expires = None
    else:
        expires = program.expiry_for(at)
    ledger.post(session, customer.id, kind, points, at, expires_at=expires, bonus_key=bonus_key, note=reason)
    return ledger.balance(session, customer.id)


@dataclass
class RedeemResult:
    code: str
    points: int
    value: int
    balance: int
    reward: str | None = None


def find_reward(session: Session, name: str) -> Reward:
    reward = session.execute(select(Reward).where(func.lower(Reward.name) == name.strip().lower(),
                                                  Reward.active.is_(True))).scalar()
    if reward is None:
        raise NotFound(f"unknown reward {name.strip()!r}; see `loyalty reward list`")
    return reward


def redeem(session: Session, program: Program, customer: Customer, points: int | None = None, *,
           reward: str | None = None, basket: int | None = None, at: datetime | None = None) -> RedeemResult:
    """Spend points (oldest first): a number of points, or a catalogue reward at its cost."""
    chosen = None
    if reward:
        chosen = find_reward(session, reward)
        if points is not None and points != chosen.cost:
            raise InvalidInput(f"reward {chosen.name} costs {chosen.cost} points, not {points}")
        points = chosen.cost
    if points is None:
        raise InvalidInput("give the points to redeem or --reward NAME")
    if points <= 0 or points > ledger.MAX_POINTS:
        raise InvalidInput("points to redeem must be a positive whole number")
    if points < program.min_redemption:
        raise RuleNotMet(f"the minimum redemption is {program.min_redemption} points")
    if program.min_basket:
        if basket is None:
            raise RuleNotMet(f"redemptions need a basket of at least {format_amount(program.min_basket)} "
                             "(give --basket AMOUNT)")
        if basket < program.min_basket:
            raise RuleNotMet(f"basket {format_amount(basket)} is below the minimum "
                             f"{format_amount(program.min_basket)} for a redemption")
    value = points * program.point_value
    if basket is not None and chosen is None and value > basket:
        raise RuleNotMet(f"{points} points are worth {format_amount(value)}, more than the basket "
                         f"{format_amount(basket)}")
    at = check_when(at)
    entry, left = ledger.spend(session, customer, points, at, "redeem",
                               f"reward {chosen.name}" if chosen else f"redeemed for {format_amount(value)}")
    session.add(Redemption(ledger_id=entry.id, customer_id=customer.id, points=points, value=value,
                           reward_id=chosen.id if chosen else None, basket=basket, at=at))
    return RedeemResult(code=customer.code, points=points, value=value, balance=left,
                        reward=chosen.name if chosen else None)
