"""Stamp cards and item rules: `card add`, `card list`, `program rule add`, `program rule list` (`report cards`
is with the other reports, in cli/reports.py)."""

from __future__ import annotations

from typing import List, Optional

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit, emit_lists
from loyaltycli.i18n import _
from loyaltycli.base.numbers import decimal_text

card_app = typer.Typer(help="Stamp cards: the 10th coffee is on us (vouchers: `loyalty redeem KEY --voucher`).",
                       no_args_is_help=True)
rule_app = typer.Typer(help="Item rules: bonus points for items of SKU patterns, or the rate their spend earns at.",
                       no_args_is_help=True)
NUMBERS = {"ignore_unknown_options": True}


def _money(cents):
    from loyaltycli.base.money import money

    return money(cents)  # the plain decimal in JSON and CSV, the shop's way in tables


def _card_json(card) -> dict:
    from loyaltycli.store.models import sku_patterns

    return {"card": card.name, "stamps": card.stamps, "reward": card.reward,
            "skus": list(sku_patterns(card.skus)), "min_amount": _money(card.min_amount),
            "per": card.per, "expires_days": card.expires_days, "active": card.active}


@card_app.command("add", context_settings=NUMBERS)
def card_add(
    name: str = typer.Argument(..., help="Card name, e.g. Coffee."),
    stamps: int = typer.Option(..., "--stamps", help="Stamps that fill the card, e.g. 10."),
    reward: str = typer.Option(..., "--reward", help="What a full card gives, e.g. \"Free coffee\"."),
    sku: Optional[List[str]] = typer.Option(None, "--sku", help="SKU pattern of items that count, e.g. 'COF-*' (repeatable)."),
    min_amount: str = typer.Option("0.00", "--min-amount", help="Smallest purchase that earns a stamp."),
    per: str = typer.Option("visit", "--per", help="visit: one stamp per purchase; item: one per matching item unit."),
    expires_days: Optional[int] = typer.Option(None, "--expires-days", metavar="N",
                                               help="A card not filled within N days of its first stamp expires "
                                                    "(its stamps are written off); a voucher expires N days after "
                                                    "it is issued."),
) -> None:
    """Add a stamp card: every purchase (or matching item) earns a stamp; a full card becomes a voucher.

    With --expires-days N, a card not filled within N days of its first stamp expires: its stamps are
    written off (an `expire` row, dated at the deadline) and the next stamp starts a new card; stamps
    carried over from a full card start the new card at once. A voucher is valid N days.

    Example: loyalty card add Coffee --stamps 10 --reward "Free coffee" --sku 'COF-*' --per item --expires-days 90
    """
    from loyaltycli.base.money import parse_money
    from loyaltycli.programs import cards

    minimum = parse_money(min_amount, what="--min-amount")  # typed the shop's way, like every amount
    with options.database().session() as session:
        card = cards.add_card(session, name, stamps, reward, skus=sku, min_amount=minimum, per=per,
                              expires_days=expires_days)
        data = _card_json(card)
    if data["per"] == "item" and data["skus"]:
        message = _("card {card}: {stamps} stamps per matching item ({skus}) give {reward}").format(
            card=data["card"], stamps=data["stamps"], skus=", ".join(data["skus"]), reward=data["reward"])
    else:
        message = _("card {card}: {stamps} stamps per {per} give {reward}").format(
            card=data["card"], stamps=data["stamps"], per=_(data["per"]), reward=data["reward"])
    emit(data, message=message)


@card_app.command("list")
def card_list() -> None:
    """List the stamp cards: stamps needed, reward, what earns a stamp.

    Example: loyalty card list --json
    """
    from loyaltycli.services import cards

    with options.database().session(write=False) as session:
        rows = [_card_json(c) for c in cards.list_cards(session)]
    emit_lists(rows, joined=["skus"], columns=["card", "stamps", "reward", "per", "skus", "min_amount", "expires_days",
                                               "active"], title=_("Stamp cards"))


@rule_app.command("add", context_settings=NUMBERS)
def rule_add(
    name: str = typer.Argument(..., help="Rule name, e.g. \"Croissant bonus\"."),
    sku: List[str] = typer.Option(..., "--sku", help="SKU pattern, e.g. 'CRO-*' (repeatable)."),
    points: Optional[int] = typer.Option(None, "--points", help="Bonus points, on top of the spend points."),
    per: str = typer.Option("item", "--per", help="With --points: item, per matching item unit; visit, once per "
                                                  "purchase."),
    earn: Optional[str] = typer.Option(None, "--earn", metavar="RATE",
                                       help="Matching items earn spend points at RATE per whole currency unit "
                                            "instead of earn_rate (cashback: percent); 0: none."),
) -> None:
    """Add an item rule: bonus points for items of SKU patterns (--points), or the rate their spend earns
    at (--earn; 0: they earn no spend points, e.g. coffee that earns stamps only).

    Example: loyalty program rule add "Coffee earns stamps only" --sku 'CAF-*' --earn 0
    """
    from loyaltycli.store.program import add_item_rule
    from loyaltycli.base.errors import InvalidInput

    if (points is None) == (earn is None):
        raise InvalidInput(_("give --points (bonus points) or --earn RATE (the spend's rate), one of them"))
    with options.database().session() as session:
        if earn is not None:
            from loyaltycli.programs.by_product import add_earn_rule

            rule = add_earn_rule(session, name, sku, earn)
        else:
            from loyaltycli.store.program import add_item_rule

            rule = add_item_rule(session, name, sku, points, per)
    if earn is not None:
        message = _("rule {rule}: items {skus} earn {rate} points per unit spent").format(
            rule=rule["name"], skus=", ".join(rule["skus"]), rate=rule["earn"])
    else:
        message = _("rule {rule}: +{points} points per {per} ({skus})").format(
            rule=rule["name"], points=rule["points"], per=_(rule["per"]), skus=", ".join(rule["skus"]))
    emit(rule, message=message)


@rule_app.command("list")
def rule_list() -> None:
    """List the item rules: bonus points (points, per) and spend rates (earn).

    Example: loyalty program rule list
    """
    from loyaltycli.store.program import load_program

    with options.database().session(write=False) as session:
        program = load_program(session)
    rows = [{"name": r.name, "skus": " ".join(r.skus), "points": r.points, "per": r.per, "earn": None}
            for r in program.item_rules]
    rows += [{"name": r.name, "skus": " ".join(r.skus), "points": None, "per": None, "earn": decimal_text(r.rate)}
             for r in program.earn_rules]
    emit(rows, columns=["name", "skus", "points", "per", "earn"], title=_("Item rules"))


@rule_app.command("remove")
def rule_remove(name: str = typer.Argument(..., help="The rule's name.")) -> None:
    """Remove an item rule (bonus points or spend rate) by its name.

    Example: loyalty program rule remove "Coffee earns stamps only"
    """
    from loyaltycli.programs.by_product import remove_rule

    with options.database().session() as session:
        removed = remove_rule(session, name)
    emit(removed, message=_("rule {rule} removed").format(rule=removed["name"]))


def register(app: typer.Typer) -> None:
    from loyaltycli.cli.setup import program_app

    app.add_typer(card_app, name="card")
    program_app.add_typer(rule_app, name="rule")
