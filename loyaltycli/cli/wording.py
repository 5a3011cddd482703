"""Help and usage errors in the shop's words: `loyalty redeem KEY [POINTS]`, not `{key} [[POINTS]]`;
`--item TEXT`, not `<list[str]>`; "did you mean --receipt?" for a misspelled option; "points are whole
numbers" instead of a validation library's wording.

Typer (0.29) draws usage lines and types its own way; we patch three small methods of its parameter
classes once, at import (Typer is imported already; nothing else is).
"""

from __future__ import annotations

import difflib
from pathlib import Path

from typer import core as typer_core
from typer._click import exceptions as click_exc

from loyaltycli.i18n import help_gettext as _

# The root's options that take a value, welcome anywhere on the line (cli/__init__ moves them to the front).
GLOBAL_VALUED = {"--db", "--by"}

# Words shown for option values, by Python type.
_WORDS = {str: "TEXT", int: "N", float: "NUMBER", Path: "PATH"}


def _word(param) -> str | None:
    desc = param.type_descriptor
    if getattr(desc, "is_choice", False):
        return None  # Typer's own "a|b|c" is already words
    annotation = desc.annotation
    args = getattr(annotation, "__args__", None)
    if args and len(args) == 1:  # list[str]: the help says "repeatable"
        annotation = args[0]
    if getattr(desc, "is_tuple", False):
        return None
    return _WORDS.get(annotation, "VALUE")


_original_display_type = typer_core._TyperParameter.display_type


def _display_type(self, ctx):
    word = _word(self)
    return word if word is not None else _original_display_type(self, ctx)


def _argument_name(self) -> str:
    return (self.metavar or self.name or "").strip("[]").upper()


def _usage_display_name(self) -> str:
    name = _argument_name(self)
    if not self.required:
        name = f"[{name}]"
    if self.nargs != 1:
        name += "..."
    return name


def _rich_display_name(self) -> str:
    name = _argument_name(self)
    return name + "..." if self.nargs != 1 else name


_original_parse_args = typer_core.TyperCommand.parse_args


def _parse_args(self, ctx, args):
    """Refuse a misspelled option before it is taken as a value (commands that accept negative
    numbers accept unknown options as values too): `purchase C1 --amout 3` says did you mean."""
    known, valued = set(), {}
    for param in self.get_params(ctx):
        for name in [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]:
            known.add(name)
            if getattr(param, "param_type_name", "") == "option" and not getattr(param, "is_flag", False) \
                    and not getattr(param, "count", False):
                valued[name] = param.nargs
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            break
        name = token.split("=", 1)[0]
        if name in valued and "=" not in token:
            i += 1 + valued[name]
            continue
        if _looks_like_option(token) and name not in known and not token.startswith("---"):
            raise click_exc.NoSuchOption(token, message=_did_you_mean(token, self, ctx), ctx=ctx)
        i += 1
    return _original_parse_args(self, ctx, args)


def _error_hint(self, ctx=None) -> str:
    return f"'{_argument_name(self)}'"


def install() -> None:
    typer_core.TyperCommand.parse_args = _parse_args
    typer_core.TyperArgument.get_error_hint = _error_hint
    typer_core._TyperParameter.display_type = _display_type
    typer_core.TyperArgument._usage_display_name = _usage_display_name
    typer_core.TyperArgument._rich_display_name = _rich_display_name
    # An argument's help line is its NAME and help; its type says nothing a shop owner needs.
    typer_core.TyperArgument.display_type_rich = lambda self, ctx: None


def _option_names(command) -> list[str]:
    names = []
    for param in getattr(command, "params", []):
        names.extend(getattr(param, "opts", []))
        names.extend(getattr(param, "secondary_opts", []))
    return [n for n in names if n.startswith("--")] + ["--json", "--csv", "--db", "--no-input", "--help"]


def _did_you_mean(token: str, command, ctx=None) -> str:
    name = token.split("=", 1)[0]
    arguments = {"--" + (p.name or "").strip("_").replace("_", "-"): p for p in getattr(command, "params", [])
                 if getattr(p, "param_type_name", "") == "argument"}
    matches = difflib.get_close_matches(name, _option_names(command) + list(arguments), n=1, cutoff=0.6)
    if not matches:
        return _("no such option {option}").format(option=token)
    if matches[0] in arguments:
        usage = " ".join(_usage_display_name(p) for p in arguments.values())
        path = getattr(ctx, "command_path", None) or "loyalty"
        return _("no such option {option}; {argument} is given without an option name: {usage}").format(
            option=token, argument=_argument_name(arguments[matches[0]]), usage=f"{path} {usage}")
    return _("no such option {option}; did you mean {match}?").format(option=token, match=matches[0])


def _looks_like_option(token: str) -> bool:
    if not token.startswith("-") or token == "-":
        return False
    try:
        float(token.replace(",", ""))
        return False  # -5, -1.50: a negative number
    except ValueError:
        return True


def is_bad_value(exc) -> bool:
    """A value given that the option or argument does not take (not a missing one)."""
    return isinstance(exc, click_exc.BadParameter) and not isinstance(exc, click_exc.MissingParameter)


def improve(exc) -> None:
    """Reword a usage error in place (Click prints it with the usage line; exit 2 stays)."""
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command", None)
    message = getattr(exc, "message", "") or ""
    if isinstance(exc, click_exc.NoSuchOption) and exc.option_name in GLOBAL_VALUED:
        # `balance C1 --by` at the end of the line: the root's option, with no value left for it
        exc.message = _("Option {name} requires an argument.").format(name=f"'{exc.option_name}'")
        exc.possibilities = None
    elif isinstance(exc, click_exc.NoSuchOption):
        exc.message = _did_you_mean(exc.option_name, command, ctx)
        exc.possibilities = None
    elif message.startswith("Got unexpected extra argument") and "(" in message:
        # Commands that take negative numbers accept unknown options as values, so a misspelled
        # option arrives here as an extra argument.
        extras = message[message.rindex(" (") + 2:message.rindex(")")].split()
        option = next((t for t in extras if _looks_like_option(t)), None)
        if option is not None:
            exc.message = _did_you_mean(option, command, ctx)
    elif isinstance(exc, click_exc.BadParameter) and "valid integer" in message:
        param = getattr(exc, "param", None)
        name = (getattr(param, "name", "") or "value").strip("_").replace("_", " ")
        exc.message = (_("points are whole numbers, e.g. 100") if name == "points"
                       else _("{name} is a whole number, e.g. 3").format(name=name))
    elif isinstance(exc, click_exc.BadParameter) and message.startswith("Input should be "):
        # Typer's range check speaks English ("Input should be greater than or equal to 1")
        bound = message.rstrip(".").rsplit(" ", 1)[-1]
        if "greater than or equal to" in message:
            exc.message = _("it must be at least {least}").format(least=bound)
        elif "less than or equal to" in message:
            exc.message = _("it must be at most {most}").format(most=bound)
