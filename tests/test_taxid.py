"""Tax ids on the customer (`--tax-id`): checked with python-stdnum for the shop's country, stored compact,
a unique KEY; shown, edited, forgotten, merged like the other personal fields."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from loyaltycli.base.errors import DuplicateCustomer, InvalidInput

VALID = {  # country -> (as typed, as stored)
    "PT": ("PT 123 456 789", "123456789"),
    "ES": ("12345678-z", "12345678Z"),
    "RO": ("1800101221144", "1800101221144"),
    "IT": ("rssmra85t10a562s", "RSSMRA85T10A562S"),
}


@pytest.mark.parametrize("country", sorted(VALID))
def test_enroll_with_the_tax_id_of_the_shops_country(cli, country):
    assert cli("init", "--country", country).exit_code == 0
    typed, stored = VALID[country]
    data = cli.json("enroll", "Ana", "--tax-id", typed)
    assert data["tax_id"] == stored
    # a KEY: as stored, or as typed
    assert cli.json("customer", "show", stored)["code"] == "C000001"
    assert cli.json("customer", "show", typed)["code"] == "C000001"
    shown = cli("customer", "show", "C000001")
    assert shown.exit_code == 0 and "tax id" in shown.stdout and stored in shown.stdout


def test_spanish_nie_and_romanian_cui(cli):
    assert cli("init", "--country", "ES").exit_code == 0
    assert cli.json("enroll", "Ana", "--tax-id", "X1234567L")["tax_id"] == "X1234567L"
    assert cli("program", "set", "country", "RO").exit_code == 0
    assert cli.json("enroll", "SC Exemplu SRL", "--tax-id", "RO 185 472 90")["tax_id"] == "18547290"


@pytest.mark.parametrize("country,typed,message", [
    ("PT", "123456780", "error: tax id '123456780' is not a valid PT NIF\n"),
    ("ES", "123456789", "error: tax id '123456789' is not a valid ES NIF or ES NIE\n"),
    ("IT", "123456789", "error: tax id '123456789' is not a valid IT codice fiscale\n"),
    ("RO", "1800101221145", "error: tax id '1800101221145' is not a valid RO CNP or RO CUI\n"),
    # an id of another country is refused where the country is set
    ("PT", "RSSMRA85T10A562S", "error: tax id 'RSSMRA85T10A562S' is not a valid PT NIF\n"),
    ("PT", "123\x1b[2J", "error: tax id '123\\x1b[2J' may hold only letters, digits, spaces, dots and dashes\n"),
    ("PT", "1" * 80, "error: tax id '11111111111111111111'... is longer than 64 characters\n"),
])
def test_a_wrong_tax_id_is_refused_and_nothing_is_saved(cli, country, typed, message):
    assert cli("init", "--country", country).exit_code == 0
    result = cli("enroll", "Ana", "--tax-id", typed)
    assert (result.exit_code, result.stderr) == (1, message)
    assert cli.json("customer", "list") == []


def test_without_a_country_any_of_the_four_is_accepted(cli):
    for typed, stored in VALID.values():
        assert cli.json("enroll", f"Someone {stored}", "--tax-id", typed)["tax_id"] == stored
    result = cli("enroll", "Nobody", "--tax-id", "123456780")
    assert result.exit_code == 1
    assert result.stderr == ("error: tax id '123456780' is not a valid PT NIF, ES NIF, ES NIE, RO CNP, RO CUI "
                             "or IT codice fiscale\n")


def test_tax_id_is_unique_edited_and_cleared(cli):
    assert cli("init", "--country", "PT").exit_code == 0
    assert cli("enroll", "Ana", "--tax-id", "123456789").exit_code == 0
    assert cli("enroll", "Rui").exit_code == 0
    result = cli("enroll", "Eva", "--tax-id", "PT123456789")
    assert (result.exit_code, result.stderr) == (1, "error: tax id 123456789 already belongs to customer C000001\n")
    result = cli("customer", "edit", "C000002", "--tax-id", "123 456 789")
    assert (result.exit_code, result.stderr) == (1, "error: tax id 123456789 already belongs to customer C000001\n")
    assert cli.json("customer", "edit", "C000002", "--tax-id", "215876342")["tax_id"] == "215876342"
    assert cli.json("customer", "show", "215876342")["code"] == "C000002"
    assert cli.json("customer", "edit", "215876342", "--tax-id", "")["tax_id"] is None
    assert cli("customer", "show", "215876342").exit_code != 0
    # the same id cannot be one customer's card and another's tax id (a KEY would name both)
    result = cli("customer", "edit", "C000002", "--card", "123456789")
    assert (result.exit_code, result.stderr) == (
        1, "error: card 123456789 is the tax id of customer C000001; a KEY would name both\n")


def test_forget_erases_it_and_merge_moves_it(cli):
    assert cli("init", "--country", "PT").exit_code == 0
    assert cli("enroll", "Ana", "--tax-id", "123456789").exit_code == 0
    assert cli("enroll", "Ana S.").exit_code == 0
    assert cli("enroll", "Rui", "--tax-id", "215876342").exit_code == 0
    assert cli("customer", "merge", "C000002", "C000001", "--yes").exit_code == 0
    assert cli.json("customer", "show", "123456789")["code"] == "C000002"
    assert cli.json("customer", "show", "C000001", )["tax_id"] is None
    assert cli("customer", "forget", "C000003", "--yes").exit_code == 0
    assert cli.json("customer", "show", "C000003")["tax_id"] is None
    assert cli("customer", "show", "215876342").exit_code == 1
    assert cli("db", "check").exit_code == 0


@pytest.mark.sqlite_only
def test_db_check_notices_a_tax_id_left_on_a_forgotten_customer(cli, db_path):
    assert cli("enroll", "Gone", "--tax-id", "123456789").exit_code == 0
    assert cli("customer", "forget", "C000001", "--yes").exit_code == 0
    from loyaltycli.store import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()
    from safety_helpers import execute

    execute(db_path, "UPDATE customer SET tax_id = '123456789' WHERE id = 1")
    result = cli("db", "check", "--json")
    assert result.exit_code == 1
    assert ("forgotten", "C000001 is forgotten but still holds personal data") in [
        (p["check"], p["detail"]) for p in json.loads(result.stdout)["problems"]]


def test_a_nif_imported_from_saft_finds_the_customer_whose_tax_id_it_is(cli, tmp_path):
    assert cli("init", "--country", "PT").exit_code == 0
    assert cli("enroll", "Ana", "--tax-id", "PT 215 876 342", "--at", "2026-01-01T09:00").exit_code == 0
    saft = Path(shutil.copy(Path(__file__).parents[1] / "sample_data" / "saft-pt.xml", tmp_path / "saft.xml"))
    data = cli.json("import", saft, "--preset", "saft-pt", "--enroll-unknown")
    assert data["imported"] == 4
    ana = cli.json("customer", "show", "C000001")
    assert ana["tax_id"] == "215876342" and ana["card"] is None and ana["balance"] > 0
    # the other NIF of the file was not anyone's tax id: enrolled with it as tax id and their name (issue 25)
    rui = cli.json("customer", "show", "C000002")
    assert (rui["tax_id"], rui["card"], rui["name"]) == ("256314780", None, "Rui Lima")


def test_library(session):
    from loyaltycli.services import customers
    from loyaltycli.store.program import load_program, set_setting

    set_setting(session, "country", "PT")
    program_pt = load_program(session)
    ana = customers.enroll(session, program_pt, "Ana", tax_id="PT 123.456.789")
    assert ana.tax_id == "123456789"
    assert customers.find(session, "pt 123 456 789", program_pt).id == ana.id
    with pytest.raises(DuplicateCustomer, match="tax id 123456789 already belongs to customer C000001"):
        customers.enroll(session, program_pt, "Eva", tax_id="123456789")
    with pytest.raises(InvalidInput, match="not a valid PT NIF"):
        customers.edit(session, program_pt, ana, tax_id="12345678Z")
    customers.edit(session, program_pt, ana, tax_id="")
    assert ana.tax_id is None


def test_a_tax_id_that_is_another_customers_phone_is_refused_both_ways(cli):
    """912345608 is a Portuguese mobile and a valid NIF: as one customer's phone and another's tax id, the
    KEY 912345608 would name both."""
    assert cli("program", "set", "country", "PT").exit_code == 0
    assert cli("enroll", "Ana", "--phone", "912345608").exit_code == 0
    refused = cli("enroll", "Bruno", "--tax-id", "912345608")
    assert (refused.exit_code, refused.stderr) == (
        1, "error: tax id 912345608 is the phone number of customer C000001; a KEY would name both\n")
    assert cli("enroll", "Bruno", "--tax-id", "912345616").exit_code == 0  # a NIF, and a mobile number too
    assert cli("customer", "edit", "C000002", "--tax-id", "912345608").exit_code == 1
    refused = cli("enroll", "Rui", "--phone", "912 345 616")
    assert (refused.exit_code, refused.stderr) == (
        1, "error: phone 912345616 is the tax id of customer C000002; a KEY would name both\n")
    assert cli.json("balance", "912345608")["code"] == "C000001"


def test_a_key_that_is_one_customers_phone_and_anothers_tax_id_is_ambiguous(cli, database):
    """Such a pair from before the refusal: the KEY names both, and says so, rather than picking one."""
    from sqlalchemy import update

    from loyaltycli.store.models import Customer

    assert cli("program", "set", "country", "PT").exit_code == 0
    assert cli("enroll", "Ana", "--phone", "912345608").exit_code == 0
    assert cli("enroll", "Bruno", "--tax-id", "123456789").exit_code == 0
    with database.session() as session:
        session.execute(update(Customer).where(Customer.code == "C000002").values(tax_id="912345608"))
    result = cli("balance", "912345608")
    assert (result.exit_code, result.stderr) == (
        1, "error: customer '912345608' is ambiguous: it matches C000001 (Ana), C000002 (Bruno); use the code\n")
