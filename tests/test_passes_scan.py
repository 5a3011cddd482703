"""A scanned card code at the counter and in purchase/redeem/balance: it finds the customer; tampered,
revoked and forgotten codes are refused with the unknown-customer exit code (1)."""

from __future__ import annotations

import pytest

from loyaltycli.services import passes

REFUSED = "not a card of this shop, or no longer valid"


@pytest.fixture
def code(cli, database):
    assert cli("enroll", "Aoife Byrne", "--phone", "0851234567").exit_code == 0
    with database.session() as s:
        return passes.code_for(s, 1)


def test_purchase_redeem_and_balance_take_the_code(cli, code):
    sale = cli.json("purchase", code, "120.00", "--receipt", "R-1")
    assert (sale["code"], sale["points"], sale["balance"]) == ("C000001", 120, 170)
    spent = cli.json("redeem", f" {code.lower()} ", "100")
    assert (spent["code"], spent["points"], spent["balance"]) == ("C000001", 100, 70)
    assert cli.json("balance", code)["balance"] == 70
    assert cli.json("customer", "show", code)["name"] == "Aoife Byrne"


def test_refused_codes_exit_1_and_change_nothing(cli, code, database):
    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")
    with database.session() as s:
        revoked = code
        passes.revoke(s, 1)
    for bad in (tampered, revoked):
        result = cli("purchase", bad, "10.00")
        assert result.exit_code == 1
        assert result.stderr.startswith("error: unknown card ") and REFUSED in result.stderr
    assert cli.json("balance", "C000001")["balance"] == 50


def test_a_forgotten_customers_code_is_refused(cli, code):
    assert cli("customer", "forget", "C000001", "--yes").exit_code == 0
    result = cli("redeem", code, "50")
    assert result.exit_code == 1 and REFUSED in result.stderr


def test_a_code_scanned_at_the_counter(cli, code):
    # the scanner types the code and Enter: on its own, the line shows whose card it is and the balance;
    # in a command, it is the KEY
    result = cli("counter", input=f"{code}\npurchase {code} 20.00 --receipt P-1\n{code.lower()}\n")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "C000001 Aoife Byrne" in lines[0] and "50 points" in lines[0]
    assert "C000001" in lines[1] and "+20 points" in lines[1]
    assert "70 points" in lines[2]


def test_a_bad_code_scanned_at_the_counter(cli, code):
    result = cli("counter", input=code[:-2] + "\n")
    assert result.exit_code == 1
    assert "line 1: error: unknown card" in result.stderr


def test_run_line_with_a_scanned_code(code):
    from loyaltycli.cli.dispatch import run_line

    status, output = run_line(f"  {code}  ")
    assert status == 0 and "Aoife Byrne" in output


def test_an_email_that_starts_like_a_code_is_an_email(cli):
    assert cli("enroll", "Lc One", "--email", "lc1.ann@example.ie").exit_code == 0
    assert cli.json("balance", "LC1.ann@example.ie")["code"] == "C000001"


def test_a_card_of_another_shops_database_is_refused(cli, tmp_path, code):
    other = tmp_path / "other.db"
    assert cli("--db", other, "init").exit_code == 0
    assert cli("--db", other, "enroll", "Aoife Byrne").exit_code == 0
    theirs = cli.json("--db", other, "pass", "show", "C000001")["pass_code"]
    assert theirs != code
    result = cli("purchase", theirs, "10.00")
    assert result.exit_code == 1 and REFUSED in result.stderr
