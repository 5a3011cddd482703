"""`loyalty counter`: one warm session for a busy day, a command per customer.

The line logic (run a line, what completes a word) lives in ``cli/dispatch.py`` and is tested without
a terminal; this module is the prompt around it (prompt_toolkit, which questionary already brings).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from loyaltycli.cli import options

PROMPT = "loyalty> "
GREETING = ("counter: type commands without `loyalty` (purchase C000001 12.50, balance aoife@example.ie); "
            "Tab completes commands and customers; exit or Ctrl-D leaves")


def history_path() -> Path:
    """The counter's command history: a file in the user's data directory."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("loyaltycli", appauthor=False)) / "counter_history"


def base_args() -> list[str]:
    """The global options given to `loyalty counter`, passed on to every line."""
    current = options.current
    args = ["--db", current.db] if current.db else []
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


def prompt_session(history_file: Path | None = None, **kwargs):
    """The prompt of the counter: completion while typing, history kept between days."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    path = history_file or history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        history = FileHistory(str(path))
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
        if word in ("help", "?"):
            line = "--help"
        run_line(line, capture=False, base_args=extra)
        sys.stdout.flush()
    return 0


def run_lines(stream, extra: list[str]) -> int:
    """Lines from a pipe or file, one command each; exit code of the last failing line, else 0."""
    from loyaltycli.cli.dispatch import EXIT_WORDS, run_line

    worst = 0
    for line in stream:
        if line.strip() in EXIT_WORDS:
            break
        code, _ = run_line(line, capture=False, base_args=extra)
        sys.stdout.flush()
        if code:
            worst = code
    return worst


def counter() -> None:
    """Serve customer after customer in one warm session: each command answers at once.

    Type commands as in the CLI without `loyalty` (purchase C000001 12.50, balance aoife@example.ie,
    enroll ..., customer show C000001); Tab completes command names and customers (code, name, e-mail,
    card or phone; it inserts the code). History is kept in the user data directory; `exit` or Ctrl-D
    leaves. Global options given before `counter` (--db, --json...) apply to every line. Without a
    terminal, lines are read from stdin and the exit code is that of the last failing line.

    Example: loyalty counter
    """
    from loyaltycli.gcpause import resume_gc

    resume_gc()  # a long session: collect garbage as usual even before its first database command
    if not sys.stdin.isatty():
        code = run_lines(sys.stdin, base_args())
        raise typer.Exit(code)
    from loyaltycli.cli.render import print_line

    print_line(GREETING)
    raise typer.Exit(serve(prompt_session()))


def register(app: typer.Typer) -> None:
    app.command("counter")(counter)
