"""Global options of one invocation, set by the root callback, read by commands and render."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass
class Options:
    db: str | None = None
    json: bool = False
    csv: bool = False
    no_input: bool = False
    debug: bool = False

    @property
    def interactive(self) -> bool:
        """Prompts only on a terminal, and never with --no-input."""
        return not self.no_input and sys.stdin.isatty() and sys.stdout.isatty()


current = Options()


def reset(**values) -> Options:
    global current
    current = Options(**values)
    return current


def database():
    """The Database named by --db / LOYALTY_DB / the default."""
    from loyaltycli.core.db import open_database
    from loyaltycli.gcpause import resume_gc

    resume_gc()  # the command's imports are done: collect garbage again from here on
    return open_database(current.db)
