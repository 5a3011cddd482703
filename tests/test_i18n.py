"""Translations: the language chosen, catalogs read lazily, plural forms, every message marked (a fake
language proves it), and the shipped catalogs complete and consistent."""

from __future__ import annotations

import io
import os
import string
import subprocess
import sys
from pathlib import Path

import pytest

from i18n_helpers import PREFIX, build_fake_language, command_names, english_words, pot_catalog

LANGUAGES = ["pt_PT", "ro", "it", "es"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def i18n():
    from loyaltycli import i18n as module
    from loyaltycli.base import place

    place.set_loader(None)  # no shop settings left over from an earlier test of this process
    module.reset()
    yield module
    module.reset()


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("LOYALTY_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


# ------------------------------------------------------------------ choosing the language

@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
def test_loyalty_lang_beats_the_shop_locale_which_beats_the_environment(i18n, clean_env):
    clean_env.setenv("LANG", "ro_RO.UTF-8")
    assert i18n.language() == "ro"
    i18n.set_shop_locale("pt_PT")
    assert i18n.language() == "pt_PT"
    clean_env.setenv("LOYALTY_LANG", "es")
    i18n.forget_shop()
    i18n.set_shop_locale("pt_PT")
    assert i18n.language() == "es"


@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
def test_help_follows_loyalty_lang_and_the_environment_only(i18n, clean_env):
    clean_env.setenv("LC_ALL", "it_IT.UTF-8")
    i18n.set_shop_locale("pt_PT")
    assert i18n.help_language() == "it"
    assert i18n.language() == "pt_PT"


@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
def test_language_list_skips_languages_without_catalog_and_english_means_source(i18n, clean_env):
    clean_env.setenv("LANGUAGE", "fr:de:es_MX")
    assert i18n.language() == "es"  # a Mexican asks for Spanish: the Spanish catalog beats English
    i18n.reset()
    for tag in ("C", "POSIX", "en_IE.UTF-8", "en"):
        clean_env.setenv("LANGUAGE", tag)
        i18n.reset()
        assert i18n.language() == "en"
    clean_env.setenv("LANGUAGE", "fr_FR")
    i18n.reset()
    assert i18n.language() == "en"  # no French catalog, nothing else named: English


def test_the_shop_locale_set_by_program_set_speaks_to_the_counter(cli, clean_env, tmp_path, i18n):
    root = build_fake_language(tmp_path / "locale", lang="pt_PT")  # a fake stands for the Portuguese catalog
    clean_env.setattr(i18n, "LOCALE_DIR", str(root))
    clean_env.setenv("LANG", "C.UTF-8")
    i18n.reset()
    assert cli("enroll", "Ann Walsh").stdout.startswith("enrolled C000001")
    assert cli("program", "set", "locale", "pt_PT").exit_code == 0
    assert cli("balance", "C000001").stdout.startswith(f"{PREFIX} C000001 Ann Walsh: 50 ")
    assert cli("redeem", "C000001", "5000").stderr.startswith(f"{PREFIX} ")
    clean_env.setenv("LOYALTY_LANG", "en")  # one person at the till prefers English
    assert cli("balance", "C000001").stdout.startswith("C000001 Ann Walsh: 50 points")


# ------------------------------------------------------------------ lazy loading

@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
def test_importing_the_cli_opens_no_catalog_even_in_another_language():
    code = (
        "import builtins, io, os\n"
        "opened = []\n"
        "real = io.open\n"
        "def spy(file, *a, **k):\n"
        "    opened.append(str(file))\n"
        "    return real(file, *a, **k)\n"
        "builtins.open = io.open = spy\n"
        "os.environ['LOYALTY_LANG'] = 'pt_PT'\n"
        "import loyaltycli.cli\n"
        "from loyaltycli import i18n\n"
        "assert not [f for f in opened if f.endswith('.mo')], opened\n"
        "assert not i18n._catalogs\n"
        "print(i18n.gettext('Usage:') is not None, [f for f in opened if f.endswith('.mo')])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "loyaltycli.mo" in out.stdout  # the first translated message is what opens it


def test_english_help_and_commands_never_open_a_catalog(cli, i18n):
    assert cli("--help").exit_code == 0
    assert cli("enroll", "Ann Walsh").exit_code == 0
    assert cli("balance", "C000001").exit_code == 0
    assert i18n._catalogs == {}


# ------------------------------------------------------------------ plurals and fallback

@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
def test_romanian_has_three_plural_forms_from_babel(tmp_path, monkeypatch, i18n, clean_env):
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale="ro", domain="loyaltycli")
    assert catalog.num_plurals == 3
    catalog.add(("{count} point", "{count} points"), ("{count} punct", "{count} puncte", "{count} de puncte"))
    folder = tmp_path / "ro" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "loyaltycli.mo", "wb") as fh:
        write_mo(fh, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", str(tmp_path))
    clean_env.setenv("LOYALTY_LANG", "ro_RO")
    i18n.reset()
    said = {n: i18n.ngettext("{count} point", "{count} points", n).format(count=n) for n in (1, 2, 19, 20, 101, 120)}
    assert said == {1: "1 punct", 2: "2 puncte", 19: "19 puncte", 20: "20 de puncte", 101: "101 puncte",
                    120: "120 de puncte"}
    assert i18n.gettext("a message nobody translated") == "a message nobody translated"


@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
def test_the_catalog_looked_up_in_place_answers_as_gettext_does(tmp_path, i18n):
    import gettext

    root = build_fake_language(tmp_path)
    mo = (root / "xx" / "LC_MESSAGES" / "loyaltycli.mo").read_bytes()
    ours, reference = i18n.Catalog(mo), gettext.GNUTranslations(io.BytesIO(mo))
    for message in pot_catalog():
        if isinstance(message.id, (tuple, list)):
            for n in (0, 1, 2, 5, 21, 101):
                assert ours.ngettext(*message.id, n) == reference.ngettext(*message.id, n)
        elif message.id:
            assert ours.gettext(message.id) == reference.gettext(message.id)
    assert ours.gettext("not in the catalog") == "not in the catalog"


@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_shipped_catalog_is_sorted_for_lookup_in_place(lang):
    import struct

    from loyaltycli.i18n_tools import po_path

    data = po_path(lang).with_suffix(".mo").read_bytes()
    _magic, _rev, count, originals, _translated = struct.unpack("<5I", data[:20])
    keys = []
    for i in range(count):
        length, offset = struct.unpack_from("<II", data, originals + 8 * i)
        keys.append(data[offset:offset + length])
    assert keys == sorted(keys)


@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
def test_english_plurals_without_catalog(i18n):
    assert i18n.ngettext("{count} point", "{count} points", 1).format(count=1) == "1 point"
    assert i18n.ngettext("{count} point", "{count} points", 0).format(count=0) == "0 points"


def test_json_keys_csv_headers_and_exit_codes_do_not_change_with_the_language(cli, monkeypatch, tmp_path, i18n):
    import json

    assert cli("enroll", "Ann Walsh").exit_code == 0
    english = json.loads(cli("balance", "C000001", "--json").stdout)
    english_csv = cli("customer", "list", "--csv").stdout.splitlines()[0]
    root = build_fake_language(tmp_path / "locale")
    monkeypatch.setattr(i18n, "LOCALE_DIR", str(root))
    monkeypatch.setenv("LOYALTY_LANG", "xx")
    i18n.reset()
    faked = json.loads(cli("balance", "C000001", "--json").stdout)
    assert faked.keys() == english.keys()
    assert cli("customer", "list", "--csv").stdout.splitlines()[0] == english_csv
    assert cli("redeem", "C000001", "99999").exit_code == 1  # too few points, in every language


# ------------------------------------------------------------------ every message marked (fake language)

COMMANDS = [
    ("balance", "C000001"),
    ("purchase", "C000001", "12.50", "--receipt", "R-1"),
    ("redeem", "C000001", "99999"),
    ("report", "summary"),
    ("--help",),
    ("purchase", "--help"),
    ("purchase", "C000001", "--amout", "3"),
    ("customer", "show", "C000001"),
    ("nosuch",),
    ("purcase", "C000001"),  # Typer's "Did you mean 'purchase'?"
    ("balance",),
]
# Names, tiers, typed words, and the notes stored on ledger rows when they were written (history is data).
DATA = {"Ann", "Walsh", "Bronze", "nosuch", "purcase", "welcome", "bonus", "receipt"}


def _shop(cli):
    assert cli("enroll", "Ann Walsh", "--email", "ann@example.ie").exit_code == 0
    assert cli("purchase", "C000001", "30.00", "--receipt", "R-0").exit_code == 0
    assert cli("survey", "C000001", "--nps", "9").exit_code == 0


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_line_is_translated_in_a_fake_language(cli, args, monkeypatch, tmp_path, i18n):
    _shop(cli)
    root = build_fake_language(tmp_path / "locale")
    monkeypatch.setattr(i18n, "LOCALE_DIR", str(root))
    monkeypatch.setenv("LOYALTY_LANG", "xx")
    monkeypatch.setenv("COLUMNS", "120")
    i18n.reset()
    result = cli(*args)
    output = result.stdout + result.stderr
    assert output.strip()
    assert english_words(output, DATA | command_names()) == []


# ------------------------------------------------------------------ the shipped catalogs

def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _read_po(lang):
    from babel.messages.pofile import read_po

    from loyaltycli.i18n_tools import po_path

    with open(po_path(lang), "rb") as fh:
        return read_po(fh, locale=lang)


@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete_and_consistent(lang):
    import gettext

    from loyaltycli.i18n_tools import mo_bytes, po_path

    catalog = _read_po(lang)
    problems = []
    for source in pot_catalog():
        if not source.id:
            continue
        entry = catalog.get(source.id)
        key = source.id[0] if isinstance(source.id, (tuple, list)) else source.id
        if entry is None:
            problems.append(f"missing: {key!r}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {key!r}")
        forms = list(entry.string) if isinstance(entry.string, (tuple, list)) else [entry.string]
        if isinstance(source.id, (tuple, list)) and len(forms) != catalog.num_plurals:
            problems.append(f"{len(forms)} plural forms, {catalog.num_plurals} wanted: {key!r}")
        if not all(forms):
            problems.append(f"untranslated: {key!r}")
            continue
        ids = list(source.id) if isinstance(source.id, (tuple, list)) else [source.id]
        wanted = set().union(*map(_placeholders, ids))
        found = [_placeholders(f) for f in forms]
        if any(not f <= wanted for f in found) or set().union(*found) != wanted:
            problems.append(f"placeholders {sorted(set().union(*found))} != {sorted(wanted)}: {key!r}")
    assert problems == []
    compiled = gettext.GNUTranslations(io.BytesIO(mo_bytes(catalog)))
    shipped = gettext.GNUTranslations(io.BytesIO(po_path(lang).with_suffix(".mo").read_bytes()))
    assert shipped._catalog == compiled._catalog, "the .mo is not the compiled .po: run i18n_tools compile"


def _english_chunks(lang) -> list[str]:
    """Literal pieces of English messages (between placeholders) long enough to be recognised, for
    messages whose translation differs from the source."""
    catalog = _read_po(lang)
    chunks = set()
    for entry in catalog:
        if not entry.id or not entry.string:
            continue
        ids = list(entry.id) if isinstance(entry.id, (tuple, list)) else [entry.id]
        forms = list(entry.string) if isinstance(entry.string, (tuple, list)) else [entry.string]
        if set(ids) == set(forms):
            continue  # identical in both languages
        for text in ids:
            for literal, *_rest in string.Formatter().parse(text):
                for line in literal.splitlines():
                    line = line.strip(" ,;:.()")
                    if len(line) >= 12 and any(c.isalpha() for c in line):
                        chunks.add(line)
    return sorted(chunks, key=len, reverse=True)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_english_escapes_in_a_real_language(cli, lang, monkeypatch, i18n):
    _shop(cli)
    monkeypatch.setenv("LOYALTY_LANG", lang)
    monkeypatch.setenv("COLUMNS", "300")  # help paragraphs unwrapped: whole sentences to compare
    i18n.reset()
    chunks = _english_chunks(lang)
    assert len(chunks) > 100  # the catalog is (mostly) translated
    escaped = []
    for args in COMMANDS:
        result = cli(*args)
        for line in (result.stdout + result.stderr).splitlines():
            escaped += [(args, chunk) for chunk in chunks if chunk in line]
    assert escaped == []


# ------------------------------------------------------------------ the shop's own survey wording

def test_program_set_survey_questions_are_kept_as_written(cli):
    assert cli("program", "set", "survey_nps_question", "  Would you tell a friend about   our bakery? ").exit_code == 0
    assert cli("program", "set", "survey_csat_question", "Did you enjoy your visit?").exit_code == 0
    from loyaltycli.store.program import load_program
    from loyaltycli.store.db import open_database

    with open_database(os.environ["LOYALTY_DB"]).session(write=False) as session:
        program = load_program(session)
    assert program.survey_nps_question == "Would you tell a friend about our bakery?"
    assert program.survey_csat_question == "Did you enjoy your visit?"
    assert cli("program", "set", "survey_nps_question", "x" * 301).exit_code == 1


def test_the_survey_reads_the_shops_own_question(cli):
    pexpect = pytest.importorskip("pexpect")
    assert cli("enroll", "Ann Walsh").exit_code == 0
    assert cli("program", "set", "survey_nps_question", "Would you tell a friend about our bakery?").exit_code == 0
    env = dict(os.environ, TERM="xterm", COLUMNS="200", LINES="40", PYTHONUNBUFFERED="1")
    child = pexpect.spawn(sys.executable, ["-m", "loyaltycli", "survey", "C000001"], env=env, encoding="utf-8",
                          timeout=30, dimensions=(40, 200))
    child.expect("C000001: Would you tell a friend about our bakery\\? 0 \\(not at all\\)")
    child.send("9\r")
    child.expect("How satisfied were you with this visit\\?")
    child.sendintr()
    child.expect(pexpect.EOF)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_enroll_on_a_terminal_speaks_the_language(cli, lang, i18n):
    """The issue's "enroll on a terminal": every question and the confirmation in the person's language
    (questionary's own Yes/No answer words excepted), and the customer enrolled."""
    pexpect = pytest.importorskip("pexpect")
    t = i18n.translations(lang)
    env = dict(os.environ, TERM="xterm", COLUMNS="200", LINES="40", PYTHONUNBUFFERED="1", LOYALTY_LANG=lang)
    child = pexpect.spawn(sys.executable, ["-m", "loyaltycli", "enroll"], env=env, encoding="utf-8",
                          timeout=30, dimensions=(40, 200))
    seen = io.StringIO()
    child.logfile_read = seen
    for question, answer in [("Phone (Enter to give a name instead):", "+351912345678\r"),
                             ("Name (optional):", "Ana Sousa\r"), ("E-mail (optional):", "ana@example.pt\r"),
                             ("Card number (optional):", "\r"), ("Birthday YYYY-MM-DD (optional):", "\r"),
                             ("Referral code (optional):", "\r"), ("Agrees to receive offers by e-mail?", "y\r"),
                             ("Agrees to receive offers by SMS?", "\r")]:
        translated = t.gettext(question)
        assert translated != question
        child.expect_exact(translated)
        child.send(answer)
    child.expect_exact(t.gettext("Enroll {details}?").split("{")[0])
    child.send("\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    escaped = [chunk for chunk in _english_chunks(lang) if chunk in seen.getvalue()]
    assert escaped == []
    assert cli.json("customer", "show", "C000001")["name"] == "Ana Sousa"


@pytest.mark.dialect_free("message catalogs and the language chosen: no database")
def test_a_truncated_catalog_falls_back_to_english(tmp_path, monkeypatch):
    from loyaltycli import i18n

    folder = tmp_path / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / (i18n.DOMAIN + ".mo")).write_bytes(b"\xde\x12")  # cut after two bytes
    monkeypatch.setattr(i18n, "LOCALE_DIR", str(tmp_path))
    monkeypatch.setattr(i18n, "_catalogs", {})
    assert i18n.translations("xx").gettext("unknown customer") == "unknown customer"


def test_usage_errors_speak_the_shops_locale_and_help_stays_off_the_database(cli, clean_env, tmp_path, i18n,
                                                                             db_path):
    """A mistyped command or option at the counter is answered in the shop's language (its `locale`
    setting, read from the database on the way out), the usage line included; LOYALTY_LANG still wins;
    help follows LOYALTY_LANG and the environment only; no database at the path: English, none created."""
    clean_env.setenv("LANG", "C.UTF-8")
    assert cli("program", "set", "locale", "pt_PT").exit_code == 0
    cli("enroll", "Ann Walsh")
    typo = cli("purchase", "C000001", "12", "--recept", "X")
    assert typo.exit_code == 2
    assert typo.stderr.splitlines()[0] == "Utilização: loyalty purchase [OPTIONS] KEY AMOUNT"
    assert typo.stderr.splitlines()[-1] == "Erro: a opção --recept não existe; queria dizer --receipt?"
    assert cli("purchase").stderr.splitlines()[-1] == "Erro: Falta o argumento 'KEY'."
    assert cli("--db", str(db_path)).stderr.splitlines()[-1] == "Erro: Falta o comando."  # Click's own words
    root = cli("--jsn", "balance", "C000001")  # the root's own options, worded as a command's
    assert (root.exit_code, root.stderr.splitlines()[-1]) == (2, "Erro: a opção --jsn não existe; queria dizer --json?")
    no_value = cli("balance", "C000001", "--by")  # was "no such option --by; did you mean --db?"
    assert (no_value.exit_code, no_value.stderr.splitlines()[-1]) == (2, "Erro: A opção '--by' precisa de um argumento.")
    assert no_value.stderr.splitlines()[0] == "Utilização: loyalty balance [OPTIONS] KEY"
    # ... but a word that only looks like it is a value or an argument, as Click reads it
    assert cli("award", "C000001", "5", "--reason", "--by").exit_code == 0
    assert cli("customer", "edit", "C000001", "--name", "--db").exit_code == 0
    assert cli("--help", "balance", "--by").exit_code == 0
    assert cli("purchase", "-h").stdout.startswith("Usage: loyalty purchase")
    clean_env.setenv("LOYALTY_LANG", "es")
    assert cli("purchase", "C000001", "12", "--recept", "X").stderr.splitlines()[-1] == (
        "Error: no existe la opción --recept; ¿quería decir --receipt?")
    clean_env.delenv("LOYALTY_LANG")

    # a fresh process: the command name is found wrong before the root's options (--db) are taken
    env = {**os.environ, "LOYALTY_DB": str(db_path)}
    run = lambda *args: subprocess.run([sys.executable, "-m", "loyaltycli", *args], capture_output=True,  # noqa: E731
                                       text=True, env=env, timeout=120)
    unknown = run("purchse", "C000001", "12")
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines()[-1] == "Erro: O comando 'purchse' não existe. Queria dizer 'purchase'?"
    missing = tmp_path / "nowhere.db"
    assert run("--db", str(missing), "purchse").stderr.splitlines()[-1] == (
        "Error: No such command 'purchse'. Did you mean 'purchase'?")
    assert run("--db", str(db_path), "purchse").stderr.splitlines()[-1].startswith("Erro: O comando")
    env["LOYALTY_DB"] = str(missing)
    assert run("bogus").stderr.splitlines()[-1] == "Error: No such command 'bogus'."
    assert not missing.exists()


@pytest.mark.sqlite_only
def test_help_and_usage_errors_leave_the_database_file_alone_and_never_wait_for_its_lock(cli, clean_env, db_path):
    """Help never opens the database; a usage error peeks at the shop's locale read-only: the file is not
    written (no schema upgrade, no -wal or -shm made), and a database locked by another process is not waited
    for (English then). Real processes; the lock is held by a child process in exclusive locking mode."""
    import hashlib

    clean_env.setenv("LANG", "C.UTF-8")
    assert cli("program", "set", "locale", "pt_PT").exit_code == 0
    from loyaltycli.store.db import checkpoint_all

    checkpoint_all()
    env = {**os.environ, "LOYALTY_DB": str(db_path), "LOYALTY_BUSY_TIMEOUT": "600"}
    run = lambda *args: subprocess.run([sys.executable, "-m", "loyaltycli", *args], capture_output=True,  # noqa: E731
                                       text=True, env=env, timeout=120)
    for side in ("-wal", "-shm"):
        Path(f"{db_path}{side}").unlink(missing_ok=True)
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    assert run("purchase", "-h").stdout.startswith("Usage: python -m loyaltycli purchase")
    assert run("program").stderr.startswith("Usage: python -m loyaltycli program")  # a group alone: its help
    assert run("purchse").stderr.splitlines()[-1].startswith("Erro: O comando 'purchse' não existe")
    assert run("purchase", "C1", "12", "--recept", "X").stderr.splitlines()[-1].startswith("Erro: a opção --recept")
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
    assert not Path(f"{db_path}-wal").exists() and not Path(f"{db_path}-shm").exists()

    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
        "c.execute('BEGIN EXCLUSIVE'); c.execute('UPDATE program_setting SET value = value')\n"
        "print('held', flush=True); time.sleep(300)\n"), str(db_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        locked = run("purchse")  # the busy timeout is 600 s: run's 120 s guard fails the test if it waited
        assert (locked.returncode, locked.stderr.splitlines()[-1]) == (
            2, "Error: No such command 'purchse'. Did you mean 'purchase'?")
    finally:
        holder.kill()
        holder.wait()
