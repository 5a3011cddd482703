"""People-facing CSV cannot run formulas in a spreadsheet (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1+1", "@SUM(A1)"])
def test_csv_cells_that_look_like_formulas_are_escaped(cli, name):
    assert cli("enroll", name, "--no-input").exit_code == 0
    rows = list(csv.DictReader(io.StringIO(cli("customer", "list", "--csv").stdout)))
    assert rows[0]["name"] == "'" + name
    assert cli.json("customer", "show", "C000001")["name"] == name  # stored and JSON as typed


def test_negative_numbers_stay_numbers_in_csv(cli):
    cli("enroll", "Ann", "--no-input")
    cli("award", "C000001", "-5", "--reason", "correction")
    rows = list(csv.DictReader(io.StringIO(cli("history", "C000001", "--csv").stdout)))
    assert [r["points"] for r in rows] == ["50", "-5"]


@pytest.mark.parametrize("args", [
    ["award", "C000001", "10", "--reason", "ok\x1b[2J"],
    ["survey", "C000001", "--nps", "9", "--comment", "nice\x07"],
    ["reward", "add", "Free\x1b]0;x\x07 coffee", "--cost", "100"],
    ["cause", "add", "Food\x08bank"],
    ["enroll", "Ann\x1b[31m", "--no-input"],
    ["award", "C000001", "10", "--reason", "evil \u202e txt"],
])
def test_control_characters_are_refused_in_stored_text(cli, args):
    cli("enroll", "Ann", "--no-input")
    before = cli.json("history", "C000001")
    result = cli(*args)
    assert result.exit_code == 1, result.stdout
    assert "control character" in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert cli.json("history", "C000001") == before
