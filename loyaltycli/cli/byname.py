"""A name typed where a KEY goes, at the till: `purchase alvaro 12.50` on a terminal.

A KEY that names nobody (no code, phone, e-mail, card or tax id) and looks like a name (letters, no digit,
no '@') is searched by name, case and accents folded as `customer list --search` does: one match is used
after the person confirms it (name and phone shown), several are offered as a pick list, none says so.
The command line then runs again, parsed anew in a new context (Click's public API), with the customer's
code in place of the name: the first run was refused before it changed anything, and no transaction is
held open while the person chooses.

Off a terminal (scripts, pipes, --no-input) a name is never a KEY: the refusal stands as it is.
"""

from __future__ import annotations

import unicodedata

from loyaltycli.cli import options
from loyaltycli.i18n import _


def _same(word: str, key: str) -> bool:
    return unicodedata.normalize("NFC", word).strip() == key


def settle(exc, words: list[str]) -> list[str] | None:
    """``words`` (the command line as parsed) with the name replaced by the code the person picked, or
    None when the refusal stands (off a terminal, not a name, not among the words). Raises UnknownCustomer
    when no customer has that name, Cancelled when the person says no; Ctrl-C exits 130."""
    from loyaltycli.services.lookup import looks_like_a_name

    key = getattr(exc, "key", None)
    if not key or not options.current.interactive or not looks_like_a_name(key):
        return None
    positions = [i for i, word in enumerate(words) if _same(word, key)]
    if not positions:
        return None
    code = pick(key)
    out = list(words)
    out[positions[-1]] = code  # the last: a command's own name comes before its KEY
    return out


def pick(name: str) -> str:
    """The code of the customer the person picks among those named ``name``."""
    import shlex

    from loyaltycli.base.errors import Cancelled, UnknownCustomer
    from loyaltycli.services.lookup import customers_named

    with options.database().session(write=False) as session:
        found = customers_named(session, name, limit=30)
    if not found:
        raise UnknownCustomer(_("no customer is named {name!r}, and it is not a customer code, phone, e-mail, card or tax id; "
                                "try `loyalty customer list --search {quote}`").format(name=name,
                                                                                     quote=shlex.quote(name)))
    try:
        code = _choose(found)
    except _Interrupted:
        from loyaltycli.cli.exits import fail

        fail(_("cancelled; nothing was done"), 130)
    if code is None:
        raise Cancelled(_("no customer chosen; nothing was done"))
    return code


class _Interrupted(Exception):
    pass


def label(match) -> str:
    """One customer as the pick list shows it: code, name, phone as the shop writes it."""
    from loyaltycli.cli.customers import _shown_phone

    return "  ".join(part for part in (match.code, match.name, _shown_phone(match.phone) or match.email) if part)


def _choose(found) -> str | None:
    import questionary

    from loyaltycli.cli import prompts

    try:
        if len(found) == 1:
            question = _("Customer {customer}?").format(customer=label(found[0]))
            return found[0].code if prompts._ask(prompts._yes_no(question, default=True)) else None
        none = _("none of them")
        choices = [questionary.Choice(label(m), value=m.code) for m in found] + [questionary.Choice(none, value="")]
        answer = prompts._ask(questionary.select(_("Which customer?"), choices=choices))
        return answer or None
    except prompts._Cancelled:
        raise _Interrupted from None
