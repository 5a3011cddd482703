"""Data safety, second round (issue 16): forget reaches merged duplicates and can finish a stopped
erasure, confirmations for what cannot be undone, the operator on rows written by hand."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest


def file_bytes(path) -> bytes:
    data = path.read_bytes()
    for extra in ("-wal", "-journal"):
        other = path.with_name(path.name + extra)
        if other.exists():
            data += other.read_bytes()
    return data


# -- 9. forget reaches every record that was ever the person's ----------------------------------------------
def test_forget_erases_the_duplicates_merged_into_the_customer(cli, db_path):
    assert cli("enroll", "Siobhan Keane", "--email", "siobhan@example.ie").exit_code == 0
    assert cli("enroll", "Siobhan K.", "--phone", "0851234567", "--birthday", "1988-02-03").exit_code == 0
    assert cli("award", "C000002", "20", "--reason", "Siobhan's birthday cake").exit_code == 0
    assert cli("survey", "C000002", "--nps", "4", "--comment", "Siobhan hated the queue").exit_code == 0
    assert cli("customer", "merge", "C000001", "C000002", "--yes").exit_code == 0
    result = cli.json("customer", "forget", "C000001", "--yes")
    assert result["duplicates"] == ["C000002"] and result["comments"] == 1 and result["reasons"] == 1
    show = cli("customer", "show", "C000002", "--json")
    assert "Siobhan" not in show.stdout and "1988" not in show.stdout
    history = cli.json("history", "C000002")
    assert all("Siobhan" not in (row["note"] or "") for row in history)
    assert cli("db", "check").exit_code == 0
    if not isinstance(db_path, str):
        data = file_bytes(db_path)
        for secret in (b"Siobhan", b"0851234567", b"+353851234567", b"birthday cake", b"hated the queue"):
            assert secret not in data, secret


def test_db_check_finds_personal_data_left_on_a_merged_duplicate(cli, db_path):
    from safety_helpers import execute

    assert cli("enroll", "Keep").exit_code == 0
    assert cli("enroll", "Dup").exit_code == 0
    assert cli("customer", "merge", "C000001", "C000002", "--yes").exit_code == 0
    assert cli("customer", "forget", "C000001", "--yes").exit_code == 0
    execute(db_path, "UPDATE customer SET name = 'Dup again' WHERE code = 'C000002'")
    import json

    result = cli("db", "check", "--json")
    found = json.loads(result.stdout)
    assert result.exit_code == 1 and found["problems"] == [{"check": "forgotten", "detail": "C000002 was merged into forgotten C000001 but "
                                  "still holds personal data (run `loyalty customer forget C000001 --yes` again)"}]
    assert cli("customer", "forget", "C000001", "--yes").exit_code == 0
    assert cli("db", "check").exit_code == 0


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]


# -- 10. a forget killed before its VACUUM is finished by the next forget; db check tells -------------------
@pytest.mark.sqlite_only
def test_a_forget_killed_before_compacting_is_reported_and_finished(cli, db_path, tmp_path):
    assert cli("enroll", "Orla Quigley-Secret", "--email", "orla.secret@example.ie").exit_code == 0
    assert cli("enroll", "Other Person").exit_code == 0
    from loyaltycli.store import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"Orla Quigley-Secret" in db_path.read_bytes()
    # the forget stops itself (SIGSTOP) after its commit, before compacting the file; then it is killed
    forget = subprocess.Popen([sys.executable, "-m", "loyaltycli", "--db", str(db_path), "customer", "forget",
                               "C000001", "--yes"], env={**os.environ, "LOYALTY_FAULT_BEFORE_SCRUB": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 60
    while time.time() < end and _state(forget.pid) != "T":
        assert forget.poll() is None
        time.sleep(0.02)
    forget.send_signal(signal.SIGKILL)
    forget.wait()
    assert b"Orla Quigley-Secret" in file_bytes(db_path)  # the kill left the old bytes in the file
    import json

    result = cli("db", "check", "--json")
    found = json.loads(result.stdout)
    assert result.exit_code == 1
    assert {"check": "forgotten", "detail": "erased data of C000001 may still sit in the file's free space (a "
            "forget was stopped before compacting it); run `loyalty customer forget C000001 --yes` again"} \
        in found["problems"]
    result = cli("customer", "forget", "C000001", "--yes")
    assert result.exit_code == 0, result.stderr
    for database in dbmod._databases.values():
        database.engine.dispose()
    assert b"Orla Quigley-Secret" not in file_bytes(db_path)
    assert b"orla.secret" not in file_bytes(db_path)
    assert cli("db", "check").exit_code == 0


# -- 17. confirmations -----------------------------------------------------------------------------------------
@pytest.fixture
def two(cli):
    assert cli("enroll", "Aoife Byrne", "--email", "aoife@example.ie").exit_code == 0
    assert cli("enroll", "Brian Walsh", "--phone", "0851234567").exit_code == 0
    assert cli("purchase", "C000002", "80.00").exit_code == 0


@pytest.mark.parametrize("args", [("customer", "merge", "C000001", "C000002"), ("customer", "forget", "C000002")])
def test_without_yes_and_without_a_terminal_nothing_irreversible_happens(cli, db_path, two, args):
    from safety_helpers import dump

    before = dump(db_path)
    for extra in ((), ("--no-input",)):
        result = cli(*extra, *args)
        assert result.exit_code == 1
        assert result.stderr.endswith("cannot be undone; add --yes to confirm (there is no terminal to ask on)\n")
    assert dump(db_path) == before


@pytest.mark.parametrize("answer", [False, True])
def test_on_a_terminal_merge_shows_both_customers_and_asks(cli, db_path, two, monkeypatch, answer):
    from loyaltycli.cli import options, prompts

    asked = []
    monkeypatch.setattr(options.Options, "interactive", property(lambda self: not self.no_input))
    monkeypatch.setattr(prompts, "confirm", lambda question: asked.append(question) or answer)
    result = cli("customer", "merge", "C000001", "C000002")
    assert asked == ["merge C000002 into C000001: this cannot be undone. Go ahead?"]
    assert "keep:      C000001 Aoife Byrne, aoife@example.ie, balance 50 points" in result.stderr
    assert "duplicate: C000002 Brian Walsh, +353851234567, balance 130 points" in result.stderr
    if answer:
        assert result.exit_code == 0 and cli.json("balance", "C000001")["balance"] == 180
    else:
        assert (result.exit_code, result.stderr.splitlines()[-1]) == (
            1, "error: merge C000002 into C000001 cancelled; nothing was changed")
        assert cli.json("balance", "C000002")["balance"] == 130


@pytest.mark.sqlite_only
def test_on_a_terminal_restore_shows_the_backup_and_asks(cli, db_path, tmp_path, two, monkeypatch):
    from loyaltycli.cli import options, prompts

    backup = tmp_path / "b.db"
    assert cli("backup", str(backup)).exit_code == 0
    assert cli("enroll", "Ciara Doyle").exit_code == 0
    monkeypatch.setattr(options.Options, "interactive", property(lambda self: True))
    monkeypatch.setattr(prompts, "confirm", lambda question: False)
    result = cli("restore", str(backup))
    assert result.exit_code == 1
    assert "2 customers, 3 ledger rows" in result.stderr and "written 20" in result.stderr
    assert result.stderr.splitlines()[-1] == "error: restore cancelled; nothing was changed"
    assert cli("balance", "C000003").exit_code == 0
    assert list(tmp_path.glob("loyalty.db.before-restore-*")) == [] and list(tmp_path.glob(".*tmp*")) == []


# -- 18. the operator on rows written by hand ------------------------------------------------------------------
def test_rows_written_by_hand_carry_the_operator(cli, two, monkeypatch):
    import getpass

    monkeypatch.delenv("LOYALTY_OPERATOR", raising=False)
    assert cli("award", "C000001", "100", "--reason", "goodwill", "--by", "Ana").exit_code == 0
    monkeypatch.setenv("LOYALTY_OPERATOR", "Bea")
    assert cli("redeem", "C000001", "100").exit_code == 0
    monkeypatch.delenv("LOYALTY_OPERATOR")
    receipt = cli.json("purchase", "C000001", "20.00")["receipt_id"]
    assert cli("refund", receipt, "--by", "Cai").exit_code == 0
    assert cli("--by", "Dan", "customer", "merge", "C000001", "C000002", "--yes").exit_code == 0
    rows = cli.json("history", "C000001")
    by_kind = {}
    for row in rows:
        by_kind.setdefault(row["kind"], set()).add(row["operator"])
    assert by_kind["award"] == {"Ana"} and by_kind["redeem"] == {"Bea"} and by_kind["refund"] == {"Cai"}
    assert by_kind["merge_in"] == {"Dan"}
    assert by_kind["welcome"] == {""} and by_kind["earn"] == {""}  # written by the rules, not by hand
    assert cli("customer", "forget", "C000001", "--yes").exit_code == 0
    forget_rows = [r for r in cli.json("history", "C000001") if r["kind"] == "forget"]
    assert [r["operator"] for r in forget_rows] == [getpass.getuser()]
    table = cli("history", "C000001").stdout
    assert "operator" in table and "Ana" in table
