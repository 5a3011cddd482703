"""Real till exports read right (issue 12): dates one way per file, local numbers and encodings, anonymous
rows, spaced receipt ids, weighed goods, a file imported twice, presets as files, and the presets for what
shops have. Every file here is a small real-shaped one; most live in sample_data/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from loyaltycli.store.models import ImportFile, ImportRun, Product, Purchase, PurchaseItem

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"
ISO_UCI = (SAMPLES / "online-retail-uk.csv").read_text()


def sample(tmp_path: Path, name: str) -> Path:
    """A copy of a sample (so that rejects files land in tmp_path)."""
    return Path(shutil.copy(SAMPLES / name, tmp_path / name))


def counts(database) -> tuple[int, int]:
    with database.session(write=False) as s:
        return (s.execute(select(func.count()).select_from(Purchase)).scalar_one(),
                s.execute(select(func.count()).select_from(ImportRun)).scalar_one())


def ledger_of(cli, db, keys):
    return {key: [(h["at"], h["kind"], h["points"]) for h in cli.json("--db", str(db), "history", key)]
            for key in keys}


# -- 12.1 dates ------------------------------------------------------------------------------------------
@pytest.mark.sqlite_only  # three database files side by side
@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_uk_us_and_iso_dated_files_give_the_same_ledger(cli, tmp_path, db_path):
    """One year of invoices in three date forms: identical ledgers (the UK file was read two ways before)."""
    import csv
    from datetime import datetime

    uk = sample(tmp_path, "online-retail-uk.csv")
    us = sample(tmp_path, "online-retail-us.csv")
    rows = list(csv.reader(uk.open()))
    for row in rows[1:]:
        row[4] = datetime.strptime(row[4], "%d/%m/%Y %H:%M").isoformat(" ")
    iso = tmp_path / "online-retail-iso.csv"
    with iso.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    dbs = []
    for name, path in (("uk", uk), ("us", us), ("iso", iso)):
        db = tmp_path / f"{name}.db"
        shutil.copy(db_path, db)
        result = cli("--db", str(db), "import", path, "--preset", "uci-online-retail", "--enroll-unknown", "--json")
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert (data["read"], data["imported"], data["anonymous"], data["rejected"]) == (10, 9, 1, 0)
        dbs.append(db)
    ledgers = [ledger_of(cli, db, ["17850", "13047", "12347"]) for db in dbs]
    assert ledgers[0] == ledgers[1] == ledgers[2]
    # 1 December, not 12 January; 16 December read as such (one reading for the whole file)
    assert [at for at, kind, _ in ledgers[0]["17850"] if kind == "earn"] == [
        "2010-12-01T08:26:00+00:00", "2010-12-16T17:26:00+00:00"]


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_a_file_readable_two_ways_is_refused_before_anything_is_written(cli, tmp_path, database):
    till = tmp_path / "uk.csv"
    till.write_text("".join(ISO_UCI.splitlines(keepends=True)[:6]))  # 01/12/2010 only: no day over 12
    result = cli("import", till, "--preset", "uci-online-retail", "--enroll-unknown")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {till}: the dates can be read day-first or month-first (line 2: "
                             "'01/12/2010 08:26') and none shows which; give --date-order DMY or --date-order MDY\n")
    assert counts(database) == (0, 0)
    ok = cli.json("import", till, "--preset", "uci-online-retail", "--enroll-unknown", "--date-order", "DMY")
    assert ok["imported"] == 4 and cli.json("history", "17850")[1]["at"] == "2010-12-01T08:26:00+00:00"


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_a_file_showing_both_orders_is_read_the_way_it_first_shows(cli, tmp_path):
    """Never two readings: the first day over 12 sets the order; a date that cannot be read so is rejected."""
    assert cli("enroll", "Ann", "--card", "4001", "--at", "2020-01-01T00:00", "--no-input").exit_code == 0
    till = tmp_path / "mixed.csv"
    till.write_text("receipt_id,timestamp,customer,amount\n"
                    "R1,02/01/2026 10:00,4001,5.00\nR2,13/01/2026 10:00,4001,5.00\nR3,01/13/2026 10:00,4001,5.00\n")
    result = cli("import", till, "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["imported"] == 2 and data["first_rejects"] == [
        f"{till}:4: date '01/13/2026 10:00' is not a real day read as DMY"]
    assert [h["at"] for h in cli.json("history", "4001")][1:] == ["2026-01-02T10:00:00+00:00",
                                                                  "2026-01-13T10:00:00+00:00"]


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_dotted_dates_two_digit_years_and_separate_date_and_time_columns(cli, tmp_path):
    assert cli("enroll", "Ana", "--card", "4001", "--at", "2020-01-01T00:00", "--no-input").exit_code == 0
    till = tmp_path / "bonos.csv"
    till.write_text("Doc;Data;Hora;Cliente;Total\nA 1;02.03.26;09:15;4001;10,00\nA 2;03.03.26;18:40;4001;5,50\n")
    data = cli.json("import", till, "--map", "Doc=receipt_id", "--map", "Data=date", "--map", "Hora=time",
                    "--map", "Cliente=customer", "--map", "Total=amount", "--decimal-comma", "--date-order", "DMY")
    assert (data["imported"], data["rejected"]) == (2, 0)
    assert [h["at"] for h in cli.json("history", "4001")][1:] == ["2026-03-02T09:15:00+00:00",
                                                                  "2026-03-03T18:40:00+00:00"]


def test_date_order_option_is_checked(cli, tmp_path):
    till = tmp_path / "t.csv"
    till.write_text("receipt_id,timestamp,customer,amount\nR1,2026-01-01 10:00,C1,1.00\n")
    result = cli("import", till, "--date-order", "DDMM")
    assert result.exit_code == 1 and "--date-order 'DDMM' must be one of DMY, MDY, YMD" in result.stderr


# -- 12.4 harmless quirks ---------------------------------------------------------------------------------
def test_sub_cent_prices_weighed_goods_spaced_ids_and_anonymous_rows(cli, tmp_path, database):
    uk = sample(tmp_path, "online-retail-uk.csv")
    assert cli("import", uk, "--preset", "uci-online-retail", "--enroll-unknown").exit_code == 0
    ro = sample(tmp_path, "bonuri-ro-cp1250.csv")
    data = cli.json("import", ro, "--encoding", "cp1250", "--decimal-comma", "--map", "Număr bon=receipt_id",
                    "--map", "Data=date", "--map", "Ora=time", "--map", "Client=customer",
                    "--map", "Cod produs=sku", "--map", "Cantitate=quantity", "--map", "Preţ unitar=unit_price",
                    "--map", "Valoare=amount", "--map", "Denumire=description",
                    "--anonymous", "Client ocazional", "--enroll-unknown", "--source", "ro")
    assert (data["read"], data["imported"], data["anonymous"], data["rejected"]) == (4, 3, 1, 0)
    with database.session(write=False) as s:
        amounts = dict(s.execute(select(Purchase.receipt_id, Purchase.amount)).all())
        assert amounts["539318"] == 1020  # 12 x 0.85 + 1 x 0.001 (0.00): a sub-cent price rounds half-even
        assert amounts["BF 0001"] == 3100 and amounts["BF 0003"] == 123456  # 1.234,56
        items = s.execute(select(PurchaseItem.sku, PurchaseItem.quantity_milli, PurchaseItem.unit_price,
                                 PurchaseItem.amount).where(PurchaseItem.sku.in_(["BRANZA-KG", "PADS"]))
                          .order_by(PurchaseItem.sku)).all()
        assert items == [("BRANZA-KG", 750, 3200, 2400), ("PADS", 1000, 0, 0)]  # 0,750 kg stored exactly


def test_empty_customers_are_anonymous_without_a_preset(cli, tmp_path):
    ann = "ann@example.ie"
    assert cli("enroll", "Ann", "--email", ann, "--at", "2020-01-01T00:00", "--no-input").exit_code == 0
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount\nR1,2026-02-01T10:00:00,,5.00\n"
                    f"R2,2026-02-01T11:00:00,{ann},7.00\nR3,2026-02-01T12:00:00,walk-in,2.00\n")
    data = cli.json("import", till, "--anonymous", "WALK-IN")
    assert (data["read"], data["imported"], data["anonymous"], data["skipped"], data["rejected"]) == (3, 1, 2, 0, 0)


# -- 12.5 the same file twice ----------------------------------------------------------------------------
@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_the_same_invoices_under_another_source_are_refused(cli, tmp_path, database):
    uk = sample(tmp_path, "online-retail-uk.csv")
    us = sample(tmp_path, "online-retail-us.csv")  # other bytes, the same invoices
    assert cli("import", uk, "--preset", "uci-online-retail", "--enroll-unknown", "--source", "shop").exit_code == 0
    before = counts(database)
    result = cli("import", us, "--preset", "uci-online-retail", "--enroll-unknown")  # --source forgotten
    assert result.exit_code == 1
    assert result.stderr == (f"error: {us}: 5 of its first 5 receipts already exist under source shop, last "
                             "imported on 2026-06-15 12:00; is this the same export under another --source? "
                             "Nothing changed. Give --again to import it anyway\n")
    assert counts(database) == before
    same = cli("import", uk, "--preset", "uci-online-retail", "--source", "other")
    assert same.exit_code == 1 and "was already imported on 2026-06-15 12:00 (source shop, run 1)" in same.stderr
    assert counts(database) == before
    # under its own source the re-run is idempotent: it skips every receipt
    rerun = cli.json("import", uk, "--preset", "uci-online-retail", "--source", "shop")
    assert (rerun["imported"], rerun["skipped"]) == (0, 9)
    with database.session(write=False) as s:
        files = s.execute(select(ImportFile.source, ImportFile.size)).all()
    assert files == [("shop", uk.stat().st_size), ("shop", uk.stat().st_size)]


# -- 12.8 local exports ------------------------------------------------------------------------------------
def test_a_cp1250_header_is_found_as_import_inspect_finds_it(cli, tmp_path):
    """The import finds Windows-1250 as `import inspect` does (issue 25): `Număr bon` maps without --encoding."""
    ro = sample(tmp_path, "bonuri-ro-cp1250.csv")
    maps = ["--map", "Număr bon=receipt_id", "--map", "Data=date", "--map", "Ora=time", "--map", "Client=customer",
            "--map", "Valoare=amount", "--decimal-comma", "--date-order", "DMY", "--dry-run", "--enroll-unknown",
            "--anonymous", "Client ocazional"]
    data = cli.json("import", ro, *maps)
    assert data["encoding"] == "cp1250" and data["rejected"] == 0
    assert cli.json("import", "inspect", ro)["encoding"] == "cp1250"
    garbled = cli("import", ro, *maps[:2], "--encoding", "cp1252")
    assert garbled.exit_code == 1 and "--map column 'Număr bon' is not in the header" in garbled.stderr


def test_a_number_valid_for_the_shops_region_is_enrolled_as_a_phone(cli, tmp_path, monkeypatch):
    assert cli("program", "set", "phone_region", "RO").exit_code == 0
    till = tmp_path / "t.csv"
    till.write_text("receipt_id,timestamp,customer,amount\nR1,2026-02-01T10:00:00,0722123456,5.00\n"
                    "R2,2026-02-01T10:05:00,88112233,6.00\n")
    assert cli.json("import", till, "--enroll-unknown")["customers_enrolled"] == 2
    assert cli.json("customer", "show", "+40722123456")["phone"] == "+40722123456"
    assert cli.json("customer", "show", "88112233")["card"] == "88112233"
    other = tmp_path / "u.csv"
    other.write_text("receipt_id,timestamp,customer,amount\nR9,2026-02-01T10:00:00,0722999888,5.00\n")
    assert cli.json("import", other, "--enroll-unknown", "--customer-kind", "card")["customers_enrolled"] == 1
    assert cli.json("customer", "show", "0722999888")["card"] == "0722999888"
    unknown = tmp_path / "v.csv"
    unknown.write_text("receipt_id,timestamp,customer,amount\nR7,2026-02-01T10:00:00,C000099,5.00\n")
    result = cli("import", unknown, "--customer-kind", "code", "--enroll-unknown", "--json")
    assert result.exit_code == 3
    code = json.loads(result.stdout)
    assert (code["customers_enrolled"], code["rejected"]) == (0, 1)
    assert code["first_rejects"] == [f"{unknown}:2: unknown customer code 'C000099'; --customer-kind code "
                                     "enrolls no one"]
    bad = cli("import", other, "--customer-kind", "nif")
    assert bad.exit_code == 1 and "--customer-kind 'nif' must be one of card, phone, email, code" in bad.stderr
    monkeypatch.setenv("LOYALTY_LANG", "ro")  # in the shop's language, as every other refusal
    result = cli("import", unknown, "--customer-kind", "code", "--enroll-unknown", "--json", "--again")
    assert json.loads(result.stdout)["first_rejects"] == [
        f"{unknown}:2: cod de client necunoscut 'C000099'; --customer-kind code nu înscrie pe nimeni"]


def test_presets_as_files_from_a_path_and_the_users_folder(cli, tmp_path, monkeypatch):
    folder = tmp_path / "user-presets"
    folder.mkdir(exist_ok=True)
    (folder / "loyverse.toml").write_text('description = "my own loyverse"\n[columns]\nBon = "receipt_id"\n')
    mine = tmp_path / "my-till.toml"
    mine.write_text('description = "the shop till"\ndecimal = ","\ndate_order = "DMY"\n'
                    '[columns]\nBon = "receipt_id"\nZeit = "timestamp"\nKunde = "customer"\nBetrag = "amount"\n')
    listed = {row["preset"]: row for row in cli.json("import-presets")}
    assert listed["loyverse"]["from"] == f"user: {folder / 'loyverse.toml'}"
    assert listed["loyverse"]["description"] == "my own loyverse"
    assert listed["square-items"]["from"] == "built-in"
    assert cli("enroll", "Bo", "--card", "7001", "--at", "2020-01-01T00:00", "--no-input").exit_code == 0
    till = tmp_path / "export.csv"
    till.write_text("Bon;Zeit;Kunde;Betrag\nB1;02/03/2026 10:00;7001;1.042,00\n")
    data = cli.json("import", till, "--preset", str(mine))
    assert data["imported"] == 1 and cli.json("history", "7001")[1]["points"] == 1042  # 1.042,00
    broken = tmp_path / "broken.toml"
    broken.write_text('[columns]\nBon = "receipt"\n')
    result = cli("import", till, "--preset", str(broken))
    assert result.exit_code == 1 and "is broken: fields ['receipt'] are not among" in result.stderr


def test_inspect_reports_and_saves_a_starting_preset(cli, tmp_path):
    ro = sample(tmp_path, "bonuri-ro-cp1250.csv")
    report = cli.json("import", "inspect", ro, "--save", "ro-bon")
    assert (report["delimiter"], report["encoding"], report["decimal"], report["date_order"]) == (";", "cp1250", ",", "DMY")
    assert report["header"][0] == "Număr bon" and report["columns"]["Număr bon"] == "receipt_id"
    assert report["columns"]["Data"] == "date" and report["columns"]["Ora"] == "time"
    saved = Path(report["saved_to"])
    assert saved == tmp_path / "user-presets" / "ro-bon.toml" and 'encoding = "cp1250"' in saved.read_text()
    data = cli.json("import", ro, "--preset", "ro-bon", "--anonymous", "Client ocazional", "--enroll-unknown")
    assert (data["imported"], data["anonymous"], data["rejected"]) == (3, 1, 0)


# -- presets for what shops have ---------------------------------------------------------------------------
@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_square_items(cli, tmp_path):
    data = cli.json("import", sample(tmp_path, "square-items.csv"), "--preset", "square-items", "--enroll-unknown")
    # the Payment of 2 lines (5.25 + 7.00) and the refund; the sale without a Customer ID is anonymous
    assert (data["read"], data["imported"], data["anonymous"], data["sales"], data["refunds"]) == (4, 3, 1, 1, 1)
    history = cli.json("history", "7N3QZ1KD8H4V2")
    assert [(h["at"], h["points"]) for h in history] == [
        ("2026-03-02T08:14:51+00:00", 50), ("2026-03-02T08:14:51+00:00", 12), ("2026-03-03T10:30:00+00:00", -3)]
    assert "12.25 point-of-sale" in history[1]["note"]


def test_shopify_orders(cli, tmp_path, database):
    data = cli.json("import", sample(tmp_path, "shopify-orders.csv"), "--preset", "shopify-orders", "--enroll-unknown")
    assert (data["imported"], data["sales"], data["customers_enrolled"], data["rejected"]) == (3, 2, 2, 0)
    history = cli.json("history", "nora@example.com")
    assert history[1]["at"] == "2026-03-01T13:05:09+00:00" and history[1]["points"] == 38  # 2 x 12.00 + 14.00


def test_online_retail_ii(cli, tmp_path):
    data = cli.json("import", sample(tmp_path, "online-retail-ii.csv"), "--preset", "online-retail-ii",
                    "--enroll-unknown")
    assert (data["read"], data["imported"], data["anonymous"], data["sales"], data["refunds"]) == (6, 5, 1, 3, 1)


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_loyverse_day_first_with_decimal_commas(cli, tmp_path):
    data = cli.json("import", sample(tmp_path, "loyverse-eu.csv"), "--preset", "loyverse-eu", "--enroll-unknown")
    assert (data["read"], data["imported"], data["anonymous"], data["sales"], data["refunds"]) == (3, 2, 1, 1, 1)
    history = cli.json("history", "ana@example.pt")
    assert [(h["at"], h["points"]) for h in history] == [
        ("2026-03-01T10:15:00+00:00", 50), ("2026-03-01T10:15:00+00:00", 30), ("2026-03-02T09:00:00+00:00", -10)]


def test_saft_pt(cli, tmp_path, database):
    data = cli.json("import", sample(tmp_path, "saft-pt.xml"), "--preset", "saft-pt", "--enroll-unknown")
    # FS 2026/101 is Consumidor final; FS 2026/102 annulled (not in the rows); NC 2026/7 a return
    assert (data["read"], data["imported"], data["anonymous"], data["sales"], data["refunds"]) == (5, 4, 1, 2, 1)
    with database.session(write=False) as s:
        got = dict(s.execute(select(Purchase.receipt_id, Purchase.amount)).all())
        assert got == {"FT 2026/5": 2650, "FS 2026/103": 1750, "NC 2026/7": -350}
        assert s.execute(select(PurchaseItem.quantity_milli).where(PurchaseItem.sku == "QUEIJO-KG")).scalar_one() == 750
        assert s.get(Product, "PAO-500").description == "Pão de centeio 500 g"
        # the credit note is linked to the invoice it references (SAF-T's Reference, our refund_of)
        nc, ft = (s.execute(select(Purchase).where(Purchase.receipt_id == r)).scalar_one() for r in ("NC 2026/7", "FT 2026/5"))
        assert nc.refund_of_id == ft.id
    assert (data["refunds_linked"], data["refunds_unlinked"]) == (1, 0)
    # the NIF is the key, enrolled as the customer's tax id (never a phone) with their name (issue 25)
    ana = cli.json("customer", "show", "215876342")
    assert (ana["name"], ana["tax_id"], ana.get("phone")) == ("Ana Sousa", "215876342", None)


def test_a_return_names_its_sale_in_refund_of_even_from_an_earlier_file(cli, tmp_path, database):
    first, second = tmp_path / "day1.csv", tmp_path / "day2.csv"
    first.write_text("receipt_id,timestamp,customer,amount\nFS 2026/40,2026-03-02T10:00:00,c1@example.pt,20.00\n")
    second.write_text("receipt_id,timestamp,customer,amount,refund_of\n"
                      "NC 2026/3,2026-03-03T10:00:00,c1@example.pt,-5.00,FS 2026/40\n")
    assert cli("import", first, "--enroll-unknown").exit_code == 0
    data = cli.json("import", second)
    assert (data["refunds_linked"], data["refunds_unlinked"], data["rejected"]) == (1, 0, 0)
    with database.session(write=False) as s:
        sale, ret = (s.execute(select(Purchase).where(Purchase.receipt_id == r)).scalar_one()
                     for r in ("FS 2026/40", "NC 2026/3"))
        assert ret.refund_of_id == sale.id


def test_customer_kind_card_reads_a_spreadsheet_number_as_the_card(cli, tmp_path):
    till = tmp_path / "t.csv"  # a card number saved by a spreadsheet as 17850.0, as the UCI preset expects
    till.write_text("receipt_id,timestamp,customer,amount\nA1,2026-03-02T10:00:00,17850.0,20.00\n")
    assert cli("import", till, "--enroll-unknown", "--customer-kind", "card").exit_code == 0
    assert cli.json("customer", "show", "17850")["card"] == "17850"


def test_not_a_saft_file(cli, tmp_path):
    bad = tmp_path / "saft.xml"
    bad.write_text("<html></html>")
    result = cli("import", bad, "--preset", "saft-pt")
    assert result.exit_code == 1 and result.stderr == f"error: {bad} is not a SAF-T (PT) file: its root is <html>, not <AuditFile>\n"


# -- product names -----------------------------------------------------------------------------------------
def test_descriptions_are_kept_per_sku_latest_wins_and_shown_by_suggest(cli, tmp_path, database):
    till = tmp_path / "t.csv"
    till.write_text("receipt_id,timestamp,customer,amount,sku,quantity,unit_price,description\n"
                    "A1,2026-02-01T10:00:00,c1@example.ie,3.00,TEA,1,3.00,Green tea\n"
                    "A1,2026-02-01T10:00:00,c1@example.ie,2.00,JAM,1,2.00,Jam\n"
                    "B1,2026-02-02T10:00:00,c2@example.ie,3.00,TEA,1,3.00,Green tea 100 g\n"
                    "B1,2026-02-02T10:00:00,c2@example.ie,4.00,CAKE,1,4.00,Carrot cake\n")
    assert cli("import", till, "--enroll-unknown").exit_code == 0
    with database.session(write=False) as s:
        assert s.get(Product, "TEA").description == "Green tea 100 g"
    assert cli.json("customer", "suggest", "c1@example.ie") == [
        {"sku": "CAKE", "description": "Carrot cake", "score": 1, "buyers": 1}]
