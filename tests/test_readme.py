"""The README's ```sh examples run, in order, on a fresh database, exactly as a newcomer types them.

How it works: every ```sh block of README.md is read in order; each line is one command (a line
ending in `\\` continues on the next). The lines run in-process (Typer's CliRunner, so the whole
README takes seconds, not a process start per line) in a fresh temporary folder with a fresh
database, and each must exit 0 (or what the block's marker says).

Marking convention (for everyone who adds README sections): an HTML comment on the line just
before the opening fence of a block says how the test treats it. Invisible on GitHub.

    <!-- readme-test: skip (terminal) -->     needs a person at a terminal (prompts, the counter)
    <!-- readme-test: skip (server) -->       needs a server, a crontab, root or the network
    <!-- readme-test: skip (setup) -->        installs things (venv, pip); the test has them already
    <!-- readme-test: exit 3 -->              every line of the block is expected to exit 3

An unmarked ```sh block MUST run. Blocks in other languages (```console, ```cron, ```toml) are never
run. Supported shell: `loyalty ...` commands joined by `&&`, `export NAME=VALUE`, `name=$(...)`
and `"$name"`, `$(...)` substitutions (a `loyalty` one in-process, others by bash), a final `> FILE` redirection, and comments; anything else (a pipe, a
program other than mkdir/ls/cat/head/rm) fails the test with a message asking to mark the block.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

MARKER = re.compile(r"<!--\s*readme-test:\s*(?P<what>skip|exit)\s*(?P<arg>[^>]*?)\s*-->")


def readme_blocks(text: str) -> list[dict]:
    """Every ```sh block: its first line number, its marker (None, 'skip' or an exit code), its lines."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "```sh":
            marker = None
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            found = MARKER.search(lines[j]) if j >= 0 else None
            if found:
                marker = "skip" if found["what"] == "skip" else int(found["arg"].split()[0])
            body = []
            fence = i
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i].strip())
                i += 1
            commands, pending, start = [], "", None
            for n, raw in enumerate(body):
                if start is None:
                    start = n
                if raw.endswith("\\"):
                    pending += raw[:-1] + " "
                    continue
                commands.append((start, pending + raw))
                pending, start = "", None
            # "start": the 1-based README line of the block's first command line, less one
            blocks.append({"start": fence + 1, "marker": marker, "commands": commands})
        i += 1
    return blocks


SHELL_TOOLS = {"mkdir", "ls", "cat", "head", "rm"}


def _expand(line: str, cli, cwd: Path, env: dict, shell_vars: dict) -> str:
    """Put the output of each $(...) in its place (a `loyalty` one runs in-process, others in bash),
    and the value of each $NAME the README set before (others are left to fail loudly)."""
    def run(match):
        inner = match.group(1).strip()
        if inner.startswith("loyalty "):
            result = cli(*shlex.split(inner)[1:])
            assert result.exit_code == 0, f"$({inner}) exited {result.exit_code}: {result.stderr}"
            return result.stdout.strip()
        out = subprocess.run(["bash", "-c", inner], cwd=cwd, env=env, capture_output=True, text=True,
                             check=True)
        return out.stdout.strip()
    line = re.sub(r"\$\(([^()]*)\)", run, line)
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                  lambda m: shell_vars.get(m.group(1), m.group(0)), line)


def run_line(cli, line: str, cwd: Path, env: dict, shell_vars: dict, setenv, where: str,
             expected: int) -> None:
    line = _expand(line, cli, cwd, env, shell_vars)
    lexer = shlex.shlex(line, posix=True, punctuation_chars="&|;<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words = list(lexer)
    if not words:
        return
    commands, current = [], []
    for word in words:
        if word == "&&":
            commands.append(current)
            current = []
        elif word in ("|", "||", ";", "<", "&"):
            pytest.fail(f"{where}: `{word}` is not supported by tests/test_readme.py; mark the block "
                        "<!-- readme-test: skip (...) --> or write one command per line")
        else:
            current.append(word)
    commands.append(current)
    for argv in commands:
        target = None
        if ">" in argv:
            at = argv.index(">")
            assert at == len(argv) - 2, f"{where}: `> FILE` must end the command"
            argv, target = argv[:at], argv[at + 1]
        assignment = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", argv[0], re.S)
        if assignment and len(argv) == 1:  # code=$(...)
            shell_vars[assignment.group(1)] = assignment.group(2)
            continue
        if argv[0] == "export":
            for item in argv[1:]:
                name, _, value = item.partition("=")
                env[name] = value
                setenv(name, value)
            continue
        if argv[0] in SHELL_TOOLS:
            done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
            assert done.returncode == 0, f"{where}: `{' '.join(argv)}` failed: {done.stderr}"
            continue
        if argv[0] != "loyalty":
            pytest.fail(f"{where}: only `loyalty` commands (and {sorted(SHELL_TOOLS)}) run here, not "
                        f"{argv[0]!r}; mark the block <!-- readme-test: skip (...) -->")
        result = cli(*argv[1:])
        if target:
            (cwd / target).write_text(result.stdout, encoding="utf-8")
        assert result.exit_code == expected, (
            f"{where}: `{' '.join(argv)}` exited {result.exit_code}, expected {expected}\n"
            f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}")


def test_marker_parsing():
    text = ("x\n<!-- readme-test: skip (terminal) -->\n```sh\nloyalty enroll\n```\n\n"
            "<!-- readme-test: exit 3 -->\n\n```sh\nloyalty import a.csv \\\n  --source s\n```\n"
            "```console\n$ loyalty counter\n```\n```sh\nloyalty balance C1   # a comment\n```\n")
    blocks = readme_blocks(text)
    assert [b["marker"] for b in blocks] == ["skip", 3, None]
    assert [c for _, c in blocks[1]["commands"]] == ["loyalty import a.csv  --source s"]


def test_readme_examples_run_in_order(cli, tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    # A fresh database, as a newcomer has: the README's own `export LOYALTY_DB=...` chooses it.
    monkeypatch.delenv("LOYALTY_DB", raising=False)
    monkeypatch.setenv("LOYALTY_OPERATOR", "readme")
    # sample_data/ as the README's commands name it, relative to a checkout.
    os.symlink(ROOT / "sample_data", tmp_path / "sample_data")
    # The demo's till runs to 19 November 2026; its examples are dated after it.
    monkeypatch.setenv("LOYALTY_NOW", "2026-12-01T12:00:00+00:00")
    env = dict(os.environ)
    shell_vars: dict = {}
    ran = 0
    for block in readme_blocks(text):
        if block["marker"] == "skip":
            continue
        expected = block["marker"] if isinstance(block["marker"], int) else 0
        for offset, command in block["commands"]:
            where = f"README.md:{block['start'] + offset + 1}"
            run_line(cli, command, tmp_path, env, shell_vars, monkeypatch.setenv, where, expected)
            ran += 1
    assert ran >= 40, f"only {ran} README commands ran; were blocks marked skip by mistake?"
    assert "export LOYALTY_DB=" in text and (tmp_path / "demo.db").exists()


def test_quick_start_twice_is_fine(cli, tmp_path, monkeypatch):
    """The Quick start's second line, run again, finds the demo and says so (exit 0, nothing changed)."""
    monkeypatch.setenv("LOYALTY_NOW", "2026-12-01T12:00:00+00:00")
    demo = tmp_path / "demo.db"
    assert cli("--db", demo, "init", "--demo").exit_code == 0
    again = cli("--db", demo, "init", "--demo")
    assert again.exit_code == 0, again.stderr
    assert "the demo shop is already loaded (40 customers); nothing was changed" in again.stdout
    assert cli("--db", demo, "customer", "list", "--csv").stdout.count("\n") == 41


def test_demo_refused_on_a_shop_of_its_own_without_circular_advice(cli):
    assert cli("enroll", "Ann", "--email", "ann@example.ie", "--no-input").exit_code == 0
    result = cli("init", "--demo")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: the demo needs a fresh database: this one already has customers of its own; give the demo "
        "a new file (`loyalty --db demo.db init --demo`, or another name)")


def test_every_preset_ships_a_sample_export_the_readme_imports():
    from loyaltycli.services import importer

    text = README.read_text(encoding="utf-8")
    for preset in importer.list_presets():
        samples = sorted((ROOT / "sample_data").glob(f"{preset.name}*.*"))
        assert samples, f"preset {preset.name} has no sample_data/{preset.name}*.* sample"
        assert any(f"import sample_data/{s.name} --preset {preset.name}" in text for s in samples), preset.name


def test_referral_code_quiet_prints_the_code_alone(cli):
    assert cli("enroll", "Ann", "--email", "ann@example.ie", "--no-input").exit_code == 0
    code = cli.json("customer", "show", "C000001")["referral_code"]
    result = cli("referral", "code", "C000001", "-q")
    assert result.exit_code == 0 and result.stdout == code + "\n"
