"""Ledger notes are data (issue 23): a kind and its values, rendered in the reader's language with the
shop's money written that language's way; JSON and CSV keep the fixed English text; rows written before
notes were data still show their text."""

from __future__ import annotations

import csv
import io
import json

import pytest

# Portuguese for the notes' messages, compiled into a copy of the real pt_PT catalog by ``portuguese``
# (the shipped catalogs are translated once at the end of a release; these are the test's own).
PT = {
    "welcome bonus": "bónus de boas-vindas",
    "receipt {receipt} {amount} {channel} ({tier} x{multiplier})": "talão {receipt} {amount} {channel} ({tier} x{multiplier})",
    "refund of receipt {receipt}: {amount}": "devolução do talão {receipt}: {amount}",
    "milestone: {year} spend reached {goal}": "meta: gasto de {year} atingiu {goal}",
    "Statement of {code}": "Extrato de {code}",
    ("{points} point earned on {day} expired", "{points} points earned on {day} expired"):
        ("{points} ponto ganho em {day} expirou", "{points} de pontos ganhos em {day} expiraram",
         "{points} pontos ganhos em {day} expiraram"),  # Portuguese has a third form (a million of ...)
    ("receipt {receipt}: {stamps} stamp on {card}", "receipt {receipt}: {stamps} stamps on {card}"):
        ("talão {receipt}: {stamps} carimbo em {card}", "talão {receipt}: {stamps} carimbos em {card}",
         "talão {receipt}: {stamps} carimbos em {card}"),
}


@pytest.fixture
def portuguese(tmp_path, monkeypatch):
    """The pt_PT catalog with the notes' messages translated (PT), in place of the shipped one."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from loyaltycli import i18n

    with open(f"{i18n.LOCALE_DIR}/pt_PT/LC_MESSAGES/loyaltycli.po", "rb") as fh:
        catalog = read_po(fh, locale="pt_PT")
    for msgid, msgstr in PT.items():
        catalog.add(msgid, msgstr)
    folder = tmp_path / "locale" / "pt_PT" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "loyaltycli.mo", "wb") as fh:
        write_mo(fh, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", str(tmp_path / "locale"))
    i18n.reset()
    yield
    i18n.reset()


@pytest.fixture
def rui(cli, portuguese):
    """An Irish shop in English and its Portuguese customer Rui (C000001), with a sale of 2.80."""
    assert cli("program", "set", "country", "IE").exit_code == 0
    assert cli("enroll", "Rui Costa", "--lang", "pt", "--email", "rui@example.pt").exit_code == 0
    assert cli("purchase", "C000001", "2.80", "--receipt", "FS 2026/1").exit_code == 0
    return cli


def test_a_portuguese_customers_statement_is_in_portuguese_with_portuguese_money(rui):
    shown = rui("history", "C000001").stdout
    assert "Extrato de C000001" in shown
    assert "bónus de boas-vindas" in shown
    assert "talão FS 2026/1 2,80\xa0€ loja (Bronze x1)" in shown
    assert "welcome bonus" not in shown and "€2.80" not in shown


def test_json_and_csv_keep_the_fixed_english_note(rui):
    rows = rui.json("history", "C000001")
    assert [r["note"] for r in rows] == ["welcome bonus", "receipt FS 2026/1 2.80 store (Bronze x1)"]
    assert set(rows[0]) == {"at", "kind", "points", "balance", "note", "operator"}
    table = list(csv.DictReader(io.StringIO(rui("history", "C000001", "--csv").stdout)))
    assert [r["note"] for r in table] == ["welcome bonus", "receipt FS 2026/1 2.80 store (Bronze x1)"]
    assert [r["note"] for r in rui.json("customer", "show", "C000001")["recent"]][1] == (
        "receipt FS 2026/1 2.80 store (Bronze x1)")


def test_the_owners_screens_speak_the_shops_language_unless_asked(rui):
    shop = rui("history", "C000001", "--lang", "shop").stdout
    assert "Statement of C000001" in shop and "receipt FS 2026/1 €2.80 store (Bronze x1)" in shop
    card = rui("customer", "show", "C000001").stdout  # the owner's card of the customer
    assert "receipt FS 2026/1 €2.80 store (Bronze x1)" in card and "pt_PT" in card
    turned = rui("customer", "show", "C000001", "--lang", "customer").stdout  # the screen turned to Rui
    assert "talão FS 2026/1 2,80\xa0€ loja (Bronze x1)" in turned
    assert "talão FS 2026/1 2,80\xa0€" in rui("history", "C000001", "--lang", "pt_PT").stdout
    assert rui.json("customer", "show", "C000001")["language"] == "pt_PT"


def test_old_text_notes_are_said_again_and_unknown_ones_shown_as_they_are(rui, database):
    from loyaltycli.shop import clock
    from loyaltycli.store.models import LedgerEntry

    with database.session() as s:  # a row written before notes were data: no kind, English text
        s.add(LedgerEntry(customer_id=1, kind="earn", delta=3, at=clock.now(), recorded_at=clock.now(),
                          note="receipt OLD-1 3.10 store (Bronze x1)"))
        s.add(LedgerEntry(customer_id=1, kind="award", delta=1, at=clock.now(), recorded_at=clock.now(),
                          note="a kind note from a newer program", note_kind="no-such-kind", note_args="{}"))
        s.add(LedgerEntry(customer_id=1, kind="award", delta=1, at=clock.now(), recorded_at=clock.now(),
                          note="typed by hand: 3.10"))
    shown = rui("history", "C000001").stdout
    assert "talão OLD-1 3,10\xa0€ loja (Bronze x1)" in shown  # the old English text, said in Rui's language
    assert "a kind note from a newer program" in shown and "typed by hand: 3.10" in shown
    assert "receipt OLD-1 3.10 store (Bronze x1)" in rui("history", "C000001", "--json").stdout


def test_refund_milestone_expiry_and_stamps_are_rendered_too(cli, portuguese):
    assert cli("program", "set", "country", "IE").exit_code == 0
    assert cli("card", "add", "Café", "--stamps", "10", "--reward", "Um café", "--sku", "COF-*",
               "--per", "item").exit_code == 0
    assert cli("enroll", "Rui Costa", "--lang", "pt_PT", "--at", "2025-01-02T10:00:00+00:00").exit_code == 0
    assert cli("purchase", "C000001", "600", "--receipt", "R1", "--at", "2025-01-03T10:00:00+00:00",
               "--item", "COF-1:2:300").exit_code == 0
    assert cli("refund", "R1", "--amount", "100", "--at", "2025-02-01T10:00:00+00:00").exit_code == 0
    assert cli("expire").exit_code == 0
    shown = cli("history", "C000001").stdout
    assert "devolução do talão R1: 100,00\xa0€" in shown
    assert "meta: gasto de 2025 atingiu 500,00\xa0€" in shown
    assert "250 pontos ganhos em 2025-01-03 expiraram" in shown  # the milestone's lot, a year on
    assert "talão R1: 2 carimbos em Café" in shown
    notes = [r["note"] for r in cli.json("history", "C000001")]
    assert "refund of receipt R1: 100.00" in notes and "milestone: 2025 spend reached 500" in notes
    assert "250 points earned on 2025-01-03 expired" in notes


def test_every_kind_stored_text_is_the_text_written_before_notes_were_data():
    from loyaltycli.engine.notes import english, make

    assert make("welcome")[0] == "welcome bonus"
    assert english("milestone", {"year": 2026, "goal": 50000}) == "milestone: 2026 spend reached 500"
    assert english("expire", {"points": 1, "day": "2026-01-02"}) == "1 points earned on 2026-01-02 expired"
    assert english("stamp", {"receipt": "R1", "stamps": 1, "card": "Café"}) == "receipt R1: 1 stamp on Café"
    assert english("stamp", {"receipt": "R1", "stamps": 2, "card": "Café"}) == "receipt R1: 2 stamps on Café"
    assert english("refund", {"receipt": "R1", "amount": 1050}) == "refund of receipt R1: 10.50"
    assert english("rebate", {"percent": "2", "year": 2025, "amount": 123456}) == "year-end rebate: 2% of 1234.56 spent in 2025"
    assert english("merge_lot", {"duplicate": "C000002", "keep": "C000001", "points": 7, "day": "2026-01-01"}) == (
        "merged C000002 into C000001: 7 points earned 2026-01-01")


def test_the_engines_own_earn_note_is_the_kind_earn(program):
    """The engine builds an earn row's note by hand (the import's pace): the same text and values as
    ``notes.make('earn', ...)`` would give, for receipt ids that need escaping too."""
    from datetime import datetime, timezone

    from loyaltycli.engine.account import Account
    from loyaltycli.engine.earning import LEDGER_COLUMNS, Engine
    from loyaltycli.engine.notes import english, make, render

    at = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    engine = Engine(program, timezone.utc, at)
    account = Account(1, "C000001", datetime(2026, 1, 1, tzinfo=timezone.utc))
    for receipt in ('FS 2026/1', 'quote"back\\slash', 'ação ✓'):
        [row] = [r for r in engine.sale(account, receipt, at, 1234, "online").rows if r[1] == "earn"]
        named = dict(zip(LEDGER_COLUMNS, row))
        values = json.loads(named["note_args"])
        assert values == {"receipt": receipt, "amount": 1234, "channel": "online", "tier": "Bronze",
                          "multiplier": "1"}
        assert named["note_kind"] == "earn"
        assert named["note"] == english("earn", values) == make("earn", **values)[0]
        assert named["note"] == f"receipt {receipt} 12.34 online (Bronze x1)"
        assert render("earn", named["note_args"], named["note"]) == f"receipt {receipt} 12.34 online (Bronze x1)"


def test_speaking_renders_in_a_language_and_restores_the_one_before(portuguese, monkeypatch):
    from loyaltycli import i18n
    from loyaltycli.base.money import format_money
    from loyaltycli.engine.notes import make, render

    text, kind, args = make("refund", receipt="R9", amount=280)
    monkeypatch.setattr("loyaltycli.base.money.shop_locale", lambda: "en_IE")
    monkeypatch.setattr("loyaltycli.base.money.shop_currency", lambda: "EUR")
    assert render(kind, args, text) == "refund of receipt R9: €2.80"
    with i18n.speaking("pt") as lang:
        assert lang == "pt_PT"
        assert render(kind, args, text) == "devolução do talão R9: 2,80\xa0€"
        with i18n.speaking("en"):
            assert format_money(280) == "€2.80"
        assert format_money(280) == "2,80\xa0€"
    assert render(kind, args, text) == "refund of receipt R9: €2.80"
    with i18n.speaking(None):  # no language of their own: the surroundings'
        assert render(kind, args, text) == "refund of receipt R9: €2.80"
    assert render(kind, "not json", text) == text and render(None, None, "as typed") == "as typed"


def test_a_language_without_a_catalog_is_refused_and_nothing_is_enrolled(cli):
    result = cli("enroll", "Ann", "--lang", "fr")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: language 'fr' is not one this program speaks; languages: en, es, it, "
                                     "pt_PT, ro")
    assert cli.json("customer", "list") == []
    assert cli("enroll", "Ann", "--lang", "ro_RO").exit_code == 0
    assert cli.json("customer", "show", "C000001")["language"] == "ro"
    assert cli("customer", "edit", "C000001", "--lang", "es-ES").exit_code == 0
    assert cli.json("customer", "show", "C000001")["language"] == "es"
    assert cli("customer", "edit", "C000001", "--lang", "").exit_code == 0  # back to the shop's
    assert cli.json("customer", "show", "C000001")["language"] is None
    assert cli("customer", "edit", "C000001", "--lang", "xx").exit_code == 1
    assert cli("history", "C000001", "--lang", "xx").exit_code == 1
