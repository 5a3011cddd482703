"""The customer's card: `pass show`, `pass export`, `pass sheet`, `pass revoke`, `pass keys`,
`pass rotate-key`, `pass retire-key` (the library is loyaltycli/customer/)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit
from loyaltycli.i18n import _, ngettext

pass_app = typer.Typer(help="The card the customer carries: a signed code and its QR, a KEY for a scanner.",
                       no_args_is_help=True)
KEY = typer.Argument(..., help="Customer code, card code, card, e-mail or phone.")
FORCE = typer.Option(False, "--force", help="Replace the file if it exists.")


def _code_of(key: str) -> tuple[str, str]:
    """(customer code, current card code) of KEY, issuing the card on first use."""
    from loyaltycli.services import customers
    from loyaltycli.services import passes

    with options.database().session() as session:
        customer = customers.find(session, key)
        return customer.code, passes.code_for(session, customer.id)


def _check_files(paths, force: bool) -> None:
    """The files a command will write refused now (a folder, a link, a file there without --force, a folder
    missing or read-only), before a customer's first card is issued for them."""
    from loyaltycli.base import files

    for path in paths:
        if path is not None:
            files.check_new(Path(path).expanduser(), force=force)


@pass_app.command("show")
def show(key: str = KEY,
         quiet: bool = typer.Option(False, "--quiet", "-q", help="Print the card code alone (for scripts).")) -> None:
    """Show a customer's card code and its QR code in the terminal (to scan from the screen, or to copy).

    Example: loyalty pass show C000001
    """
    from loyaltycli.customer import qr

    code, pass_code = _code_of(key)
    if quiet and not options.current.json:
        sys.stdout.write(pass_code + "\n")
        return
    if options.current.json:
        emit({"code": code, "pass_code": pass_code})
        return
    ansi = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(qr.terminal_text(pass_code, ansi=ansi) + "\n")
    sys.stdout.write(f"{code}  {pass_code}\n")


@pass_app.command("export")
def export(key: str = KEY,
           png: Optional[Path] = typer.Option(None, "--png", metavar="FILE", help="Write the QR code as a PNG image."),
           svg: Optional[Path] = typer.Option(None, "--svg", metavar="FILE", help="Write the QR code as an SVG image."),
           scale: int = typer.Option(8, "--scale", min=1, max=40, help="Pixels per module of the PNG (SVG: units)."),
           force: bool = FORCE) -> None:
    """Write a customer's card QR code as a PNG and/or SVG image (for a label printer, a message, a web page).

    Example: loyalty pass export C000001 --png aoife.png --svg aoife.svg
    """
    from loyaltycli.base.errors import InvalidInput
    from loyaltycli.customer import qr

    if png is None and svg is None:
        raise InvalidInput(_("give --png FILE and/or --svg FILE"))
    _check_files((png, svg), force)
    code, pass_code = _code_of(key)
    if png is not None:
        qr.save(png, qr.png(pass_code, scale=scale), force=force)
    if svg is not None:
        qr.save(svg, qr.svg(pass_code, scale=scale).encode("utf-8"), force=force)
    written = [str(p) for p in (png, svg) if p is not None]
    emit({"code": code, "pass_code": pass_code, "png": str(png) if png else None, "svg": str(svg) if svg else None},
         message=_("{code}: card {pass_code} written to {files}").format(code=code, pass_code=pass_code,
                                                                          files=", ".join(written)))


@pass_app.command("sheet")
def sheet(keys: Optional[List[str]] = typer.Argument(None, metavar="KEY",
                                                     help="Customers to print (default: every active customer)."),
          out: Path = typer.Option(..., "--out", metavar="FILE", help="The HTML page to write (e.g. cards.html)."),
          shop: Optional[str] = typer.Option(None, "--shop", metavar="NAME", help="The shop's name, on every card."),
          names: bool = typer.Option(False, "--names", help="Print the customer's first name on the card (off: "
                                                            "the card holds no personal data)."),
          force: bool = FORCE) -> None:
    """Write an A4 page (HTML) of cut-out cards, ten a page, each a QR code and its code; open it in a
    browser and print at 100% scale.

    Example: loyalty pass sheet --out cards.html --shop "Café Aurora" C000001 C000002
    """
    from sqlalchemy import select

    from loyaltycli.services import customers
    from loyaltycli.store.models import Customer
    from loyaltycli.services import passes
    from loyaltycli.customer import qr
    from loyaltycli.customer.sheet import SheetCard, first_name, sheet_html

    if shop is not None:
        shop = customers.clean_name(shop)
    # A file that cannot be written is refused before any card is issued; the page is drawn after the
    # issue is committed, so tills wait only for the issue (a few ms a card), not for the drawing.
    _check_files((out,), force)
    with options.database().session() as session:
        if keys:
            people = []
            for key in keys:
                person = customers.find(session, key)
                if person not in people:
                    people.append(person)
        else:
            people = session.execute(select(Customer).where(Customer.status == "active")
                                     .order_by(Customer.id)).scalars().all()
        cards = [SheetCard(passes.code_for(session, p.id), first_name(p.name) if names else None) for p in people]
        printed = [p.code for p in people]
    from loyaltycli.i18n import language

    qr.save(out, sheet_html(cards, shop=shop, title=_("Loyalty cards"), lang=language()).encode("utf-8"),
            force=force)
    emit({"out": str(out), "cards": len(cards), "customers": printed},
         message=ngettext("{count} card written to {out}; open it in a browser and print at 100% scale",
                          "{count} cards written to {out}; open it in a browser and print at 100% scale",
                          len(cards)).format(count=len(cards), out=out))


@pass_app.command("revoke")
def revoke(key: str = KEY) -> None:
    """A lost card: its code stops working at once and the customer gets a new one (print it with `pass show`,
    `pass export` or `pass sheet`).

    Example: loyalty pass revoke C000001
    """
    from loyaltycli.services import customers
    from loyaltycli.services import passes

    with options.database().session() as session:
        customer = customers.find(session, key)
        new = passes.revoke(session, customer.id)
        code = customer.code
    emit({"code": code, "pass_code": new},
         message=_("{code}: the old card no longer works; new card {pass_code}").format(code=code, pass_code=new))


def _key_rows(keys) -> list[dict]:
    return [{"kid": k.kid, "created_at": k.created_at, "retired_at": k.retired_at, "signing": k.signing}
            for k in keys]


@pass_app.command("keys")
def keys_() -> None:
    """List the keys that sign card codes (never their secrets): which one signs new cards, which are retired.

    Example: loyalty pass keys
    """
    from loyaltycli.services import passes

    with options.database().session() as session:
        rows = _key_rows(passes.list_keys(session))
    emit(rows, columns=["kid", "created_at", "retired_at", "signing"], title=_("Card keys"))


@pass_app.command("rotate-key")
def rotate_key(retire_old: bool = typer.Option(False, "--retire-old", help="Also stop every older key at once "
                                                                           "(a secret that leaked): every card "
                                                                           "printed before stops working."),
               yes: bool = typer.Option(False, "--yes", "-y", help="With --retire-old: do it without asking.")) -> None:
    """Make a new key for card codes: cards shown or printed from now on are signed by it; cards printed
    before keep working until their key is retired (`pass retire-key KID`), or at once with --retire-old.

    Example: loyalty pass rotate-key
    """
    from loyaltycli.cli.safety import confirmed
    from loyaltycli.services import passes

    if retire_old:
        confirmed(yes, _("retire every card key"), [_("every card printed so far stops working")])
    with options.database().session() as session:
        key = passes.rotate_key(session, retire_old=retire_old)
        kid = key.id
    emit({"kid": kid, "retired_old": retire_old},
         message=_("card key {kid} signs new cards; reprint the cards (`loyalty pass sheet`)").format(kid=kid))


@pass_app.command("retire-key")
def retire_key(kid: int = typer.Argument(..., help="The key id (see `loyalty pass keys`)."),
               yes: bool = typer.Option(False, "--yes", "-y", help="Do it without asking (scripts).")) -> None:
    """Stop accepting the cards signed by an older key (after the cards were reprinted with the new one).

    Example: loyalty pass retire-key 1 --yes
    """
    from loyaltycli.cli.safety import confirmed
    from loyaltycli.services import passes

    confirmed(yes, _("retire card key {kid}").format(kid=kid), [_("cards signed by key {kid} stop working").format(kid=kid)])
    with options.database().session() as session:
        key = passes.retire_key(session, kid)
        data = {"kid": key.id, "retired_at": key.retired_at}
    emit(data, message=_("card key {kid} retired: cards it signed no longer work").format(kid=kid))


def register(app: typer.Typer) -> None:
    app.add_typer(pass_app, name="pass")
