"""Every program-type command has help that ends with an example, and is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

pytestmark = pytest.mark.dialect_free("help texts and the README: no database")

COMMANDS = [
    "referral code", "referral list", "referral add", "expire", "donate", "cause add", "cause list",
    "report donations", "membership plan add", "membership plan list", "membership join", "membership renew",
    "membership cancel", "membership list", "reward add", "reward list", "reward remove", "program preset",
    "birthdays", "rebate",
]


def _command(path: str):
    from loyaltycli.cli import app

    command = typer.main.get_command(app)
    for name in path.split():
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path", COMMANDS)
def test_help_ends_with_an_example(path):
    help_text = (_command(path).help or "").strip()
    assert help_text.splitlines()[-1].startswith(f"Example: loyalty {path}")


@pytest.mark.parametrize("path", COMMANDS)
def test_command_is_in_the_readme(path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Program types", 1)[1].split("\n## ", 1)[0]
    assert f"`{path}" in section or f"loyalty {path}" in section
