"""`loyalty counter`: one warm session for a busy day, a command per customer.

The line logic (run a line, what completes a word) lives in ``cli/dispatch.py`` and is tested without
a terminal; this module is the prompt around it (prompt_toolkit, which questionary already brings).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import typer

from loyaltycli.cli import options
from loyaltycli.i18n import N_, _

PROMPT = "loyalty> "
# the example amount is written the shop's way (12,50 in Portugal); each language has its own example e-mail
GREETING = N_("counter: type commands without `loyalty` (purchase C000001 {amount}, balance aoife@example.ie); "
              "Tab completes commands and customers; exit or Ctrl-D leaves")


def history_path() -> Path:
    """The counter's command history: a file in the user's data directory."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("loyaltycli", appauthor=False)) / "counter_history"


def base_args() -> list[str]:
    """The global options given to `loyalty counter`, passed on to every line."""
    current = options.current
    args = ["--db", current.db] if current.db else []
    if current.by:
        args += ["--by", current.by]
    for flag, on in (("--json", current.json), ("--csv", current.csv), ("--no-input", current.no_input),
                     ("--debug", current.debug)):
        if on:
            args.append(flag)
    return args


def make_completer():
    """A prompt_toolkit completer over ``dispatch.suggest``."""
    from prompt_toolkit.completion import Completer, Completion

    from loyaltycli.cli import dispatch

    class CounterCompleter(Completer):
        def get_completions(self, document, complete_event):
            try:
                word, found = dispatch.suggest(document.text_before_cursor)
            except Exception:  # noqa: BLE001  a failed look-up must not break the prompt
                return
            for item in found:
                yield Completion(item.text, start_position=-len(word), display=item.display,
                                 display_meta=item.meta)

    return CounterCompleter()


# Words a history line may keep: command and option names, codes, receipts and cards (upper-case ids),
# amounts and points, dates.
# Anything else (a name, an e-mail, a phone, a card, a typed reason or comment) keeps the line out of the
# file: it stays in this session's memory only.
# (A pattern, compiled by ``re`` at its first use and cached there: not at import, which `--help` pays.)
_SAFE_WORD = (r"^(?:--?[a-z][a-z-]*(?:=[\w.:-]{0,20})?|[a-z][a-z-]*|[A-Z][A-Z0-9]*(?:[-_/][A-Z0-9]+)*|"
              r"-?\d{1,6}(?:[.,]\d{1,2})?|\d{4}-\d{2}-\d{2}(?:T[\d:]+)?)$")
_PERSONAL_COMMANDS = {"enroll", "edit", "survey", "referral"}


def line_is_safe_to_keep(line: str) -> bool:
    """Whether a counter line holds nothing personal, so it may be written to the history file."""
    import shlex

    try:
        words = shlex.split(line)
    except ValueError:
        return False
    return bool(words) and not _PERSONAL_COMMANDS.intersection(words) and all(re.match(_SAFE_WORD, w) for w in words)


def private_history(path: Path):
    """A prompt_toolkit FileHistory that is 0600 and keeps only lines without personal data; lines already
    in an older file that hold personal data are dropped when it is opened."""
    from prompt_toolkit.history import FileHistory

    class PrivateHistory(FileHistory):
        def store_string(self, string: str) -> None:
            if not line_is_safe_to_keep(string):
                return
            fd = os.open(self.filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
            os.fchmod(fd, 0o600)
            os.close(fd)
            super().store_string(string)

    if path.exists() and not path.is_symlink():
        os.chmod(path, 0o600)
        _rewrite_history(path, line_is_safe_to_keep)
    return PrivateHistory(str(path))


def _rewrite_history(path: Path, keep) -> int:
    """Rewrite the history file with only the entries ``keep`` accepts (via a 0600 temporary copy and an
    atomic rename); returns how many entries were dropped."""
    from prompt_toolkit.history import FileHistory

    from loyaltycli.base.files import remove_stale_temps, temp_beside

    entries = list(FileHistory(str(path)).load_history_strings())  # newest first
    kept = [line for line in entries if keep(line)]
    remove_stale_temps(path.parent, ("history",))  # left by a counter killed while it cleaned the file
    temp = temp_beside(path, "history")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for line in reversed(kept):
            fh.write("\n# kept\n" + "".join(f"+{part}\n" for part in line.split("\n")))
    os.replace(temp, path)
    return len(entries) - len(kept)


def forget_in_history(keys: set[str], path: Path | None = None) -> int:
    """After `customer forget`: drop every history line naming one of the customer's ``keys`` (card, tax id,
    phone, e-mail: a line such as `customer show SECRET001` was safe to keep until the card was erased).
    Returns how many lines were dropped."""
    import shlex

    path = path or history_path()
    wanted = {key.strip().lower() for key in keys if key and key.strip()}
    if not wanted or not path.is_file() or path.is_symlink():
        return 0

    def keep(line: str) -> bool:
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        return not any(word.lower() in wanted for word in words)

    try:
        return _rewrite_history(path, keep)
    except OSError:
        return 0


def prompt_session(history_file: Path | None = None, **kwargs):
    """The prompt of the counter: completion while typing, history (without personal data) kept between days."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import InMemoryHistory

    path = history_file or history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.is_symlink():
            raise OSError("the history file is a link")
        history = private_history(path)
    except OSError:
        history = InMemoryHistory()
    return PromptSession(history=history, completer=make_completer(), complete_while_typing=True,
                         **kwargs)


def serve(session) -> int:
    """Prompt, run, repeat until `exit`/`quit` or Ctrl-D; Ctrl-C clears the line. Returns 0."""
    from loyaltycli.cli.dispatch import EXIT_WORDS, run_line

    extra = base_args()
    while True:
        try:
            line = session.prompt(PROMPT)
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        word = line.strip()
        if word in EXIT_WORDS:
            break
        run_line(line, capture=False, base_args=extra)
        sys.stdout.flush()
    return 0


def run_lines(stream, extra: list[str]) -> int:
    """Lines from a pipe or file, one command each; exit code of the last failing line, else 0."""
    from loyaltycli.cli.dispatch import EXIT_WORDS, run_line

    import io
    from contextlib import redirect_stderr

    worst = 0
    for number, line in enumerate(stream, start=1):
        if line.strip() in EXIT_WORDS:
            break
        # A script's 40th line failing must say so: each message of a line is prefixed with its number.
        errors = io.StringIO()
        with redirect_stderr(errors):
            code, _output = run_line(line, capture=False, base_args=extra)
        sys.stdout.flush()
        for message in errors.getvalue().splitlines():
            if message.strip():
                sys.stderr.write(_("line {number}: {message}").format(number=number, message=message) + "\n")
        sys.stderr.flush()
        if code == 130:  # Ctrl-C stopped that line: it stops the script too, never ignored
            return code
        if code:
            worst = code
    return worst


def counter() -> None:
    """Serve customer after customer in one warm session: each command answers at once.

    Type commands as in the CLI without `loyalty` (purchase C000001 12.50, balance aoife@example.ie,
    enroll ..., customer show C000001); Tab completes command names and customers (code, name, e-mail,
    card or phone; it inserts the code). A customer's card code scanned on a line of its own (a USB scanner
    types it and Enter) shows whose card it is and the balance; in a command it is the KEY. History is kept in the user data directory (0600, and only lines
    with no personal data: codes, amounts, receipts; never names, e-mails or phones); `exit` or Ctrl-D
    leaves. Global options given before `counter` (--db, --json...) apply to every line. Without a
    terminal, lines are read from stdin and the exit code is that of the last failing line.

    Example: loyalty counter
    """
    from loyaltycli.gcpause import resume_gc

    resume_gc()  # a long session: collect garbage as usual even before its first database command
    if not sys.stdin.isatty():
        code = run_lines(sys.stdin, base_args())
        raise typer.Exit(code)
    from decimal import Decimal

    from loyaltycli.base.money import format_number
    from loyaltycli.cli.render import print_line

    print_line(_(GREETING).format(amount=format_number(Decimal("12.50"), decimals=2)))
    raise typer.Exit(serve(prompt_session()))


def register(app: typer.Typer) -> None:
    app.command("counter")(counter)
