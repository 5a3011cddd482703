"""Commands of this concern; register(app) adds them to the root app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Nothing here yet."""
