"""Points at the counter: purchases, refunds, awards and redemptions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyaltycli.services import cards
from loyaltycli.shop import clock
from loyaltycli.store import ledger, tiers as rules, storage
from loyaltycli.store.ledger import FUTURE_SLACK, check_when  # noqa: F401 (callers use points.check_when)
from loyaltycli.base.checks import check_channel, check_items, check_receipt, check_sku  # noqa: F401 (callers use points.check_*)
from loyaltycli.base.errors import (AmbiguousCustomer, DuplicateReceipt, InsufficientPoints, InvalidInput,
                                    NotFound, RuleNotMet, UnknownReceipt)
from loyaltycli import programs
from loyaltycli.store.models import Customer, LedgerEntry, Purchase, PurchaseItem, Redemption, Reward
from loyaltycli.base.money import format_money, format_number, parse_money
from loyaltycli.store.program import Program, point_value
from loyaltycli.base import numbers
from loyaltycli.engine.earning import DELTA, KIND, LEDGER_COLUMNS, PURCHASE, Engine
from loyaltycli.engine.notes import make as make_note
from loyaltycli.i18n import N_, _



@dataclass
class Item:
    sku: str
    quantity: Decimal | int  # whole, or up to 3 decimals for weighed goods (0.750 kg)
    unit_price: int  # cents (rounded half-even when the price has more decimals)
    price: Decimal | None = None  # the exact unit price, when it has more than 2 decimals

    @property
    def exact_price(self) -> Decimal:
        return self.price if self.price is not None else Decimal(self.unit_price) / 100

    @property
    def amount(self) -> int:
        """quantity x unit price, rounded half-even to cents."""
        return numbers.line_amount(Decimal(self.quantity), self.exact_price)

    @property
    def quantity_milli(self) -> int:
        return numbers.milli(Decimal(self.quantity))


def parse_item(text: str) -> Item:
    """'SKU:QTY:PRICE' -> Item ('COF-250:2:4.50')."""
    bits = (text or "").rsplit(":", 2)
    if len(bits) != 3 or not bits[0].strip():
        raise InvalidInput(_('item {text!r} is not SKU:QTY:PRICE (e.g. COF-250:2:4.50)').format(text=text))
    try:
        quantity = numbers.to_decimal(bits[1], decimals=3, what=_("quantity"))
    except InvalidInput:
        raise InvalidInput(_('item {text!r}: quantity {bits!r} is not a number like 2 or {fraction}').format(
            text=text, bits=bits[1], fraction=format_number(Decimal("0.750"), decimals=3))) from None
    if not 0 < quantity <= numbers.MAX_QUANTITY:  # a number, but none a sale has (0, negative, 99999999)
        raise InvalidInput(_('item {text!r}: quantity must be {least} to {most}').format(
            text=text, least=format_number(Decimal("0.001"), decimals=3), most=format_number(100_000, decimals=0)))
    try:
        price = numbers.to_decimal(bits[2], decimals=6, what=N_("unit price"))
    except InvalidInput:  # the shop's own way (3,50 in a decimal-comma locale), to the cent
        price = Decimal(parse_money(bits[2], what=N_("unit price"))) / 100
    if price < 0:
        raise InvalidInput(_('item {text!r}: unit price must not be negative').format(text=text))
    exact = price if price != price.quantize(Decimal("0.01")) else None
    return Item(check_sku(bits[0]), quantity, numbers.cents(price), exact)


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
    cards: list[dict] = field(default_factory=list)  # the stamp cards this sale stamped, after it
    # (JSON key, value, text) of the other program types this sale moved (a goal's progress, its voucher)
    shown: list[tuple[str, object, str]] = field(default_factory=list)


def post_purchase(session: Session, program: Program, customer: Customer, amount: int, *,
                  at: datetime | None = None, receipt_id: str | None = None, source: str = "counter",
                  channel: str = "store", items: list[Item] | None = None,
                  import_file: str | None = None, import_line: int | None = None) -> PurchaseResult:
    """Record a sale and earn its points: tier at the time of sale, multipliers, bonuses."""
    if amount <= 0:
        raise InvalidInput(_('purchase amount must be more than zero (use `loyalty refund` for returns)'))
    items = items or []
    if items:  # the same check as an import's lines (base/checks.py)
        check_items(amount, [(i.sku, Decimal(i.quantity), i.exact_price, i.amount) for i in items])
    at = check_when(at, customer)
    channel = check_channel(channel)
    receipt_id = check_receipt(receipt_id) if receipt_id is not None else new_receipt_id(at)  # "" is refused
    ledger.lock_customer(session, customer.id)
    if _recorded(session, source, receipt_id):
        raise DuplicateReceipt(_('receipt {receipt_id} was already recorded (source {source}); nothing changed').format(receipt_id=receipt_id, source=source))
    engine = Engine(program, clock.local_zone(), clock.now())
    account = storage.load_account(session, customer, engine.since(at), needs=engine.needs, rules=programs)
    decision = engine.sale(account, receipt_id, at, amount, channel,
                           items=[(i.sku, int(i.quantity), i.amount) for i in items])
    if decision.rewarded is not None:  # the referrer's ledger is written too
        ledger.lock_customer(session, decision.rewarded.referrer.id, require_active=False)
    purchase_id = _write(session, [None, customer.id, source, receipt_id, at, amount, channel, None, import_file,
                                   import_line], decision.rows,
                         [(sku_item.sku, sku_item.quantity_milli, sku_item.unit_price, sku_item.amount) for sku_item in items])
    programs.write(session, decision.writes, {None: purchase_id})  # the rules' own rows (stamp cards...)
    if decision.rewarded is not None:
        storage.mark_rewarded(session, [(customer.id, purchase_id, at)])
        session.expire_all()  # the referral was updated past the ORM: what it holds is read again
    bonuses = [rules.Bonus(row[KIND], row[DELTA], row[0], row[8]) for row in decision.rows if row[KIND] != "earn"]
    tier, multiplier = decision.tier, decision.multiplier
    balance, spend = _balance_and_spend(session, program, customer.id)
    return PurchaseResult(
        receipt_id=receipt_id, code=customer.code, amount=amount, points=decision.earned,
        balance=balance, tier=program.tier_for_spend(spend).name, earn_tier=tier.name,
        multiplier=numbers.decimal_text(multiplier), bonuses=bonuses, purchase_id=purchase_id,
        cards=cards.customer_cards(session, customer.id, active=program.cards) if decision.writes.get("card_ledger") else [],
        shown=programs.shown(session, program, customer.id, clock.now(),
                             written={table for table, rows in decision.writes.items() if rows}))


def _balance_and_spend(session: Session, program: Program, customer_id: int) -> tuple[int, int]:
    """``ledger.spendable`` and the qualifying spend now (``rules.current_tier``'s)."""
    now = clock.now()
    spend = session.execute(select(rules.window_spend(program, customer_id, now, inclusive=True))).scalar_one()
    return ledger.spendable(session, customer_id, now), spend


def _write(session: Session, purchase: list, rows: list[list], items: list[tuple] = ()) -> int:
    """One purchase (a list in storage.PURCHASE_COLUMNS order), its items and ledger rows: the import's
    writer with a batch of one. Returns the purchase's id."""
    [purchase_id] = storage.insert_purchases(session, [purchase])
    if items:
        storage.write_rows(session, PurchaseItem.__table__, storage.ITEM_COLUMNS,
                           [(purchase_id, *item) for item in items])
    if rows:
        for row in rows:
            row[PURCHASE] = purchase_id
        columns, operator = LEDGER_COLUMNS, ledger.current_operator()
        if operator:  # a refund by hand records who did it, as ledger.post does
            columns, rows = (*LEDGER_COLUMNS, "operator"), [[*row, operator] for row in rows]
        storage.write_rows(session, LedgerEntry.__table__, columns, rows)
    return purchase_id


def above_max_purchase(program, amount: int) -> bool:
    """Whether a sale is above ``max_purchase`` (an amount typed in the wrong box?): the one home of the rule,
    for the counter (``check_max_purchase``) and the import (the receipt is rejected)."""
    return amount > program.max_purchase


def check_max_purchase(program, amount: int) -> None:
    """Refuse a sale above ``max_purchase`` (the CLI asks on a terminal and then skips this check)."""
    from loyaltycli.base.errors import AboveMaxPurchase

    if above_max_purchase(program, amount):
        raise AboveMaxPurchase(_('{amount} is more than max_purchase {max_purchase} (an amount typed in the wrong box?); raise it with `loyalty program set max_purchase AMOUNT` if it is right').format(amount=format_money(amount), max_purchase=format_money(program.max_purchase)),
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


def _recorded(session: Session, source: str, receipt_id: str) -> bool:
    """Whether ``source`` has a receipt of this id, in any case (ab-1 is AB-1; index on upper(receipt_id))."""
    return session.execute(select(Purchase.id).where(
        Purchase.source == source, func.upper(Purchase.receipt_id) == receipt_id.upper())).first() is not None


def find_sale(session: Session, receipt_id: str, source: str | None = None) -> Purchase:
    # Receipt ids are read as typed first; a clerk typing `r-1005` for R-1005 finds it too, as codes are
    # found in any case (only when no receipt has the id as typed: several may differ only in case).
    query = select(Purchase).where(storage.receipts_in([receipt_id.strip()]), Purchase.refund_of_id.is_(None),
                                   Purchase.amount > 0)
    if source:
        query = query.where(Purchase.source == source)
    any_case = session.execute(query).scalars().all()
    sales = [sale for sale in any_case if sale.receipt_id == receipt_id.strip()]
    if not sales:
        sales = any_case
        if len({s.receipt_id for s in sales}) > 1:
            raise AmbiguousCustomer(_('receipt {receipt_id!r} matches {value}; type it exactly').format(receipt_id=receipt_id.strip(), value=', '.join(sorted({s.receipt_id for s in sales}))))
    if not sales:
        raise UnknownReceipt(_('unknown receipt {receipt_id!r}; see `loyalty history KEY` for receipt ids').format(receipt_id=receipt_id.strip()))
    if len(sales) > 1:
        raise AmbiguousCustomer(_('receipt {receipt_id!r} exists in several sources ({value}); give --source').format(receipt_id=receipt_id, value=', '.join(s.source for s in sales)))
    return sales[0]


def refund_items(session: Session, sale: Purchase, texts: list[str]) -> list[Item]:
    """The items a refund returns, 'SKU:QTY' (at the sale's price) or 'SKU:QTY:PRICE'; a sale recorded with
    items is refunded only of its own SKUs, at most the quantity sold."""
    sold = _sold(session, sale)
    out = []
    for text in texts:
        bits = (text or "").rsplit(":", 2)
        if len(bits) == 3:
            item = parse_item(text)
        else:
            bits = (text or "").rsplit(":", 1)
            line = sold.get(bits[0].strip().upper()) if len(bits) == 2 else None
            if line is None:
                raise InvalidInput(_("item {text!r} is not SKU:QTY (a SKU of the sale) or SKU:QTY:PRICE "
                                     "(e.g. COF-250:1)").format(text=text))
            item = parse_item(f"{bits[0]}:{bits[1]}:{numbers.plain(Decimal(line.unit_price) / 100)}")
        if sold:
            line = sold.get(item.sku.upper())
            if line is None:
                raise InvalidInput(_("receipt {receipt_id} has no item {sku}; its items: {skus}").format(
                    receipt_id=sale.receipt_id, sku=item.sku, skus=", ".join(sorted(r.sku for r in sold.values()))))
            if item.quantity_milli > line.quantity_milli:
                raise RuleNotMet(_("item {sku}: {quantity} is more than receipt {receipt_id} sold ({sold})").format(
                    sku=item.sku, quantity=item.quantity, receipt_id=sale.receipt_id,
                    sold=numbers.quantity_text(line.quantity_milli)))
        out.append(item)
    return out


def _sold(session: Session, sale: Purchase) -> dict[str, PurchaseItem]:
    """The sale's items by SKU (upper case)."""
    sold: dict[str, PurchaseItem] = {}
    for row in session.execute(select(PurchaseItem).where(PurchaseItem.purchase_id == sale.id)).scalars():
        sold.setdefault(row.sku.upper(), row)
    return sold


def post_refund(session: Session, program: Program, sale: Purchase, amount: int | None = None, *,
                at: datetime | None = None, refund_receipt: str | None = None,
                items: list[Item] | None = None) -> RefundResult:
    """Refund all or part of a sale and reverse its earned points in proportion (rounded down); the stamps
    its returned ``items`` earned go back (all of them when nothing is left of the sale)."""
    # The sale as it is now, under its customer's lock (a merge that committed meanwhile moved it to the
    # customer kept: the refund follows it there).
    looked_up = sale.customer_id
    ledger.lock_customer(session, looked_up, require_active=False)
    session.refresh(sale)
    if sale.customer_id != looked_up:
        ledger.lock_customer(session, sale.customer_id)
    customer = session.get(Customer, sale.customer_id)
    record = storage.sale_record(session, sale, rules=programs)
    remaining = record.amount - record.refunded
    if remaining <= 0:
        raise RuleNotMet(_('receipt {receipt_id} is already fully refunded').format(receipt_id=sale.receipt_id))
    items = items or []
    if items:
        total = sum(i.amount for i in items)
        if amount is not None and amount != total:
            raise InvalidInput(_('items add up to {sum} but the amount is {amount}').format(
                sum=format_money(total), amount=format_money(amount)))
        amount = total
    amount = remaining if amount is None else amount
    at = check_when(at)
    engine = Engine(program, clock.local_zone(), clock.now())
    account = storage.load_account(session, customer, engine.since(at), needs=engine.needs, rules=programs)
    decision = engine.refund(account, refund_receipt or sale.receipt_id, at, amount, record,
                             items=[(i.sku, int(i.quantity), i.amount) for i in items])
    refund_id = check_receipt(refund_receipt) if refund_receipt else _refund_id(session, sale)
    if _recorded(session, sale.source, refund_id):
        raise DuplicateReceipt(_('refund {refund_id} was already recorded; nothing changed').format(refund_id=refund_id))
    # a refund goes back through the sale's channel
    refund_pk = _write(session, [None, sale.customer_id, sale.source, refund_id, at, -amount, sale.channel, sale.id,
                                 None, None], decision.rows)
    programs.write(session, decision.writes, {None: refund_pk})
    return RefundResult(receipt_id=sale.receipt_id, refund_id=refund_id, code=customer.code, amount=amount,
                        points=decision.earned, balance=ledger.spendable(session, sale.customer_id, clock.now()))


def _refund_id(session: Session, sale: Purchase) -> str:
    """The counter's id for a refund of ``sale``: ``<receipt>/C1``, ``/C2``... the first number free in the
    sale's source. Tills write their own refunds as ``/R1`` or ``-R``: the two never collide."""
    # The candidates are looked up by their exact ids, 16 at a time (through the receipts' index).
    first = 1
    while True:
        ids = [f"{sale.receipt_id}/C{n}" for n in range(first, first + 16)]
        taken = set(session.execute(select(Purchase.receipt_id).where(
            Purchase.source == sale.source, storage.receipts_in(ids))).scalars())
        for candidate in ids:
            if candidate not in taken:
                return candidate
        first += 16


def award(session: Session, program: Program, customer: Customer, points: int, reason: str, *,
          at: datetime | None = None, kind: str = "award", bonus_key: str | None = None) -> int:
    """Give (or, negative, take back) points for a stated reason; returns the new balance."""
    from loyaltycli.base.textkey import check_plain_text

    reason = (check_plain_text(reason, "reason") or "").strip()
    if not reason:
        raise InvalidInput(_('--reason is required: say why the points are given'))
    if points == 0 or abs(points) > ledger.MAX_POINTS:
        raise InvalidInput(_('points must be a non-zero whole number up to {max_points}').format(max_points=ledger.MAX_POINTS))
    at = check_when(at)
    ledger.lock_customer(session, customer.id)
    if points < 0:
        ledger.expire_customer(session, customer.id, at)
        available = ledger.balance(session, customer.id)
        if available + points < 0:
            raise InsufficientPoints(_('{code} has {available} points; cannot take back {value}').format(code=customer.code, available=available, value=-points))
        kind = "adjust"
        expires = None
    else:
        expires = program.expiry_for(at)
    ledger.post(session, customer.id, kind, points, at, expires_at=expires, bonus_key=bonus_key, note=reason)
    return ledger.spendable(session, customer.id, clock.now())


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
        raise NotFound(_('unknown reward {name!r}; see `loyalty reward list`').format(name=name.strip()))
    return reward


def redeem(session: Session, program: Program, customer: Customer, points: int | None = None, *,
           reward: str | None = None, basket: int | None = None, at: datetime | None = None) -> RedeemResult:
    """Spend points (oldest first): a number of points, or a catalogue reward at its cost."""
    chosen = None
    if reward:
        chosen = find_reward(session, reward)
        if points is not None and points != chosen.cost:
            raise InvalidInput(_('reward {name} costs {cost} points, not {points}').format(name=chosen.name, cost=chosen.cost, points=points))
        points = chosen.cost
    if points is None:
        raise InvalidInput(_('give the points to redeem or --reward NAME'))
    if points <= 0 or points > ledger.MAX_POINTS:
        raise InvalidInput(_('points to redeem must be a positive whole number'))
    if points < program.min_redemption:
        raise RuleNotMet(_('the minimum redemption is {min_redemption} points').format(min_redemption=program.min_redemption))
    if program.min_basket:
        if basket is None:
            raise RuleNotMet(_('redemptions need a basket of at least {min_basket} (give --basket AMOUNT)').format(min_basket=format_money(program.min_basket)))
        if basket < program.min_basket:
            raise RuleNotMet(_('basket {basket} is below the minimum {min_basket} for a redemption').format(basket=format_money(basket), min_basket=format_money(program.min_basket)))
    value = points * (program.point_value if chosen is not None else point_value(program))
    if basket is not None and chosen is None and value > basket:
        raise RuleNotMet(_('{points} points are worth {value}, more than the basket {basket}').format(points=points, value=format_money(value), basket=format_money(basket)))
    at = check_when(at)
    entry, left = ledger.spend(session, customer, points, at, "redeem",
                               make_note("redeem_reward", reward=chosen.name) if chosen
                               else make_note("redeem_value", value=value))
    session.add(Redemption(ledger_id=entry.id, customer_id=customer.id, points=points, value=value,
                           reward_id=chosen.id if chosen else None, basket=basket, at=at))
    return RedeemResult(code=customer.code, points=points, value=value, balance=left,
                        reward=chosen.name if chosen else None)
