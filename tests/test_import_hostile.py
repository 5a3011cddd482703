"""Hostile till files: nothing crashes, every row is accepted or rejected with a reason."""

from __future__ import annotations

import csv
import json
import random

import pytest

HEADER = "receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price\n"


@pytest.fixture
def ann(cli):
    assert cli("enroll", "Ann Walsh", "--email", "ann@example.ie", "--card", "6000100000001",
               "--at", "2026-01-01T09:00:00", "--no-input").exit_code == 0
    return "C000001"


def rejects_of(path):
    limit = csv.field_size_limit(1 << 24)  # the rows are there as read, an over-long one too
    try:
        return list(csv.reader((path.parent / (path.name + ".rejects.csv")).open(encoding="utf-8")))
    finally:
        csv.field_size_limit(limit)  # the import's own reader keeps its limit


def test_missing_file_and_folder_exit_1(cli, tmp_path):
    result = cli("import", tmp_path / "nope.csv")
    assert result.exit_code == 1 and result.stderr == f"error: cannot read {tmp_path / 'nope.csv'}: no such file\n"
    result = cli("import", tmp_path)
    assert result.exit_code == 1 and "is a folder, not a CSV file" in result.stderr


def test_a_file_name_too_long_for_the_system_exit_1_in_one_line(cli, tmp_path, database):
    name = tmp_path / ("x" * 5000 + ".csv")
    result = cli("import", name)
    assert result.exit_code == 1, result.stderr
    assert result.stderr == f"error: cannot read {name}: the name is too long\n"
    from sqlalchemy import func, select

    from loyaltycli.store.models import ImportRun

    with database.session(write=False) as s:
        assert s.execute(select(func.count()).select_from(ImportRun)).scalar_one() == 0


def test_a_name_too_long_for_its_rejects_file_says_to_give_one(cli, tmp_path):
    name = tmp_path / ("y" * 250 + ".csv")  # a file name the system takes; with .rejects.csv added it does not
    name.write_text("receipt_id,timestamp,customer,amount\n", encoding="utf-8")
    result = cli("import", name)
    assert (result.exit_code, result.stderr) == (
        1, f"error: cannot use the rejects file {name}.rejects.csv: the name is too long; give --rejects FILE\n")
    assert cli.json("import", name, "--rejects", tmp_path / "r.csv")["read"] == 0


def test_empty_file_exit_1(cli, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = cli("import", empty)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {empty} is empty: expected a header line such as receipt_id,")


def test_header_only_reads_nothing_and_succeeds(cli, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text(HEADER)
    data = cli.json("import", till)
    assert (data["read"], data["imported"], data["rejected"]) == (0, 0, 0)


def test_missing_columns_exit_1_and_name_them(cli, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,customer,amount\nR1,ann@example.ie,1.00\n")
    result = cli("import", till)
    assert result.exit_code == 1
    assert f"{till}:1: missing column timestamp;" in result.stderr and "--map COLUMN=FIELD" in result.stderr


def test_no_header_says_so_alone_and_column_names_stay_as_they_are(cli, tmp_path, monkeypatch):
    one = tmp_path / "one.csv"
    one.write_text("receipts\n1\n")  # one column: no CSV header at all
    result = cli("import", one)
    assert result.exit_code == 1
    assert result.stderr == f"error: {one}:1: no CSV header (the file does not look like a CSV export)\n"
    monkeypatch.setenv("LOYALTY_LANG", "pt_PT")
    two = tmp_path / "two.csv"
    two.write_text("a,b\n1,2\n")
    result = cli("import", two)
    assert result.exit_code == 1  # the columns the import needs are named as the header must name them
    assert "receipt_id, timestamp, customer, amount (ou quantity e unit_price); o cabeçalho tem 'a, b'" in result.stderr


def test_random_bytes_exit_1_without_traceback(cli, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(random.Random(3).randbytes(50_000))
    result = cli("import", junk)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "no CSV header (the file does not look like a CSV export)" in result.stderr  # never echoed


def test_random_bytes_after_a_good_header_are_rejected(cli, ann, tmp_path):
    till = tmp_path / "till.csv"
    junk = random.Random(5).randbytes(20_000).replace(b"\r", b"\n")
    till.write_bytes(HEADER.encode() + b"R1,2026-02-01T10:00:00,ann@example.ie,5.00,store,A,1,5.00\n" + junk)
    result = cli("import", till, "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["imported"] == 1 and data["rejected"] >= 1
    assert data["read"] == data["imported"] + data["rejected"] + data["anonymous"]
    assert cli.json("balance", ann)["balance"] == 55


def test_bad_amounts_and_dates(cli, ann, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text(HEADER + (
        "R1,2026-02-01T10:00:00,ann@example.ie,1e309,store,A,1,1.00\n"
        "R2,2026-02-01T10:00:00,ann@example.ie,nan,store,A,1,1.00\n"
        "R3,2026-02-01T10:00:00,ann@example.ie,1.005,store,A,1,1.00\n"
        "R4,2026-02-30T10:00:00,ann@example.ie,1.00,store,A,1,1.00\n"
        "R5,,ann@example.ie,1.00,store,A,1,1.00\n"
        "R6,2026-02-01T10:00:00,ann@example.ie,,store,A,1.5555,1.00\n"
        "R7,2026-02-01T10:00:00,ann@example.ie,0.00,store,A,1,0.00\n"
        "R8,2025-06-01T10:00:00,ann@example.ie,3.00,store,A,1,3.00\n"
        "R9,2026-02-01T10:00:00,ann@example.ie,99999999999.00,store,A,1,1.00\n"
        + "R" * 65 + ",2026-02-01T10:00:00,ann@example.ie,1.00,store,A,1,1.00\n"
        ",2026-02-01T10:00:00,ann@example.ie,1.00,store,A,1,1.00\n"
        "R12,2026-02-01T10:00:00,ann@example.ie,1.00,in store!,A,1,1.00\n"
        "R13,2026-02-01T10:00:00,,1.00,store,A,1,1.00\n"))
    result = cli("import", till)
    assert result.exit_code == 3
    # the rejects file holds them in the order they were found; by line they are:
    cited = sorted((int(row[-1].split(":")[1]), row[-1].split(": ", 1)[1]) for row in rejects_of(till)[1:])
    assert [line for line, _ in cited] == list(range(2, 14))  # R13 has no customer: anonymous, skipped
    assert [reason for _, reason in cited] == [
        "amount '1e309' is not a decimal amount like 12.50",
        "amount 'nan' is not a decimal amount like 12.50",
        "amount '1.005' has more than 2 decimals",
        "timestamp '2026-02-30T10:00:00' is not a date like 2026-03-01 or 2026-03-01T14:05",
        "timestamp is empty",
        "quantity '1.5555' must be a number from 0.001 to 100000 (negative for a return; at most 3 decimals)",
        "receipt R7 adds up to 0.00: nothing to record",
        "2025-06-01 10:00 is before C000001 enrolled (2026-01-01 09:00)",
        "amount '99999999999.00' is too large (at most 1000000000.00)",
        f"receipt id {'R' * 40 + '…'!r} must be 1 to 64 printable characters (e.g. 0042 or FS 2026/101)",  # quoted shortened
        "receipt id is empty",
        "channel 'in store!' must be a short word such as store or online",
    ]
    assert cli.json("balance", ann)["balance"] == 50


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_the_lines_of_a_receipt_apart_in_the_file_are_one_receipt(cli, ann, tmp_path, database):
    from sqlalchemy import func, select

    from loyaltycli.store.models import Purchase, PurchaseItem

    till = tmp_path / "till.csv"
    till.write_text(HEADER + (
        "R1,2026-02-01T10:05:00,ann@example.ie,5.00,store,A,1,5.00\n"
        "R2,2026-02-01T11:00:00,ann@example.ie,6.00,store,A,1,6.00\n"
        "R1,2026-02-01T10:00:00,ann@example.ie,5.00,store,B,1,5.00\n"))
    data = json.loads(cli("import", till, "--json").stdout)
    assert (data["imported"], data["sales"], data["rejected"]) == (3, 2, 0)
    # across batches too (one receipt per batch)
    other = tmp_path / "other.csv"
    other.write_text(till.read_text().replace("R1,", "S1,").replace("R2,", "S2,"))
    data = json.loads(cli("import", other, "--batch-rows", "1", "--json").stdout)
    assert (data["imported"], data["sales"], data["rejected"]) == (3, 2, 0)
    with database.session(write=False) as s:
        r1 = s.execute(select(Purchase).where(Purchase.receipt_id == "S1")).scalar_one()
        assert r1.amount == 1000 and r1.import_line == 2
        assert r1.at.isoformat() == "2026-02-01T10:00:00+00:00"  # its time is its earliest line's
        assert s.execute(select(func.count()).select_from(PurchaseItem).where(PurchaseItem.purchase_id == r1.id)).scalar() == 2
    assert cli.json("balance", ann)["balance"] == 50 + 10 + 6 + 10 + 6
    # a line of the receipt naming another customer: the receipt is rejected
    third = tmp_path / "third.csv"
    third.write_text(HEADER + "T1,2026-02-01T10:00:00,ann@example.ie,5.00,store,A,1,5.00\n"
                              "T2,2026-02-01T11:00:00,ann@example.ie,6.00,store,A,1,6.00\n"
                              "T1,2026-02-01T10:00:00,C000009,5.00,store,B,1,5.00\n")
    data = json.loads(cli("import", third, "--json").stdout)
    assert (data["imported"], data["rejected"]) == (1, 2)
    assert "lines of receipt T1 disagree on the customer" in " ".join(data["first_rejects"])


def test_huge_line_is_rejected_and_the_rest_imported(cli, ann, tmp_path):
    till = tmp_path / "till.csv"
    huge = "R2,2026-02-01T10:00:00,ann@example.ie,5.00,store," + "X" * (3 << 20) + ",1,5.00\n"
    till.write_text(HEADER + "R1,2026-02-01T10:00:00,ann@example.ie,5.00,store,A,1,5.00\n" + huge
                    + "R3,2026-02-01T11:00:00,ann@example.ie,7.00,store,A,1,7.00\n")
    result = cli("import", till, "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert (data["read"], data["imported"], data["rejected"]) == (3, 2, 1)
    assert rejects_of(till)[1][-1] == f"{till}:3: line longer than 1048576 bytes"
    # a long sku that fits in a line is a bad value, not a crash
    long_sku = tmp_path / "sku.csv"
    long_sku.write_text(HEADER + "R9,2026-02-01T10:00:00,ann@example.ie,5.00,store," + "Y" * 100 + ",1,5.00\n")
    assert cli("import", long_sku).exit_code == 3
    assert "must be 1 to 64 printable characters" in rejects_of(long_sku)[1][-1]


def test_latin1_file_is_read(cli, ann, tmp_path):
    till = tmp_path / "till.csv"
    till.write_bytes((HEADER + "R1,2026-02-01T10:00:00,ann@example.ie,5.00,store,CAFÉ-1,1,5.00\n").encode("latin-1"))
    data = cli.json("import", till)
    assert data["imported"] == 1 and data["legacy_encoding_lines"] == 1
    from sqlalchemy import select

    from loyaltycli.store.db import open_database
    from loyaltycli.store.models import PurchaseItem

    with open_database().session(write=False) as s:
        assert s.execute(select(PurchaseItem.sku)).scalar_one() == "CAFÉ-1"


def test_lines_of_a_receipt_that_disagree_are_rejected(cli, ann, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text(HEADER + ("R1,2026-02-01T10:00:00,ann@example.ie,5.00,store,A,1,5.00\n"
                              "R1,2026-02-01T10:00:00,C000002,5.00,store,A,1,5.00\n"))
    assert cli("import", till).exit_code == 3
    assert "lines of receipt R1 disagree on the customer (line 2 has 'ann@example.ie')" in rejects_of(till)[2][-1]


def test_short_and_long_rows(cli, ann, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text(HEADER + ("R1,2026-02-01T10:00:00,ann@example.ie\n"
                              "R2,2026-02-01T10:00:00,ann@example.ie,5.00,store,A,1,5.00,extra,more\n"))
    result = cli("import", till, "--json")
    assert result.exit_code == 3 and json.loads(result.stdout)["imported"] == 1
    assert "line 2 has 3 fields; the header has 8" in rejects_of(till)[1][-1]


def test_a_row_cut_short_before_its_amount_is_rejected_not_read_as_anonymous(cli, ann, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount\n"
                    "X-1,2026-02-01T10:00:00,ann@example.ie,5.00\nX-2,2026-02-01T10:00:00\n"
                    "X-3,2026-02-01T11:00:00,,7.00\n")  # a sale without a customer, a whole row
    summary = json.loads(cli("import", till, "--json").stdout)
    assert (summary["imported"], summary["anonymous"], summary["rejected"]) == (1, 1, 1)
    assert rejects_of(till)[1][-1].endswith("line 3 has 2 fields; the header has 4")


def test_a_quote_left_open_rejects_what_it_swallowed_and_says_so(cli, ann, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount\n"
                    "Q-1,2026-02-01T10:00:00,ann@example.ie,5.00\n"
                    '"Q-2,2026-02-01T10:05:00,ann@example.ie,6.00\n'  # the quote never closes
                    "Q-3,2026-02-01T10:10:00,ann@example.ie,7.00\n")
    result = cli("import", till, "--json")
    assert result.exit_code == 3  # not a quiet success that lost
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["rejected"], summary["anonymous"]) == (1, 1, 0)
    rejected = (till.parent / (till.name + ".rejects.csv")).read_text()
    assert "Q-3,2026-02-01T10:10:00" in rejected  # the swallowed lines are in the rejects file, to mend
    assert "a quote opened in line 3 is not closed: the lines after it were read as one field" in rejected


def test_a_quote_left_open_in_the_last_column_is_caught_too(cli, ann, tmp_path):
    """The row that opens the quote has all its fields, so only the swallowed rows give it away; a
    description's own line break (quoted and closed) is not one."""
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount,description\n"
                    'Q-1,2026-02-01T10:00:00,ann@example.ie,5.00,"two\nlines"\n'
                    'Q-2,2026-02-01T10:05:00,ann@example.ie,6.00,"broken\n'  # never closed
                    "Q-3,2026-02-01T10:10:00,ann@example.ie,7.00,fine\n"
                    "Q-4,2026-02-01T10:15:00,ann@example.ie,8.00,fine\n")
    result = cli("import", till, "--json")
    assert result.exit_code == 3
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["rejected"]) == (1, 1)
    rejected = (till.parent / (till.name + ".rejects.csv")).read_text()
    assert "Q-3,2026-02-01T10:10:00" in rejected and "Q-4,2026-02-01T10:15:00" in rejected
    assert "a quote opened in line 4 is not closed: the lines after it were read as one field" in rejected
    assert [r["kind"] for r in cli.json("history", "ann@example.ie")].count("earn") == 1  # Q-1 only


def test_unknown_preset(cli, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text(HEADER)
    result = cli("import", till, "--preset", "../../etc/passwd")
    assert result.exit_code == 1 and "unknown preset '../../etc/passwd'; known presets: loyverse" in result.stderr


def test_a_refused_file_leaves_no_import_run(cli, tmp_path, database):
    till = tmp_path / "till.csv"
    till.write_text("a,b\n1,2\n")
    assert cli("import", till).exit_code == 1
    from sqlalchemy import func, select

    from loyaltycli.store.models import ImportRun

    with database.session(write=False) as s:
        assert s.execute(select(func.count()).select_from(ImportRun)).scalar_one() == 0
    till.write_text(HEADER)
    assert cli.json("import", till)["run_id"] == 1


def test_rejects_file_cannot_be_the_input(cli, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text(HEADER + "R1,2026-02-01T10:00:00,x@example.ie,5.00,store,A,1,5.00\n")
    result = cli("import", till, "--rejects", till)
    assert result.exit_code == 1 and "is the file being imported" in result.stderr
    assert till.read_text().startswith(HEADER)


def test_refund_of_a_rejected_sale_is_rejected_too(cli, ann, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text(HEADER + ("R1,2026-02-01T10:00:00,ann@example.ie,abc,store,A,1,5.00\n"
                              "R1-R,2026-02-02T10:00:00,ann@example.ie,-5.00,store,A,-1,5.00\n"))
    result = cli("import", till, "--json")
    assert result.exit_code == 3 and json.loads(result.stdout)["rejected"] == 2
    assert rejects_of(till)[2][-1] == f"{till}:3: refund R1-R is of receipt R1, which was rejected"
    assert cli.json("balance", ann)["balance"] == 50


@pytest.mark.parametrize("batch_rows", ["2", "3", "4", "100"])
def test_a_blank_or_unreadable_line_inside_a_receipt_does_not_cut_it_at_a_block_edge(cli, ann, tmp_path, batch_rows):
    till = tmp_path / "till.csv"
    huge = "x" * 140_000  # over the CSV reader's field limit: that record cannot be read
    till.write_text(HEADER + "R1,2026-02-01T10:00:00,ann@example.ie,5.00,store,A,1,5.00\n"
                             "RX,2026-02-02T10:00:00,ann@example.ie,10.00,store,A,1,10.00\n"
                             "\n"
                             f"RX,2026-02-02T10:00:00,ann@example.ie,10.00,store,\"{huge}\",1,10.00\n"
                             "RX,2026-02-02T10:00:00,ann@example.ie,10.00,store,B,1,10.00\n"
                             "R2,2026-02-03T10:00:00,ann@example.ie,6.00,store,A,1,6.00\n")
    result = cli("import", till, "--batch-rows", batch_rows, "--json")
    data = json.loads(result.stdout)
    # as row by row: the unreadable record is rejected alone; RX keeps both its other lines
    assert (result.exit_code, data["imported"], data["rejected"]) == (3, 4, 1)
    assert rejects_of(till)[1][-1].startswith(f"{till}:5: not a readable CSV line")
    history = cli.json("history", "ann@example.ie")
    assert [h["points"] for h in history] == [50, 5, 20, 6]


@pytest.mark.parametrize("batch_rows", ["2", "3", "100"])
def test_a_receipt_with_a_bad_line_stays_rejected_whole_across_block_edges(cli, ann, tmp_path, batch_rows):
    till = tmp_path / "till.csv"
    till.write_text(HEADER + "RX,2026-02-02T10:00:00,ann@example.ie,10.00,store,A,x,10.00\n"
                             "\n\n"
                             "RX,2026-02-02T10:00:00,ann@example.ie,10.00,store,B,1,10.00\n"
                             "R2,2026-02-03T10:00:00,ann@example.ie,6.00,store,A,1,6.00\n")
    result = cli("import", till, "--batch-rows", batch_rows, "--json")
    data = json.loads(result.stdout)
    assert (result.exit_code, data["imported"], data["rejected"]) == (3, 1, 2)
    assert [h["points"] for h in cli.json("history", "ann@example.ie")] == [50, 6]
