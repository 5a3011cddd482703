"""Search keys: text folded so that case, accents and look-alike forms do not matter.

`alvaro` finds `Álvaro`, `stefan` finds `Ștefan`, cedilla `ş` equals comma-below `ș`, NFD equals NFC,
fullwidth letters and digits equal plain ones. The key of a customer's name is stored (indexed), so
a search compares stored keys instead of folding every row.
"""

from __future__ import annotations

import unicodedata

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
