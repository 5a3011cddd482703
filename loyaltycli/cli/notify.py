"""E-mail to customers: `notify statements` and `notify expiring` (the library is
loyaltycli/customer/notify.py and loyaltycli/customer/statements.py)."""

from __future__ import annotations

from typing import Optional

import typer

from loyaltycli.cli import options
from loyaltycli.i18n import _

notify_app = typer.Typer(help="E-mail statements and expiry reminders to the customers who agreed to "
                              "e-mail offers (SMTP, or .eml files with --outbox).",
                         no_args_is_help=True)
OUTBOX = typer.Option(None, "--outbox", metavar="DIR",
                      help="Write the messages as .eml files in DIR (made if missing; its parent must "
                           "exist) instead of sending them.")
RETRY = typer.Option(False, "--retry",
                     help="Send again the messages a stopped run left marked 'sending' (they may have gone out "
                          "already).")


def _give(kind: str, outbox: Optional[str], retry: bool, *, since=None, days: int = 30) -> None:
    import sys

    from loyaltycli.cli.render import emit
    from loyaltycli.customer import notify
    from loyaltycli.store.program import load_program

    db = options.database()
    if outbox is not None:
        transport = notify.Outbox(outbox)
    else:
        with db.session(write=False) as session:
            transport = notify.Smtp(load_program(session))
    try:
        result = notify.run(db, kind, transport, since=since, days=days, retry=retry)
    except notify.MailUnavailable as exc:  # the server went away: what was sent before, then why
        if exc.run is not None and not options.current.json:
            _sent(exc.run, kind)
        raise
    if options.current.json:
        emit(result.as_dict())
    else:
        _sent(result, kind)
        for outcome in result.refused:
            typer.echo(_("refused: {code} <{email}>: {error}").format(
                code=outcome.code, email=outcome.email, error=outcome.error), err=True)
        summary = _("{sent} sent, {refused} refused, {up_to_date} up to date").format(
            sent=len(result.sent), refused=len(result.refused), up_to_date=result.up_to_date)
        if result.pending:
            summary += " " + _("({pending} left 'sending' by a stopped run: see --retry)").format(
                pending=result.pending)
        typer.echo(summary, err=True)
    sys.stdout.flush()
    if result.refused:
        raise typer.Exit(3)


def _sent(result, kind: str) -> None:
    from loyaltycli.cli.render import print_line
    from loyaltycli.customer.statements import LABELS

    for outcome in result.sent:
        print_line(_("{code}: {kind} to {where}").format(code=outcome.code, kind=_(LABELS[kind]),
                                                         where=outcome.file or outcome.email))


@notify_app.command("statements")
def statements(
    since: Optional[str] = typer.Option(None, "--since", metavar="DATE",
                                        help="List the rows from DATE on (default: since each customer's "
                                             "last statement; the first one lists every row)."),
    outbox: Optional[str] = OUTBOX,
    retry: bool = RETRY,
) -> None:
    """E-mail each customer who agreed to e-mail offers a statement: balance and its value, what
    happened since the last statement, points about to expire, the card's QR code. A customer with
    nothing new since the last statement gets none; a re-run never sends one twice. Exit 3 when the
    server refused some addresses (the others were sent).

    Example: loyalty notify statements --outbox out/
    """
    from loyaltycli.shop import clock

    start = clock.start_of_day(clock.parse_date(since, what="--since")) if since else None
    _give("statement", outbox, retry, since=start)


@notify_app.command("expiring")
def expiring(
    days: int = typer.Option(30, "--days", min=1, max=3650, help="Points expiring within this many days."),
    outbox: Optional[str] = OUTBOX,
    retry: bool = RETRY,
) -> None:
    """E-mail each customer who agreed to e-mail offers and has points expiring within --days a
    reminder with the dates; sent again only when more points come to expire later.

    Example: loyalty notify expiring --days 30
    """
    _give("expiring", outbox, retry, days=days)


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
