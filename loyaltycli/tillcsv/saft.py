"""The Portuguese SAF-T (PT) 1.04_01 audit file, streamed into canonical till rows.

Every certified invoicing program in Portugal exports it. Read with ``xml.etree.ElementTree.iterparse``:
every element is dropped from the tree once read, so memory stays flat however long the file.

- Invoices (FT), simplified invoices (FS) and invoice-receipts (FR) are sales; credit notes (NC) are
  returns, linked by ``refund_of`` to the invoice their lines reference. Debit notes (ND) and annulled
  documents (status A) are left out and counted.
- The customer's key is the NIF (CustomerTaxID), recorded as their tax id with their name (CompanyName)
  when the import enrolls them; ``Consumidor final`` (NIF 999999990) is anonymous.
- Points are earned on what the customer paid, VAT included: a line's unit price is its UnitPrice (net)
  plus its TaxPercentage, its amount quantity x that price rounded half-even to cents, and the
  document's total the sum of its lines (GrossTotal, give or take a cent of rounding).
- Times: SystemEntryDate (local time), else InvoiceDate at midnight.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Iterator
from xml.etree.ElementTree import ParseError, iterparse

from loyaltycli.base.errors import InvalidInput
from loyaltycli.base import numbers
from loyaltycli.i18n import _

ANONYMOUS_NIF = "999999990"
SALES = {"FT", "FS", "FR"}
RETURNS = {"NC"}
COLUMNS = ("receipt_id", "timestamp", "customer", "amount", "channel", "sku", "quantity", "unit_price",
           "refund_of", "description", "name", "tax_id")


@dataclass
class SaftCounts:
    invoices: int = 0
    credit_notes: int = 0
    annulled: int = 0
    other_documents: int = 0
    anonymous_documents: int = 0
    currency: str = ""
    skipped: dict = field(default_factory=dict)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(elem, name: str):
    for child in elem:
        if _local(child.tag) == name:
            return child
    return None


def _text(elem, *path: str) -> str:
    for name in path:
        if elem is None:
            return ""
        elem = _child(elem, name)
    return (elem.text or "").strip() if elem is not None else ""


# One document may hold this many lines (a till's receipt holds tens): the lines of the document being read
# are the only part of the file kept in memory, so this caps the memory a file can take.
MAX_DOCUMENT_LINES = 10_000


def rows(handle: IO[bytes], label: str = "saft.xml", counts: SaftCounts | None = None) -> Iterator[dict]:
    """Canonical rows (dicts keyed by COLUMNS) of the sales documents of a SAF-T (PT) file.

    Memory stays flat in the file's size: every element is dropped from the tree as soon as it ends
    (payments, movements of goods, ledger entries, tax tables...), except the parts of the one invoice or
    customer being read, which go when it ends; a document of more than MAX_DOCUMENT_LINES lines is
    refused."""
    counts = counts if counts is not None else SaftCounts()
    customers: dict[str, str] = {}  # CustomerID -> NIF ('' for the final consumer)
    names: dict[str, str] = {}  # CustomerID -> CompanyName (the customer's name, recorded when enrolled)
    stack: list = []
    record = None  # the invoice or master-file customer being read
    lines = 0
    seen_root = False
    try:
        for event, elem in iterparse(handle, events=("start", "end")):
            if event == "start":
                if not seen_root:
                    seen_root = True
                    if _local(elem.tag) != "AuditFile":
                        raise InvalidInput(_('{label} is not a SAF-T (PT) file: its root is <{tag}>, not <AuditFile>').format(label=label, tag=_local(elem.tag)))
                elif record is None:
                    name = _local(elem.tag)
                    if name == "Invoice" or (name == "Customer" and _local(stack[-1].tag) == "MasterFiles"):
                        record, lines = elem, 0
                stack.append(elem)
                continue
            stack.pop()
            parent = stack[-1] if stack else None
            if elem is record:
                record = None
                if _local(elem.tag) == "Invoice":
                    yield from _invoice(elem, customers, counts, label, names)
                else:
                    nif = _text(elem, "CustomerTaxID")
                    company = _text(elem, "CompanyName").lower()
                    anonymous = nif in ("", ANONYMOUS_NIF) or company == "consumidor final"
                    customers[_text(elem, "CustomerID")] = "" if anonymous else nif
                    if not anonymous:
                        names[_text(elem, "CustomerID")] = _text(elem, "CompanyName")
            elif record is not None:
                if parent is record and _local(elem.tag) == "Line":
                    lines += 1
                    if lines > MAX_DOCUMENT_LINES:
                        raise InvalidInput(_('{label}: {number} has more than {limit} lines; no till receipt is that long (is the file damaged?)').format(label=label, number=_text(record, "InvoiceNo") or _("an invoice"), limit=MAX_DOCUMENT_LINES))
                continue  # part of the record: read when it ends
            elif _local(elem.tag) == "CurrencyCode" and parent is not None and _local(parent.tag) == "Header":
                counts.currency = (elem.text or "").strip()
            if parent is not None:
                parent.remove(elem)
    except ParseError as exc:
        raise InvalidInput(_('{label}: not well-formed XML ({exc})').format(label=label, exc=exc)) from None
    except (LookupError, ValueError) as exc:  # an encoding Python does not know, or not a text encoding
        raise InvalidInput(_('{label}: cannot read its encoding ({exc}); a SAF-T (PT) file is UTF-8 or Windows-1252').format(label=label, exc=exc)) from None
    if not seen_root:
        raise InvalidInput(_('{label} is empty: expected a SAF-T (PT) XML file').format(label=label))


def _invoice(elem, customers: dict[str, str], counts: SaftCounts, label: str,
             names: dict[str, str] | None = None) -> Iterator[dict]:
    number = _text(elem, "InvoiceNo")
    kind = _text(elem, "InvoiceType") or number.split(" ")[0]
    status = _text(elem, "DocumentStatus", "InvoiceStatus")
    if status == "A":
        counts.annulled += 1
        return
    if kind not in SALES and kind not in RETURNS:
        counts.other_documents += 1
        return
    refund = kind in RETURNS
    if refund:
        counts.credit_notes += 1
    else:
        counts.invoices += 1
    when = _text(elem, "SystemEntryDate") or _text(elem, "InvoiceDate")
    customer = customers.get(_text(elem, "CustomerID"), "")
    name = (names or {}).get(_text(elem, "CustomerID"), "") if customer else ""
    if not customer:
        counts.anonymous_documents += 1
    lines = [line for line in elem if _local(line.tag) == "Line"]
    out = []
    for line in lines:
        refs = _child(line, "References")
        row = {"receipt_id": number, "timestamp": when, "customer": customer, "channel": "store",
               "sku": _text(line, "ProductCode"), "refund_of": _text(refs, "Reference") if refs is not None else "",
               "description": _text(line, "ProductDescription"), "name": name, "tax_id": customer}
        row.update(_amounts(line, refund))
        out.append(row)
    refs = {row["refund_of"] for row in out if row["refund_of"]}
    if refund and len(refs) == 1:  # one invoice credited: every line names it
        for row in out:
            row["refund_of"] = next(iter(refs))
    yield from out


def _number(text: str) -> Decimal:
    """A finite number of sane size (NaN, sNaN, Infinity and 1E+999999 are not), else ValueError."""
    value = Decimal(text)
    if not value.is_finite() or (value and not -12 <= value.adjusted() <= 12):
        raise ValueError(text)
    return value


def _amounts(line, refund: bool) -> dict:
    """A line's amount, quantity and unit price (VAT included) as canonical text. A value that is no
    number (NaN, Infinity, a huge exponent, a quantity of 0 to divide the amount by...) is passed on as it
    stands with no amount: the import rejects the document with the reason, citing the value."""
    quantity_text = _text(line, "Quantity") or "1"
    price_text = _text(line, "UnitPrice")
    net_text = _text(line, "DebitAmount" if refund else "CreditAmount") or "0"
    tax = _text(line, "Tax", "TaxPercentage")
    sign = -1 if refund else 1
    try:
        quantity = _number(quantity_text)
        # no unit price: the line's net amount over its quantity
        price = _number(price_text) if price_text else _number(net_text) / quantity
        rate = _number(tax) if tax else Decimal(0)
        # what the customer paid for one unit, VAT included (6 decimals, as SAF-T writes unit prices)
        gross_price = (price * (1 + rate / 100)).quantize(Decimal("0.000001"))
        amount = numbers.plain(Decimal(sign * numbers.line_amount(quantity, gross_price)) / 100)
    except (ArithmeticError, ValueError):  # InvalidOperation, DivisionByZero
        shown_price = price_text or net_text
        if tax:
            shown_price += f" +{tax}% VAT"
        return {"amount": "", "quantity": f"-{quantity_text}" if refund and quantity_text[:1] != "-" else quantity_text,
                "unit_price": shown_price}
    return {"amount": amount, "quantity": f"{(sign * quantity).normalize():f}",
            "unit_price": f"{gross_price.normalize():f}"}


def to_csv(handle: IO[bytes], out: IO[str], label: str = "saft.xml") -> SaftCounts:
    """Write the canonical CSV of a SAF-T (PT) file (what ``loyalty import --preset saft-pt`` reads)."""
    counts = SaftCounts()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows(handle, label, counts):
        writer.writerow(row)
    return counts


def is_saft(first_bytes: bytes) -> bool:
    """True when the start of a file looks like a SAF-T (PT) XML file."""
    head = first_bytes.lstrip(b"\xef\xbb\xbf \r\n\t")[:4096]
    return head.startswith(b"<") and b"AuditFile" in head
