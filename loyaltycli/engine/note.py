"""A kind of ledger note: its English template, made into what a row stores.

Declared where the rows are written: a program type's in its rule module (``NOTES`` beside ``ORDER``),
the core ones in ``engine/notes.py``, which finds every kind by its name to show it (``render``).
"""

from __future__ import annotations

import json


class Note:
    """``kind``: the name a row keeps (``note_kind``); ``template``: the English text with the values'
    names in braces, also the message id of its translation; ``plural`` (marked ``Nn_`` with the
    template): the wording when the value named ``count`` is not 1 (``always_plural``: whatever it is,
    as rows stored before notes were data say it)."""

    __slots__ = ("kind", "template", "plural", "count", "always_plural")

    def __init__(self, kind: str, template: str, plural: str | None = None, *, count: str | None = None,
                 always_plural: bool = False):
        self.kind = kind
        self.template = template
        self.plural = plural
        self.count = count
        self.always_plural = always_plural

    def wording(self, values: dict) -> str:
        """The English template for these values (singular or plural)."""
        if self.plural is not None and (self.always_plural or abs(int(values[self.count])) != 1):
            return self.plural
        return self.template

    def english(self, args: dict) -> str:
        """The fixed English text (stored in ``note``; JSON and CSV show it): amounts as plain decimals,
        goals in whole units."""
        values = dict(args)
        for name in MONEY & values.keys():
            values[name] = _plain(values[name])
        for name in WHOLE_UNITS & values.keys():
            values[name] = str(int(values[name]) // 100)
        return self.wording(args).format(**values)[:500]

    def make(self, **args) -> tuple[str, str, str]:
        """The note as a row stores it: (English text, kind, JSON of the values)."""
        return self.english(args), self.kind, json.dumps(args, ensure_ascii=False, separators=(",", ":"))

    def __repr__(self) -> str:
        return f"Note({self.kind!r})"


# Values that are amounts in cents: written as plain decimals in the stored text, the shop's way when
# shown ('2.80' / '2,80 €'); goals are whole units in the stored text ('reached 500').
MONEY = frozenset({"amount", "value"})
WHOLE_UNITS = frozenset({"goal"})
# Values that are words of ours (a sale's channel): translated when shown, when the catalog has them.
WORDS = frozenset({"channel"})


def _plain(cents) -> str:
    from loyaltycli.base.money import format_amount

    return format_amount(int(cents))
