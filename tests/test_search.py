"""Search is case- and accent-insensitive on a stored, indexed key; look-ups normalize like storage."""

from __future__ import annotations

import unicodedata

import pytest


@pytest.fixture
def people(cli):
    cli("program", "set", "phone_region", "PT")
    for name, phone, email in (("Álvaro Conceição", "912345678", "alvaro@example.pt"),
                               ("Élodie Marchand", None, "élodie@exemple.fr"),
                               ("Ștefan Popescu", "+40712345678", None),
                               ("Şerban Ionescu", None, None),
                               ("Zoë O'Brien", None, None)):
        args = ["enroll", name, "--no-input"]
        if phone:
            args += ["--phone", phone]
        if email:
            args += ["--email", email]
        result = cli(*args)
        assert result.exit_code == 0, result.stderr


def names(rows):
    return [row["name"] for row in rows]


@pytest.mark.parametrize("typed,found", [
    ("alvaro", ["Álvaro Conceição"]),
    ("ALVARO", ["Álvaro Conceição"]),
    ("conceicao", ["Álvaro Conceição"]),
    ("elodie", ["Élodie Marchand"]),
    ("stefan", ["Ștefan Popescu"]),
    ("ştefan", ["Ștefan Popescu"]),        # cedilla typed, comma-below stored
    ("șerban", ["Şerban Ionescu"]),        # comma-below typed, cedilla stored
    (unicodedata.normalize("NFD", "Élodie"), ["Élodie Marchand"]),
    ("zoe", ["Zoë O'Brien"]),
    ("ｓｔｅｆａｎ", ["Ștefan Popescu"]),   # fullwidth
])
def test_search_folds_case_and_accents(cli, people, typed, found):
    assert names(cli.json("customer", "list", "--search", typed)) == found


def test_search_by_phone_with_spaces_and_other_digits(cli, people):
    assert names(cli.json("customer", "list", "--search", "912 345 678")) == ["Álvaro Conceição"]
    assert names(cli.json("customer", "list", "--search", "+40 712 345 678")) == ["Ștefan Popescu"]
    fullwidth = "９１２３４５６７８"
    assert cli.json("balance", fullwidth)["code"] == "C000001"
    arabic_indic = "٩١٢٣٤٥٦٧٨"
    assert cli.json("balance", arabic_indic)["code"] == "C000001"


def test_an_nfd_email_finds_its_customer(cli, people):
    nfd = unicodedata.normalize("NFD", "élodie@exemple.fr")
    assert nfd != "élodie@exemple.fr"
    assert cli.json("balance", nfd)["code"] == "C000002"


def test_the_key_follows_edits_and_forget(cli, people, database):
    from sqlalchemy import text

    cli("customer", "edit", "C000005", "--name", "Zoé Ørsted")
    assert names(cli.json("customer", "list", "--search", "zoe orsted")) == ["Zoé Ørsted"]
    assert cli("customer", "forget", "C000005", "--yes").exit_code == 0
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT search_key FROM customer WHERE code='C000005'")).scalar() is None


def test_counter_completion_uses_the_key(people, database):
    from loyaltycli.services.lookup import customers_starting_with

    with database.session(write=False) as session:
        assert [m.code for m in customers_starting_with(session, "stef")] == ["C000003"]
        assert [m.code for m in customers_starting_with(session, "popes")] == ["C000003"]
        assert [m.code for m in customers_starting_with(session, "ser")] == ["C000004"]


def test_the_key_is_indexed(database):
    from sqlalchemy import inspect

    indexes = inspect(database.engine).get_indexes("customer")
    assert any(ix["column_names"] == ["search_key"] for ix in indexes)


def test_a_card_shaped_like_a_code_or_equal_to_a_phone_is_refused(cli, people):
    result = cli("enroll", "Ana", "--card", "C000001", "--no-input")
    assert result.exit_code == 1 and "looks like a customer code" in result.stderr
    result = cli("enroll", "Ana", "--card", "912345678", "--no-input")  # Álvaro's phone (PT)
    assert result.exit_code == 1 and "is the phone number of customer C000001" in result.stderr
    result = cli("customer", "edit", "C000002", "--card", "912345678")
    assert result.exit_code == 1 and "is the phone number of customer C000001" in result.stderr
    assert cli("enroll", "Ana", "--card", "6000100000001", "--no-input").exit_code == 0


def test_phones_are_shown_in_the_national_format_and_stored_e164(cli, people):
    table = cli("customer", "list").stdout
    assert "912 345 678" in table and "+40 712 345 678" in table
    assert cli.json("customer", "list", "--search", "alvaro")[0]["phone"] == "+351912345678"
    assert "912 345 678" in cli("customer", "show", "C000001").stdout
