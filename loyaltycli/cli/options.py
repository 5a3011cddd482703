"""Global options of one invocation, set by the root callback, read by commands and render."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass
class Options:
    db: str | None = None
    json: bool = False
    csv: bool = False
    excel: bool = False  # --excel: CSV for European Excel (BOM, ; and decimal commas per the locale)
    no_input: bool = False
    debug: bool = False
    by: str | None = None  # --by NAME: the operator recorded on rows written by hand

    @property
    def interactive(self) -> bool:
        """Prompts only on a terminal, and never with --no-input."""
        return not self.no_input and sys.stdin.isatty() and sys.stdout.isatty()


current = Options()


def reset(**values) -> Options:
    global current
    current = Options(**values)
    from loyaltycli.base import place

    # Amounts and times typed on the line are read the shop's way: its settings, read when first needed.
    place.set_loader(_read_place)
    from loyaltycli.shop import clock

    clock.take_notes()
    return current


def _read_place():
    from loyaltycli.store.program import read_settings

    with database().session(write=False) as session:
        return read_settings(session)


def database(create: bool = False):
    """The Database named by --db / LOYALTY_DB / the default (created only with ``create``: `init`)."""
    from loyaltycli.store.db import open_database
    from loyaltycli.gcpause import resume_gc

    resume_gc()  # the command's imports are done: collect garbage again from here on
    return open_database(current.db, create=create)


def by_hand():
    """Context for a command whose ledger rows are written by hand (award, refund, redeem, merge, forget,
    restore): they record the operator (--by, LOYALTY_OPERATOR, else the OS user)."""
    from loyaltycli.store import ledger

    return ledger.acting(ledger.operator_name(current.by))
