"""Python's cyclic collector paused while the program starts, and resumed once a command has its imports.

Kept apart from the entry point (loyaltycli.startup imports the CLI; the CLI resumes collecting through
here), so that no module of the CLI imports the module that imports the CLI.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop collecting, if collecting (main() does it on its first line)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_gc() -> None:
    """Start collecting again, if pause() paused it (library users and tests keep their own setting)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
