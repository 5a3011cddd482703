"""Every command's human output, over the demo database, in Portuguese, Romanian, Italian and Spanish:
no English word of the program's own (the words of its messages that the language's catalog never uses
itself) and no amount written the dot-decimal way. Data is data: names, e-mails, products, comments,
rewards, causes and plans of the demo shop are left out of the check."""

from __future__ import annotations

import re
import sqlite3

import pytest

pytestmark = pytest.mark.sqlite_only  # the demo shop's own words are read from its file

LANGUAGES = {"pt_PT": "PT", "ro": "RO", "it": "IT", "es": "ES"}

# What a person reads at the till and in the back office (read-only commands, and refusals).
COMMANDS = [
    ("balance", "C000001"), ("history", "C000001"), ("customer", "show", "C000001"), ("customer", "list"),
    ("customer", "suggest", "C000001"), ("referral", "list"), ("referral", "code", "C000001"),
    ("birthdays", "--days", "365"), ("reward", "list"), ("cause", "list"), ("card", "list"),
    ("membership", "list"), ("membership", "plan", "list"), ("program", "show"), ("import-presets",),
    ("report", "tiers"), ("report", "nps"), ("report", "retention"), ("report", "clv"), ("report", "redemption"),
    ("report", "upsell"), ("report", "channels"), ("report", "cards"), ("report", "segments"),
    ("report", "summary"), ("report", "donations"), ("db", "check"),
    ("purchase", "C000001", "99999"), ("redeem", "C000004", "100"), ("redeem", "C000001", "20"),
    ("purchase", "C000001", "12,50"),
]

# Text the demo shop holds (what its people typed): never "the program's English".
DATA_TABLES = {"customer": ("name", "email"), "product": None, "purchase_item": None, "reward": None,
               "cause": None, "membership_plan": None, "card": None, "survey_response": ("comment",),
               "consent_record": ("how",)}
_WORD = re.compile(r"[A-Za-z][a-z]{3,}")
# 12.50 or 1542.53 as an amount: digits, a dot, exactly two digits, not part of a date, a version or a code.
DOT_AMOUNT = re.compile(r"(?<![\w.\-/])\d{1,3}(?:,\d{3})*\.\d{2}(?![\w.\-/])|(?<![\w.\-/])\d+\.\d{2}(?![\w.\-/])")


def program_words() -> set[str]:
    """Lower-case words of 4+ letters in the program's own messages (the catalog template's msgids)."""
    from i18n_helpers import pot_catalog

    words = set()
    for message in pot_catalog():
        for text in (message.id if isinstance(message.id, (tuple, list)) else (message.id,)):
            text = re.sub(r"\{[^{}]*\}|`[^`]*`|--[\w-]+", " ", text or "")
            words.update(w.lower() for w in _WORD.findall(text))
    return words


def language_words(lang: str) -> set[str]:
    """Every word the language's own catalog uses (a word it shares with English is not an escape)."""
    from babel.messages.pofile import read_po

    from loyaltycli import i18n

    with open(f"{i18n.LOCALE_DIR}/{lang}/LC_MESSAGES/loyaltycli.po", "rb") as fh:
        catalog = read_po(fh)
    words = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        for text in strings:
            words.update(w.lower() for w in re.findall(r"\w+", text or ""))
    return words


def data_words(path) -> set[str]:
    words = set()
    with sqlite3.connect(path) as db:
        for table, columns in DATA_TABLES.items():
            names = columns or [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            for column in names:
                for (value,) in db.execute(f"SELECT {column} FROM {table}"):
                    if isinstance(value, str):
                        words.update(w.lower() for w in re.findall(r"\w+", value))
    return words


def till_words() -> set[str]:
    """The column names of the tills' own exports (a built-in preset's ``headers``): the till's words, shown
    as they are beside the translated description, like data."""
    from loyaltycli.tillcsv.presets import list_presets

    return {w.lower() for preset in list_presets() for text in (*preset.headers, preset.name)
            for w in re.findall(r"[^\W_]+", text)}  # and the presets' names ('square-items'), typed as they are


def command_words() -> set[str]:
    from i18n_helpers import command_names

    return {w.lower() for name in command_names() for w in re.findall(r"[a-z]+", name)}


@pytest.fixture(scope="module")
def english():
    return program_words()


def findings(output: str, english: set[str], allowed: set[str]) -> tuple[list[str], list[str]]:
    """(English words, dot-decimal amounts) found in ``output``, each with its line."""
    words, amounts = [], []
    for line in output.splitlines():
        plain = re.sub(r"`[^`]*`|--[\w-]+|\S+@\S+|\S+_\S+|[A-Z]{1,3}\d[\w-]*", " ", line)
        for word in re.findall(r"[^\W\d_]+", plain):  # whole words: 'começaram' holds no English 'come'
            if word.isascii() and len(word) >= 4 and word.lower() in english and word.lower() not in allowed:
                words.append(f"{word}: {line.strip()}")
        for amount in DOT_AMOUNT.findall(line):
            amounts.append(f"{amount}: {line.strip()}")
    return words, amounts


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_screen_speaks_the_language_and_writes_amounts_its_way(cli, db_path, monkeypatch, english, lang):
    monkeypatch.setenv("LOYALTY_NOW", "2026-12-01T12:00:00+00:00")  # the demo's sales lie before it
    result = cli("init", "--demo")
    assert result.exit_code == 0, result.output
    assert cli("program", "set", "country", LANGUAGES[lang]).exit_code == 0
    monkeypatch.setenv("LOYALTY_LANG", lang)
    monkeypatch.setenv("COLUMNS", "100")
    from loyaltycli import i18n
    from loyaltycli.base import place

    place.set_loader(None)
    i18n.reset()
    allowed = language_words(lang) | data_words(db_path) | command_words() | till_words()
    problems = []
    for args in COMMANDS:
        result = cli(*args)
        output = result.stdout + result.stderr
        assert "Traceback" not in output
        words, amounts = findings(output, english, allowed)
        problems += [f"{' '.join(args)}: English {w}" for w in words]
        problems += [f"{' '.join(args)}: dot amount {a}" for a in amounts]
    assert problems == [], "\n".join(sorted(set(problems)))
