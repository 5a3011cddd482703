"""The Portuguese SAF-T (PT) file read into canonical rows (loyaltycli/tillcsv/saft.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from loyaltycli.base.errors import InvalidInput
from loyaltycli.tillcsv import saft

pytestmark = pytest.mark.dialect_free("tillcsv reads SAF-T files into receipts: no ORM, no database")

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "saft-pt.xml"


def test_sample_rows():
    counts = saft.SaftCounts()
    with SAMPLE.open("rb") as handle:
        rows = list(saft.rows(handle, "saft-pt.xml", counts))
    got = [(r["receipt_id"], r["customer"], r["amount"], r["sku"], r["quantity"], r["refund_of"]) for r in rows]
    assert got == [
        ("FS 2026/101", "", "3.50", "PAO-500", "2", ""),  # Consumidor final: anonymous
        ("FT 2026/5", "215876342", "19.50", "QUEIJO-KG", "0.75", ""),  # 0.750 kg, VAT included
        ("FT 2026/5", "215876342", "7.00", "PAO-500", "4", ""),
        ("FS 2026/103", "256314780", "17.50", "PAO-500", "10", ""),  # FS 2026/102 annulled: left out
        ("NC 2026/7", "215876342", "-3.50", "PAO-500", "-2", "FT 2026/5"),  # credit note linked
    ]
    assert rows[1]["timestamp"] == "2026-05-04T10:31:02" and rows[1]["description"] == "Queijo da Serra (kg)"
    assert (counts.invoices, counts.credit_notes, counts.annulled, counts.anonymous_documents,
            counts.currency) == (3, 1, 1, 1, "EUR")


def test_customers_and_invoices_are_dropped_from_the_tree_as_read():
    """Memory stays flat: after each invoice the tree holds nothing of it."""
    invoice = ("<Invoice><InvoiceNo>FS A/{n}</InvoiceNo><DocumentStatus><InvoiceStatus>N</InvoiceStatus>"
               "</DocumentStatus><InvoiceDate>2026-05-04</InvoiceDate><InvoiceType>FS</InvoiceType>"
               "<CustomerID>C1</CustomerID><Line><ProductCode>X</ProductCode><Quantity>1</Quantity>"
               "<UnitPrice>1.00</UnitPrice><CreditAmount>1.00</CreditAmount></Line></Invoice>")
    xml = ("<AuditFile xmlns='urn:OECD:StandardAuditFile-Tax:PT_1.04_01'><MasterFiles><Customer>"
           "<CustomerID>C1</CustomerID><CustomerTaxID>215876342</CustomerTaxID></Customer></MasterFiles>"
           "<SourceDocuments><SalesInvoices>" + "".join(invoice.format(n=n) for n in range(2000))
           + "</SalesInvoices></SourceDocuments></AuditFile>")
    rows = saft.rows(io.BytesIO(xml.encode()))
    first = next(rows)
    assert first["receipt_id"] == "FS A/0" and first["timestamp"] == "2026-05-04"
    assert sum(1 for _ in rows) == 1999


@pytest.mark.parametrize("data, message", [
    (b"", "not well-formed XML"),
    (b"<html><body/></html>", "not a SAF-T"),
    (b"<AuditFile><SourceDocuments>", "not well-formed XML"),
])
def test_not_a_saft_file(data, message):
    with pytest.raises(InvalidInput, match=message):
        list(saft.rows(io.BytesIO(data)))
