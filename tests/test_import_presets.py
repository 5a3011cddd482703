"""Presets for real exports (UCI Online Retail, Loyverse), kept as data in loyaltycli/presets/."""

from __future__ import annotations

import json

import pytest

from loyaltycli.services import importer

UCI = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
    '536365,71053,"LANTERN, WHITE METAL",6,12/1/2010 8:26,3.39,17850.0,United Kingdom\n'
    "536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,,United Kingdom\n"
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,2,12/1/2010 8:34,10.00,14527,United Kingdom\n"
    "536367,22745,POPPY'S PLAYHOUSE BEDROOM,1,12/1/2010 8:34,5.00,14527,United Kingdom\n"
    "C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527,United Kingdom\n"
    "C536367,22745,POPPY'S PLAYHOUSE BEDROOM,-1,12/1/2010 10:00,5.00,14527,United Kingdom\n"
)


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_uci_online_retail(cli, tmp_path):
    cli("program", "set", "expiry_days", "0")  # 2010's points would have expired: balances show what is spendable
    till = tmp_path / "Online Retail.csv"
    till.write_text(UCI)
    result = cli("import", till, "--preset", "uci-online-retail", "--enroll-unknown", "--date-order", "MDY", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # the anonymous sale (no CustomerID) is skipped and counted, not rejected
    assert (data["read"], data["imported"], data["skipped"], data["anonymous"], data["rejected"]) == (7, 6, 0, 1, 0)
    assert (data["sales"], data["refunds"], data["customers_enrolled"]) == (2, 2, 2)
    # 17850: 6 x 2.55 + 6 x 3.39 = 35.64 -> 35 points, + welcome 50 (the 17850.0 line is the same customer)
    assert cli.json("balance", "17850")["balance"] == 85
    # 14527: 25.00 -> 25; C536379 names no invoice of ours: 27.50 at Bronze -> -27;
    # C536367 cancels 5.00 of 536367: 25 x 5/25 -> -5
    assert cli.json("balance", "14527")["balance"] == 50 + 25 - 27 - 5
    history = cli.json("history", "14527")
    assert history[0]["at"] == "2010-12-01T08:34:00+00:00"
    assert [h["points"] for h in history] == [50, 25, -27, -5]
    assert "no sale linked" in history[2]["note"] and history[3]["note"] == "refund of receipt 536367: 5.00"


def test_uci_unknown_customers_rejected_without_enroll(cli, tmp_path):
    till = tmp_path / "retail.csv"
    till.write_text(UCI)
    result = cli("import", till, "--preset", "uci-online-retail", "--date-order", "MDY", "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    # the sales are rejected (unknown customers); the returns of customers never seen are counted apart
    assert (data["rejected"], data["returns_without_sale"]) == (4, 2)


LOYVERSE = (
    "Date,Receipt number,Receipt type,Gross sales,Discounts,Net sales,Taxes,Total collected,Cost of goods,"
    "Gross profit,Payment type,Description,Dining option,POS,Store,Cashier name,Customer name,"
    "Customer contacts,Status\n"
    "03/01/26 10:15 AM,1-1001,Sale,$30.00,$0.00,$30.00,$0.00,$30.00,$12.00,$18.00,Card,,Dine in,POS 1,"
    "Main,Sam,Ann Walsh,ann@example.ie,Closed\n"
    "03/01/26 11:00 AM,1-1002,Sale,$12.00,$0.00,$12.00,$0.00,$12.00,$5.00,$7.00,Cash,,,POS 1,Main,Sam,"
    "Ann Walsh,ann@example.ie,Cancelled\n"
    "03/02/26 09:00 AM,1-1003,Refund,$10.00,$0.00,$10.00,$0.00,$10.00,$4.00,$6.00,Card,,,POS 1,Main,Sam,"
    "Ann Walsh,+353851234567,Closed\n"
    "03/02/26 09:30 AM,1-1004,Sale,$8.00,$0.00,$8.00,$0.00,$8.00,$3.00,$5.00,Cash,,,POS 1,Main,Sam,,,Closed\n"
)


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_loyverse_receipts(cli, tmp_path):
    assert cli("enroll", "Ann Walsh", "--email", "ann@example.ie", "--phone", "+353851234567",
               "--at", "2026-01-01T09:00:00", "--no-input").exit_code == 0
    till = tmp_path / "receipts.csv"
    till.write_text(LOYVERSE)
    data = cli.json("import", till, "--preset", "loyverse-us", "--source", "loyverse")
    # the cancelled receipt is skipped, the anonymous one counted as such; the refund is made negative
    assert (data["read"], data["imported"], data["skipped"], data["anonymous"], data["rejected"]) == (4, 2, 1, 1, 0)
    assert cli.json("balance", "ann@example.ie")["balance"] == 50 + 30 - 10
    history = cli.json("history", "ann@example.ie")
    assert history[1]["at"] == "2026-03-01T10:15:00+00:00"


def test_presets_are_data_and_listed(cli):
    names = [p.name for p in importer.list_presets()]
    assert names == ["loyverse", "loyverse-eu", "loyverse-us", "online-retail-ii", "pt-pos", "ro-bonuri", "saft-pt", "shopify-orders",
                     "square-items", "uci-online-retail"]
    uci = importer.load_preset("UCI-Online-Retail")
    assert uci.columns["InvoiceNo"] == "receipt_id" and uci.cancellation_prefix == "C"
    listed = cli.json("import-presets")
    assert [row["preset"] for row in listed] == names


def test_built_in_descriptions_are_translated_and_the_tills_column_names_are_not(cli, monkeypatch):
    from loyaltycli.i18n_tools import preset_messages

    built_in = [p for p in importer.list_presets() if p.origin == "built-in"]
    # every built-in description is a msgid the catalogs' extraction finds
    assert sorted(text for _where, text in preset_messages()) == sorted(p.description for p in built_in)
    loyverse = importer.load_preset("loyverse")
    assert loyverse.described() == ("Loyverse receipts: Date, Receipt number, Receipt type, Net sales, "
                                    "Customer contacts, Status")
    from loyaltycli.tillcsv import presets

    monkeypatch.setattr(presets, "_", lambda text: f"<{text}>")
    assert loyverse.described() == "<Loyverse receipts>: Date, Receipt number, Receipt type, Net sales, Customer contacts, Status"
    assert loyverse.described(translated=False).startswith("Loyverse receipts: Date")  # JSON and CSV: stable
    assert {row["description"] for row in cli.json("import-presets")} == {p.described(translated=False) for p in built_in}


def test_map_overrides_a_preset(cli, tmp_path):
    cli("program", "set", "expiry_days", "0")  # 2010's points would have expired: balances show what is spendable
    assert cli("enroll", "Bo", "--card", "9999", "--at", "2010-01-01T00:00:00", "--no-input").exit_code == 0
    till = tmp_path / "retail.csv"
    till.write_text("\n".join(UCI.replace("CustomerID", "Customer").replace(",17850,", ",9999,").splitlines()[:2]))
    result = cli("import", till, "--preset", "uci-online-retail", "--map", "Customer=customer", "--date-order", "MDY",
                 "--json")
    data = json.loads(result.stdout)
    assert data["imported"] == 1 and cli.json("balance", "9999")["balance"] == 50 + 15  # 6 x 2.55 = 15.30


@pytest.mark.parametrize("item, message", [
    ("x", "is not COLUMN=FIELD"), ("=amount", "is not COLUMN=FIELD"), ("a=b", "'b' is not one of"),
])
def test_parse_map_refuses_bad_items(item, message):
    from loyaltycli.base.errors import InvalidInput

    with pytest.raises(InvalidInput, match=message):
        importer.parse_map([item])


def test_loyverse_enrolls_unknown_contacts_as_phone_or_email(cli, tmp_path):
    till = tmp_path / "receipts.csv"
    till.write_text(LOYVERSE.replace("+353851234567", "0861234567"))
    result = cli("import", till, "--preset", "loyverse", "--date-order", "MDY", "--enroll-unknown", "--json")
    data = json.loads(result.stdout)
    # a return never enrolls anyone (nor earns a welcome bonus): the phone's only receipt is a return
    # (counted apart as a return without sale, not rejected: issue 25)
    assert result.exit_code == 0 and data["customers_enrolled"] == 1 and data["rejected"] == 0
    assert data["returns_without_sale"] == 1
    assert cli.json("customer", "show", "ann@example.ie")["balance"] == 50 + 30
    assert cli("customer", "show", "+353861234567").exit_code != 0
