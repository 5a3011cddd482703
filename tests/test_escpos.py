"""The ESC/POS encoder: code pages, predictable replacement, styles, the printer's own QR command, the cut."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escpos_helpers import parse
from loyaltycli.customer import escpos
from loyaltycli.customer.escpos import QR, Line

pytestmark = pytest.mark.dialect_free("ESC/POS bytes from text and QR codes: no database")


def test_a_document_starts_with_init_and_its_code_page_and_ends_with_a_cut():
    data = escpos.document([Line("Olá")], "cp858")
    assert data.startswith(b"\x1b@\x1bt\x13")  # ESC @, ESC t 19 (PC858)
    assert data.endswith(b"\x1dVB\x03")  # GS V 66: feed and cut
    printed = parse(data)
    assert (printed.page, printed.resets, printed.cuts) == (19, 1, 1)
    assert printed.lines[0] == "Olá"


def test_styles_read_back():
    data = escpos.document([Line("Big", bold=True, align="center", size=2), Line("plain")], "cp858")
    styles = parse(data).styles
    assert styles[0] == ("Big", True, "center", 2)
    assert styles[1] == ("plain", False, "left", 1)


@pytest.mark.parametrize("language,page,number", [("pt_PT", "cp858", 19), ("es", "cp858", 19), ("it", "cp858", 19),
                                                  ("en", "cp858", 19), ("ro", "cp852", 18), (None, "cp858", 19)])
def test_the_code_page_of_each_language(language, page, number):
    assert escpos.page_for(language) == page
    assert escpos.CODE_PAGES[page] == number


def test_the_accents_of_pt_es_it_and_the_euro_print_as_themselves_in_cp858():
    text = "Ação coração ÇÃÕ · Niño España ¿¡ · Caffè perché più · 10,55 €"
    assert parse(escpos.document([Line(text)], "cp858")).lines[0] == text


def test_romanian_comma_below_letters_print_as_their_cedilla_forms_in_cp852():
    printed = parse(escpos.document([Line("Ștefan Țurcanu: brânză, pâine, ușă, țară, mătușă")], "cp852"))
    assert printed.page == 18
    assert printed.lines[0] == "Ştefan Ţurcanu: brânză, pâine, uşă, ţară, mătuşă"


def test_romanian_in_cp1250_has_the_euro_too():
    assert escpos.to_page("Ș ț 5 €", "cp1250") == "Ş ţ 5 €"
    assert escpos.to_page("Ș ț 5 €", "cp852") == "Ş ţ 5 EUR"


@pytest.mark.parametrize("page,expected", [
    ("cp858", "Café ■■■■······ 4/10"),
    ("cp852", "Café ■■■■------ 4/10"),
    ("cp437", "Café ■■■■······ 4/10"),
    ("cp1250", "Café ****······ 4/10"),
])
def test_stamp_dots_are_replaced_predictably(page, expected):
    assert escpos.to_page("Café ●●●●○○○○○○ 4/10", page) == expected


def test_what_a_page_lacks_loses_its_accent_else_becomes_a_question_mark():
    assert escpos.to_page("Ă ș ő", "cp858") == "A s o"  # no ş in PC858: the plain letter
    assert escpos.to_page("Łódź 東京", "cp858") == "?ódz ??"
    assert escpos.to_page("“quoted” – … 12\u00a0€", "cp437") == '"quoted" - ... 12 EUR'


def test_control_characters_in_text_never_reach_the_printer_as_commands():
    data = escpos.document([Line("Ann\x1b@\x1dV\x00\x07 \u202eevil")], "cp858")
    printed = parse(data)  # the reader fails on any unknown command or control byte
    assert printed.lines[0] == "Ann?@?V?? ?evil"
    assert (printed.resets, printed.cuts) == (1, 1)


@given(st.text(max_size=60))
def test_any_text_encodes_in_every_page_without_an_error(text):
    for page in escpos.CODE_PAGES:
        data = escpos.document([Line(text)], page)
        assert parse(data).lines[0] == escpos.to_page(text, page)


def test_the_qr_code_is_the_printers_own_command():
    code = "LC1.ABCDEFGH.1.ABCDEFGHIJKL"
    data = escpos.document([Line("x"), QR(code, module=5, correction="Q")], "cp858")
    printed = parse(data)
    assert printed.qr == [code]
    assert printed.qr_settings == [{"model": 2, "module": 5, "correction": "Q"}]
    # store: GS ( k pL pH 49 80 48 data, with pL + 256 pH = len(data) + 3
    store = b"\x1d(k" + bytes([len(code) + 3, 0, 49, 80, 48]) + code.encode()
    assert store in data
    assert b"\x1d(k\x03\x001Q0" in data  # print the symbol stored


def test_unknown_code_page_names_the_known_ones():
    assert escpos.check_page("CP-852") == "cp852"
    assert escpos.check_page("1250") == "cp1250"
    with pytest.raises(ValueError, match="cp858"):
        escpos.check_page("cp999")
