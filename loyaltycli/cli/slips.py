"""The customer's slip: `slip RECEIPT` (print it again) and the output of `purchase --slip`.

A preview on the terminal by default, ESC/POS bytes to a receipt printer with `--printer`, the
slip's fields with `--json`. The slip itself is made in loyaltycli.customer.slip.
"""

from __future__ import annotations

from typing import Optional

import typer

from loyaltycli.cli import options
from loyaltycli.i18n import _

PRINTER_HELP = ("Send the slip to a receipt printer: a device (/dev/usb/lp0), a file, or "
                "tcp://HOST:9100 (default: LOYALTY_PRINTER; none: a preview on the terminal).")
WIDTH_HELP = "Characters per line: 32 for 58 mm paper, 42 or 48 for 80 mm."
PAGE_HELP = "Code page of the printer's text (cp858, cp852, cp1250...; default: by the language)."


def printer_option():
    # LOYALTY_PRINTER is read by Output, not as the option's envvar: `purchase --printer X` alone
    # means --slip, while LOYALTY_PRINTER alone must not print a slip for every sale.
    return typer.Option(None, "--printer", metavar="FILE|tcp://HOST:9100", help=PRINTER_HELP)


def width_option():
    return typer.Option(None, "--width", metavar="N", help=WIDTH_HELP)


def page_option():
    return typer.Option(None, "--code-page", metavar="NAME", help=PAGE_HELP)


class Output:
    """How one slip is given out: checked, and its printer opened, before anything is recorded."""

    def __init__(self, printer: Optional[str], width: Optional[int], code_page: Optional[str]):
        import os

        from loyaltycli.base.errors import InvalidInput
        from loyaltycli.customer import escpos, slip

        if width is not None and not slip.MIN_WIDTH <= width <= slip.MAX_WIDTH:
            raise InvalidInput(_("--width must be {low} to {high} characters").format(
                low=slip.MIN_WIDTH, high=slip.MAX_WIDTH))
        self.width = width or slip.DEFAULT_WIDTH
        self.page = None
        if code_page is not None:
            try:
                self.page = escpos.check_page(code_page)
            except ValueError as exc:
                raise InvalidInput(_("unknown code page {name!r}; known: {known}").format(
                    name=code_page, known=exc)) from None
        self.target = printer if printer is not None else os.environ.get("LOYALTY_PRINTER") or None
        self.printer = None
        if self.target is not None:
            from loyaltycli.customer.printer import open_printer

            self.printer = open_printer(self.target)

    def close(self) -> None:
        if self.printer is not None:
            self.printer.close()

    def give(self, made, answer: dict | None = None, *, recorded: str | None = None) -> None:
        """Give out the slip ``made``: to the printer, then as JSON (under ``slip`` in ``answer``,
        the purchase's own answer, when given) or, on the terminal, a preview (or where it went).
        ``recorded``: the receipt of the sale just recorded, named when the printer fails now."""
        from loyaltycli.cli.render import emit, print_line
        from loyaltycli.customer import slip

        sent = None
        if self.printer is not None:
            from loyaltycli.customer.printer import PrinterUnavailable

            try:
                sent = self.printer.send(slip.escpos_bytes(made, self.width, self.page))
            except PrinterUnavailable as exc:
                if recorded is None:
                    raise
                raise PrinterUnavailable(
                    _("{error}; the sale was recorded (receipt {receipt}): print its slip with "
                      "`loyalty slip {receipt}`").format(error=exc, receipt=recorded)) from None
        if options.current.json:
            fields = slip.as_json(made, self.width)
            if sent is not None:
                fields.update(printer=self.target, bytes_sent=sent)
            emit(fields if answer is None else {**answer, "slip": fields})
        elif sent is not None:
            print_line(_("slip of receipt {receipt} sent to {printer} ({count} bytes)").format(
                receipt=made.receipt_id, printer=self.target, count=sent))
        else:
            preview(made, self.width)


def preview(made, width: int) -> None:
    """The slip on the terminal: its lines placed as on paper, its QR code drawn."""
    import os
    import sys

    from loyaltycli.cli.render import print_line
    from loyaltycli.customer import escpos, qr, slip

    for part in slip.lines(made, width):
        if isinstance(part, escpos.QR):
            # colours on a terminal (it scans on dark and light screens alike), blocks elsewhere
            ansi = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            sys.stdout.write(qr.terminal_text(part.data, ansi=ansi) + "\n")
        else:
            print_line(slip.placed(part, width))


def slip(
    receipt: str = typer.Argument(..., help="Receipt id of the sale."),
    source: Optional[str] = typer.Option(None, "--source",
                                         help="Source of the receipt when several have it."),
    printer: Optional[str] = printer_option(),
    width: Optional[int] = width_option(),
    code_page: Optional[str] = page_option(),
) -> None:
    """Print a sale's slip again: the visit's points, the balance and its worth, stamps, vouchers,
    the next reward or tier, points expiring soon, the card's QR code, how to stop offers.

    A preview on the terminal; ESC/POS bytes with --printer (a device, a file or tcp://HOST:9100);
    the slip's fields with --json, for a till that prints itself. The account is shown as it stands
    now.

    Example: loyalty slip R-1001 --printer tcp://192.168.1.50:9100
    """
    from loyaltycli.store.program import load_program
    from loyaltycli.customer.slip import for_receipt

    out = Output(printer, width, code_page)
    try:
        # a write session: a customer's first slip issues their card code
        with options.database().session() as session:
            made = for_receipt(session, load_program(session), receipt, source)
        out.give(made)
    finally:
        out.close()


def register(app: typer.Typer) -> None:
    app.command("slip")(slip)
