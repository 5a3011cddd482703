"""Card codes (loyaltycli/services/passes.py): signed, short, free of personal data, a KEY everywhere;
tampered, foreign, revoked, retired and forgotten codes refused alike."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from loyaltycli.services import customers
from loyaltycli.base.errors import DuplicateCustomer, InvalidInput, RuleNotMet, UnknownCustomer
from loyaltycli.services import passes

QR_ALPHANUMERIC = set(string.ascii_uppercase + string.digits + " $%*+-./:")
REFUSED = re.compile(r"^unknown card '.*': not a card of this shop, or no longer valid")


@pytest.fixture
def aoife(session, program):
    return customers.enroll(session, program, "Aoife Byrne", phone="+353851234567", email="aoife@example.ie")


def refused(session, text: str) -> str:
    with pytest.raises(UnknownCustomer) as caught:
        customers.find(session, text)
    assert REFUSED.match(str(caught.value)), str(caught.value)
    return str(caught.value)


def test_a_code_is_short_signed_and_in_the_qr_alphanumeric_set(session, aoife):
    code = passes.code_for(session, aoife.id)
    assert len(code) == 27
    assert set(code) <= QR_ALPHANUMERIC
    ref, kid, mac = passes.parse(code)
    assert code == f"LC1.{ref}.{kid}.{mac}"
    key = passes.signing_key(session)
    assert (kid, mac) == (key.id, passes.mac(key.secret, key.id, ref))
    assert passes.code_for(session, aoife.id) == code  # the same code every time it is asked for
    assert passes.current_code(session, aoife.id) == code


def test_each_customer_has_a_code_of_their_own(session, program, aoife):
    brian = customers.enroll(session, program, "Brian Walsh")
    assert passes.code_for(session, aoife.id) != passes.code_for(session, brian.id)
    assert customers.find(session, passes.code_for(session, brian.id)).id == brian.id


def test_current_code_never_issues_one(session, aoife):
    assert passes.current_code(session, aoife.id) is None
    code = passes.code_for(session, aoife.id)
    assert passes.current_code(session, aoife.id) == code


@pytest.mark.parametrize("dress", [str, str.lower, lambda c: f"  {c}\n", lambda c: f"\t{c.lower()} "])
def test_the_code_is_a_key_in_any_case_and_with_spaces_around(session, aoife, dress):
    code = passes.code_for(session, aoife.id)
    assert customers.find(session, dress(code)).id == aoife.id


def test_every_change_of_one_character_is_refused(session, aoife):
    code = passes.code_for(session, aoife.id)
    messages = set()
    for i in range(4, len(code)):
        if code[i] == ".":
            continue
        for other in "A7" if code[i] != "A" else "B7":
            if other == code[i]:
                continue
            tampered = code[:i] + other + code[i + 1:]
            messages.add(refused(session, tampered).replace(tampered, "X"))
    assert len(messages) == 1  # one message, whatever was changed


@pytest.mark.parametrize("text", ["LC1.", "LC1.ABCDEFGH", "LC1.ABCDEFGH.1", "LC1.ABCDEFGH.1.ABC",
                                  "LC1.ABCDEFG1.1.ABCDEFGHIJKL", "lc1.........................."])
def test_malformed_codes_are_refused_the_same_way(session, aoife, text):
    refused(session, text)


def test_a_code_of_another_database_is_refused(session, aoife):
    ref, kid, _mac = passes.parse(passes.code_for(session, aoife.id))
    other_secret = "11" * 32  # same reference and key id, another database's secret
    refused(session, passes.sign(other_secret, kid, ref))


def test_a_revoked_code_stops_working_and_the_new_one_works(session, aoife):
    old = passes.code_for(session, aoife.id)
    new = passes.revoke(session, aoife.id)
    assert new != old and passes.code_for(session, aoife.id) == new
    refused(session, old)
    assert customers.find(session, new).id == aoife.id


def test_a_forgotten_customers_code_is_refused_and_no_code_is_made(session, aoife):
    from loyaltycli.services.merge import forget_customer

    code = passes.code_for(session, aoife.id)
    forget_customer(session, aoife)
    refused(session, code)
    with pytest.raises(RuleNotMet, match="forgotten; it has no card"):
        passes.code_for(session, aoife.id)
    assert passes.current_code(session, aoife.id) is None


def test_a_merged_customers_card_finds_the_customer_kept(session, program, aoife):
    from loyaltycli.services.merge import merge_customers

    dup = customers.enroll(session, program, "Aoife B")
    code = passes.code_for(session, dup.id)
    merge_customers(session, aoife, dup)
    assert customers.find(session, code).id == aoife.id


def test_rotation_old_codes_work_until_their_key_is_retired(session, aoife):
    old = passes.code_for(session, aoife.id)
    first = passes.signing_key(session).id
    second = passes.rotate_key(session).id
    new = passes.code_for(session, aoife.id)
    assert passes.parse(new)[1] == second and passes.parse(new)[0] == passes.parse(old)[0]
    assert customers.find(session, old).id == aoife.id  # the printed card still scans
    with pytest.raises(RuleNotMet, match="signs the current cards"):
        passes.retire_key(session, second)
    passes.retire_key(session, first)
    refused(session, old)
    assert customers.find(session, new).id == aoife.id
    assert [(k.kid, k.retired_at is not None, k.signing) for k in passes.list_keys(session)] == [
        (first, True, False), (second, False, True)]
    with pytest.raises(InvalidInput, match="no card key 99"):
        passes.retire_key(session, 99)


def test_rotation_that_retires_the_old_keys_at_once(session, aoife):
    old = passes.code_for(session, aoife.id)
    passes.rotate_key(session, retire_old=True)
    refused(session, old)
    assert customers.find(session, passes.code_for(session, aoife.id)).id == aoife.id


def test_the_migration_gives_an_upgraded_database_its_key(tmp_path):
    """An old database upgraded by `db upgrade` has a signing key, with a secret of 32 random bytes."""
    import sqlite3
    from contextlib import closing

    from test_migrate import migrated_db

    path = tmp_path / "old.db"
    migrated_db(path, "0007_taxid")
    migrated_db(path, "head")
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT id, secret, retired_at FROM pass_key").fetchall()
    assert len(rows) == 1 and rows[0][0] == 1 and rows[0][2] is None
    assert re.fullmatch(r"[0-9a-f]{64}", rows[0][1])


def test_export_leaves_the_secret_out(cli, tmp_path, database):
    assert cli("enroll", "Aoife Byrne").exit_code == 0
    with database.session() as s:
        secret = passes.signing_key(s).secret
    result = cli("export", tmp_path / "csv")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "csv" / "pass_key.csv").read_text()
    assert secret not in text and text.splitlines()[0] == "id,secret,created_at,retired_at"
    assert text.splitlines()[1].startswith("1,,")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.text(string.ascii_letters, min_size=6, max_size=12),
       last=st.text(string.ascii_letters, min_size=6, max_size=12),
       number=st.integers(min_value=1000000, max_value=9999999),
       mailbox=st.text(string.ascii_lowercase + string.digits, min_size=6, max_size=12))
def test_no_code_holds_personal_data(session, program, first, last, number, mailbox):
    phone = f"+35385{number}"
    try:
        customer = customers.enroll(session, program, f"{first} {last}", phone=phone,
                                    email=f"{mailbox}@example.ie")
    except DuplicateCustomer:
        assume(False)
    code = passes.code_for(session, customer.id)
    ref, kid, mac = passes.parse(code)
    # what the code is made of: a random reference, a key id, a signature of the two
    from loyaltycli.store.models import CustomerPass

    stored = session.execute(select(CustomerPass.ref).where(CustomerPass.customer_id == customer.id)).scalar()
    assert ref == stored and kid == passes.signing_key(session).id
    for personal in (first.upper(), last.upper(), str(number), mailbox.upper(), customer.code,
                     str(customer.id).zfill(6)):
        assert personal not in code
