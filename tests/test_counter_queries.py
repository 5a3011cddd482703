"""The counter's cost in statements: a `balance` or a `purchase` of one customer asks the database a fixed,
small number of times, whatever the customer's history, so that a slower counter cannot come back unseen.

Counted: every statement SQLAlchemy sends (``before_cursor_execute``; the bulk writer's INSERTs go to the
driver directly and are not counted), and the transactions begun (``begin``). Each line runs in the warm
counter (``run_line``) after a first line has opened the database and checked its schema. The bounds are
those the code reaches today (README, Counter latency); lower them when a change saves a statement.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

PG = bool(os.environ.get("LOYALTY_TEST_PG_URL"))
# (statements, transactions) per line, at most. On SQLite BEGIN (IMMEDIATE) is a statement and the bulk writer's
# INSERTs are not; on PostgreSQL the customer's row lock is a statement of its own and the INSERTs count.
# Each program type with definitions of its own (stamp cards, goals) is read with the settings: one each.
BOUNDS = {
    "balance": (6, 1) if PG else (7, 1),
    "balance, stamp cards": (9, 1) if PG else (10, 1),
    "customer show": (7, 1) if PG else (8, 1),  # one of them the consent answers per channel
    # the balance a purchase reports is the spendable one: the customer's ledger read for it (one statement)
    "purchase": (14, 1) if PG else (13, 1),
    "purchase, stamp cards": (21, 1) if PG else (18, 1),
}


@contextmanager
def counting():
    seen = {"statements": [], "transactions": 0}

    def statement(conn, cursor, text, params, context, executemany):
        seen["statements"].append(text)

    def begin(conn):
        seen["transactions"] += 1

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "begin", begin)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        event.remove(Engine, "begin", begin)


def line(text: str) -> tuple[int, int, list[str]]:
    from loyaltycli.cli.dispatch import run_line

    with counting() as seen:
        code, output = run_line(text)
    assert code == 0, output
    return len(seen["statements"]), seen["transactions"], seen["statements"]


def shop(cli, *, cards: bool) -> None:
    from loyaltycli.cli.dispatch import run_line

    assert cli("enroll", "Aoife Byrne", "--email", "aoife@example.ie").exit_code == 0
    assert cli("enroll", "Brian Walsh").exit_code == 0
    if cards:
        assert cli("card", "add", "Coffee", "--stamps", "10", "--reward", "Free coffee", "--sku", "COF-*").exit_code == 0
    for i in range(30):  # a history: the counts do not grow with it
        args = ["purchase", "C000001", "4.50", "--receipt", f"H-{i}"]
        if cards:
            args += ["--item", "COF-1:1:4.50"]
        assert cli(*args).exit_code == 0, i
    assert cli("redeem", "C000001", "100").exit_code == 0
    code, output = run_line("balance C000002")  # the warm counter: database open, schema checked
    assert code == 0, output


def within(name: str, counted: tuple[int, int, list[str]]) -> None:
    statements, transactions, texts = counted
    most, most_transactions = BOUNDS[name]
    assert statements <= most, f"{name}: {statements} statements (at most {most}):\n" + "\n".join(texts)
    assert transactions <= most_transactions, f"{name}: {transactions} transactions"


@pytest.mark.parametrize("cards", [False, True], ids=["no cards", "stamp cards"])
def test_balance_and_customer_show_ask_a_fixed_few_statements(cli, cards):
    shop(cli, cards=cards)
    counted = line("balance C000001")
    within("balance, stamp cards" if cards else "balance", counted)
    if not cards:
        within("customer show", line("customer show C000001"))
    # the same count for a customer with a longer history
    for i in range(20):
        assert cli("purchase", "C000001", "3.00", "--receipt", f"M-{i}").exit_code == 0
    assert line("balance C000001")[0] == counted[0]


@pytest.mark.parametrize("cards", [False, True], ids=["no cards", "stamp cards"])
def test_a_purchase_asks_a_fixed_few_statements_in_one_transaction(cli, cards):
    shop(cli, cards=cards)
    item = " --item COF-1:1:4.50" if cards else ""
    counted = line(f"purchase C000001 4.50 --receipt Q-1{item}")
    within("purchase, stamp cards" if cards else "purchase", counted)
    assert counted[1] == 1  # the shop's settings (locale, zone) are read in the purchase's own transaction
    assert line(f"purchase C000001 4.50 --receipt Q-2{item}")[0] == counted[0]


def test_a_mistyped_amount_is_the_error_shown_even_without_a_database(cli, tmp_path):
    """The amount is read in the purchase's transaction now; with no database it is still read first."""
    missing = tmp_path / "none.db"
    result = cli("--db", str(missing), "purchase", "C000001", "abc")
    assert (result.exit_code, result.stderr) == (1, "error: amount 'abc' is not a decimal amount like 12.50\n")
    result = cli("--db", str(missing), "purchase", "C000001", "12.50")
    assert result.exit_code == 4 and result.stderr.startswith("error: no database at ")
    assert not missing.exists()
