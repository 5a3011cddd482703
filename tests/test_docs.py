"""Every command has help ending in an example, and is documented in the README."""

from pathlib import Path

import pytest
import typer

from loyaltycli.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def all_commands():
    root = typer.main.get_command(app)

    def walk(group, prefix):
        for name, command in sorted(group.commands.items()):
            path = f"{prefix} {name}".strip()
            if hasattr(command, "commands"):
                yield from walk(command, path)
            else:
                yield path, command
    return list(walk(root, ""))


COMMANDS = all_commands()


@pytest.mark.dialect_free("help texts and the README: no database")
def test_there_are_commands():
    assert {"init", "enroll", "purchase", "refund", "redeem", "balance", "history", "customer show"} <= {
        path for path, _ in COMMANDS}


@pytest.mark.dialect_free("help texts and the README: no database")
@pytest.mark.parametrize("path,command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_help_ends_with_an_example(path, command):
    assert command.help, f"{path} has no help"
    assert command.help.strip().splitlines()[-1].strip().startswith("Example: loyalty "), path


@pytest.mark.dialect_free("help texts and the README: no database")
@pytest.mark.parametrize("path,command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_is_in_the_readme(path, command):
    assert f"`{path}" in README or f"loyalty {path}" in README, f"{path} is missing from README.md"


@pytest.mark.parametrize("path,command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_help_runs(cli, path, command):
    result = cli(*path.split(), "--help")
    assert result.exit_code == 0 and "Example: loyalty" in result.stdout
