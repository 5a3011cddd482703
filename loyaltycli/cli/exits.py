"""How a command ends on a refusal: one line on stderr and the exit code of SPEC.md."""

from __future__ import annotations

import typer

from loyaltycli.i18n import _


def fail(message: str, code: int = 1) -> None:
    """One line on stderr, then exit with ``code``."""
    # User text quoted in a message (a file name, a KEY) may hold line breaks, terminal escapes or
    # undecodable bytes: show them escaped, on one line.
    # (The no-break spaces of a local amount, 99 999,00 €, are text, not escapes.)
    message = "".join(ch if ch.isprintable() or ch in "\u00a0\u202f" else ch.encode("unicode_escape").decode("ascii")
                      for ch in str(message))
    typer.echo(_("error: {message}").format(message=message), err=True)
    raise typer.Exit(code)
