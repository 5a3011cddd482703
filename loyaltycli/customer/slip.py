"""The customer's slip after a sale: what it says, built from the database, and its lines in the
reader's language (the terminal's preview, the printer's ESC/POS bytes and the till's JSON).

A slip tells the points of this visit, the balance and what it is worth (the shop's money format),
the stamp cards (``Café ●●●●○○○○○○ 4/10``), the vouchers held, the next reward or tier and what is
missing, the points expiring soon, the card's QR code and how to stop offers. Printed again later
(`slip RECEIPT`), the visit's points are the sale's own and the account is as it stands then.
No Typer or Rich here.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from loyaltycli import i18n
from loyaltycli.shop import clock
from loyaltycli.base.errors import RuleNotMet
from loyaltycli.store.models import Customer, LedgerEntry, Purchase
from loyaltycli.base.money import format_amount, format_money, shop_currency
from loyaltycli.store.program import Program
from loyaltycli.customer import escpos
from loyaltycli.i18n import N_, _, ngettext

DEFAULT_WIDTH = 32  # characters of font A on a 58 mm printer; an 80 mm printer takes 42 or 48
MIN_WIDTH, MAX_WIDTH = 24, 64
MOST_DOTS = 20  # a card of more stamps is shown as numbers only
FILLED, EMPTY = "●", "○"

# Ledger kinds of a sale's bonus rows, as the slip names them.
BONUS_NAMES = {"welcome": N_("welcome bonus"), "milestone": N_("milestone bonus"),
               "referral": N_("referral bonus"), "birthday": N_("birthday bonus")}


@dataclass
class Card:
    card: str
    stamps: int
    stamps_needed: int
    stamps_this_visit: int
    reward: str
    vouchers: int
    voucher_expires: list[str] = field(default_factory=list)


@dataclass
class Slip:
    """What a slip says, in no language: the lines are made from it by ``lines``."""

    receipt_id: str
    at: datetime
    printed_at: datetime
    code: str
    name: str | None
    language: str  # the language the slip speaks (its code page follows it)
    currency: str
    earn_mode: str  # points | cashback (points are cents of credit)
    amount: int  # cents
    points: int  # of this visit: the sale's own rows (spend, items, bonuses)
    bonuses: list[tuple[str, int]]  # (ledger kind, points) of this visit beyond the spend points
    balance: int
    value: int  # cents the balance is worth
    point_value: int  # cents a point is worth
    tier: str
    next_tier: str | None
    missing_for_next_tier: int | None  # cents of spend
    next_reward: str | None  # None with next_reward_cost set: money off from min_redemption
    next_reward_cost: int | None
    missing_for_next_reward: int | None
    cards: list[Card]
    expiring: list[tuple[datetime, int]]
    offers: bool  # the customer agreed to offers: the slip says how to stop them
    qr: str | None = None  # the card code the QR holds (None: no QR printed)
    own_language: str | None = None  # the customer's own language, when they have one
    welcome: bool = False  # the slip of an enrolment (the kiosk's): no receipt, the joining bonuses
    shop: str = ""  # the shop's name, printed at the top of a welcome slip
    # a welcome slip's invite: the customer's referral code, and what a friend's first purchase of at
    # least ``invite_min`` gives them (points, or cents of credit); None: no referral bonus is in force
    invite_code: str | None = None
    invite_points: int = 0
    invite_min: int = 0
    # a sale's refunds so far (a reprint after a return): cents given back and the points they took back (<= 0)
    refunded: int = 0
    refund_points: int = 0


def for_receipt(session: Session, program: Program, receipt_id: str,
                source: str | None = None) -> Slip:
    """The slip of a sale, by its receipt id (`slip RECEIPT`)."""
    from loyaltycli.services import points

    return build(session, program, points.find_sale(session, receipt_id, source))


def build(session: Session, program: Program, sale: Purchase) -> Slip:
    """The slip of ``sale``: the visit's points and stamps, and the customer's account now."""
    customer = session.get(Customer, sale.customer_id)
    if customer is None or customer.status != "active":
        raise RuleNotMet(_('receipt {receipt} belongs to a customer merged into another or '
                           'forgotten; there is no slip to print').format(receipt=sale.receipt_id))
    # The visit's own rows, of the sale and of its refunds: the customer's, or those of a duplicate merged
    # into them (merge moves the purchase and carries the points over; the rows stay where they were
    # written). A referrer's bonus for this sale is not the visit's: both referral rows are keyed by the
    # referee ("referral:ID"), and the referrer's belongs to another customer (who may be merged in too).
    refunds = session.execute(select(Purchase.id, Purchase.amount).where(Purchase.refund_of_id == sale.id)).all()
    holders = or_(LedgerEntry.customer_id == customer.id,
                  LedgerEntry.customer_id.in_(select(Customer.id).where(Customer.merged_into_id == customer.id)))
    found = session.execute(
        select(LedgerEntry.purchase_id, LedgerEntry.kind, LedgerEntry.delta, LedgerEntry.customer_id,
               LedgerEntry.bonus_key)
        .where(LedgerEntry.purchase_id.in_([sale.id, *(r.id for r in refunds)]), holders)
        .order_by(LedgerEntry.id)).all()
    own = [r for r in found if r.kind != "referral" or r.bonus_key == f"referral:{r.customer_id}"]
    return _made(session, program, customer, [r for r in own if r.purchase_id == sale.id], sale=sale,
                 refunded=-sum(r.amount for r in refunds),
                 refund_points=sum(r.delta for r in own if r.purchase_id != sale.id))


def for_enrolment(session: Session, program: Program, customer: Customer) -> Slip:
    """The welcome slip of a customer just enrolled (the kiosk's): the shop, the card's code and QR,
    the bonuses of joining (welcome, referral) and the balance they make."""
    rows = session.execute(select(LedgerEntry.kind, LedgerEntry.delta)
                           .where(LedgerEntry.customer_id == customer.id,
                                  LedgerEntry.purchase_id.is_(None))
                           .order_by(LedgerEntry.id)).all()
    return _made(session, program, customer, rows, sale=None)


def _made(session: Session, program: Program, customer: Customer, rows,
          sale: Purchase | None, refunded: int = 0, refund_points: int = 0) -> Slip:
    """A slip of ``customer``'s account now; ``rows``: (kind, delta) of the visit (of a sale) or of
    joining (``sale`` None: a welcome slip); ``refunded``, ``refund_points``: what the sale's refunds gave
    back (cents) and took back (points)."""
    from loyaltycli.services import accounts

    account = accounts.account(session, program, customer, recent=1)
    balance = account["balance"]
    reward, cost = _next_reward(session, program, balance)
    nxt = account["next_tier"]
    own = getattr(customer, "language", None)  # customers' own languages come with another branch
    with _speaking(own):
        language = i18n.language()
    return Slip(
        receipt_id=sale.receipt_id if sale else "", at=sale.at if sale else customer.enrolled_at,
        printed_at=clock.now(), code=customer.code,
        name=customer.name, language=language, currency=shop_currency(),
        earn_mode=program.earn_mode,
        amount=sale.amount if sale else 0, points=sum(r.delta for r in rows),
        # earn rows are the spend's, the visit's and the item rules' points; other kinds are bonuses
        bonuses=[(r.kind, r.delta) for r in rows if r.kind != "earn"],
        balance=balance, value=max(balance, 0) * program.point_value,
        point_value=program.point_value,
        tier=account["tier"], next_tier=nxt,
        missing_for_next_tier=account["missing_for_next"] if nxt else None,
        next_reward=reward, next_reward_cost=cost,
        missing_for_next_reward=(cost - max(balance, 0)) if cost is not None else None,
        cards=_cards(session, program, sale, account.get("cards", [])),
        expiring=[(e["expires_at"], e["points"]) for e in account["expiring_soon"]],
        offers=bool(customer.consent), qr=card_code(session, customer), own_language=own,
        welcome=sale is None, shop=program.shop_name if sale is None else "",
        refunded=refunded, refund_points=refund_points, **(_invite(program, customer) if sale is None else {}))


def _invite(program: Program, customer: Customer) -> dict:
    """A welcome slip's invite: the code to give friends, when referring someone earns anything."""
    points = program.referrer_bonus(1)
    if not points or not customer.referral_code:
        return {}
    return {"invite_code": customer.referral_code, "invite_points": points,
            "invite_min": program.referral_min_purchase}


def _cards(session: Session, program: Program, sale: Purchase | None,
           held: list[dict]) -> list[Card]:
    """The customer's stamp cards now, each with the stamps this sale gave (none without a sale)."""
    if not held:
        return []
    from loyaltycli.store import cards

    stamped = cards.stamps_of_sales(session, [sale.id]).get(sale.id, {}) if sale else {}
    ids = {rule.name: rule.id for rule in program.cards}
    return [Card(c["card"], c["stamps"], c["stamps_needed"], stamped.get(ids.get(c["card"]), 0),
                 c["reward"], c["vouchers"], list(c.get("voucher_expires") or [])) for c in held]


def card_code(session: Session, customer: Customer) -> str:
    """The customer's current card code for the QR (issued on first use: a write session)."""
    from loyaltycli.services import passes

    return passes.code_for(session, customer.id)


def _speaking(language: str | None):
    """A block in the customer's own ``language`` (``i18n.speaking``, which comes with customers'
    languages from another branch); None: the language and money format of every message."""
    speaking = getattr(i18n, "speaking", None)
    return speaking(language) if speaking is not None and language else nullcontext()


def _next_reward(session: Session, program: Program, balance: int) -> tuple[str | None, int | None]:
    """(name, cost) of the cheapest catalogue reward the balance does not reach yet; with no
    catalogue, (None, min_redemption) while the balance is below it; (None, None): nothing ahead."""
    if program.earn_mode == "cashback":
        return None, None
    from loyaltycli.services.rewards import list_rewards

    catalogue = list_rewards(session, program)
    ahead = [r for r in catalogue if r["cost"] > balance]
    if ahead:
        return ahead[0]["reward"], ahead[0]["cost"]
    if not catalogue and balance < program.min_redemption:
        return None, program.min_redemption
    return None, None


# -- what the slip says ---------------------------------------------------------------------------
def _date(value: datetime) -> str:
    return clock.local_text(value)[:10]


def stamps_text(card: Card) -> str:
    """'Café ●●●●○○○○○○ 4/10' (numbers only past MOST_DOTS stamps)."""
    shown = max(card.stamps, 0)
    if 0 < card.stamps_needed <= MOST_DOTS:
        dots = FILLED * min(shown, card.stamps_needed) + EMPTY * max(card.stamps_needed - shown, 0)
        return f"{card.card} {dots} {card.stamps}/{card.stamps_needed}"
    return f"{card.card} {card.stamps}/{card.stamps_needed}"


def lines(slip: Slip, width: int = DEFAULT_WIDTH, page: str | None = None) -> list[escpos.Line | escpos.QR]:
    """The slip's lines in its language, each no wider than ``width`` characters as printed in the code page
    ``page`` (default: the language's), and its QR code."""
    with _speaking(slip.own_language):
        return _lines(slip, width, page or escpos.page_for(slip.language))


def printed_width(text: str, page: str) -> int:
    """How many characters ``text`` takes on paper in ``page``: '€' is 'EUR' where the page has no €."""
    return len(escpos.to_page(text, page))


def fit(text: str, width: int, page: str = escpos.DEFAULT_PAGE) -> list[str]:
    """``text`` as lines that print no wider than ``width`` in ``page``: broken at spaces (an amount's
    no-break spaces hold it together; the text's leading spaces begin each of its lines, unless they would
    take half the line); a word wider than the line (a code, a long name) is cut at its separators, else
    evenly (``cut_code``)."""
    from loyaltycli.base.wrapping import pack

    indent = text[:len(text) - len(text.lstrip(" "))]
    if len(indent) * 2 > width:
        indent = ""
    inner = width - len(indent)
    lines = pack((word for word in text.split(" ") if word), inner, lambda line: printed_width(line, page),
                 lambda word: cut_code(word, inner, page), holds=str.strip)
    return [indent + line if line else line for line in lines]


SEPARATORS = ".-/:_"


def cut_code(code: str, width: int, page: str = escpos.DEFAULT_PAGE) -> list[str]:
    """A code (the card code ``LC1.REF.KID.MAC``, a receipt id) in pieces that print no wider than ``width``:
    cut after its separators, the pieces packed as full as they go; a piece still too wide is cut evenly."""
    width = max(width, 1)
    parts, start = [], 0
    for i, ch in enumerate(code):
        if ch in SEPARATORS:
            parts.append(code[start:i + 1])
            start = i + 1
    if start < len(code):
        parts.append(code[start:])
    out: list[str] = []
    for part in parts:
        if out and printed_width(out[-1] + part, page) <= width:
            out[-1] += part
        elif printed_width(part, page) <= width:
            out.append(part)
        else:
            out.extend(_evenly(part, width, page))
    return out


def _evenly(text: str, width: int, page: str) -> list[str]:
    """``text`` in the fewest pieces no wider than ``width`` when printed, of nearly equal length."""
    count = -(-printed_width(text, page) // width)
    while True:
        size = -(-len(text) // count)
        pieces = [text[i:i + size] for i in range(0, len(text), size)]
        if all(printed_width(piece, page) <= width for piece in pieces) or size == 1:
            return pieces
        count += 1


def _lines(slip: Slip, width: int, page: str) -> list[escpos.Line | escpos.QR]:
    money = format_money
    out: list[escpos.Line | escpos.QR] = []

    def add(text: str, **style) -> None:
        size = style.get("size", 1)
        for part in fit(text, max(width // size, 8), page):
            out.append(escpos.Line(part, **style))

    if slip.welcome:
        if slip.shop:
            add(slip.shop, bold=True, align="center")
        add(_("Welcome to our loyalty program!"), align="center")
    if slip.name:
        add(slip.name, bold=True, align="center")
    add(_("Card {code}").format(code=slip.code), align="center")
    if slip.receipt_id:
        add(_("Receipt {receipt}").format(receipt=slip.receipt_id), align="center")
    add(clock.local_text(slip.at), align="center")
    out.append(escpos.Line("-" * width))
    cashback = slip.earn_mode == "cashback"
    if cashback:
        credit = _signed_money(slip.points * slip.point_value)
        if slip.welcome:
            add(_("On joining: {credit} credit").format(credit=credit), bold=True)
        else:
            add(_("This visit: {credit} credit").format(credit=credit), bold=True)
        if slip.refunded:
            add("  " + _("refunded {amount}: {credit} credit").format(
                amount=money(slip.refunded), credit=_signed_money(slip.refund_points * slip.point_value)))
        add(_("Credit: {credit}").format(credit=money(slip.value)), bold=True)
    else:
        if slip.welcome:
            add(ngettext("On joining: {points} point", "On joining: {points} points",
                         abs(slip.points)).format(points=f"{slip.points:+d}"), bold=True)
        else:
            add(ngettext("This visit: {points} point", "This visit: {points} points",
                         abs(slip.points)).format(points=f"{slip.points:+d}"), bold=True)
        for kind, points in slip.bonuses:
            add("  " + _("incl. {bonus} {points}").format(bonus=_(BONUS_NAMES.get(kind, kind)),
                                                         points=f"{points:+d}"))
        if slip.refunded:
            add("  " + ngettext("refunded {amount}: {points} point", "refunded {amount}: {points} points",
                                abs(slip.refund_points)).format(amount=money(slip.refunded),
                                                                points=f"{slip.refund_points:+d}"))
        add(ngettext("Balance: {points} point ({value})", "Balance: {points} points ({value})",
                     abs(slip.balance)).format(points=slip.balance, value=money(slip.value)),
            bold=True)
    add(_("Tier: {tier}").format(tier=slip.tier))
    for card in slip.cards:
        add(stamps_text(card))
        if card.vouchers:
            text = ngettext("{count} voucher: {reward}", "{count} vouchers: {reward}",
                            card.vouchers).format(count=card.vouchers, reward=card.reward)
            if card.voucher_expires:
                text += " " + _("(until {date})").format(date=card.voucher_expires[0][:10])
            add("  " + text, bold=True)
    if slip.next_reward_cost is not None:
        if slip.next_reward:
            add(ngettext("Next reward: {reward} ({cost} point)", "Next reward: {reward} ({cost} points)",
                         slip.next_reward_cost).format(reward=slip.next_reward, cost=slip.next_reward_cost))
        else:
            add(ngettext("Money off from {cost} point", "Money off from {cost} points",
                         slip.next_reward_cost).format(cost=slip.next_reward_cost))
        missing = slip.missing_for_next_reward
        add("  " + ngettext("{missing} point to go", "{missing} points to go", missing)
            .format(missing=missing))
    if slip.next_tier:
        add(_("Next tier: {tier}").format(tier=slip.next_tier))
        add("  " + _("{missing} more to spend").format(missing=money(slip.missing_for_next_tier)))
    for when, points in slip.expiring:
        if cashback:
            add(_("{credit} of credit expires on {date}").format(
                credit=money(points * slip.point_value), date=_date(when)))
        else:
            add(ngettext("{points} point expires on {date}", "{points} points expire on {date}",
                         points).format(points=points, date=_date(when)))
    if slip.invite_code:
        add(_("Invite friends with your code {code}").format(code=slip.invite_code), bold=True)
        if cashback:
            text = _("{credit} of credit for you when a friend first spends {amount} or more").format(
                credit=money(slip.invite_points * slip.point_value), amount=money(slip.invite_min))
        else:
            text = ngettext("{points} point for you when a friend first spends {amount} or more",
                            "{points} points for you when a friend first spends {amount} or more",
                            slip.invite_points).format(points=slip.invite_points, amount=money(slip.invite_min))
        add("  " + text)
    if slip.qr:
        out.append(escpos.Line(""))
        out.append(escpos.QR(slip.qr))
        for piece in cut_code(slip.qr, width, page):  # in letters, should a scan fail: cut at its dots
            out.append(escpos.Line(piece, align="center"))
    if slip.offers:
        out.append(escpos.Line(""))
        add(_("No more offers? Tell us at the counter: they stop at once."), align="center")
    return out


def _signed_money(cents: int) -> str:
    return ("+" if cents >= 0 else "-") + format_money(abs(cents))


def text_lines(parts: list[escpos.Line | escpos.QR]) -> list[str]:
    """The lines as plain text (the QR code stands as its code, which the next line prints)."""
    return [part.text for part in parts if isinstance(part, escpos.Line)]


def placed(line: escpos.Line, width: int = DEFAULT_WIDTH) -> str:
    """A line as a terminal shows it: centred or right-aligned in ``width`` as the paper has it."""
    if line.align == "center":
        return line.text.center(width).rstrip()
    if line.align == "right":
        return line.text.rjust(width)
    return line.text


def escpos_bytes(slip: Slip, width: int = DEFAULT_WIDTH, page: str | None = None) -> bytes:
    """The slip for a receipt printer: the code page of its language (or ``page``)."""
    page = page or escpos.page_for(slip.language)
    return escpos.document(lines(slip, width, page), page)


def as_json(slip: Slip, width: int = DEFAULT_WIDTH) -> dict:
    """The slip for a till that prints itself: stable snake_case keys, amounts as decimal strings,
    points as integers, times ISO-8601; ``lines``: the text to print, in the customer's language."""
    missing_spend = slip.missing_for_next_tier
    return {
        "receipt_id": slip.receipt_id, "at": clock.iso(slip.at),
        "printed_at": clock.iso(slip.printed_at), "code": slip.code, "name": slip.name,
        "language": slip.language, "currency": slip.currency,
        "amount": format_amount(slip.amount), "points": slip.points,
        "bonuses": [{"kind": kind, "points": points} for kind, points in slip.bonuses],
        "balance": slip.balance, "value": format_amount(slip.value), "tier": slip.tier,
        "next_tier": slip.next_tier,
        "missing_for_next_tier": None if missing_spend is None else format_amount(missing_spend),
        "next_reward": None if slip.next_reward_cost is None else {
            "reward": slip.next_reward, "cost": slip.next_reward_cost,
            "missing": slip.missing_for_next_reward},
        "cards": [{"card": c.card, "stamps": c.stamps, "stamps_needed": c.stamps_needed,
                   "stamps_this_visit": c.stamps_this_visit, "reward": c.reward,
                   "vouchers": c.vouchers, "voucher_expires": c.voucher_expires}
                  for c in slip.cards],
        "expiring_soon": [{"expires_at": clock.iso(when), "points": points}
                          for when, points in slip.expiring],
        "refunded": format_amount(slip.refunded), "points_refunded": slip.refund_points,
        "qr": slip.qr, "offers": slip.offers,
        "lines": text_lines(lines(slip, width)),
    } | ({"invite": None if slip.invite_code is None else {
        "referral_code": slip.invite_code, "points": slip.invite_points,
        "min_purchase": format_amount(slip.invite_min)}} if slip.welcome else {})  # a sale's keys stay as they are
