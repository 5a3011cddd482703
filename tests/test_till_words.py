"""The counter in the shop's own words, in a real pseudo-terminal (pexpect) at 80 and 40 columns, in
Portuguese (a café in Lisbon) and Romanian (a shop in Bucharest): enrolment by phone alone with a tax id,
a sale to a customer picked by name, a refusal with a local amount, screens that fit, Ctrl-C."""

from __future__ import annotations

import os
import re
import sys

import pytest

pexpect = pytest.importorskip("pexpect")

# (LOYALTY_LANG, country, a local phone, a valid tax id of that country, how the language says yes)
SHOPS = {
    "pt_PT": ("PT", "912345678", "123456789", "s"),
    "ro": ("RO", "0721234567", "1800101221144", "d"),
}
WIDTHS = (80, 40)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\r")


def spawn(lang: str, width: int, *args: str):
    env = dict(os.environ, TERM="xterm", COLUMNS=str(width), LINES="40", PYTHONUNBUFFERED="1", LOYALTY_LANG=lang)
    return pexpect.spawn(sys.executable, ["-m", "loyaltycli", *args], env=env, encoding="utf-8", timeout=30,
                         dimensions=(40, width))


def finish(child) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, ANSI.sub("", child.before)


def plain(child_output: str) -> list[str]:
    return [line for line in ANSI.sub("", child_output).split("\n")]


@pytest.fixture
def shop(cli):
    def make(lang: str):
        country = SHOPS[lang][0]
        assert cli("program", "set", "country", country).exit_code == 0
        cli("enroll", "Álvaro Costa", "--phone", SHOPS[lang][1][:-1] + "0")
        cli("enroll", "Beatriz Lopes", "--email", "bia@example.pt")
        return SHOPS[lang]
    return make


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", sorted(SHOPS))
def test_enrol_by_phone_alone_with_a_tax_id(cli, shop, lang, width):
    _country, phone, tax_id, yes = shop(lang)
    child = spawn(lang, width, "enroll")
    child.expect(r"\?")  # the phone first
    child.send(phone + "\r")
    child.expect(r"\(")  # the name, optional now
    child.send("\r")
    child.expect("NIF|CNP")  # the tax id of the shop's country, checked as it is typed
    child.send("12\r")
    child.expect("12")  # refused as typed (the reason is shown; the answer stays to be mended)
    child.send("\x15" + tax_id + "\r")
    for _question in range(4):  # e-mail, card, birthday, referral code: Enter skips each
        child.expect(r"\?")
        child.send("\r")
    child.expect(r"\?")  # offers by SMS (by e-mail: not asked, no e-mail given): no
    child.send("n\r")
    child.expect(r"\?")  # the summary, answered with the language's own yes
    child.send(yes + "\r")
    code, out = finish(child)
    assert code == 0, out
    data = cli.json("customer", "show", "C000003")
    assert (data["name"], data["tax_id"]) == (None, tax_id)
    assert data["phone"].endswith(phone.lstrip("0"))
    assert "None" not in out and "C000003 " in out


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", sorted(SHOPS))
def test_a_sale_to_a_customer_picked_by_name(cli, shop, lang, width):
    shop(lang)
    cli("enroll", "Alvarinho Dias", "--email", "alvarinho@example.pt")
    child = spawn(lang, width, "purchase", "alvaro", "12,50")
    child.expect("C000001")  # one customer named alvaro (accents folded): confirmed with name and phone
    child.send("\r")
    code, out = finish(child)
    assert code == 0, out
    assert "Álvaro Costa" in out
    assert cli.json("customer", "show", "C000001")["spend"] == "12.50"
    # several: a pick list; the second is chosen
    child = spawn(lang, width, "balance", "alvar")
    child.expect("C000003")
    child.send("\x1b[B\r")
    code, out = finish(child)
    assert code == 0 and "C000001" in out.splitlines()[-1], out
    # none: says so, nothing done
    child = spawn(lang, width, "purchase", "zacarias", "5")
    code, out = finish(child)
    assert code == 1 and "zacarias" in out
    # off a terminal a name is never a KEY
    assert cli("purchase", "alvaro", "5").exit_code == 1


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", sorted(SHOPS))
def test_a_refusal_quotes_the_amount_the_local_way(cli, shop, lang, width):
    shop(lang)
    cli("program", "set", "max_purchase", "500")
    child = spawn(lang, width, "--no-input", "purchase", "C000001", "99999")
    code, out = finish(child)
    assert code == 1
    amounts = out.replace("\u00a0", "").replace("\u202f", "").replace(".", "")
    assert "99999,00" in amounts and "500,00" in amounts, out
    assert "99999.00" not in out and "500.00" not in out and "\\x" not in out


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", sorted(SHOPS))
def test_ctrl_c_in_enrolment_exits_130(cli, shop, lang, width):
    shop(lang)
    child = spawn(lang, width, "enroll")
    child.expect(r"\?")
    child.send("91")
    child.sendintr()
    code, _out = finish(child)
    assert code == 130
    assert cli("customer", "show", "C000003").exit_code == 1  # nothing saved


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", sorted(SHOPS))
def test_summary_and_history_fit(cli, shop, lang, width):
    shop(lang)
    for amount in ("12,50", "30", "7,25"):
        cli("purchase", "C000001", amount)
    cli("award", "C000001", "25", "--reason", "a long note about a birthday visit with the whole family")
    cli("survey", "C000001", "--nps", "9")
    for args in (("report", "summary"), ("history", "C000001"), ("report", "channels")):
        child = spawn(lang, width, *args)
        code, out = finish(child)
        assert code == 0, out
        lines = out.split("\n")
        assert all(len(line) <= width for line in lines), (args, [line for line in lines if len(line) > width])
        assert "…" not in out, (args, out)


# -- without a terminal: the library side of the same promises ----------------------------------------------
def test_email_reasons_are_the_programs_own_words(cli):
    for address, reason in (("abc", "it has no @"), ("a@", "nothing after the @"), ("a..b@x.pt", "two dots in a row")):
        result = cli("enroll", "--email", address)
        assert result.exit_code == 1 and result.stderr.endswith(f"is not valid: {reason}\n"), result.stderr


def test_ledger_notes_are_said_the_shops_way(cli):
    from loyaltycli.customer.old_notes import shown_note
    from loyaltycli.base import place

    cli("program", "set", "country", "PT")
    cli("enroll", "Ana", "--phone", "912345678")
    cli("purchase", "C000001", "1234,50", "--receipt", "R-1")
    out = cli("history", "C000001").stdout.replace("\u00a0", " ").replace("\u202f", " ")
    assert "1 234,50 €" in out and "1234.50" not in out, out
    assert cli.json("history", "C000001")[1]["note"] == "receipt R-1 1234.50 store (Bronze x1)"  # stored as is
    place.set_loader(lambda: {"locale": "pt_PT", "currency": "EUR"})
    try:
        assert shown_note("milestone: 2026 spend reached 500") == "milestone: 2026 spend reached 500,00\u00a0€"
        assert shown_note("refund R-9: 12.50 (Silver x1.25, no sale linked)") == (
            "refund R-9: 12,50\u00a0€ (Silver x1,25, no sale linked)")
        assert shown_note("a reason typed by hand: 12.50") == "a reason typed by hand: 12.50"
    finally:
        place.set_loader(None)


def test_program_show_and_percentages_are_local(cli):
    from loyaltycli.base.money import format_percent

    cli("program", "set", "country", "RO")
    shown = cli("program", "show").stdout.replace("\u00a0", " ")
    assert "0,05 lei" in shown and "10.000,00 lei" in shown, shown
    assert cli.json("program", "show")["point_value"] == "0.05"
    assert format_percent(20.833, locale="pt_PT") == "20,8\u00a0%" and format_percent(20.833, locale="") == "20.8%"


def test_empty_or_missing_folder_database_and_import_inspect_help(cli, tmp_path):
    result = cli("import", "inspect", "--help")
    assert result.exit_code == 0 and "Usage: loyalty import inspect [OPTIONS] FILE" in result.stdout
    assert "config folder" in result.stdout
    usage = cli("import", "--help").stdout.splitlines()[0]
    assert usage == "Usage: loyalty import [OPTIONS] FILE"


def test_piped_summary_follows_columns_or_is_plain_text(cli, monkeypatch):
    cli("program", "set", "country", "RO")
    cli("enroll", "Ana", "--phone", "0721234567")
    cli("purchase", "C000001", "45,50")
    monkeypatch.setenv("LOYALTY_LANG", "ro")
    monkeypatch.delenv("COLUMNS", raising=False)
    plain = cli("report", "summary").stdout
    assert "╭" not in plain and "│" not in plain and "45,50 lei" in plain.replace("\u00a0", " "), plain
    for width in ("80", "40"):
        monkeypatch.setenv("COLUMNS", width)
        out = cli("report", "summary").stdout
        assert all(len(line) <= int(width) for line in out.splitlines()), out
        assert "…" not in out and "45,50" in out and "45.50" not in out, out


def test_names_at_the_till_rerun_the_line_through_clicks_public_api(cli, monkeypatch):
    """In-process (the pty tests above run the real terminal): each name is replaced by the code picked and
    the whole line, global options included, is parsed anew; no private Click attribute is touched."""
    from loyaltycli.cli import byname, options

    assert cli("enroll", "Álvaro Costa", "--phone", "0851111111").exit_code == 0
    assert cli("enroll", "Maria Dias", "--phone", "0852222222").exit_code == 0
    monkeypatch.setattr(options.Options, "interactive", property(lambda self: True))
    picked = []
    monkeypatch.setattr(byname, "_choose", lambda found: picked.append(found[0].name) or found[0].code)
    data = cli.json("purchase", "alvaro", "12.50", "--by", "Maria", "--receipt", "R-9")
    assert picked == ["Álvaro Costa"] and data["code"] == "C000001"
    merged = cli("customer", "merge", "maria", "alvaro", "--yes")
    assert merged.exit_code == 0, merged.stderr
    assert picked == ["Álvaro Costa", "Maria Dias", "Álvaro Costa"]  # two names, two picks, one merge
    assert cli.json("customer", "show", "C000002")["spend"] == "12.50"


@pytest.mark.sqlite_only
def test_rows_written_before_notes_were_data_are_said_the_shops_way_too(cli, db_path):
    """Migration 0008 left older rows with their English text alone (no note_kind): history, customer show
    and statements say them again in the reader's language (customer/old_notes.py)."""
    import json
    import sqlite3

    cli("program", "set", "country", "PT")
    cli("enroll", "Ana", "--phone", "912345678")
    cli("purchase", "C000001", "1234,50", "--receipt", "R-1")
    with sqlite3.connect(db_path) as db:  # as a database migrated from before 0008 holds them
        db.execute("UPDATE ledger SET note_kind = NULL, note_args = NULL")
    for args in (("history", "C000001"), ("customer", "show", "C000001")):
        out = cli(*args).stdout.replace("\u00a0", " ").replace("\u202f", " ")
        assert "1 234,50 €" in out and "1234.50" not in out, out
    assert cli.json("history", "C000001")[1]["note"] == "receipt R-1 1234.50 store (Bronze x1)"  # stored as is
    assert json.dumps(cli.json("customer", "show", "C000001")).count("1234.50") >= 1


@pytest.mark.parametrize("lang", sorted(SHOPS))
def test_the_counter_greets_in_the_shops_words_and_serves(cli, shop, lang):
    """`loyalty counter` on a terminal: its opening line in the shop's language, the example amount written
    the shop's way; a line served, `exit` leaves."""
    shop(lang)
    child = spawn(lang, 120, "counter")
    child.expect("loyalty>")
    greeting = next(line for line in plain(child.before) if line.strip())
    assert "purchase C000001 12,50, balance " in greeting and "12.50" not in greeting
    assert greeting.startswith({"pt_PT": "balcão: ", "ro": "la casă: "}[lang])
    child.send("balance C000001\r")
    child.expect("Álvaro Costa")
    child.expect("loyalty>")
    child.send("exit\r")
    assert finish(child)[0] == 0
