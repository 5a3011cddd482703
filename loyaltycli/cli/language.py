"""Help and Click's own words in the person's language, translated when they are drawn.

Typer reads docstrings and ``help=`` when the commands are defined, in English: the English text is the
msgid, and it is looked up when help is rendered (``i18n.help_gettext``: LOYALTY_LANG, then the
environment; help never opens the database). The words Click and Typer print themselves (Usage, Options,
Commands, Error, Missing argument, No such option...) are patched here the same way; the English strings
below are marked so that extraction puts them in the catalog. A usage error is worded and drawn in the
language of messages instead (``shop_words``: the shop's locale is peeked at in the file on the way out).
Command and option names never change.
"""

from __future__ import annotations

import inspect
import re

from typer import core as typer_core
from typer._click import core as click_core
from typer._click import exceptions as click_exc
from typer._click import formatting as click_formatting

from loyaltycli.i18n import N_, help_gettext

# Click's and Typer's own strings (typer.core calls gettext on these; the rest are patched below).
CLICK_WORDS = (
    N_("Usage:"), N_("Options"), N_("Commands"), N_("Arguments"), N_("Error: {message}"),
    N_("Try '{command} {option}' for help."), N_("Show this message and exit."),
    N_("Missing argument {name}."), N_("Missing option {name}."), N_("Missing parameter {name}."),
    N_("Missing command."), N_("No such command {name!r}."), N_("No such option: {name}"),
    N_("Invalid value for {name}: {message}"), N_("Invalid value: {message}"),
    N_("Got unexpected extra argument ({arguments})"), N_("Got unexpected extra arguments ({arguments})"),
    N_("default: {default}"), N_("required"), N_("env var: {var}"), N_("Aborted!"),
    N_("Option {name} requires an argument."), N_("Option {name} requires {count} arguments."),
    N_("Install completion for the current shell."),
    N_("Show completion for the current shell, to copy it or customize the installation."),
    N_("{value!r} is not one of {choices}."), N_("{value!r} is not a valid integer."),
    N_("{message} Did you mean {suggestions}?"),
)


def _translated_help(method):
    """Run ``method`` with the object's help text in the person's language."""
    def wrapper(self, *args, **kwargs):
        original = self.help
        if original:
            self.help = help_gettext(inspect.cleandoc(original))
        try:
            return method(self, *args, **kwargs)
        finally:
            self.help = original
    return wrapper


def _write_usage(self, prog, args="", prefix=None):
    if prefix is None:
        prefix = help_gettext("Usage:") + " "
    return _original_write_usage(self, prog, args, prefix)


# ctx.meta key: the --db the root's words gave (set before they are parsed, which may fail)
DB_GIVEN = "loyaltycli.db_given"


def shop_words(ctx=None):
    """A block in which a usage error is worded and drawn in the language of messages (LOYALTY_LANG, the
    shop's locale, the environment). The shop's locale is the one in force when a command has read its
    settings already; else it is peeked at in the SQLite file (--db, LOYALTY_DB or the default) without
    opening the database for use: no schema check or upgrade, no wait for a lock, nothing created; a
    server database is not asked (the environment decides)."""
    from loyaltycli.base import place
    from loyaltycli.i18n import usage_errors

    known = place.known()
    if known is not None:
        locale = known.get("locale")
    else:
        from loyaltycli.store.peek import peek_setting

        root = ctx.find_root() if ctx is not None else None
        given = (root.params.get("db") or root.meta.get(DB_GIVEN)) if root is not None else None
        locale = peek_setting(given, "locale")
    return usage_errors(locale)


def _show_in_shop_words(show):
    def wrapper(self, file=None):
        with shop_words(getattr(self, "ctx", None)):
            return show(self, file)
    return wrapper


def _resolve_in_shop_words(resolve):
    """An unknown command's error worded in the language of messages (Typer words it when it is raised)."""
    def wrapper(self, ctx, args):
        try:
            return resolve(self, ctx, args)
        except click_exc.UsageError:
            with shop_words(ctx):
                return resolve(self, ctx, args)  # raises again, worded so
    return wrapper


def _click_show(self, file=None):
    from typer._click._compat import get_text_stderr
    from typer._click.utils import echo

    echo(help_gettext("Error: {message}").format(message=self.format_message()), file=file or get_text_stderr(),
         color=self.show_color)


def _usage_show(self, file=None):
    from typer._click._compat import get_text_stderr
    from typer._click.utils import echo

    file = file or get_text_stderr()
    color = None
    hint = ""
    if self.ctx is not None and self.ctx.command.get_help_option(self.ctx) is not None:
        hint = help_gettext("Try '{command} {option}' for help.").format(
            command=self.ctx.command_path, option=self.ctx.help_option_names[0]) + "\n"
    if self.ctx is not None:
        color = self.ctx.color
        echo(f"{self.ctx.get_usage()}\n{hint}", file=file, color=color)
    message = translate_usage_message(self.format_message())
    echo(help_gettext("Error: {message}").format(message=message), file=file, color=color)


def _hint(exc):
    if exc.param_hint is not None:
        hint = exc.param_hint
    elif exc.param is not None:
        hint = exc.param.get_error_hint()
    else:
        return None
    return click_exc._join_param_hints(hint)


def _bad_parameter_message(self):
    hint = _hint(self)
    if hint is None:
        return help_gettext("Invalid value: {message}").format(message=self.message)
    return help_gettext("Invalid value for {name}: {message}").format(name=hint, message=self.message)


def _missing_message(self):
    hint = _hint(self) or ""
    kind = self.param_type or (self.param.param_type_name if self.param is not None else "parameter")
    text = {"argument": N_("Missing argument {name}."), "option": N_("Missing option {name}.")}.get(
        kind, N_("Missing parameter {name}."))
    message = help_gettext(text).format(name=hint).replace(" .", ".").replace("  ", " ")
    if self.message:
        message = f"{message} {self.message}"
    return message


def translate_usage_message(message: str) -> str:
    """Click's own usage-error sentences (built in English inside Click) in the person's language."""
    marker = ". Did you mean "  # Typer appends it to "No such command 'x'" (already translated)
    if marker in message and message.endswith("?"):
        head, suggestions = message.rsplit(marker, 1)
        head = head if head.endswith((".", "!", "?")) else head + "."
        return help_gettext("{message} Did you mean {suggestions}?").format(message=head,
                                                                           suggestions=suggestions[:-1])
    if message == "Missing command.":  # Click words it itself
        return help_gettext("Missing command.")
    if message.startswith("No such option: "):
        return help_gettext("No such option: {name}").format(name=message[len("No such option: "):])
    extra = re.fullmatch(_EXTRA, message)  # Click writes "argument(s) (a b)"
    if extra:
        arguments = extra.group(1)
        text = (N_("Got unexpected extra arguments ({arguments})") if " " in arguments
                else N_("Got unexpected extra argument ({arguments})"))
        return help_gettext(text).format(arguments=arguments)
    if message.startswith("Option ") and message.endswith(" requires an argument."):
        return help_gettext("Option {name} requires an argument.").format(
            name=message[len("Option "):-len(" requires an argument.")])
    if message.endswith(" is not a valid integer."):
        return help_gettext("{value!r} is not a valid integer.").format(value=_unquote(message[:-24]))
    if " is not one of " in message and message.endswith("."):
        value, choices = message[:-1].split(" is not one of ", 1)
        return help_gettext("{value!r} is not one of {choices}.").format(value=_unquote(value), choices=choices)
    return message


# compiled by ``re`` at its first use (an error message), not at import (which `--help` pays)
_EXTRA = r"Got unexpected extra arguments?(?:\(s\))? \((.*)\)"


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text


_original_write_usage = click_formatting.HelpFormatter.write_usage


def install() -> None:
    """Patch Typer/Click once (at import of the CLI: nothing is read until help or an error is drawn)."""
    typer_core._ = help_gettext
    click_formatting.HelpFormatter.write_usage = _write_usage
    click_core.Command.get_short_help_str = _translated_help(click_core.Command.get_short_help_str)
    click_core.Command.format_help_text = _translated_help(click_core.Command.format_help_text)
    typer_core.TyperOption.get_help_record = _translated_help(typer_core.TyperOption.get_help_record)
    typer_core.TyperArgument.get_help_record = _translated_help(typer_core.TyperArgument.get_help_record)
    click_exc.ClickException.show = _show_in_shop_words(_click_show)
    click_exc.UsageError.show = _show_in_shop_words(_usage_show)
    typer_core.TyperGroup.resolve_command = _resolve_in_shop_words(typer_core.TyperGroup.resolve_command)
    click_exc.BadParameter.format_message = _bad_parameter_message
    click_exc.MissingParameter.format_message = _missing_message
