"""The console entry point: Python's cyclic garbage collector waits while the program starts.

Starting a command is mostly imports and class building (Typer, SQLAlchemy, pydantic, the table
models): some 100,000 objects that live as long as the process, with no garbage cycles to reclaim,
yet the collector walks them over and over (about 180 passes, some 5% of a counter command's start).
So the collector is paused from the first line until the command opens its database, after its
imports; it then resumes, with the startup objects frozen out of its sight (``gc.freeze``), so that
long commands (an import, the counter) collect as usual.
"""

from __future__ import annotations

from loyaltycli.gcpause import pause, resume_gc  # noqa: F401 (resume_gc: for callers of the entry point)


def main() -> None:
    """Console entry point (`loyalty`, `python -m loyaltycli`)."""
    pause()
    from loyaltycli.cli import main as cli_main

    cli_main()
