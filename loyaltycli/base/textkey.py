"""Search keys: text folded so that case, accents and look-alike forms do not matter.

`alvaro` finds `Álvaro`, `stefan` finds `Ștefan`, cedilla `ş` equals comma-below `ș`, NFD equals NFC,
fullwidth letters and digits equal plain ones. The key of a customer's name is stored (indexed), so
a search compares stored keys instead of folding every row.
"""

from __future__ import annotations

import unicodedata

from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import _

# Letters that carry no combining mark to strip in Unicode, folded by hand.
_LETTERS = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ı": "i", "ħ": "h", "þ": "th", "ð": "d",
                          "æ": "ae", "œ": "oe", "ŋ": "n", "ŧ": "t", "ʼ": "'", "’": "'"})


def fold(text: str | None) -> str:
    """Lower-case, accent-free, compatibility-folded text with single spaces."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.translate(_LETTERS).split())


def search_key(name: str | None) -> str | None:
    """The stored search key of a name (None for no name)."""
    key = fold(name)
    return key[:200] or None


def plain_digits(text: str) -> str:
    """Any Unicode decimal digits (fullwidth, Arabic-Indic...) as ASCII digits; NFKC for the rest."""
    out = []
    for ch in unicodedata.normalize("NFKC", text or ""):
        digit = unicodedata.decimal(ch, None)
        out.append(str(digit) if digit is not None and not ch.isascii() else ch)
    return "".join(out)


# Bidirectional overrides and isolates: they can make a line read differently from what it holds.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_plain_text(value: str | None, what: str) -> str | None:
    """Free text kept in the database (a reason, a comment, a name of a reward, cause or plan) must not
    carry terminal control characters (ESC sequences, bells, backspaces) or bidi overrides."""
    if not value:
        return value
    for ch in value:
        if (unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in BIDI:
            raise InvalidInput(_('{what} contains a control character ({decode}); type plain text').format(what=_(what), decode=ch.encode('unicode_escape').decode()))
    return value
