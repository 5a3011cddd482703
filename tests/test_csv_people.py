"""CSV meant for people (--csv, --excel, export, report segments, the import's rejects file): cells a
spreadsheet would run as formulas are escaped in one place (base/spreadsheet.py); --excel writes what
European Excel opens directly."""

from __future__ import annotations

import csv
from pathlib import Path
import io

import pytest

from loyaltycli.base.spreadsheet import excel_dialect, safe_cell

FORMULA = "=HYPERLINK(\"http://x\",\"y\")"


@pytest.mark.dialect_free("spreadsheet cells and dialects: pure functions, no database")
@pytest.mark.parametrize("text,expected", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("-2+3", "'-2+3"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
    ("-5", "-5"), ("-3.00", "-3.00"), ("-5,00", "-5,00"), ("+351 912 345 678", "+351 912 345 678"),
    ("Ana", "Ana"), ("", ""),
])
def test_safe_cell(text, expected):
    assert safe_cell(text) == expected


@pytest.mark.dialect_free("spreadsheet cells and dialects: pure functions, no database")
def test_safe_cell_leaves_other_values_alone():
    assert safe_cell(-5) == -5 and safe_cell(None) is None


@pytest.mark.dialect_free("spreadsheet cells and dialects: pure functions, no database")
def test_excel_dialect_follows_the_locale():
    assert (excel_dialect("pt_PT").delimiter, excel_dialect("pt_PT").decimal) == (";", ",")
    assert (excel_dialect("ro_RO").delimiter, excel_dialect("it_IT").decimal) == (";", ",")
    assert (excel_dialect("en_IE").delimiter, excel_dialect("en_IE").decimal) == (",", ".")
    assert excel_dialect("").delimiter == "," and excel_dialect("").bom


def test_export_escapes_formulas_and_keeps_numbers(cli, tmp_path):
    assert cli("enroll", FORMULA, "--no-input").exit_code == 0
    assert cli("award", "C000001", "-5", "--reason", "=evil()").exit_code == 0
    assert cli("export", tmp_path / "out").exit_code == 0
    customers = list(csv.DictReader((tmp_path / "out" / "customer.csv").open(encoding="utf-8")))
    assert customers[0]["name"] == "'" + FORMULA
    ledger = list(csv.DictReader((tmp_path / "out" / "ledger.csv").open(encoding="utf-8")))
    assert [(r["delta"], r["note"]) for r in ledger] == [("50", "welcome bonus"), ("-5", "'=evil()")]
    assert cli.json("customer", "show", "C000001")["name"] == FORMULA  # stored as typed


def test_report_segments_csv_escapes_names(cli):
    assert cli("enroll", "@SUM(A1)", "--consent", "--no-input").exit_code == 0
    assert cli("purchase", "C000001", "20.00").exit_code == 0
    rows = list(csv.DictReader(io.StringIO(cli("report", "segments", "--csv").stdout)))
    assert [(r["name"], r["monetary"]) for r in rows] == [("'@SUM(A1)", "20.00")]


def test_the_rejects_file_holds_the_rows_as_read_and_escapes_its_reason(cli, tmp_path, monkeypatch):
    """The rows are the file's own bytes (to be fixed and imported again: issue 25), no more dangerous than
    the file itself; the reason the program adds is escaped."""
    monkeypatch.chdir(tmp_path)
    till = Path("=till.csv")  # the reason starts with the file's name as given
    till.write_text("receipt_id,timestamp,customer,amount\n"
                    "=cmd|' /C calc'!A0,2026-06-01T10:00:00,nobody@example.ie,5.00\n")
    result = cli("import", till, "--rejects", tmp_path / "rejects.csv")
    assert result.exit_code == 3
    rows = list(csv.reader((tmp_path / "rejects.csv").open(encoding="utf-8")))
    assert rows[1][:4] == ["=cmd|' /C calc'!A0", "2026-06-01T10:00:00", "nobody@example.ie", "5.00"]
    assert rows[1][4].startswith("'=till.csv:2: unknown customer")


@pytest.mark.parametrize("country,delimiter,amount", [("PT", ";", "1234,50"), ("IE", ",", "1234.50")])
def test_excel_output(cli, country, delimiter, amount):
    assert cli("init", "--country", country).exit_code == 0
    assert cli("enroll", "+1+1", "--no-input").exit_code == 0
    typed = "1234,50" if country == "PT" else "1234.50"
    assert cli("purchase", "C000001", typed).exit_code == 0
    out = cli("customer", "list", "--excel").stdout
    assert out.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out[1:]), delimiter=delimiter))
    assert (rows[0]["name"], rows[0]["spend"], rows[0]["balance"]) == ("'+1+1", amount, "1534")  # 1234 + 250 milestone + 50 welcome
    # --excel is a CSV flag: anywhere on the line, and --csv stays plain
    assert cli("--excel", "report", "segments", "--all").stdout.startswith("\ufeff")
    plain = cli("customer", "list", "--csv").stdout
    assert not plain.startswith("\ufeff") and "1234.50" in plain
