"""One command line of the counter, run by the warm process: no terminal needed, so tests drive it.

The root Typer app is turned into its Click command once and reused; the database engine stays
open (``store.db.open_database`` keeps one per URL) and its schema is checked once. Each line is
one transaction, exactly as the same command typed after ``loyalty``; a bad line prints its error
and the counter goes on.
"""

from __future__ import annotations

import io
import shlex
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Sequence

import typer

from loyaltycli.i18n import _

# Words that end the counter session (handled by the session loop, listed here for completion).
EXIT_WORDS = ("exit", "quit")
HELP_WORDS = ("help", "?")  # a line of its own: the command list
# Positional arguments that name a customer: completed with customer codes.
CUSTOMER_ARGUMENTS = {"key", "keep", "duplicate", "customer"}
# A customer's card code (loyaltycli/services/passes.py) starts so; a USB scanner types it and Enter.
CARD_CODE_PREFIX = "LC1."

_root = None


def root_command():
    """The Click command of the root app, built once per process."""
    global _root
    if _root is None:
        from loyaltycli.cli import app

        _root = typer.main.get_command(app)
    return _root


def split_line(line: str) -> list[str]:
    """Shell-like words of a counter line; a leading `loyalty` is welcome and dropped."""
    words = shlex.split(line, comments=False)
    if words and words[0] == "loyalty":
        words = words[1:]
    return words


def run_line(line: str, *, capture: bool = True, base_args: Sequence[str] = ()) -> tuple[int, str]:
    """Run one counter line; returns (exit code, output).

    With ``capture`` (tests, benchmarks) stdout and stderr are collected and returned, and the line
    never prompts; without it the command writes to the terminal as usual and the output is "".
    ``base_args`` are global options given to `loyalty counter` itself (e.g. ``--db shop.db``); the
    line's own options come after them and win.
    """
    buffer = io.StringIO()
    if not capture:
        return _run(line, base_args), ""
    with redirect_stdout(buffer), redirect_stderr(buffer):
        code = _run(line, ["--no-input", *base_args])
    return code, buffer.getvalue()


def _run(line: str, base_args: Sequence[str]) -> int:
    if "\x00" in line:  # no command line can hold one (argv cannot); PostgreSQL text cannot either
        return _error(_("the line holds a NUL character (\\x00); type it again"))
    try:
        words = split_line(line)
    except ValueError as exc:
        # shlex says why in English: "No closing quotation" or "No escaped character" (a lone \ at the end)
        problem = (_("a quote is not closed") if "quotation" in str(exc)
                   else _("a backslash at the end escapes nothing"))
        return _error(_("cannot read the line ({problem}); close the quotes").format(problem=problem), 2)
    if not words:
        return 0
    if words[0] == "counter":
        return _error(_("already at the counter; type a command such as `balance C000001`"), 2)
    if words[0] in EXIT_WORDS:
        return 0
    if len(words) == 1 and words[0] in HELP_WORDS:
        words = ["--help"]
    if len(words) == 1 and words[0].upper().startswith(CARD_CODE_PREFIX):
        words = ["balance", words[0]]  # a card scanned on its own: whose it is, and the balance
    return invoke([*base_args, *words])


def invoke(args: Sequence[str]) -> int:
    """Run the root command on ``args`` without leaving the process; returns the exit code."""
    from loyaltycli.cli import options

    try:
        result = root_command().main(list(args), prog_name="loyalty", standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: unknown command, missing argument...
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            _error(exc.format_message())
        return getattr(exc, "exit_code", 2)
    except typer.Abort:
        return _error(_("aborted; nothing was changed"), 1)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        return _error(_("interrupted; the command's changes were rolled back"), 130)
    except Exception as exc:  # noqa: BLE001  a bad line never ends the session
        if options.current.debug:
            import traceback

            traceback.print_exc()
        first = str(exc).splitlines()[0] if str(exc) else ""
        return _error(_("internal error: {error}: {detail} (rerun with --debug for details)").format(
            error=type(exc).__name__, detail=first), 1)
    return result if isinstance(result, int) else 0


def _error(message: str, code: int = 1) -> int:
    sys.stderr.write(_("error: {message}").format(message=message) + "\n")
    return code


# -- completion (the prompt's Completer wraps this) -----------------------------------------------
@dataclass(frozen=True)
class Suggestion:
    """A completion: ``text`` replaces the word being typed; ``display`` and ``meta`` are shown."""

    text: str
    display: str
    meta: str = ""


def suggest(before_cursor: str, *, limit: int = 12) -> tuple[str, list[Suggestion]]:
    """The word being typed and what may complete it: command names, options or customer codes."""
    ended = not before_cursor or before_cursor[-1].isspace()
    try:
        words = shlex.split(before_cursor)
    except ValueError:  # an open quote: complete nothing
        return "", []
    if before_cursor.endswith(("'", '"')) and not ended:
        return "", []
    current = "" if ended or not words else words.pop()
    if words and words[0] == "loyalty":
        words = words[1:]
    command, rest = _resolve(words)
    if command is None:
        return current, []
    if current.startswith("-"):
        return current, _option_suggestions(command, current)
    subcommands = getattr(command, "commands", None)
    if subcommands is not None and not rest:
        names = sorted(subcommands) + (list(EXIT_WORDS) if command is root_command() else [])
        found = [Suggestion(name, name, _short_help(subcommands.get(name))) for name in names
                 if name.startswith(current) and not getattr(subcommands.get(name), "hidden", False)]
        return current, found
    argument = _argument_at(command, rest)
    if argument is not None and argument.name in CUSTOMER_ARGUMENTS and current:
        return current, customer_suggestions(current, limit=limit)
    return current, []


def _resolve(words: list[str]):
    """The (sub)command named by the leading words, and the words after it."""
    command = root_command()
    index = 0
    while index < len(words):
        word = words[index]
        subcommands = getattr(command, "commands", None)
        if word.startswith("-"):
            index += 1
            if word in ("--db",):  # a global option with a value
                index += 1
            continue
        if subcommands is None:
            break
        if word not in subcommands:
            return None, []
        command = subcommands[word]
        index += 1
    return command, words[index:]


def _argument_at(command, rest: list[str]):
    """The positional parameter the next word fills, skipping options and their values."""
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    valued = {opt for p in command.params if p.param_type_name == "option" and not p.is_flag
              for opt in p.opts} | {"--db"}
    position = 0
    skip = False
    for word in rest:
        if skip:
            skip = False
            continue
        if word.startswith("-") and not _is_number(word):
            skip = word in valued
            continue
        position += 1
    return arguments[position] if position < len(arguments) else None


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _option_suggestions(command, current: str) -> list[Suggestion]:
    names = {opt for p in command.params if p.param_type_name == "option" and not p.hidden
             for opt in p.opts if opt.startswith("--")}
    names |= {"--json", "--csv", "--db", "--debug", "--no-input", "--help"}
    names -= {"--install-completion", "--show-completion", "--version"}
    return [Suggestion(name, name) for name in sorted(names) if name.startswith(current)]


def _short_help(command) -> str:
    if command is None:
        return ""
    return command.get_short_help_str(limit=50)


def customer_suggestions(prefix: str, *, limit: int = 12) -> list[Suggestion]:
    """Customers whose code, name, e-mail, card or phone starts with ``prefix``; each completes to its code."""
    from loyaltycli.cli import options
    from loyaltycli.services.lookup import customers_starting_with

    with options.database().session(write=False) as session:
        found = customers_starting_with(session, prefix, limit=limit)
    return [Suggestion(c.code, f"{c.code} {c.name or ''}".strip(), c.email or c.phone or c.card or "")
            for c in found]
