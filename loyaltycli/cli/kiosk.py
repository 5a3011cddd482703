"""`loyalty kiosk`: the customers' page on the shop's screen (the library is loyaltycli/customer/kiosk/)."""

from __future__ import annotations

from typing import Optional

import typer

from loyaltycli.base.files import reason as os_reason
from loyaltycli.cli import options
from loyaltycli.i18n import _


def kiosk(
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="TCP port to serve on."),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="LANG",
                                       help="The start screen's language: pt_PT, ro, it, es, en (default: the "
                                            "shop's locale). Customers switch it on the page."),
    listen: str = typer.Option("127.0.0.1", "--listen", metavar="ADDRESS",
                               help="Address to listen on. Anything but 127.0.0.1 serves plain HTTP to the "
                                    "network (a warning is printed)."),
    idle: int = typer.Option(60, "--idle", min=5, max=3600, metavar="SECONDS",
                             help="Seconds without a touch or key before a page returns to the start screen."),
    printer: Optional[str] = typer.Option(None, "--printer", envvar="LOYALTY_PRINTER", metavar="FILE|tcp://HOST:9100",
                                          help="Print a welcome slip (the card's QR code, the welcome bonus) after "
                                               "each enrolment: a device (/dev/usb/lp0), a file or tcp://HOST:9100 "
                                               "(default: LOYALTY_PRINTER; none: no slip)."),
) -> None:
    """Serve the kiosk: a page where customers enroll themselves (with their consent per channel) and see
    their card by scanning it. Open it full screen in the shop's browser, e.g.
    `chromium --kiosk --app=http://127.0.0.1:8765`; Ctrl+C stops it.

    Example: loyalty kiosk --port 8765 --lang pt_PT
    """
    import ipaddress

    from loyaltycli import i18n
    from loyaltycli.cli.exits import fail

    if lang is not None:
        try:
            lang = i18n.language_of(lang)
        except ValueError:
            fail(_("unknown language {lang!r}; give pt_PT, ro, it, es or en").format(lang=lang))
    try:
        address = ipaddress.ip_address(listen.strip().strip("[]"))
    except ValueError:
        fail(_("--listen {address!r} is not an IP address (e.g. 127.0.0.1 or 192.168.1.20)").format(
            address=listen))
    listen = str(address)
    if printer is not None and printer.strip():
        from loyaltycli.customer.printer import parse_target

        parse_target(printer)  # a target that cannot name a printer is refused now (InvalidInput)
    else:
        printer = None
    db = options.database()
    with db.session(write=False):
        pass  # a missing or locked database is refused now, not at the first customer's touch
    from loyaltycli.customer.kiosk import allowed_hosts, create_app, make_server

    host = f"[{listen}]" if address.version == 6 else listen
    app = create_app(db=options.current.db, lang=lang, hosts=allowed_hosts(host, port), idle_seconds=idle,
                     printer=printer)
    if listen != "127.0.0.1":
        typer.echo(_("warning: serving on {address}: the kiosk speaks plain HTTP, so anyone on this network "
                     "can reach it and read what customers type (phones, e-mails) as it travels; keep it on "
                     "127.0.0.1 unless the screen is another machine on a network you trust")
                   .format(address=listen), err=True)
    try:
        server = make_server(app, listen=listen, port=port)
    except OSError as exc:
        fail(_("cannot listen on {address}:{port}: {problem}").format(address=listen, port=port,
                                                                     problem=os_reason(exc)), 1)
    typer.echo(_("kiosk on http://{host}:{port}/ (Ctrl+C stops it)").format(host=host, port=port), err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def register(app: typer.Typer) -> None:
    app.command("kiosk")(kiosk)
