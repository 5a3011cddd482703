"""Helpers for the translation tests: a fake language built from the .pot, and the English-escape check."""

from __future__ import annotations

import re
from pathlib import Path

PREFIX = "«xx»"  # not [xx]: Rich would take that for markup

# Output that is the same in every language: data (codes, amounts, dates, names from the fixtures),
# drawings (table borders, bars, sparklines) and words that are not English prose.
IDENTICAL_WORDS = {"NPS", "CSAT", "CLI", "CLV", "CSV", "JSON", "OK", "ISO-8601", "TOML", "SQL", "SKU", "E-mail",
                   "loyalty", "Bronze", "Silver", "Gold", "store", "online"}


def pot_catalog():
    from babel.messages.pofile import read_po

    from loyaltycli.i18n_tools import POT

    with open(POT, "rb") as fh:
        return read_po(fh)


_ACCENTS = str.maketrans("aeiouyAEIOUY", "áéíóúýÁÉÍÓÚÝ")
_PLACEHOLDER = re.compile(r"(\{[^{}]*\})")


def fake(text: str, prefix: str = PREFIX) -> str:
    """``prefix`` and the text with its vowels accented, placeholders ({name}, {value!r}) kept as they are:
    every word of a fake translation differs from English, even on the second line of a wrapped paragraph."""
    parts = _PLACEHOLDER.split(text)
    return f"{prefix} " + "".join(p if p.startswith("{") and p.endswith("}") else p.translate(_ACCENTS)
                                  for p in parts)


def build_fake_language(root: Path, lang: str = "xx", prefix: str = PREFIX) -> Path:
    """A compiled catalog where every message is its English source, faked (see ``fake``)."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    template = pot_catalog()
    catalog = Catalog(locale=None, domain="loyaltycli", charset="utf-8")
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, (tuple, list)):
            catalog.add(message.id, (fake(message.id[0], prefix), fake(message.id[1], prefix)))
        else:
            catalog.add(message.id, fake(message.id, prefix))
    folder = root / lang / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "loyaltycli.mo", "wb") as fh:
        write_mo(fh, catalog)
    return root


_WORD = re.compile(r"^[A-Za-z][A-Za-z']*$")


def english_words(output: str, data=frozenset()) -> list[tuple[str, str]]:
    """(word, line) for every English-looking word of ``output`` in the fake language: a plain-ASCII word
    of 3+ letters with a vowel, that is not an option (--x), a NAME in capitals, data or an identical word."""
    found = []
    for line in output.splitlines():
        for token in line.split():
            if token.startswith("-") or "_" in token or "@" in token or "/" in token:
                continue
            word = token.strip(".,;:()[]{}'\"`!?%…|│┃")
            if not _WORD.match(word) or len(word) < 3 or word.isupper() or not re.search("[aeiouyAEIOUY]", word):
                continue
            if word in IDENTICAL_WORDS or word in data:
                continue
            found.append((word, line.strip()))
    return found


def command_names() -> set[str]:
    """Names of every command and group: never translated."""
    import typer

    from loyaltycli.cli import app

    names = set()

    def walk(command):
        for name, sub in getattr(command, "commands", {}).items():
            names.update(name.split("-"))
            walk(sub)
    walk(typer.main.get_command(app))
    return names
