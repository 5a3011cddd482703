"""A UCI-Online-Retail-shaped year (benchmarks/uci_year.py, 5,000 rows) in US, ISO and UK day-first dates:
three imports, one ledger (issue 12, "Done when"); with the real year's quirks (issue 25): invoices straddling a
minute, returns of customers never seen, cancellations written positive, all imported exactly."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from loyaltycli.services import backup, importer
from loyaltycli.store.db import Database

ROOT = Path(__file__).resolve().parents[1]


def _year_module():
    spec = importlib.util.spec_from_file_location("uci_year", ROOT / "benchmarks" / "uci_year.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("uci_year", module)  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fresh_db(tmp_path):
    made = []

    def make(name: str) -> Database:
        database = Database("sqlite:///" + str(tmp_path / f"{name}.db"))
        database.ensure_schema()
        made.append(database)
        return database

    yield make
    for database in made:
        database.engine.dispose()


def _ledger(database, folder: Path) -> list[list[str]]:
    backup.export(database, folder)
    with (folder / "ledger.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_generator_is_real_shaped_and_deterministic(tmp_path):
    year = _year_module()
    paths, stats = year.generate(tmp_path / "a", rows=2000, seed=5)
    again, _ = year.generate(tmp_path / "b", rows=2000, seed=5, forms=("uk",))
    assert paths["uk"].read_bytes() == again["uk"].read_bytes()
    lines = paths["us"].read_text().splitlines()
    assert lines[0] == "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
    assert len(lines) == 2001 and stats.rows == 2000
    first = {form: next(csv.DictReader(paths[form].open()))["InvoiceDate"] for form in ("us", "iso", "uk")}
    assert first["us"].startswith("12/1/2010 ") and first["iso"].startswith("2010-12-01 ")
    assert first["uk"].startswith("01/12/2010 ")
    rows = list(csv.DictReader(paths["us"].open()))
    cancels = [r for r in rows if r["InvoiceNo"].startswith("C")]
    assert cancels and all(r["CustomerID"] for r in cancels)
    assert any(int(r["Quantity"]) > 0 for r in cancels) and stats.positive_cancellations  # written positive
    assert any(not r["CustomerID"] for r in rows)
    assert stats.cancellations + stats.returns_without_sale == len({r["InvoiceNo"] for r in cancels})
    # invoices whose lines straddle a minute
    times: dict[str, set] = {}
    for r in rows:
        times.setdefault(r["InvoiceNo"], set()).add(r["InvoiceDate"])
    assert sum(1 for t in times.values() if len(t) > 1) == stats.straddling > 0


def test_a_year_in_three_date_forms_gives_one_ledger(cli, database, fresh_db, tmp_path):
    year = _year_module()
    paths, stats = year.generate(tmp_path / "year", rows=5000, seed=2010)
    assert stats.zero_invoices and stats.cancellations >= 3
    assert stats.straddling and stats.returns_without_sale and stats.positive_cancellations
    # UK day-first through the CLI (its date order read from the file), US and ISO at library level
    result = cli("import", paths["uk"], "--preset", "uci-online-retail", "--source", "uk", "--enroll-unknown",
                 "--json")
    assert result.exit_code == 3, result.stderr  # the 0.00 invoices
    summaries = {"uk": json.loads(result.stdout)}
    databases = {"uk": database}
    for form in ("us", "iso"):
        databases[form] = fresh_db(form)
        summaries[form] = importer.import_file(databases[form], paths[form], preset="uci-online-retail",
                                               source="uk", enroll_unknown=True).as_dict()
    for form, data in summaries.items():
        assert (data["read"], data["anonymous"], data["sales"]) == (5000, stats.anonymous_rows, stats.sales), form
        # straddling invoices are whole sales; returns of customers never seen counted apart, not rejected
        assert data["returns_without_sale"] == stats.returns_without_sale, form
        # the only receipts refused are the 0.00 ones
        assert data["rejected"] == stats.zero_rows, form
        assert all("adds up to 0.00: nothing to record" in r for r in data["first_rejects"]), form
        # every cancellation found the sale it mirrors (or an equal later one of the same customer)
        assert (data["refunds"], data["refunds_linked"], data["refunds_unlinked"]) == (stats.cancellations,) * 2 + (0,)
    same = ("read", "imported", "anonymous", "rejected", "sales", "refunds", "refunds_linked", "customers_enrolled",
            "points_awarded")
    assert {form: [data[k] for k in same] for form, data in summaries.items() if form != "uk"} == \
        {form: [summaries["uk"][k] for k in same] for form in ("us", "iso")}
    ledgers = {form: _ledger(db, tmp_path / f"export-{form}") for form, db in databases.items()}
    assert len(ledgers["uk"]) > 200
    assert ledgers["us"] == ledgers["iso"] == ledgers["uk"]
    header = ledgers["uk"][0]
    cid, delta = header.index("customer_id"), header.index("delta")
    totals: dict[str, int] = {}
    for row in ledgers["uk"][1:]:
        totals[row[cid]] = totals.get(row[cid], 0) + int(row[delta])
    assert min(totals.values()) >= 0
    assert {summaries[f]["points_awarded"] for f in summaries} == {sum(totals.values())}
