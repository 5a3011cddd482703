"""What a ledger row says, as data: a kind of note and its values, rendered in the reader's language.

A row keeps three things: ``note``, the fixed English text (what `history --json` and every CSV show,
as they always did), ``note_kind`` and ``note_args`` (JSON of the values: receipt ids, amounts in cents,
points, dates). People read the note rendered at display time from the kind and values, in the language
of the block (``i18n.speaking``) and with amounts written the shop's way (``2,80 €``). Rows written before
notes were data have no kind: they are shown as their stored text.

Pure: no database, no clock. ``make`` is called by the engine and every writer of ledger rows; ``render``
by whatever shows a note to people (history, customer show, slips, statements).
"""

from __future__ import annotations

import json

from loyaltycli.engine.note import MONEY, WHOLE_UNITS, WORDS, Note
from loyaltycli.i18n import N_, Nn_

# The kinds of the points themselves and of the services (a program type's own are in its rule module's
# NOTES). The template is also the message id of the translation: the stored text is the template filled
# in English with amounts as plain decimals, exactly the text each writer stored before notes were data.
CORE = (
    Note("expire", *Nn_("{points} point earned on {day} expired", "{points} points earned on {day} expired"),
         count="points", always_plural=True),
    Note("merge", N_("merged {duplicate} into {keep}")),
    Note("merge_lot", *Nn_("merged {duplicate} into {keep}: {points} point earned {day}",
                           "merged {duplicate} into {keep}: {points} points earned {day}"),
         count="points", always_plural=True),
    Note("merge_bonus", N_("merged {duplicate} into {keep}: bonus {key} was already given to {duplicate}")),
    Note("forget", N_("points forfeited: personal data erased")),
    Note("redeem_value", N_("redeemed for {value}")),
    Note("redeem_reward", N_("reward {reward}")),
    Note("donate", N_("donated to {cause}")),
    Note("rebate", N_("year-end rebate: {percent}% of {amount} spent in {year}")),
)

_KINDS: dict[str, Note] | None = None


def kinds() -> dict[str, Note]:
    """Every kind of note by its name: the core ones and each rule module's ``NOTES``."""
    global _KINDS
    if _KINDS is None:
        from loyaltycli.engine import rules

        found = {note.kind: note for note in CORE}
        for module in rules.modules():
            for note in getattr(module, "NOTES", ()):
                if found.setdefault(note.kind, note) is not note:
                    raise ValueError(f"note kind {note.kind!r} is declared twice")
        _KINDS = found
    return _KINDS


def english(kind: str, args: dict) -> str:
    """The fixed English text of a note (stored in ``note``; JSON and CSV show it)."""
    return kinds()[kind].english(args)


def make(kind: str, **args) -> tuple[str, str, str]:
    """A note of a kind named by the caller, as a row stores it: (English text, kind, JSON of the values)."""
    return kinds()[kind].make(**args)


def render(kind: str | None, args: str | dict | None, text: str | None) -> str:
    """A note for people, in the current language (``i18n.speaking``) with amounts the shop's way. A row
    without a kind (written before notes were data, or a reason typed by staff) is its stored text; so is
    a kind or values this version does not know (a newer program wrote them)."""
    note = kinds().get(kind) if kind else None
    if note is None:
        return text or ""
    try:
        values = json.loads(args) if isinstance(args, str) else dict(args or {})
        return _render(note, values)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return text or ""


def _render(note: Note, values: dict) -> str:
    from loyaltycli.base.money import format_money
    from loyaltycli.i18n import gettext, ngettext

    for name in (MONEY | WHOLE_UNITS) & values.keys():
        values[name] = format_money(int(values[name]))
    for name in WORDS & values.keys():
        values[name] = gettext(str(values[name]))
    if note.plural is not None:
        return ngettext(note.template, note.plural, abs(int(values[note.count]))).format(**values)
    return gettext(note.template).format(**values)


def row_note(row) -> str:
    """``render`` of a statement row (a dict with ``note``, ``note_kind`` and ``note_args``)."""
    return render(row.get("note_kind"), row.get("note_args"), row.get("note"))

