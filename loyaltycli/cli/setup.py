"""Set-up commands: init, program, db."""

from __future__ import annotations

from pathlib import Path

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit
from loyaltycli.i18n import _

program_app = typer.Typer(help="Show and change the program's rules.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance: upgrade the schema.", no_args_is_help=True)


def init(demo: bool = typer.Option(False, "--demo", help="Load sample_data (customers, a till CSV, surveys) "
                                                          "into a fresh database."),
         sample_dir: Path = typer.Option(None, "--sample-dir", help="Folder of the demo files (default: the "
                                                                     "project's sample_data/)."),
         country: str = typer.Option(None, "--country", metavar="CC",
                                     help="The shop's country (PT, RO, IT, ES, IE, GB...): sets currency, "
                                          "phone_region, timezone and locale.")) -> None:
    """Create the database (idempotent); with --demo, fill a fresh one with the sample shop; with
    --country, set the shop's currency, phone region, time zone and locale.

    Example: loyalty init --country PT
    """
    if country is not None:
        from loyaltycli.shop.country import place_for

        place_for(country)  # a wrong code is refused before the database is created
    db = options.database(create=True)
    db.ensure_schema(create=True)
    summary = {"database": db.safe_url, "demo": None}
    if country is not None:
        from loyaltycli.store.program import set_country

        with db.session() as session:
            summary["place"] = set_country(session, country)
    if demo:
        from loyaltycli.services.demo import load_demo

        with db.session() as session:
            summary["demo"] = load_demo(session, sample_dir)
    from loyaltycli.services.passes import signing_key

    with db.session() as session:  # last: an init refused above (a bad --sample-dir) changed nothing
        signing_key(session)  # the secret that signs card codes, made once (`loyalty pass`)
    emit(summary, message=_init_message(summary))


def _init_message(summary: dict) -> str:
    text = _("database ready: {database}").format(database=summary["database"])
    if summary.get("place"):
        text += "\n" + _place_message(summary["place"])
    demo = summary.get("demo")
    if demo and demo.get("already_loaded"):
        text += "\n" + _("the demo shop is already loaded ({customers} customers); nothing was changed. Try "
                         "`loyalty customer list` or `loyalty report summary`").format(customers=demo["customers"])
    elif demo:
        text += "\n" + _("demo loaded: {customers} customers, {purchases} purchases, {refunds} refunds, {surveys} "
                         "survey answers, {redemptions} rewards redeemed, {expired} points expired; try `loyalty "
                         "customer list` or `loyalty report summary`").format(
            customers=demo["customers"], purchases=demo["purchases"], refunds=demo["refunds"],
            surveys=demo["surveys"], redemptions=demo["redemptions"], expired=demo["points_expired"])
    return text


def _place_message(values: dict) -> str:
    return _("set {settings}").format(settings=", ".join(f"{key} = {value}" for key, value in values.items()))


def _shown_setting(key: str, value):
    """A setting as people read it: an amount the shop's way (0,05 €); the rest as it is typed."""
    from decimal import Decimal, InvalidOperation

    from loyaltycli.base.money import format_amount, money
    from loyaltycli.store.program import settings

    setting = settings().get(key)
    if key == "tiers":  # typed NAME:MIN:MULT,... with dots (commas part tiers); read the shop's way
        return _shown_tiers(str(value))
    if setting is None or setting.format is not format_amount:
        return value
    try:
        return money(int(Decimal(str(value)) * 100))
    except (InvalidOperation, ValueError):
        return value


def _shown_tiers(value: str) -> str:
    """'Bronze:0.00:1.0,Silver:500.00:1.25' as 'Bronze 0,00 € x1,0; Silver 500,00 € x1,25' (pt_PT)."""
    from decimal import Decimal, InvalidOperation

    from loyaltycli.base.money import format_money, format_number

    parts = []
    try:
        for tier in value.split(","):
            name, spend, multiplier = tier.split(":")
            digits = len(multiplier.partition(".")[2])
            parts.append(f"{name} {format_money(int(Decimal(spend) * 100))} "
                         f"x{format_number(Decimal(multiplier), decimals=digits)}")
    except (ValueError, InvalidOperation):
        return value
    return "; ".join(parts)


@program_app.command("show")
def program_show() -> None:
    """Show every setting of the program with its meaning.

    Example: loyalty program show
    """
    from loyaltycli.store.program import load_program

    with options.database().session(write=False) as session:
        program = load_program(session)
    machine = options.current.json or options.current.csv
    rows = [{"key": key, "value": value if machine else _shown_setting(key, value),
             "meaning": meaning if machine else _(meaning)} for key, value, meaning in program.items()]
    if options.current.json:
        emit({key: value for key, value, _ in program.items()})
    else:
        emit(rows, columns=["key", "value", "meaning"], title=_("Program"), optional=["meaning"])


@program_app.command("set", context_settings={"ignore_unknown_options": True})
def program_set(key: str = typer.Argument(..., help="Setting name, see `program show`."),
                value: str = typer.Argument(..., help="New value, e.g. 75 or 0.05 or Bronze:0:1,Gold:1000:2.")) -> None:
    """Change one setting (validated; an invalid value changes nothing). `country` also sets currency,
    phone_region, timezone and locale, and prints them.

    Example: loyalty program set country RO
    """
    from loyaltycli.store.program import set_setting

    if key.strip().lower() == "country" and value.strip():
        from loyaltycli.shop.country import place_for
        from loyaltycli.store.program import set_country

        place_for(value)
        with options.database().session() as session:
            values = set_country(session, value)
        emit({"key": "country", "value": values["country"], "set": values}, message=_place_message(values))
        return
    with options.database().session() as session:
        canonical = set_setting(session, key, value)
    emit({"key": key, "value": canonical}, message=f"{key} = {canonical}")


@program_app.command("load")
def program_load(file: Path = typer.Argument(..., help="TOML file as written by `program dump`.")) -> None:
    """Apply a program file: its settings, and the stamp cards, goals, rewards, membership plans and causes
    the database has not got (all or nothing). One already there with the same terms is left as it is; one
    of the same name with other terms is refused.

    Example: loyalty program load program.toml
    """
    from loyaltycli.base.files import read_toml
    from loyaltycli.services import program_file

    data = read_toml(file, str(file))
    with options.database().session() as session:
        loaded = program_file.load(session, data)
    message = _("loaded {count} settings from {file}").format(count=len(loaded["loaded"]), file=file)
    emit(loaded, message="; ".join([message, *program_file.summary(loaded)]))


@program_app.command("dump")
def program_dump() -> None:
    """Print the program as TOML (to keep, edit and `program load` again): the settings, the stamp cards
    ([[cards]]), goals ([[goals]]), rewards ([[rewards]]), membership plans ([[plans]]) and causes
    ([[causes]]); no customer's data.

    Example: loyalty program dump > program.toml
    """
    from loyaltycli.services import program_file

    if options.current.csv:
        from loyaltycli.cli.exits import fail

        fail(_("program dump prints TOML; --csv does not apply (for a table: loyalty program show --csv)"), 2)
    with options.database().session(write=False) as session:
        text = program_file.dump(session)
    typer.echo(text, nl=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to this program's version (also done automatically).

    Example: loyalty db upgrade
    """
    before, after = options.database().upgrade()
    emit({"from": before, "to": after},
         message=_("schema {before} -> {after}").format(before=before, after=after) if before != after
         else _("schema is up to date ({schema})").format(schema=after))


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(program_app, name="program")
    app.add_typer(db_app, name="db")
