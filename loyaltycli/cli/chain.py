"""A chain of shops on one PostgreSQL server: `db copy` moves a shop's database there."""

from __future__ import annotations

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit, print_line
from loyaltycli.i18n import _


def db_copy(to: str = typer.Option(..., "--to", metavar="URL_OR_PATH",
                                   help="The empty target database, e.g. postgresql+psycopg://till@server/shop "
                                        "(a new SQLite file works too).")) -> None:
    """Copy every table of this database (--db) into an empty database, ids kept, in one transaction.

    The target gets the newest schema first; a target that already holds data is refused (exit 1)
    and nothing is copied. Use it to move a shop's SQLite file onto the chain's PostgreSQL server.

    Example: loyalty --db shop.db db copy --to postgresql+psycopg://loyalty@db.example.ie/chain
    """
    from loyaltycli.store.copy import copy_database

    result = copy_database(options.database(), to)
    if options.current.json:
        emit(result)
        return
    emit(result["tables"], columns=["table", "rows"], title=_("Copied"))
    if not options.current.csv:
        print_line(_("copied {rows} rows in {tables} tables from {source} to {target}").format(
            rows=result["rows"], tables=len(result["tables"]), source=result["source"], target=result["target"]))


def register(app: typer.Typer) -> None:
    from loyaltycli.cli.setup import db_app

    db_app.command("copy")(db_copy)
