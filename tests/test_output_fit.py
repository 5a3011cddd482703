"""Tables fit the width: at 80 columns `customer list` and `program show` drop their less important
columns; below 60 one record per block; a number is never cut; piped output without COLUMNS is plain
(every row on one line, nothing cut). Stored control characters are escaped when printed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

NAMES = ["Álvaro Magalhães Gonçalves", "Ștefan Popescu-Ionescu", "Aoife Byrne"]


@pytest.fixture
def shop(cli):
    assert cli("init", "--country", "PT").exit_code == 0
    for i, name in enumerate(NAMES, start=1):
        assert cli("enroll", name, "--phone", f"91234567{i}", "--email", f"customer.number.{i}@example.pt",
                   "--card", f"600010000000{i}").exit_code == 0
    assert cli("award", "C000001", "123456789", "--reason", "a big number").exit_code == 0
    assert cli("program", "set", "max_purchase", "99999").exit_code == 0
    assert cli("purchase", "C000002", "98765,43").exit_code == 0
    return cli


def lines_of(result):
    assert result.exit_code == 0, result.stderr
    # Babel's pt_PT writes 98 765,43 € with a narrow no-break space and a no-break space
    return result.stdout.replace("\u202f", " ").replace("\xa0", " ").splitlines()


def shown_at(width: int, monkeypatch, run, *args) -> str:
    """The output of ``run(*args)`` at ``width`` columns, checked to fit it with no value cut short."""
    monkeypatch.setenv("COLUMNS", str(width))
    lines = lines_of(run(*args))
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    assert "…" not in text
    return text


def test_customer_list_at_80_columns_keeps_code_name_and_numbers(shop, monkeypatch):
    text = shown_at(80, monkeypatch, shop, "customer", "list")
    for code, name in zip(("C000001", "C000002", "C000003"), NAMES):
        assert code in text and name in text
    assert "123456839" in text  # 123456789 awarded + 50 welcome, whole
    assert "98 765,43 €" in text  # spend, whole
    assert "card" not in text and "6000100000001" not in text  # the less important columns left out


def test_customer_list_below_60_columns_is_one_record_per_block_with_every_value(shop, monkeypatch):
    text = shown_at(50, monkeypatch, shop, "customer", "list")
    for i, name in enumerate(NAMES, start=1):
        assert f"C00000{i}" in text and name in text and f"customer.number.{i}@example.pt" in text
        assert f"600010000000{i}" in text and f"912 345 67{i}" in text
    assert "123456839" in text and "98 765,43 €" in text
    # one block per record: a blank line between them
    assert text.count("\n\n") == 2


def test_piped_without_columns_is_plain_one_line_per_row(shop, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    lines = lines_of(shop("customer", "list"))
    assert "…" not in "\n".join(lines)
    row = next(line for line in lines if "C000001" in line)
    for value in (NAMES[0], "912 345 671", "customer.number.1@example.pt", "6000100000001", "123456839"):
        assert value in row
    assert not any(ch in "\n".join(lines) for ch in "│┃━")  # no borders


@pytest.mark.parametrize("columns", ["80", "50"])
def test_program_show_fits(cli, monkeypatch, columns):
    assert cli("init", "--country", "RO").exit_code == 0
    expected = cli.json("program", "show")
    text = shown_at(int(columns), monkeypatch, cli, "program", "show")
    for key in expected:
        assert key in text
    assert "Europe/Bucharest" in text and "ro_RO" in text
    if columns == "80":
        assert "meaning" not in text and "ISO 4217" not in text  # the meaning column is left out
    else:
        assert "ISO 4217" in text  # one block per setting, its meaning folded


def test_a_number_is_never_cut_in_a_narrow_wide_table(shop, monkeypatch):
    """history: a wide statement at 60 columns keeps every number whole (or goes to blocks)."""
    monkeypatch.setenv("COLUMNS", "60")
    text = "\n".join(lines_of(shop("history", "C000001")))
    assert "…" not in text
    assert "123456789" in text and "123456839" in text


def test_stored_control_characters_are_escaped_when_printed(shop, database, monkeypatch):
    """A row stored before the entry check (or by another program) holds an escape sequence: tables,
    fields and messages show it escaped, never send it to the terminal."""
    from sqlalchemy import update

    from loyaltycli.store.models import Customer, LedgerEntry

    with database.session() as s:
        s.execute(update(Customer).where(Customer.code == "C000003").values(name="Evil\x1b[2J\x07Name\u202e"))
        s.execute(update(LedgerEntry).where(LedgerEntry.kind == "award").values(note="wipe\x1b]0;title\x07"))
    for columns in ("120", "50"):
        monkeypatch.setenv("COLUMNS", columns)
        for args in (("customer", "list"), ("customer", "show", "C000003"), ("history", "C000001")):
            out = shop(*args).stdout
            assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, args
    monkeypatch.setenv("COLUMNS", "120")
    assert "Evil\\x1b[2J\\x07Name\\u202e" in shop("customer", "list").stdout
    assert "wipe\\x1b]0;title\\x07" in shop("history", "C000001").stdout
    result = shop("customer", "edit", "C000003", "--email", "evil@example.pt")
    assert result.stdout == "updated C000003 Evil\\x1b[2J\\x07Name\\u202e\n"


# -- narrow terminals: amounts, codes, dates and words are never broken -----------------------------------------
def whole_on_a_line(text: str, pieces) -> None:
    """Each piece (an amount, a code, a date and time, a word) stands whole on one line of ``text``."""
    lines = text.splitlines()
    broken = [piece for piece in pieces if not any(piece in line for line in lines)]
    assert not broken, (broken, text)


@pytest.fixture
def cafe_shop(shop):
    """The shop above, with a stamp card, a goal and a customer whose card says amounts in sentences."""
    def run(*args):
        result = shop(*args)
        assert result.exit_code == 0, result.stderr

    run("card", "add", "Café", "--stamps", "10", "--reward", "Café grátis", "--sku", "COF-*", "--per", "item")
    run("goal", "add", "Pastelaria", "--spend", "30,00", "--sku", "PAS-*", "--reward", "Café grátis")
    run("enroll", "Maria Fernanda Albuquerque de Sousa", "--phone", "912345678", "--at", "2026-06-01T09:00:00",
         "--email", "maria.fernanda.albuquerque@example.com", "--email-offers")
    run("purchase", "C000004", "487,50", "--receipt", "R-1", "--at", "2026-06-10T10:00:00")
    run("purchase", "C000004", "24,40", "--receipt", "R-2", "--item", "PAS-1:2:9,20", "--item", "COF-1:2:3,00",
         "--at", "2026-06-11T10:00:00")
    run("survey", "C000004", "--nps", "9", "--comment", "Excelente serviço, o café custa 1,20 € e vale cada "
                                                          "cêntimo da conta de 487,50 €")
    return shop


AMOUNTS = ["487,50 €", "24,40 €", "18,40 €", "30,00 €", "988,10 €"]


@pytest.mark.parametrize("width", [40, 30])
def test_customer_show_at_a_narrow_width_never_breaks_an_amount_a_code_or_a_word(cafe_shop, monkeypatch, width):
    text = shown_at(width, monkeypatch, cafe_shop, "customer", "show", "C000004")
    whole_on_a_line(text, ["Maria", "Fernanda", "Albuquerque", "Sousa", "C000004", "912 345 678",
                           "2026-06-01 09:00", "2026-06-10 10:00", "2026-06-11 10:00", "511,90 €", "milestone:",
                           *AMOUNTS])
    email = "maria.fernanda.albuquerque@example.com"  # 38 characters: whole on a line of its own at 40
    assert (email in text) == (width == 40)
    if width == 40:  # on the lines under its label, the room beside the labels being too small for it
        lines = [line.strip() for line in text.splitlines()]
        assert lines[lines.index("email") + 1] == email
    for label in ("code", "email", "next tier", "goals", "note"):
        assert label in text


@pytest.mark.parametrize("args, pieces", [
    (("history", "C000004"), ["487,50 €", "24,40 €", "2026-06-10 10:00", "Bronze"]),
    (("customer", "list"), ["98 765,43 €", "511,90 €", "Albuquerque", "maria.fernanda.albuquerque@example.com"]),
    (("report", "nps"), ["1,20 €", "487,50 €", "Excelente", "cêntimo"]),
    (("report", "summary"), ["1,20 €", "487,50 €", "99 277,33 €", "cêntimo"]),
    (("report", "tiers"), ["98 765,43 €"]),
    (("report", "clv"), ["99 277,33 €"]),
    (("report", "goals"), ["30,00 €", "18,40 €"]),
])
def test_customer_and_report_screens_at_40_columns_keep_amounts_whole(cafe_shop, monkeypatch, args, pieces):
    whole_on_a_line(shown_at(40, monkeypatch, cafe_shop, *args), pieces)


def test_words_wrap_at_ordinary_spaces_only():
    from loyaltycli.cli.render import widest_atom, wrap_words

    text = "talão R1 487,50\u00a0€ loja em 2026-06-15 13:00 ao telefone +40 712 345 678"
    assert wrap_words(text, 16) == ["talão R1", "487,50\u00a0€ loja em", "2026-06-15 13:00", "ao telefone",
                                    "+40 712 345 678"]
    assert all(len(line) <= 16 for line in wrap_words(text, 16))
    assert widest_atom(text) == len("2026-06-15 13:00")
    assert wrap_words("a\nb c", 80) == ["a", "b c"]  # line breaks kept
    assert wrap_words("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]  # only wider than the line: cut
    assert wrap_words("code ABCDEFGHIJ\u00a0 next", 5) == ["code", "ABCDE", "FGHIJ", "\u00a0", "next"]  # kept
    assert wrap_words("Ana\u200d Maria Silva", 8) == ["Ana\u200d", "Maria", "Silva"]  # a joiner's space counts
    assert wrap_words("\u200d\u200d漢 a", 1) == ["\u200d\u200d漢", "a"]  # wider than the width: alone, no crash


def test_a_list_of_numbers_is_words_and_a_phone_too_wide_is_cut_at_its_spaces():
    from loyaltycli.cli.render import wrap_words

    numbers = " ".join(str(i) for i in range(1, 21))
    assert wrap_words(numbers, 20) == ["1 2 3 4 5 6 7 8 9 10", "11 12 13 14 15 16 17", "18 19 20"]
    assert wrap_words("ring +40 712 345 678 now", 16) == ["ring", "+40 712 345 678", "now"]
    assert wrap_words("ring +40 712 345 678 now", 10) == ["ring +40", "712 345", "678 now"]
    assert wrap_words("  a   b", 40) == ["  a   b"]  # a line that fits is printed as written


@pytest.mark.dialect_free("words packed into lines: no database")
@given(words=st.lists(st.text(alphabet="ab€ç\u00a0\t", min_size=1, max_size=12), max_size=12),
       width=st.integers(min_value=1, max_value=14), indent=st.sampled_from(["", "  "]),
       paper=st.booleans())
def test_one_packing_for_the_screen_and_the_paper_keeps_every_word_in_order_within_the_width(words, width, indent,
                                                                                             paper):
    """base/wrapping.pack as the screen (wrap_words: a word of spaces is a word) and the paper (slip.fit: a line
    of nothing but spaces holds nothing) use it: no line is wider than the width; the words come back in
    order, whole unless wider than a whole line (then cut in order); the screen loses nothing at all."""
    from loyaltycli.base.wrapping import pack

    def cut(word):
        return [word[i:i + width] for i in range(0, len(word), width)]

    holds = str.strip if paper else bool
    lines = pack(words, width + len(indent), len, cut, indent=indent, holds=holds)
    assert all(len(line) <= width + len(indent) for line in lines)
    if paper:
        assert "".join("".join(lines).split()) == "".join("".join(words).split())
    else:
        assert "".join(lines).replace(" ", "") == "".join(words)  # (words never hold a plain space)
    for word in words:
        if len(word) <= width and word.strip():  # a word that fits a line is never cut
            assert any(word in line for line in lines)
    if words and len(words[0]) <= width and holds(words[0]):  # indented when its first word fits beside it
        assert lines[0].startswith(indent + words[0])
