"""`loyalty import` through the CLI: points, idempotence, rejects, enrollment, dry run, output."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import func, select

HEADER = "receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price\n"


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def ann(cli):
    result = cli("enroll", "Ann Walsh", "--email", "ann@example.ie", "--card", "6000100000001",
                 "--phone", "+353851234567", "--at", "2026-01-01T09:00:00", "--no-input")
    assert result.exit_code == 0, result.stderr
    return "C000001"


# The worked example (README): hand-computed points.
# R1 24.50 Bronze: 24. R2 600.00 Bronze: 600, year spend 624.50 reaches 500: +250 milestone.
# R3 10.00 at Silver (624.50 in the window): 12.5 -> 12. R2-R refunds half of R2: -300.
# R9-R is not linked to a sale: 8.00 at the tier then (334.50 in the window: Bronze x1): -8.
EXAMPLE = HEADER + (
    "R1,2026-02-01T10:00:00,ann@example.ie,20.00,store,COF-250,2,10.00\n"
    "R1,2026-02-01T10:00:00,ann@example.ie,4.50,store,MUG-001,1,4.50\n"
    "R2,2026-02-02T10:00:00,6000100000001,600.00,online,TV-1,1,600.00\n"
    "R3,2026-02-03T10:00:00,C000001,,store,COF-250,1,10.00\n"
    "R2-R,2026-02-04T10:00:00,6000100000001,-300.00,online,TV-1,-1,300.00\n"
    "R9-R,2026-02-05T10:00:00,0851234567,-8.00,store,MUG-001,-1,8.00\n")


def test_import_applies_the_counter_rules(cli, ann, tmp_path, database):
    till = write(tmp_path / "till.csv", EXAMPLE)
    data = cli.json("import", till)
    assert {k: data[k] for k in ("read", "imported", "skipped", "rejected", "points_awarded")} == {
        "read": 6, "imported": 6, "skipped": 0, "rejected": 0, "points_awarded": 24 + 600 + 250 + 12 - 300 - 8}
    assert data["sales"] == 3 and data["refunds"] == 2
    assert data["refunds_linked"] == 1 and data["refunds_unlinked"] == 1  # R2-R names R2; R9-R names nothing
    assert cli.json("balance", ann)["balance"] == 50 + 578
    history = cli.json("history", ann)
    assert [(h["kind"], h["points"]) for h in history] == [
        ("welcome", 50), ("earn", 24), ("earn", 600), ("milestone", 250), ("earn", 12), ("refund", -300),
        ("refund", -8)]
    assert "Silver x1.25" in history[4]["note"]
    from loyaltycli.store.models import ImportRun, Purchase, PurchaseItem

    with database.session(write=False) as s:
        purchases = {p.receipt_id: p for p in s.execute(select(Purchase)).scalars()}
        assert purchases["R1"].amount == 2450 and purchases["R1"].source == "till"
        assert purchases["R1"].import_file == str(till) and purchases["R1"].import_line == 2
        assert purchases["R3"].import_line == 5
        assert purchases["R2-R"].refund_of_id == purchases["R2"].id and purchases["R2-R"].amount == -30000
        assert purchases["R9-R"].refund_of_id is None and purchases["R9-R"].amount == -800
        items = s.execute(select(PurchaseItem.sku, PurchaseItem.quantity_milli, PurchaseItem.unit_price, PurchaseItem.amount)
                          .where(PurchaseItem.purchase_id == purchases["R1"].id).order_by(PurchaseItem.id)).all()
        assert [tuple(i) for i in items] == [("COF-250", 2000, 1000, 2000), ("MUG-001", 1000, 450, 450)]
        run = s.execute(select(ImportRun)).scalar_one()
        assert (run.read, run.imported, run.rejected, run.points_awarded) == (6, 6, 0, 578)
        assert run.finished_at is not None and run.source == "till"


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_rerun_imports_nothing_and_changes_no_balance(cli, ann, tmp_path, database):
    till = write(tmp_path / "till.csv", EXAMPLE)
    cli.json("import", till)
    again = cli.json("import", till)
    assert (again["read"], again["imported"], again["skipped"], again["rejected"], again["points_awarded"]) == \
        (6, 0, 6, 0, 0)
    assert cli.json("balance", ann)["balance"] == 628
    from loyaltycli.store.models import ImportRun, LedgerEntry, Purchase

    with database.session(write=False) as s:
        assert s.execute(select(func.count()).select_from(Purchase)).scalar_one() == 5
        assert s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 7
        assert s.execute(select(func.count()).select_from(ImportRun)).scalar_one() == 2
    # the same file under another source (issue 12.5): refused, nothing changed, unless --again
    refused = cli("import", till, "--source", "shop2")
    assert refused.exit_code == 1
    assert refused.stderr == (f"error: {till} was already imported on 2026-06-15 12:00 (source till, run 1); "
                              "nothing changed. Give --again to import it anyway\n")
    assert cli.json("balance", ann)["balance"] == 628
    # another source is another till: with --again the same receipt ids are new there
    other = cli.json("import", till, "--source", "shop2", "--again")
    assert other["imported"] == 6


def test_semicolons_bom_and_quoted_fields(cli, ann, tmp_path):
    text = ("receipt_id;timestamp;customer;amount;channel;sku;quantity;unit_price\n"
            '"R1";"2026-02-01T10:00:00";"ann@example.ie";"1,234.50";store;"COF;250";1;"1,234.50"\n')
    till = write(tmp_path / "till.csv", "\ufeff" + text)
    data = cli.json("import", till)
    assert data["imported"] == 1 and data["rejected"] == 0
    assert cli.json("balance", ann)["balance"] == 50 + 1234 + 250


def test_rejected_rows_go_to_the_rejects_file_with_file_and_line(cli, ann, tmp_path):
    till = write(tmp_path / "till.csv", HEADER + (
        "R1,2026-02-01T10:00:00,ann@example.ie,12.00,store,A,1,12.00\n"
        "R2,2026-02-01T11:00:00,ann@example.ie,abc,store,A,1,12.00\n"
        "R3,yesterday,ann@example.ie,5.00,store,A,1,5.00\n"
        "R4,2026-02-01T12:00:00,nobody@example.ie,5.00,store,A,1,5.00\n"
        "R5,2026-02-01T13:00:00,ann@example.ie,5.00,store,A,1,5.00\n"
        "R5,2026-02-01T13:00:00,ann@example.ie,oops,store,B,1,5.00\n"
        "R6,2030-01-01T00:00:00,ann@example.ie,5.00,store,A,1,5.00\n"))
    result = cli("import", till, "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert (data["read"], data["imported"], data["rejected"]) == (7, 1, 6)
    rejects = tmp_path / "till.csv.rejects.csv"
    assert data["rejects_file"] == str(rejects)
    assert f"6 rows rejected: see {rejects}" in result.stderr
    rows = list(csv.reader(rejects.open(encoding="utf-8")))
    assert rows[0] == HEADER.strip().split(",") + ["reason"]
    reasons = {row[0] + ":" + row[3]: row[-1] for row in rows[1:]}
    assert reasons["R2:abc"] == f"{till}:3: amount 'abc' is not a decimal amount like 12.50"
    assert reasons["R3:5.00"].startswith(f"{till}:4: timestamp 'yesterday' is not a date")
    assert reasons["R4:5.00"] == (f"{till}:5: unknown customer 'nobody@example.ie'; enroll them first or run the "
                                  "import with --enroll-unknown")
    assert reasons["R5:5.00"] == f"{till}:6: receipt R5 rejected: see line 7"
    assert reasons["R5:oops"] == f"{till}:7: amount 'oops' is not a decimal amount like 12.50"
    assert reasons["R6:5.00"] == f"{till}:8: time 2030-01-01 00:00 is in the future"
    assert cli.json("balance", ann)["balance"] == 50 + 12


def test_rejects_option_and_clean_run_exit_zero(cli, ann, tmp_path):
    till = write(tmp_path / "till.csv", HEADER + "R1,2026-02-01T10:00:00,ann@example.ie,x,store,A,1,1.00\n")
    out = tmp_path / "bad.csv"
    assert cli("import", till, "--rejects", out).exit_code == 3
    assert out.exists() and not (tmp_path / "till.csv.rejects.csv").exists()
    good = write(tmp_path / "good.csv", HEADER + "R1,2026-02-01T10:00:00,ann@example.ie,1.00,store,A,1,1.00\n")
    result = cli("import", good)
    assert result.exit_code == 0 and not (tmp_path / "good.csv.rejects.csv").exists()


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_enroll_unknown_customers_by_card_email_or_phone(cli, tmp_path):
    till = write(tmp_path / "till.csv", HEADER + (
        "R1,2026-02-01T10:00:00,6000100000099,10.00,store,A,1,10.00\n"
        "R2,2026-02-02T10:00:00,new@example.ie,20.00,store,A,1,20.00\n"
        "R3,2026-02-03T10:00:00,+353861234567,30.00,store,A,1,30.00\n"
        "R4,2026-02-04T10:00:00,6000100000099,5.00,store,A,1,5.00\n"))
    result = cli("import", till)
    assert result.exit_code == 3  # without --enroll-unknown they are rejected
    data = cli.json("import", till, "--enroll-unknown")
    assert (data["imported"], data["customers_enrolled"], data["rejected"]) == (4, 3, 0)
    assert data["points_awarded"] == 3 * 50 + 10 + 20 + 30 + 5
    card = cli.json("customer", "show", "6000100000099")
    assert card["balance"] == 50 + 15
    assert cli.json("balance", "new@example.ie")["balance"] == 70
    assert cli.json("balance", "0861234567")["balance"] == 80
    history = cli.json("history", "6000100000099")
    assert history[0]["kind"] == "welcome" and history[0]["at"] == "2026-02-01T10:00:00+00:00"


def test_dry_run_writes_nothing(cli, ann, tmp_path, database):
    till = write(tmp_path / "till.csv", EXAMPLE + "R7,2026-02-06T10:00:00,stranger@example.ie,5.00,store,A,1,5.00\n")
    result = cli("import", till, "--dry-run", "--enroll-unknown", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["dry_run"] is True and data["imported"] == 7 and data["customers_enrolled"] == 1
    assert data["points_awarded"] == 578 + 50 + 5 and data["run_id"] is None
    from loyaltycli.store.models import Customer, ImportRun, Purchase

    with database.session(write=False) as s:
        for model in (Purchase, ImportRun):
            assert s.execute(select(func.count()).select_from(model)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Customer)).scalar_one() == 1
    assert cli.json("balance", ann)["balance"] == 50
    bad = write(tmp_path / "bad.csv", HEADER + "R1,2026-02-01T10:00:00,ann@example.ie,x,store,A,1,1.00\n")
    assert cli("import", bad, "--dry-run").exit_code == 3
    assert not (tmp_path / "bad.csv.rejects.csv").exists()


def test_piped_output_is_one_line_and_has_no_bar(cli, ann, tmp_path):
    till = write(tmp_path / "till.csv", EXAMPLE)
    result = cli("import", till)
    assert result.exit_code == 0
    assert result.stdout == (f"{till}: read 6, imported 6, skipped 0, anonymous 0, rejected 0; 3 sales, 2 refunds, "
                             "0 customers enrolled, 578 points\n")
    assert result.stderr == ""


def test_csv_summary(cli, ann, tmp_path):
    till = write(tmp_path / "till.csv", EXAMPLE)
    result = cli("import", till, "--csv")
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert rows[0]["imported"] == "6" and rows[0]["points_awarded"] == "578"


def test_map_renames_columns(cli, ann, tmp_path):
    till = write(tmp_path / "export.csv", "Bon,Zeit,Kunde,Betrag\nB1,2026-03-01 10:00,ann@example.ie,42.00\n")
    result = cli("import", till)
    assert result.exit_code == 1
    assert "missing columns receipt_id, timestamp, customer, amount (or quantity and unit_price)" in result.stderr
    data = cli.json("import", till, "--map", "Bon=receipt_id", "--map", "Zeit=timestamp", "--map", "Kunde=customer",
                    "--map", "Betrag=amount")
    assert data["imported"] == 1 and cli.json("balance", ann)["balance"] == 92
    bad = cli("import", till, "--map", "Bon=receipt")
    assert bad.exit_code == 1 and "'receipt' is not one of receipt_id" in bad.stderr
    absent = cli("import", till, "--map", "Nope=receipt_id")
    assert absent.exit_code == 1 and "--map column 'Nope' is not in the header" in absent.stderr


def test_demo_loads_its_till_through_the_importer(cli, database, monkeypatch):
    monkeypatch.setenv("LOYALTY_NOW", "2026-12-01T12:00:00+00:00")  # the sample till runs past June 2026
    result = cli("init", "--demo", "--json")
    assert result.exit_code == 0, result.stderr
    demo = json.loads(result.stdout)["demo"]
    assert (demo["purchases"], demo["refunds"]) == (588, 8)
    from loyaltycli.store.models import LedgerEntry, Purchase

    with database.session(write=False) as s:
        assert s.execute(select(func.count()).select_from(Purchase).where(Purchase.source == "demo-till")
                         ).scalar_one() == 596
        assert s.execute(select(func.count()).select_from(Purchase).where(Purchase.refund_of_id.is_not(None))
                         ).scalar_one() == 8
        total = s.execute(select(func.sum(LedgerEntry.delta)).where(
            LedgerEntry.kind.not_in(("redeem", "expire")))).scalar_one()
    # the points the counter loop (post_purchase/post_refund per receipt) gave before the importer existed
    assert total == 35606


def test_a_return_names_its_sale_in_any_case_as_at_the_counter(cli, ann, tmp_path, database):
    """`r2-r` gives back R2 (the same file) and `r5-r` R5 (an earlier file), as `loyalty refund r2` finds
    R2: an id as written first, else the one receipt differing from it only in case."""
    first = write(tmp_path / "day1.csv", HEADER + (
        "R2,2026-02-02T10:00:00,6000100000001,600.00,online,TV-1,1,600.00\n"
        "r2-R,2026-02-03T10:00:00,6000100000001,-300.00,online,TV-1,-1,300.00\n"
        "R5,2026-02-04T10:00:00,6000100000001,50.00,store,MUG-001,5,10.00\n"))
    data = cli.json("import", first)
    assert (data["refunds"], data["refunds_linked"], data["rejected"]) == (1, 1, 0)
    second = write(tmp_path / "day2.csv", HEADER + "r5-r,2026-02-05T10:00:00,6000100000001,-10.00,store,MUG-001,-1,10.00\n")
    data = cli.json("import", second)
    assert (data["refunds"], data["refunds_linked"], data["rejected"]) == (1, 1, 0)
    from loyaltycli.store.models import Purchase

    with database.session(write=False) as s:
        purchases = {p.receipt_id: p for p in s.execute(select(Purchase)).scalars()}
    assert purchases["r2-R"].refund_of_id == purchases["R2"].id
    assert purchases["r5-r"].refund_of_id == purchases["R5"].id
    assert purchases["r5-r"].channel == "store"
    # half of R2's 600 given back; a fifth of R5's 50 (earned at Bronze: the window's spend is 300 by then)
    history = [(h["kind"], h["points"]) for h in cli.json("history", ann)]
    assert history == [("welcome", 50), ("earn", 600), ("milestone", 250), ("refund", -300), ("earn", 50),
                       ("refund", -10)]


def test_an_import_says_its_counts_and_why_it_could_not_enroll_in_the_shops_words(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTY_LANG", "ro")
    bad = "=HYPERLINK(" + "x" * 300 + ")"
    till = write(tmp_path / "till.csv", HEADER + (
        "R1,2026-02-01T10:00:00,6000100000009,20.00,store,COF-250,2,10.00\n"
        f"R2,2026-02-01T11:00:00,{bad},5.00,store,COF-250,1,5.00\n"))
    result = cli("import", till, "--enroll-unknown", "--customer-kind", "card")
    assert result.exit_code == 3, result.stderr
    assert "1 client înscris," in result.stdout + result.stderr
    rejects = (tmp_path / "till.csv.rejects.csv").read_text(encoding="utf-8")
    assert f"clientul necunoscut '{bad[:40]}…' nu poate fi înscris: " in rejects
