"""The root Typer app: global options, error handling at the edge, sub-apps by noun.

Command modules import only Typer at load time; the core (SQLAlchemy, rules) and Rich are imported
inside the commands that need them, so `loyalty --help` starts fast.
"""

from __future__ import annotations

import copy
import os
import sys
from typing import Optional

import typer
from typer._click import exceptions as typer_click_exceptions
from typer.core import TyperGroup

from loyaltycli import __version__
from loyaltycli.cli import language, options, wording
from loyaltycli.cli.exits import fail  # noqa: F401  (re-exported: `from loyaltycli.cli import fail`)
from loyaltycli.i18n import _, help_gettext

wording.install()
language.install()

# Options that belong to the root but are welcome anywhere on the line (`loyalty balance C1 --json`).
GLOBAL_FLAGS = {"--json", "--csv", "--excel", "--no-input", "--debug"}
GLOBAL_VALUED = wording.GLOBAL_VALUED


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options found after the command name to the front."""
    front, rest = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in GLOBAL_FLAGS:
            front.append(arg)
        elif arg in GLOBAL_VALUED and i + 1 < len(args):
            front.extend(args[i:i + 2])
            i += 1
        elif any(arg.startswith(name + "=") for name in GLOBAL_VALUED):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _given_db(words: list[str]) -> str | None:
    """The --db the words give once global options were put first (the last one wins, as Click's would)."""
    given, i, end = None, 0, _command_at(words)
    while i < end:
        if words[i] == "--db" and i + 1 < end:
            given = words[i + 1]
        elif words[i].startswith("--db="):
            given = words[i][len("--db="):]
        i += 2 if words[i] in GLOBAL_VALUED else 1
    return given


class LoyaltyGroup(TyperGroup):
    """Root group: global options anywhere, and every domain error turned into one line + exit code."""

    def parse_args(self, ctx, args):
        for arg in args:
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:  # argv bytes that are not UTF-8 (a Latin-1 terminal, junk)
                fail(help_gettext("argument {argument!r} is not valid UTF-8 text; check the terminal's encoding")
                     .format(argument=arg))
        words = join_command_words(hoist_global_options(list(args)))
        ctx.meta[WORDS] = list(words)  # the line as parsed: run again with a name replaced (cli/byname.py)
        ctx.meta[language.DB_GIVEN] = _given_db(words)  # for a usage error's words, should parsing fail
        try:
            return super().parse_args(ctx, words)
        except typer_click_exceptions.NoSuchOption as exc:  # `loyalty --jsn`: worded as a command's options are
            with language.shop_words(ctx):
                wording.improve(exc)
            raise

    def invoke(self, ctx):
        from loyaltycli.base.errors import LoyaltyError

        try:
            try:
                return self._invoke_naming(ctx)
            finally:
                _checkpoint()
        except LoyaltyError as exc:
            _print_notes()
            if options.current.debug:
                raise
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail(_("interrupted; the command's changes were rolled back"), 130)
        except BrokenPipeError:
            # `loyalty customer list | head`: the reader left; the command itself is done.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as exc:  # noqa: BLE001  the edge: no traceback for users
            if _is_control_flow(exc):
                if not _worded_usage_error(exc):
                    raise
                with language.shop_words(ctx):
                    wording.improve(exc)
                    if wording.is_bad_value(exc):
                        # a value that is not what the option takes is bad input (SPEC: exit 1, one line), as
                        # the same value refused by the library is; a missing or unknown one stays a usage
                        # error
                        fail(exc.format_message(), 1)
                raise
            if options.current.debug:
                raise
            from sqlalchemy.exc import IntegrityError

            from loyaltycli.base.files import disk_full, mask_secrets

            if disk_full(exc):
                fail(_("disk full: the command could not finish writing; nothing was changed (free some space "
                       "and run it again)"), 4)
            if isinstance(exc, IntegrityError):
                fail(_("the change conflicts with data already recorded (another till?); nothing was "
                       "changed, try again"), 1)
            fail(_("internal error: {error}: {detail} (rerun with --debug for details)").format(
                error=type(exc).__name__, detail=mask_secrets(str(exc).splitlines()[0]) if str(exc) else ""), 1)
        finally:
            _print_notes()


    def _invoke_naming(self, ctx):
        """Run the command line; on a terminal, a name where a KEY goes is picked (cli/byname.py) and the
        line runs again, parsed anew in a new context, with the customer's code in its place."""
        from loyaltycli.base.errors import UnknownCustomer

        for _tries in range(3):  # a name per KEY (merge takes two), then the line as it stands
            try:
                return super().invoke(ctx)
            except UnknownCustomer as exc:
                from loyaltycli.cli import byname

                words = byname.settle(exc, ctx.meta[WORDS])
                if words is None:
                    raise
                ctx = self.make_context(ctx.info_name, words, parent=ctx.parent)
        return super().invoke(ctx)


# Where the root context keeps its command line (ctx.meta is Click's public store for such things).
WORDS = "loyaltycli.words"


def _print_notes() -> None:
    """How input was read when it could be read two ways (an autumn hour): one line each, on stderr."""
    from loyaltycli.shop import clock

    for text in clock.take_notes():
        typer.echo(_("note: {text}").format(text=text), err=True)


def _checkpoint() -> None:
    """A command that wrote leaves the .db file current (its WAL copied in), so the file alone is a
    usable copy; a command that only read costs nothing here."""
    db = sys.modules.get("loyaltycli.store.db")
    if db is not None:
        db.checkpoint_all()


def _worded_usage_error(exc: BaseException) -> bool:
    """A usage error we word (help asked for, an exit or an abort is not one)."""
    from typer._click import exceptions as click_exc

    return isinstance(exc, click_exc.UsageError) and not isinstance(exc, click_exc.NoArgsIsHelpError)


def _is_control_flow(exc: BaseException) -> bool:
    """Typer's (and Click's) own exits, aborts and usage errors pass through untouched."""
    return type(exc).__module__.split(".")[0] in ("typer", "click")


app = typer.Typer(
    cls=LoyaltyGroup,
    name="loyalty",
    help="Loyalty program manager for small shops: customers, points, tiers, rewards, surveys, reports.\n\n"
         "Global options (--db, --json, --csv, --excel, --no-input, --debug, --by) may stand anywhere on the line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Click's plain help: Rich's help formatter (rich.markdown, pygments...) about doubles the time of --help.
    rich_markup_mode=None,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"loyalty {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db: Optional[str] = typer.Option(None, "--db", envvar="LOYALTY_DB", metavar="PATH_OR_URL",
                                     help="Database file or SQLAlchemy URL (default: the user data directory)."),
    json_: bool = typer.Option(False, "--json", help="Print data as JSON (stable keys)."),
    csv_: bool = typer.Option(False, "--csv", help="Print lists and reports as CSV."),
    excel: bool = typer.Option(False, "--excel",
                               help="CSV that European Excel opens directly: UTF-8 BOM, and ';' with decimal "
                                    "commas where the shop's locale writes 12,50 (implies --csv)."),
    no_input: bool = typer.Option(False, "--no-input", help="Never prompt (implied when stdin is not a terminal)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of internal errors."),
    by: Optional[str] = typer.Option(None, "--by", metavar="NAME",
                                     help="Operator recorded on rows written by hand (award, refund, redeem, "
                                          "merge, forget, restore); default LOYALTY_OPERATOR, else the OS user."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    options.reset(db=db, json=json_, csv=csv_ or excel, excel=excel, no_input=no_input, debug=debug, by=by)


# One module per concern, each with register(app); they import only Typer at load time.
COMMAND_MODULES = ("setup", "customers", "points", "programs", "imports", "surveys", "reports", "safety",
                   "counter", "chain", "cards", "passes", "slips", "kiosk", "notify", "goals")


def _register() -> None:
    from importlib import import_module

    for name in COMMAND_MODULES:
        import_module(f"loyaltycli.cli.{name}").register(app)
    _plain_help(app)


def _plain_help(typer_app: typer.Typer) -> None:
    """Sub-apps print help and usage errors like the root: without importing Rich."""
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            group.typer_instance.rich_markup_mode = None
            _plain_help(group.typer_instance)


_register()


def main() -> None:
    """Console entry point."""
    _app_for(sys.argv[1:])()


def _listing_view() -> typer.Typer:
    """The root app for `loyalty --help`: each command and group as its name and help alone. Building a
    command's parameters (type hints read from every signature) is most of what the full help costs, and
    the root's help shows none of them."""
    def stub(callback):
        def command() -> None:  # never run: the listing only names it
            raise typer.Exit(2)
        command.__doc__, command.__name__ = callback.__doc__, callback.__name__
        return command

    view = copy.copy(app)
    view.registered_commands = []
    for info in app.registered_commands:
        light = copy.copy(info)
        light.name = info.name or typer.main.get_command_name(info.callback.__name__)
        light.callback = stub(info.callback)
        view.registered_commands.append(light)
    view.registered_groups = []
    for group in app.registered_groups:
        light = copy.copy(group)
        if group.typer_instance is not None:
            inner = copy.copy(group.typer_instance)
            inner.registered_commands, inner.registered_groups = [], []
            light.typer_instance = inner
        view.registered_groups.append(light)
    return view


def _command_at(words: list[str]) -> int:
    """Where the command's name is once global options were put first (past them and their values)."""
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in GLOBAL_VALUED else 1
    return i


def join_command_words(words: list[str]) -> list[str]:
    """`import inspect FILE` as the one command it is (named "import inspect"), once global options were
    put first: so `import inspect --help` shows its own help, and `import --help` one FILE."""
    i = _command_at(words)
    if words[i:i + 2] == ["import", "inspect"]:
        return [*words[:i], "import inspect", *words[i + 2:]]
    return words


def _app_for(args: list[str]) -> typer.Typer:
    """The root app with only the command named on the line (when there is one it knows), so that a
    one-shot command builds the Click command of itself alone, not of every command of every module."""
    words = join_command_words(hoist_global_options(list(args)))
    i = _command_at(words)
    if any(key.endswith("_COMPLETE") for key in os.environ):
        return app
    if i >= len(words):  # the root's own help (or --version): the list of commands, not their parameters
        return _listing_view()
    name = words[i]
    commands = [c for c in app.registered_commands
                if (c.name or typer.main.get_command_name(c.callback.__name__)) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app  # unknown: the full app says so and suggests the nearest names
    view = copy.copy(app)
    view.registered_commands, view.registered_groups = commands, groups
    return view
