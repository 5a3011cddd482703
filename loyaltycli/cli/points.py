"""Counter commands: purchase, refund, award, redeem, balance, history."""

from __future__ import annotations

from typing import List, Optional

import typer

from loyaltycli.cli import options, slips
from loyaltycli.cli.customers import who
from loyaltycli.cli.render import emit, label
from loyaltycli.i18n import N_, _, ngettext


def _money(cents: int) -> str:
    from loyaltycli.base.money import Money

    return Money(cents)


def _when(at: Optional[str]):
    from loyaltycli.shop import clock

    return clock.parse_timestamp(at, what="--at", local_formats=True) if at else None


def purchase(
    key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
    amount: str = typer.Argument(..., help="Amount paid, e.g. 24.50."),
    receipt: Optional[str] = typer.Option(None, "--receipt", help="Receipt id (unique per source; made up when omitted)."),
    channel: str = typer.Option("store", "--channel", help="store, online, phone, ..."),
    at: Optional[str] = typer.Option(None, "--at", help="Time of sale (ISO-8601), for back-dated sales."),
    item: Optional[List[str]] = typer.Option(None, "--item", help="Line item SKU:QTY:PRICE (repeatable)."),
    slip: bool = typer.Option(False, "--slip",
                              help="Print the customer's slip after the sale (see `loyalty slip`)."),
    printer: Optional[str] = slips.printer_option(),
    width: Optional[int] = slips.width_option(),
    code_page: Optional[str] = slips.page_option(),
) -> None:
    """Record a purchase and earn its points (tier, membership, milestone and referral rules).

    --slip prints the customer's slip after the sale: a preview on the terminal, or ESC/POS bytes
    with --printer (or LOYALTY_PRINTER); the printer is reached first: no sale is recorded while it
    cannot be.

    Example: loyalty purchase C000001 24.50 --receipt R-1001 --item COF-250:1:24.50 --slip
    """
    if not (slip or printer):
        return _purchase(key, amount, receipt, channel, at, item, None)
    out = slips.Output(printer, width, code_page)
    try:
        _purchase(key, amount, receipt, channel, at, item, out)
    finally:
        out.close()


def _purchase(key, amount, receipt, channel, at, item, out) -> None:
    from loyaltycli.services import cards, customers, points
    from loyaltycli.base.money import parse_money
    from loyaltycli.store.program import load_program

    from loyaltycli.base.errors import AboveMaxPurchase, DatabaseUnavailable

    def record(confirmed: bool):
        with options.database().session() as session:
            program = load_program(session)
            # read the shop's way (its locale and zone) from the settings just loaded: no read of its own
            cents = parse_money(amount, allow_zero=False)
            items = [points.parse_item(text) for text in item or []]
            when = _when(at)
            if not confirmed:
                points.check_max_purchase(program, cents)
            customer = customers.find(session, key, program)
            result = points.post_purchase(session, program, customer, cents, at=when, receipt_id=receipt,
                                          channel=channel, items=items)
            made = slip_of(session, program, result.purchase_id) if out is not None else None
            return program, customer, result, made

    try:
        program, customer, result, made = record(False)
    except DatabaseUnavailable:
        # no database (or it stayed locked): a mistyped amount is still the error shown, as the input is
        # read first the plain way when the shop's settings cannot be read
        parse_money(amount, allow_zero=False)
        [points.parse_item(text) for text in item or []]
        _when(at)
        raise
    except AboveMaxPurchase as exc:
        if not options.current.interactive:
            raise
        # Asked outside the transaction: no lock is held while the person thinks.
        from loyaltycli.cli import prompts
        from loyaltycli.base.errors import Cancelled

        if not prompts.confirm(_("{problem}. Record it anyway?").format(problem=exc)):
            raise Cancelled(_("purchase cancelled; nothing was recorded"))
        program, customer, result, made = record(True)
    data = {"receipt_id": result.receipt_id, "code": result.code, "amount": _money(result.amount),
            "points": result.points, "balance": result.balance, "tier": result.tier,
            "earn_tier": result.earn_tier, "multiplier": result.multiplier, "channel": channel.strip().lower(),
            "value": _money(result.points * program.point_value),
            "bonuses": [{"kind": b.kind, "points": b.points, "note": b.note} for b in result.bonuses]}
    if program.cards:
        data["cards"] = result.cards
    for name, value, _text in result.shown:  # goals and other program types this sale moved
        data[name] = value
    mine = [b for b in result.bonuses if b.note and b.customer_id == customer.id]
    stamped = f"; {cards.describe(result.cards)}" if result.cards else ""
    stamped += "".join(f"; {text}" for _key, _value, text in result.shown)
    if made is not None and options.current.json:
        out.give(made, data, recorded=result.receipt_id)
        return
    if program.earn_mode == "cashback":  # points are cents of store credit: speak currency
        extra = "".join(f" + {_money(b.points)} {label(b.kind)}" for b in mine)
        message = _("{code}: +{credit} credit{bonuses} for {amount} (receipt {receipt}); credit {balance}, "
                    "tier {tier}{cards}").format(code=result.code, credit=_money(result.points), bonuses=extra,
                                                 amount=_money(result.amount), receipt=result.receipt_id,
                                                 balance=_money(result.balance), tier=result.tier, cards=stamped)
    else:
        extra = "".join(f" + {b.points} {label(b.kind)}" for b in mine)
        message = ngettext(
            "{code}: +{points} point{bonuses} for {amount} (receipt {receipt}); balance {balance}, tier {tier}{cards}",
            "{code}: +{points} points{bonuses} for {amount} (receipt {receipt}); balance {balance}, tier {tier}{cards}",
            abs(result.points)).format(code=result.code, points=result.points, bonuses=extra,
                                       amount=_money(result.amount), receipt=result.receipt_id,
                                       balance=result.balance, tier=result.tier, cards=stamped)
    emit(data, message=message)
    if made is not None:
        out.give(made, recorded=result.receipt_id)


def slip_of(session, program, purchase_id: int):
    """The slip of the sale just recorded, in its transaction."""
    from loyaltycli.store.models import Purchase
    from loyaltycli.customer.slip import build

    return build(session, program, session.get(Purchase, purchase_id))


def refund(
    receipt: str = typer.Argument(..., help="Receipt id of the sale."),
    amount: Optional[str] = typer.Option(None, "--amount", help="Part of the sale to refund (default: all that is left)."),
    source: Optional[str] = typer.Option(None, "--source", help="Source of the receipt when several have it."),
    at: Optional[str] = typer.Option(None, "--at", help="Time of the refund (ISO-8601)."),
    item: Optional[List[str]] = typer.Option(None, "--item", help="Item returned, SKU:QTY (at the sale's price) or "
                                             "SKU:QTY:PRICE (repeatable); takes back the stamps it earned."),
) -> None:
    """Refund a sale, wholly or in part, reversing its points in proportion (rounded down).

    Stamps go back by item: `--item COF-250:1` returns one coffee and its stamp (the amount is the items'
    unless `--amount` is given too); a refund naming no items takes back the stamps once the sale is fully
    refunded (a per-visit stamp once what is left is below the card's minimum).

    Example: loyalty refund R-1001 --item COF-250:1
    """
    from loyaltycli.services import points
    from loyaltycli.base.money import parse_money
    from loyaltycli.store.program import load_program

    cents = parse_money(amount, allow_zero=False) if amount is not None else None
    when = _when(at)
    with options.database().session() as session, options.by_hand():
        program = load_program(session)
        sale = points.find_sale(session, receipt, source)
        returned = points.refund_items(session, sale, item) if item else None
        result = points.post_refund(session, program, sale, cents, at=when, items=returned)
    data = {"receipt_id": result.receipt_id, "refund_id": result.refund_id, "code": result.code,
            "amount": _money(result.amount), "points": result.points, "balance": result.balance}
    emit(data, message=ngettext(
        "{code}: refunded {amount} of receipt {receipt}, {points} point; balance {balance}",
        "{code}: refunded {amount} of receipt {receipt}, {points} points; balance {balance}",
        abs(result.points)).format(code=result.code, amount=_money(result.amount), receipt=result.receipt_id,
                                   points=result.points, balance=result.balance))


def award(
    key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
    points_: int = typer.Argument(..., metavar="POINTS", help="Points to give (negative: a correction)."),
    reason: str = typer.Option(..., "--reason", help="Why: shown on the statement."),
    at: Optional[str] = typer.Option(None, "--at", help="Time (ISO-8601)."),
) -> None:
    """Give points by hand (a surprise, a goodwill gesture) or correct with a negative number.

    Example: loyalty award C000001 100 --reason "sorry for the wait"
    """
    from loyaltycli.services import customers, points
    from loyaltycli.store.program import load_program

    when = _when(at)
    with options.database().session() as session, options.by_hand():
        program = load_program(session)
        customer = customers.find(session, key, program)
        balance = points.award(session, program, customer, points_, reason, at=when)
    emit({"code": customer.code, "points": points_, "balance": balance, "reason": reason.strip()},
         message=ngettext("{code}: {points} point ({reason}); balance {balance}",
                          "{code}: {points} points ({reason}); balance {balance}", abs(points_)).format(
             code=customer.code, points=f"{points_:+d}", reason=reason.strip(), balance=balance))


def redeem(
    key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
    points_: Optional[int] = typer.Argument(None, metavar="[POINTS]", help="Points to spend."),
    reward: Optional[str] = typer.Option(None, "--reward", help="A catalogue reward, at its cost."),
    voucher: Optional[str] = typer.Option(None, "--voucher", help="Use a stamp-card voucher (its reward), oldest first."),
    basket: Optional[str] = typer.Option(None, "--basket", help="Amount of the basket it is used on."),
    at: Optional[str] = typer.Option(None, "--at", help="Time (ISO-8601)."),
) -> None:
    """Spend points (oldest first) for money off, or for a catalogue reward; never below zero.

    Example: loyalty redeem C000001 200 --basket 30.00
    """
    from loyaltycli.services import customers, points
    from loyaltycli.base.money import parse_money
    from loyaltycli.store.program import load_program

    if voucher is not None:
        return _use_voucher(key, voucher, points_, reward, basket, at)
    basket_cents = parse_money(basket, what=N_("basket")) if basket is not None else None
    when = _when(at)
    with options.database().session() as session, options.by_hand():
        program = load_program(session)
        customer = customers.find(session, key, program)
        result = points.redeem(session, program, customer, points_, reward=reward, basket=basket_cents, at=when)
    data = {"code": result.code, "points": result.points, "value": _money(result.value),
            "balance": result.balance, "reward": result.reward}
    if result.reward:
        message = ngettext("{code}: redeemed {points} point for reward {reward}; balance {balance}",
                           "{code}: redeemed {points} points for reward {reward}; balance {balance}",
                           abs(result.points))
    else:
        message = ngettext("{code}: redeemed {points} point for {value} off; balance {balance}",
                           "{code}: redeemed {points} points for {value} off; balance {balance}", abs(result.points))
    emit(data, message=message.format(code=result.code, points=result.points, reward=result.reward,
                                      value=_money(result.value), balance=result.balance))


def _use_voucher(key: str, voucher: str, points_, reward, basket, at) -> None:
    """`redeem KEY --voucher REWARD`: one voucher (a stamp card's, a goal's...), no points."""
    from loyaltycli import programs
    from loyaltycli.services import customers
    from loyaltycli.base.errors import InvalidInput

    if points_ is not None or reward is not None or basket is not None:
        raise InvalidInput(_("--voucher uses a stamp-card voucher: give no POINTS, --reward or --basket with it"))
    when = _when(at)
    with options.database().session() as session:
        customer = customers.find(session, key)
        used = programs.use_voucher(session, customer, voucher, when)  # from the program type that gives it
    if "goal" in used:
        message = _("{code}: used a voucher for {reward} ({goal} goal); {left} left").format(
            code=used["code"], reward=used["reward"], goal=used["goal"], left=used["vouchers_left"])
    else:
        message = _("{code}: used a voucher for {reward} ({card} card); {left} left").format(
            code=used["code"], reward=used["reward"], card=used["card"], left=used["vouchers_left"])
    emit(used, message=message)


def balance(key: str = typer.Argument(..., help="Customer code, card, e-mail or phone.")) -> None:
    """Show a customer's points balance and tier.

    Example: loyalty balance C000001
    """
    from loyaltycli.services import accounts, cards, customers
    from loyaltycli.store.program import load_program

    with options.database().session(write=False) as session:
        program = load_program(session)
        customer = customers.find(session, key, program, usable=False)
        # expired points are not spendable; the points due soon, from the same replay of the ledger
        found = accounts.balance(session, program, customer)
    points_, tier, merged, expiring = found["balance"], found["tier"], found["merged_into"], found["expiring_soon"]
    stamp_cards = found.get("cards", [])
    soon = sum(e["points"] for e in expiring)
    stamped = f"; {cards.describe(stamp_cards)}" if stamp_cards else ""
    stamped += "".join(f"; {text}" for text in found["shown"].values())  # goals and other program types
    data = {"code": customer.code, "name": customer.name, "balance": points_, "tier": tier,
            "value": _money(max(points_, 0) * program.point_value), "expiring_soon": expiring}
    if program.cards:  # a shop with stamp cards: the customer's cards (stamps, vouchers)
        data["cards"] = stamp_cards
    for key in found["shown"]:
        data[key] = found[key]
    if merged:
        data["merged_into"] = merged
        emit(data, message=_("{code} {name}: merged into {merged}; its points are there (loyalty balance {merged})")
             .format(code=customer.code, name=who(customer.name, customer.phone), merged=merged))
        return
    if program.earn_mode == "cashback":
        message = _("{code} {name}: credit {credit}, tier {tier}{cards}").format(
            code=customer.code, name=who(customer.name, customer.phone), credit=_money(points_ * program.point_value), tier=tier,
            cards=stamped)
    else:
        if soon:
            message = ngettext("{code} {name}: {points} point (worth {value}), tier {tier}; {soon} of them expire "
                               "within 30 days{cards}",
                               "{code} {name}: {points} points (worth {value}), tier {tier}; {soon} of them expire "
                               "within 30 days{cards}", abs(points_))
        else:
            message = ngettext("{code} {name}: {points} point (worth {value}), tier {tier}{cards}",
                               "{code} {name}: {points} points (worth {value}), tier {tier}{cards}", abs(points_))
        message = message.format(code=customer.code, name=who(customer.name, customer.phone), points=points_,
                                 value=_money(max(points_, 0) * program.point_value), tier=tier, soon=soon,
                                 cards=stamped)
    emit(data, message=message)


def history(key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
            lang: Optional[str] = typer.Option(None, "--lang", metavar="LANG",
                                               help="Render the statement in this language ('shop': the "
                                                    "shop's; default: the customer's own, else the shop's)."),
            ) -> None:
    """The statement: every ledger row, oldest first, with the running balance. It is the customer's: the
    table speaks the customer's own language (enroll --lang), with amounts the shop's currency written
    that language's way; --json and --csv keep the fixed English notes.

    In the shop's language: loyalty history C000001 --lang shop

    Example: loyalty history C000001 --csv
    """
    from loyaltycli import programs
    from loyaltycli.services import cards, customers
    from loyaltycli.store import ledger
    from loyaltycli.customer.old_notes import row_note
    from loyaltycli.i18n import speaking

    wanted = None if lang in (None, "shop") else customers.customer_language(lang)
    with options.database().session(write=False) as session:
        customer = customers.find(session, key, usable=False)
        rows = ledger.history(session, customer.id)
        stamps = cards.history(session, customer.id)
        others = programs.history(session, customer.id)  # goals' progress and vouchers
    people = not (options.current.json or options.current.csv)
    with speaking((wanted or (customer.language if lang is None else None)) if people else None):
        out = [{"at": r["at"], "kind": r["kind"], "points": r["points"], "balance": r["balance"],
                "note": row_note(r) if people else r["note"], "operator": r["operator"] or ""} for r in rows]
        # stamp-card and other program types' rows in time order among the points rows: 0 points, the
        # balance unchanged
        if stamps:
            out = _with_rows(out, [_stamp_row(s, people) for s in stamps])
        if others:
            out = _with_rows(out, [{"at": r["at"], "kind": r["kind"], "points": 0,
                                    "note": r["say"]() if people else r["note"], "operator": ""} for r in others])
        emit(out, columns=["at", "kind", "points", "balance", "note", "operator"],
             title=_("Statement of {code}").format(code=customer.code))


def _with_rows(rows: list[dict], extra: list[dict]) -> list[dict]:
    """``extra`` rows (0 points, oldest first) put in time order among ``rows``, with the balance then."""
    def placed(r: dict, balance: int) -> dict:
        return {"at": r["at"], "kind": r["kind"], "points": 0, "balance": balance, "note": r["note"],
                "operator": r["operator"]}

    merged, balance, i = [], 0, 0
    for row in rows:
        while i < len(extra) and extra[i]["at"] < row["at"]:
            merged.append(placed(extra[i], balance))
            i += 1
        merged.append(row)
        balance = row["balance"]
    merged.extend(placed(r, balance) for r in extra[i:])
    return merged


def _stamp_row(row: dict, people: bool) -> dict:
    from loyaltycli.customer.old_notes import row_note

    if row["unit"] == "stamp":
        delta = ngettext("{count} stamp", "{count} stamps", abs(row["delta"])).format(count=f"{row['delta']:+d}")
    else:
        delta = ngettext("{count} voucher", "{count} vouchers", abs(row["delta"])).format(count=f"{row['delta']:+d}")
    note = f"{row_note({**row, 'note': row['text']})} {row['progress']}" if people else row["note"]
    return {"at": row["at"], "kind": row["kind"], "points": 0, "note": f"{delta}: {note}", "operator": ""}


# Negative numbers ('-5') reach the command as values, to be refused with a clear reason.
NUMBERS = {"ignore_unknown_options": True}


def register(app: typer.Typer) -> None:
    app.command("purchase", context_settings=NUMBERS)(purchase)
    app.command("refund", context_settings=NUMBERS)(refund)
    app.command("award", context_settings=NUMBERS)(award)
    app.command("redeem", context_settings=NUMBERS)(redeem)
    app.command("balance")(balance)
    app.command("history")(history)
