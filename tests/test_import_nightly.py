"""The nightly import every night of the month (issue 25): a Romanian till's own files (Windows-1250, `;`,
decimal comma, dates 05.05.2026 and the time apart), its returns, its mistakes, a night imported late."""

from __future__ import annotations

import json

import pytest

HEADER = "Nr. bon;Data;Ora;Client;Cod produs;Denumire;Cantitate;Preţ unitar;Valoare;Bon iniţial"


def ro_file(path, rows, header: str = HEADER, newline: str = "\r\n"):
    """A till file as the Romanian till writes it: Windows-1250, CRLF, `;`."""
    path.write_bytes((newline.join([header, *rows]) + newline).encode("cp1250"))
    return path


def run(cli, path, *extra):
    result = cli("import", path, "--preset", "ro-bonuri", "--enroll-unknown", "--json", *extra)
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip() else {}), result.stderr


@pytest.fixture
def ro_shop(cli):
    assert cli("program", "set", "country", "RO").exit_code == 0  # ro_RO, phone region RO, Europe/Bucharest
    return cli


def points(cli, key):
    return [(h["at"], h["kind"], h["points"]) for h in cli.json("history", key)]


# -- 1. day-first shops from the 1st to the 12th -------------------------------------------------------------
def test_a_romanian_file_of_the_5th_reads_day_first_as_the_shop_does(ro_shop, tmp_path):
    night = ro_file(tmp_path / "bonuri-05.csv", ["BF 1;05.05.2026;09:12;0722123456;PAINE;Pâine;2;3,50;7,00;"])
    code, data, err = run(ro_shop, night)
    assert code == 0, err
    assert (data["imported"], data["date_order"], data["date_order_source"]) == (1, "DMY", "shop")
    assert [at for at, kind, _ in points(ro_shop, "0722123456")] == ["2026-05-05T06:12:00+00:00"] * 2
    # said in the cron line, and --date-order overrides the shop
    plain = ro_shop("import", ro_file(tmp_path / "b2.csv", ["BF 2;06.05.2026;09:12;0722123456;P;P;1;1,00;1,00;"]),
                    "--preset", "ro-bonuri")
    assert plain.exit_code == 0 and "dates read day-first (the shop's locale ro_RO" in plain.stdout
    us = ro_file(tmp_path / "b3.csv", ["BF 3;05.07.2026;09:12;0722123456;P;P;1;1,00;1,00;"])
    code, data, _ = run(ro_shop, us, "--date-order", "MDY")
    assert (code, data["date_order"], data["date_order_source"]) == (0, "MDY", "option")
    assert points(ro_shop, "0722123456")[-1][0] == "2026-05-07T06:12:00+00:00"


def test_a_shop_without_a_day_first_locale_still_asks_for_the_order(cli, tmp_path):
    night = ro_file(tmp_path / "b.csv", ["BF 1;05.05.2026;09:12;0722123456;PAINE;Pâine;2;3,50;7,00;"])
    code, data, err = run(cli, night)
    assert code == 1 and "give --date-order DMY or --date-order MDY" in err


# -- 2. the same phone typed two ways ----------------------------------------------------------------------
@pytest.mark.parametrize("block_rows", [None, 1])
def test_a_phone_typed_two_ways_in_one_file_is_one_customer(ro_shop, tmp_path, monkeypatch, block_rows):
    """In one block, or each receipt a block of its own: the phones' last digits are read once per
    transaction and kept up to date as the import enrolls, so a phone enrolled in one block is found typed
    another way in the next, as one enrolled at the counter is."""
    if block_rows is not None:
        from loyaltycli.services import importer

        monkeypatch.setattr(importer, "BLOCK_ROWS", block_rows)
    assert ro_shop("enroll", "Ion", "--phone", "0744555666", "--at", "2026-05-01T09:00:00+00:00").exit_code == 0
    night = ro_file(tmp_path / "b.csv", [
        "BF 1;15.05.2026;09:12;0722 123 456;CAFEA;Cafea;1;40,00;40,00;",
        "BF 2;15.05.2026;18:00;0722123456;CAFEA;Cafea;-1;40,00;-40,00;BF 1",
        "BF 3;15.05.2026;18:30;0744 555 666;CAFEA;Cafea;1;20,00;20,00;",
        "BF 4;15.05.2026;19:00;+40 722 123 456;CAFEA;Cafea;1;10,00;10,00;"])
    code, data, err = run(ro_shop, night)
    assert code == 0, err
    assert (data["customers_enrolled"], data["sales"], data["refunds"], data["refunds_linked"]) == (1, 3, 1, 1)
    assert [(k, p) for _, k, p in points(ro_shop, "0722123456")] == [("welcome", 50), ("earn", 40),
                                                                    ("refund", -40), ("earn", 10)]
    assert [(k, p) for _, k, p in points(ro_shop, "0744555666")][-1] == ("earn", 20)


def test_a_phone_another_till_enrolls_during_an_import_is_found_on_postgresql(database, tmp_path, monkeypatch):
    """PostgreSQL lets a till commit a customer while an import's transaction is open: a phone enrolled at the
    counter between two blocks is found in the next one typed another way, not enrolled twice. (On SQLite the
    till waits for the import's transaction to end, and the import reads its customers again after it.)"""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: another writer waits for the import's transaction")
    from datetime import datetime, timezone

    from loyaltycli.services import customers, importer
    from loyaltycli.store.program import load_program

    database.ensure_schema(create=True)
    monkeypatch.setattr(importer, "BLOCK_ROWS", 1)  # each receipt a block of its own, one transaction
    process, blocks = importer.Importer._process, []

    def a_till_enrolls_before_the_third_block(self, session, program, batch):
        blocks.append(batch)
        if len(blocks) == 3:
            with database.session() as other:  # another connection: committed at once
                customers.enroll(other, load_program(other), "Counter", phone="0872222222",
                                 at=datetime(2026, 1, 1, tzinfo=timezone.utc))
        return process(self, session, program, batch)

    monkeypatch.setattr(importer.Importer, "_process", a_till_enrolls_before_the_third_block)
    till = tmp_path / "t.csv"
    till.write_text("receipt_id,timestamp,customer,amount\nR1,2026-03-01T10:00:00,087 111 1111,5.00\n"
                    "R2,2026-03-01T10:05:00,087 333 3333,3.00\nR3,2026-03-01T10:07:00,087 222 2222,3.00\n")
    summary = importer.import_file(database, till, enroll_unknown=True, rejects=tmp_path / "rejects.csv")
    assert (summary.imported, summary.rejected, summary.enrolled) == (3, 0, 2), summary.first_rejects
    assert len(blocks) >= 3


def test_an_unknown_customer_hint_names_no_option_already_given(cli, tmp_path):
    till = tmp_path / "t.csv"
    till.write_text("receipt_id,timestamp,customer,amount\nR1,2026-01-05T10:00:00,C000123,5.00\n")
    result = cli("import", till, "--customer-kind", "code", "--enroll-unknown", "--json")
    assert result.exit_code == 3 and "--enroll-unknown" not in json.loads(result.stdout)["first_rejects"][0]
    result = cli("import", till, "--json", "--again")
    assert "run the import with --enroll-unknown" in json.loads(result.stdout)["first_rejects"][0]


# -- 3. a missed night imported late -----------------------------------------------------------------------
def test_a_missed_night_imported_late_moves_the_enrolment_back(ro_shop, tmp_path):
    for day in ("05", "06"):
        code, _, err = run(ro_shop, ro_file(tmp_path / f"b{day}.csv", [
            f"BF {day}1;{day}.05.2026;10:00;0722123456;CAFEA;Cafea;1;20,00;20,00;"]))
        assert code == 0, err
    code, data, err = run(ro_shop, ro_file(tmp_path / "b04.csv", [
        "BF 041;04.05.2026;10:00;0722123456;CAFEA;Cafea;1;20,00;20,00;",
        "BF 042;04.05.2026;11:00;0722123456;CAFEA;Cafea;-1;20,00;-20,00;BF 041"]))
    assert code == 0 and data["rejected"] == 0, err
    # as if the nights had come in order: enrolled (and welcomed) at the first sale, on the 4th
    assert points(ro_shop, "0722123456") == [
        ("2026-05-04T07:00:00+00:00", "welcome", 50), ("2026-05-04T07:00:00+00:00", "earn", 20),
        ("2026-05-04T08:00:00+00:00", "refund", -20), ("2026-05-05T07:00:00+00:00", "earn", 20),
        ("2026-05-06T07:00:00+00:00", "earn", 20)]
    assert ro_shop.json("customer", "show", "0722123456")["enrolled_at"].startswith("2026-05-04T07:00")


def test_a_customer_enrolled_at_the_counter_is_not_moved(ro_shop, tmp_path):
    assert ro_shop("enroll", "Ana", "--phone", "0722123456", "--at", "2026-05-05T12:00").exit_code == 0
    code, data, _ = run(ro_shop, ro_file(tmp_path / "b.csv", [
        "BF 1;04.05.2026;10:00;0722123456;CAFEA;Cafea;1;20,00;20,00;"]))
    assert code == 3 and "is before C000001 enrolled" in data["first_rejects"][0]


# -- 6. returns of customers never seen ----------------------------------------------------------------------
def test_returns_of_customers_never_seen_are_counted_apart_and_exit_0(ro_shop, tmp_path):
    night = ro_file(tmp_path / "b.csv", [
        "BF 1;15.05.2026;09:00;0722123456;CAFEA;Cafea;1;20,00;20,00;",
        "BF 2;15.05.2026;09:30;0744555666;CAFEA;Cafea;-1;20,00;-20,00;",
        "BF 2;15.05.2026;09:30;0744555666;APA;Apă;-2;4,20;-8,40;",
        "BF 3;15.05.2026;09:40;Client ocazional;APA;Apă;1;4,20;4,20;"])
    result = ro_shop("import", night, "--preset", "ro-bonuri", "--enroll-unknown")
    assert result.exit_code == 0, result.stderr
    # 13: every row read is in one count
    assert result.stdout.startswith(f"{night}: read 4, imported 1, skipped 0, anonymous 1, rejected 0;")
    assert "; 2 returns without sale skipped" in result.stdout
    assert ro_shop("balance", "0744555666").exit_code != 0  # no one enrolled by a return
    again = ro_shop.json("import", night, "--preset", "ro-bonuri", "--enroll-unknown", "--again")
    assert (again["returns_without_sale"], again["skipped"], again["rejected"]) == (2, 1, 0)


# -- 7. an unlinked return at the base rate --------------------------------------------------------------------
def test_an_unlinked_return_takes_back_no_more_than_the_base_rate(ro_shop, tmp_path):
    assert ro_shop("program", "set", "expiry_days", "0").exit_code == 0
    code, _, err = run(ro_shop, ro_file(tmp_path / "b1.csv", [
        "BF 1;10.05.2026;09:00;0722123456;TV;Televizor;1;2.000,00;2.000,00;"]))
    assert code == 0, err
    # Gold from here (2,000.00 spent): a return naming no sale, of something never bought, at Gold x1.5
    # would take back 1,500 points; the base rate takes 1,000
    code, data, err = run(ro_shop, ro_file(tmp_path / "b2.csv", [
        "BF 9;11.05.2026;09:00;0722123456;FRIGIDER;Frigider;-1;1.000,00;-1.000,00;"]))
    assert code == 0 and data["refunds_unlinked"] == 1, err
    assert points(ro_shop, "0722123456")[-1] == ("2026-05-11T06:00:00+00:00", "refund", -1000)
    assert ro_shop.json("history", "0722123456")[-1]["note"] == "refund BF 9: 1000.00 (base rate x1, no sale linked)"


# -- 13. the summary adds up, and comes before the rejects line --------------------------------------------
def test_the_cron_line_adds_up_and_comes_before_the_rejects_line(cli, tmp_path):
    import os
    import subprocess
    import sys

    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount\nR1,2026-01-05T10:00:00,4001,5.00\n"
                    "R2,2026-01-05T10:01:00,,5.00\nR3,2026-01-05T10:02:00,4002,abc\n")
    db = os.environ["LOYALTY_DB"]
    if "://" in db:
        pytest.skip("a database file")
    out = subprocess.run([sys.executable, "-m", "loyaltycli", "import", str(till), "--enroll-unknown"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})
    lines = out.stdout.splitlines()
    assert out.returncode == 3
    assert lines[0].startswith(f"{till}: read 3, imported 1, skipped 0, anonymous 1, rejected 1;")
    assert lines[1] == f"1 row rejected: see {till}.rejects.csv"


# -- 4. the rejects file, fixed and imported again -------------------------------------------------------------
def test_the_rejects_file_is_the_rows_byte_for_byte_and_imports_once_fixed(ro_shop, tmp_path):
    rows = ["BF 3;15.05.2026;11:00;0722123456;CAFEA;Cafea \"Doncafé\";1;149,90;149,90;",
            "BF 1;15.05.2026;09:00;0722123456;PAINE;Pâine;2;3,50;7,00;",
            "BF 2;15.05.2026;10:00;0744555666;ŞUNCĂ;Şuncă;1;12,5O;12,50;",  # a letter O typed for a zero
            "BF 2;15.05.2026;10:00;0744555666;APA;Apă;1;4,20;4,20;",
            "BF 4;15.05.2026;12:00;0733111222;APA;Apă;1;4,20;4,21;"]     # 4,21 is not 1 x 4,20
    night = ro_file(tmp_path / "bonuri.csv", rows)
    code, data, _ = run(ro_shop, night)
    assert (code, data["imported"], data["rejected"]) == (3, 2, 3)
    raw = (tmp_path / "bonuri.csv.rejects.csv").read_bytes()
    lines = raw.split(b"\r\n")
    assert lines[0] == (HEADER + ";reason").encode("cp1250") and lines[-1] == b""
    # the rows as read, in the file's order, each with its reason in an added last column
    assert [line.rsplit(b";", 1)[0] for line in lines[1:-1]] == [r.encode("cp1250") for r in rows[2:]]
    reasons = [line.rsplit(b";", 1)[1].decode("cp1250") for line in lines[1:-1]]
    assert reasons[0].startswith(f"{night}:4: unit price '12,5O'") and "see line 4" in reasons[1]
    # fixed in place (the reason column left as it is) and imported: only the fixed rows go in
    fixed = tmp_path / "fixed.csv"
    fixed.write_bytes(raw.replace(b"12,5O", b"12,50").replace(b"4,20;4,21", b"4,21;4,21"))
    code, data, err = run(ro_shop, fixed)
    assert (code, data["imported"], data["rejected"], data["skipped"]) == (0, 3, 0, 0), err
    assert ro_shop.json("balance", "0744555666")["balance"] == 50 + 16


# -- 5. a receipt's lines straddling a minute -------------------------------------------------------------------
@pytest.mark.shop_zone("UTC")
@pytest.mark.parametrize("apart", [False, True])
def test_a_receipt_straddling_a_minute_is_one_receipt_wherever_its_lines_stand(cli, tmp_path, apart):
    header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    first = ["536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom\n",
             "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:27,3.39,17850,United Kingdom\n"]
    other = "536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:26,1.85,13047,United Kingdom\n"
    rows = [first[0], other, first[1]] if apart else [*first, other]
    till = tmp_path / "retail.csv"
    till.write_text(header + "".join(rows))
    data = cli.json("import", till, "--preset", "uci-online-retail", "--enroll-unknown", "--date-order", "MDY")
    assert (data["imported"], data["rejected"], data["sales"]) == (3, 0, 2)
    # its time is its earliest line's
    assert [(h["at"], h["points"]) for h in cli.json("history", "17850")] == [
        ("2010-12-01T08:26:00+00:00", 50), ("2010-12-01T08:26:00+00:00", 35)]


# -- 8, 9, 10, 12: a Portuguese POS export (cp1252, `;`, decimal comma) ------------------------------------------
PT_HEADER = ("Documento;Tipo;Data;Hora;NIF;Cliente;Artigo;Descrição;Quantidade;Preço unitário;Total;Estado;"
             "Doc. origem")
PT_ROWS = [
    "FS A/101;FS;03/05/2026;09:15;234567813;Maria João Simões;CAF01;Café em grão 1 kg;2;14,90;29,80;N;",
    "FS A/101;FS;03/05/2026;09:15;234567813;Maria João Simões;PAO;Pão de centeio;1;2,10;2,10;N;",
    # a 10% discount: 40 x 1,20 = 48,00, paid 43,20
    "FS A/102;FS;03/05/2026;10:02;123456789;José Conceição;AGUA;Água 1,5 l;40;1,20;43,20;N;",
    # annulled: left out
    "FS A/103;FS;03/05/2026;10:30;123456789;José Conceição;CAF01;Café em grão 1 kg;1;14,90;14,90;A;",
    # anonymous
    "FS A/104;FS;03/05/2026;11:00;999999990;Consumidor final;PAO;Pão de centeio;3;2,10;6,30;N;",
    # a credit note exported with positive amounts, naming the invoice it credits
    "NC A/7;NC;04/05/2026;16:40;234567813;Maria João Simões;CAF01;Café em grão 1 kg;1;14,90;14,90;N;FS A/101",
    # a line total above quantity x unit price: refused in the file's own numbers
    "FS A/105;FS;04/05/2026;17:00;501234560;Café Central Lda;CAF01;Café em grão 1 kg;2;14,90;31,00;N;",
]


def test_a_portuguese_pos_file_credit_notes_discounts_annulled_documents_and_names(cli, tmp_path):
    assert cli("program", "set", "country", "PT").exit_code == 0
    assert cli("program", "set", "expiry_days", "0").exit_code == 0
    till = tmp_path / "documentos.csv"
    till.write_bytes(("\r\n".join([PT_HEADER, *PT_ROWS]) + "\r\n").encode("cp1252"))
    result = cli("import", till, "--preset", "pt-pos", "--enroll-unknown", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 3
    assert (data["read"], data["imported"], data["skipped"], data["anonymous"], data["rejected"]) == (7, 4, 1, 1, 1)
    assert (data["sales"], data["refunds"], data["refunds_linked"], data["date_order_source"]) == (2, 1, 1, "shop")
    assert data["first_rejects"] == [
        f"{till}:8: item CAF01: amount 31,00 is more than quantity 2 x unit price 14,90 = 29,80"]
    # 8: the credit note is a return of FS A/101 (31,90 earned 31): 14,90 of it takes back 14
    maria = cli.json("customer", "show", "234567813")
    assert (maria["name"], maria["balance"]) == ("Maria João Simões", 50 + 31 - 14)
    # 9: the discounted line is recorded as paid: 43 points
    assert cli.json("balance", "123456789")["balance"] == 50 + 43
    # 12: enrolled with their names and their NIF as tax id (not as a phone or a card)
    jose = cli.json("customer", "show", "123456789")
    assert jose["name"] == "José Conceição" and jose.get("phone") in (None, "")


def test_skip_when_leaves_out_annulled_documents_without_a_preset(cli, tmp_path):
    assert cli("program", "set", "country", "PT").exit_code == 0
    till = tmp_path / "docs.csv"
    till.write_bytes(("\r\n".join([PT_HEADER, *PT_ROWS[2:4]]) + "\r\n").encode("cp1252"))
    maps = [x for column, field in (("Documento", "receipt_id"), ("Data", "date"), ("Hora", "time"),
                                    ("NIF", "customer"), ("Total", "amount")) for x in ("--map", f"{column}={field}")]
    data = cli.json("import", till, *maps, "--encoding", "cp1252", "--decimal-comma", "--customer-kind", "card",
                    "--enroll-unknown", "--skip-when", "estado=a", "--skip-when", "Estado=X")
    assert (data["imported"], data["skipped"], data["sales"]) == (1, 1, 1)
    bad = cli("import", till, *maps, "--skip-when", "Status=A", "--again")
    assert bad.exit_code == 1 and "--skip-when column 'Status' is not in the header" in bad.stderr
    assert cli("import", till, "--skip-when", "Estado", "--again").exit_code == 1


# -- 11. `import inspect` finds what the import finds ----------------------------------------------------------
def test_inspect_reads_a_portuguese_file_as_the_import_does(cli, tmp_path):
    assert cli("program", "set", "country", "PT").exit_code == 0
    till = tmp_path / "documentos.csv"
    till.write_bytes(("\r\n".join([PT_HEADER, *PT_ROWS]) + "\r\n").encode("cp1252"))
    report = cli.json("import", "inspect", till)
    assert (report["encoding"], report["delimiter"], report["decimal"]) == ("cp1252", ";", ",")
    assert report["header"][7] == "Descrição"
    assert report["columns"] == {"Documento": "receipt_id", "Data": "date", "Hora": "time", "NIF": "customer",
                                 "Cliente": "name", "Artigo": "sku", "Descrição": "description",
                                 "Quantidade": "quantity", "Preço unitário": "unit_price", "Total": "amount",
                                 "Doc. origem": "refund_of"}
    assert report["customer_kind"] == "tax_id"  # a NIF is never a phone
    import tomllib

    preset = tomllib.loads(report["preset_toml"])
    assert (preset["skip_when"], preset["negate_when"]) == ({"Estado": ["A"]}, {"Tipo": ["NC", "NCR", "Nota de crédito"]})
    assert preset["anonymous_values"] == ["999999990"]
    # the preset it writes imports the file as pt-pos does: annulled left out, the credit note a return
    assert cli("import", "inspect", till, "--save", "loja", "--json").exit_code == 0
    till.write_bytes(("\r\n".join([PT_HEADER, *PT_ROWS[:-1]]) + "\r\n").encode("cp1252"))
    data = cli.json("import", till, "--preset", "loja", "--enroll-unknown")
    assert (data["encoding"], data["imported"], data["skipped"], data["refunds_linked"]) == ("cp1252", 4, 1, 1)
    assert cli.json("customer", "show", "234567813")["name"] == "Maria João Simões"


def test_inspect_maps_a_romanian_header_and_reads_the_date_order_from_the_whole_file(cli, tmp_path):
    rows = [f"BF {n};0{1 + n % 9}.05.2026;10:00;0722123456;PAINE;Pâine albă;1;3,50;3,50;" for n in range(12_000)]
    rows.append("BF X;25.05.2026;10:00;0722123456;PAINE;Pâine albă;1;3,50;3,50;")  # past the first megabyte
    header = "Nr. bon;Data;Ora;Client;Cod produs;Denumire;Cantitate;Preţ unitar;Valoare;Bon iniţial"
    till = ro_file(tmp_path / "bonuri.csv", rows, header=header)
    assert till.stat().st_size > 300_000
    report = cli.json("import", "inspect", till)
    assert (report["encoding"], report["date_order"]) == ("cp1250", "DMY")
    assert report["columns"] == {"Nr. bon": "receipt_id", "Data": "date", "Ora": "time", "Client": "customer",
                                 "Cod produs": "sku", "Denumire": "description", "Cantitate": "quantity",
                                 "Preţ unitar": "unit_price", "Valoare": "amount", "Bon iniţial": "refund_of"}
    assert report["customer_kind"] is None  # phones stay phones


def test_inspect_refuses_what_is_not_a_regular_file_and_echoes_no_secret(cli, tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("PGPASSWORD", "s3cret-of-the-shop")
    result = cli("import", "inspect", "/proc/self/environ")
    assert result.exit_code == 1 and "s3cret" not in result.stdout + result.stderr
    assert "is not a regular file" in result.stderr
    result = cli("import", "/proc/self/environ")  # as the import refuses it
    assert result.exit_code == 1 and "is not a regular file" in result.stderr and "s3cret" not in result.stderr
    env = tmp_path / "env.csv"
    env.write_text("PGPASSWORD=s3cret-of-the-shop,DB=postgresql://u:pw@host/db\nx,y\n")
    result = cli("import", "inspect", env)
    assert result.exit_code == 1 and "s3cret" not in result.stdout + result.stderr and "pw@" not in result.stderr
    if os.path.exists("/dev/zero"):
        result = cli("import", "inspect", "/dev/zero")
        assert result.exit_code == 1 and "is a device" in result.stderr


# -- 12. names from the till ------------------------------------------------------------------------------------
def test_a_name_column_names_the_customers_an_import_enrolls(cli, tmp_path):
    till = tmp_path / "t.csv"
    till.write_text("receipt_id,timestamp,customer,name,amount\n"
                    "R1,2026-05-05T10:00:00,4001,Aoife Byrne,5.00\nR2,2026-05-05T10:01:00,4002,,5.00\n"
                    "R3,2026-05-05T10:02:00,4003,\x1b[31mRed,5.00\n")
    assert cli.json("import", till, "--enroll-unknown")["customers_enrolled"] == 3
    assert cli.json("customer", "show", "4001")["name"] == "Aoife Byrne"
    assert cli.json("customer", "show", "4003")["name"] is None  # a name that is not valid is left out
    assert cli.json("customer", "list", "--search", "aoife")[0]["code"] == "C000001"  # found by its name
    result = cli("customer", "edit", "4002", "--email", "b@example.ie")
    assert result.exit_code == 0 and result.stdout == "updated C000002 b@example.ie\n"  # nameless: by e-mail


def test_inspect_says_the_shops_date_order_where_the_import_would_take_it(cli, tmp_path):
    night = ro_file(tmp_path / "bonuri-05.csv", ["BF 1;05.05.2026;09:12;0722123456;PAINE;Pâine;2;3,50;7,00;"])
    assert cli.json("import", "inspect", night)["date_order"].startswith("unknown")
    assert cli("program", "set", "country", "RO").exit_code == 0
    report = cli.json("import", "inspect", night)
    assert report["date_order"] == "DMY (the shop's locale)"
    assert "date_order" not in report["preset_toml"]  # the shop's locale reads it on import, as it does here


def test_a_windows_1252_files_rejects_keep_its_encoding_in_the_reason_too(cli, tmp_path, monkeypatch):
    """A Western-European till file (found to be Windows-1252, no --encoding given): the reason column is
    written in that encoding as the rows are, so the rejects file is one encoding, not two."""
    monkeypatch.setenv("LOYALTY_LANG", "pt_PT")
    till = tmp_path / "loja.csv"
    till.write_bytes("receipt_id;timestamp;customer;amount\nR1;2026-05-01T10:00;José@example.pt;12,50\n"
                     "R2;xx;ana@example.pt;5\n".encode("cp1252"))
    rejects = tmp_path / "loja.rejects.csv"
    result = cli("import", str(till), "--enroll-unknown", "--decimal-comma", "--rejects", str(rejects))
    assert result.exit_code == 3, result.stderr
    text = rejects.read_bytes().decode("cp1252")  # would raise on UTF-8 bytes of "não"
    assert text.splitlines()[1].startswith("R2;xx;ana@example.pt;5;") and "não é uma data" in text


def test_a_romanian_reason_in_a_windows_1250_rejects_file_keeps_its_letters(ro_shop, tmp_path, monkeypatch):
    """ș and ț (comma below) are not in Windows-1250: the reason is written with ş and ţ, as Romanian
    tills write them, not with '?'."""
    from loyaltycli.tillcsv.rejects import reason_cell

    assert reason_cell("prețul unitar și €", ";", "cp1250").decode("cp1250") == "preţul unitar şi €"
    assert reason_cell("preț", ";", "utf-8").decode("utf-8") == "preț"  # kept where the encoding has it
    monkeypatch.setenv("LOYALTY_LANG", "ro")
    night = ro_file(tmp_path / "bonuri.csv", ["BF 4;15.05.2026;12:00;0733111222;APA;Apă;1;4,20;4,21;"])
    code, data, _ = run(ro_shop, night)
    assert (code, data["rejected"]) == (3, 1)
    reason = (tmp_path / "bonuri.csv.rejects.csv").read_bytes().split(b"\r\n")[1].rsplit(b";", 1)[1].decode("cp1250")
    assert "preţul unitar" in reason and "?" not in reason


def test_a_closed_day_at_two_tills_is_two_empty_files_not_the_same_file_twice(ro_shop, tmp_path):
    """Both tills export the header alone: the second is not 'the same file already imported'."""
    first, second = ro_file(tmp_path / "casa1.csv", []), ro_file(tmp_path / "casa2.csv", [])
    assert run(ro_shop, first, "--source", "casa1")[0] == 0
    code, summary, err = run(ro_shop, second, "--source", "casa2")
    assert (code, summary["read"], err) == (0, 0, "")
    again = ro_file(tmp_path / "casa3.csv", ["1;05.05.2026;10:00;0721000001;P1;Pâine;1;5,00;5,00;"])
    assert run(ro_shop, again, "--source", "casa1")[0] == 0
    refused = ro_shop("import", again, "--preset", "ro-bonuri", "--source", "casa2", "--enroll-unknown")
    assert refused.exit_code == 1 and "was already imported on" in refused.stderr  # a file with rows still is


def test_a_rejects_file_in_a_missing_folder_is_refused_before_anything_is_imported(ro_shop, tmp_path):
    till = ro_file(tmp_path / "bonuri.csv", ["1;05.05.2026;10:00;0721000001;P1;Pâine;1;5,00;5,00;",
                                             "2;05.05.2026;10:05;0721000001;P1;Pâine;1;abc;abc;"])
    code, summary, err = run(ro_shop, till, "--rejects", tmp_path / "missing" / "rejects.csv")
    assert (code, summary) == (1, {})
    assert err == (f"error: cannot use the rejects file {tmp_path / 'missing' / 'rejects.csv'}: its folder does not "
                   "exist or cannot be written\n")
    assert ro_shop("customer", "list", "--json").stdout.strip() == "[]"  # nothing imported, nobody enrolled


def test_an_amount_with_a_decimal_comma_in_a_file_read_with_points_says_how_to_read_it(cli, tmp_path):
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount\n"
                    '1,2026-05-05T10:00:00,ann@example.ie,"12,50"\n')
    result = cli("import", till, "--enroll-unknown")
    assert result.exit_code == 3
    rejected = (tmp_path / "till.csv.rejects.csv").read_text()
    assert rejected.rstrip().endswith("till.csv:2: amount '12,50' is written with a decimal comma: give "
                                      "--decimal-comma (or a preset that reads them)\"")


@pytest.mark.parametrize("country, text, expected", [
    ("PT", "1,500", None),   # a Portuguese shop writes 1,5 for one and a half: 1500 or 1.5?
    ("IE", "1,500", 1500),   # an Irish shop's comma groups thousands
    ("IE", "0,750", None),   # never 750, wherever
])
def test_a_quantity_with_one_comma_and_three_digits_is_refused_where_it_reads_two_ways(cli, tmp_path, country,
                                                                                      text, expected):
    assert cli("program", "set", "country", country).exit_code == 0
    till = tmp_path / "till.csv"
    till.write_text("receipt_id;timestamp;customer;sku;quantity;unit_price\n"
                    f"K1;2026-05-05T10:00:00;ann@example.ie;BANANA;{text};0.10\n")
    result = cli("import", till, "--enroll-unknown", "--json")
    if expected is None:
        assert result.exit_code == 3
        reason = (tmp_path / "till.csv.rejects.csv").read_text().rstrip().rsplit(";", 1)[1]
        whole, frac = text.split(",")
        assert reason.endswith(f"quantity '{text}' is thousands or a decimal comma: give --decimal-comma if the file "
                               f"writes decimal commas, else write {whole}{frac}")
        fixed = cli("import", till, "--enroll-unknown", "--decimal-comma", "--json")
        assert json.loads(fixed.stdout)["imported"] == 1  # 1,500 read as 1.5 (0.15 paid)
    else:
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["imported"] == 1


def test_a_return_signed_on_its_quantity_alone_is_a_return(cli, tmp_path):
    """-1 x 10.00 with a line total written 10.00: the till put the sign on the quantity only."""
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount,sku,quantity,unit_price\n"
                    "V1,2026-05-05T10:00:00,ann@example.ie,30.00,CAF,3,10.00\n"
                    "V2,2026-05-05T12:00:00,ann@example.ie,10.00,CAF,-1,10.00\n")
    summary = json.loads(cli("import", till, "--enroll-unknown", "--json").stdout)
    assert (summary["imported"], summary["refunds"], summary["refunds_linked"]) == (2, 1, 1)
    rows = [(r["kind"], r["points"]) for r in cli.json("history", "ann@example.ie")]
    assert rows == [("welcome", 50), ("earn", 30), ("refund", -10)]


def test_a_receipt_whose_lines_are_apart_is_rejected_whole_when_a_line_is_bad(cli, tmp_path):
    """P1's lines are apart (P2 between them) and one is bad: neither P1 line is imported, both are in the
    rejects file, and the mended rejects file imports P1 whole."""
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount\n"
                    "P1,2026-05-05T12:00:00,ann@example.ie,5.00\n"
                    "P2,2026-05-05T13:00:00,ann@example.ie,6.00\n"
                    "P1,2026-05-05T12:00:00,ann@example.ie,zz\n")
    summary = json.loads(cli("import", till, "--enroll-unknown", "--json").stdout)
    assert (summary["imported"], summary["rejected"]) == (1, 2)
    assert [r["note"] for r in cli.json("history", "ann@example.ie") if r["kind"] == "earn"] == [
        "receipt P2 6.00 store (Bronze x1)"]
    rejected = (tmp_path / "till.csv.rejects.csv").read_text().splitlines()
    mended = tmp_path / "mended.csv"
    mended.write_text("\n".join([rejected[0].rsplit(",", 1)[0]]
                                + [row.rsplit(",", 1)[0].replace(",zz", ",4.00") for row in rejected[1:]]) + "\n")
    assert json.loads(cli("import", mended, "--json").stdout)["imported"] == 2
    assert [r["note"] for r in cli.json("history", "ann@example.ie") if r["kind"] == "earn"] == [
        "receipt P1 9.00 store (Bronze x1)", "receipt P2 6.00 store (Bronze x1)"]
