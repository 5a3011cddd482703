"""`loyalty import inspect FILE`: what a till export looks like (delimiter, encoding, decimal style, date
order, header) and a preset to start from. The encoding and the date order are found as the import finds them
(tillcsv/detect.py; dates read to the end of the file); the columns are guessed from header names of real
tills (pt, ro, it, es included). Guesses are shown, never applied."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from loyaltycli.base.files import reason as os_reason
from loyaltycli.base.errors import InvalidInput
from loyaltycli.tillcsv import dates, presets
from loyaltycli.tillcsv.files import check_encoding
from loyaltycli.i18n import _

SAMPLE_ROWS = 2000
# header names (lower case) seen in real exports, for the fields they hold
# pt / ro / it / es tills' own names included; matched without case, accents kept
SYNONYMS = {
    "receipt_id": ["receipt_id", "receipt", "receipt number", "receipt no", "invoiceno", "invoice", "invoice no",
                   "transaction id", "order", "order id", "document", "documento", "n.º documento", "nº documento",
                   "n.º doc.", "número", "numero", "número documento", "numero documento", "număr bon", "numar bon",
                   "nr. bon", "nr bon", "nr. bon fiscal", "bon", "scontrino", "n. scontrino", "numero scontrino",
                   "ticket", "nº ticket", "n.º ticket", "número ticket", "factura", "nº factura", "fattura"],
    "timestamp": ["timestamp", "datetime", "invoicedate", "date", "created at", "paid at", "data", "dată",
                  "data documento", "data emissão", "data bon", "fecha", "fecha ticket"],
    "time": ["time", "hora", "ora"],
    "customer": ["customer", "customerid", "customer id", "customer contacts", "email", "customer email", "phone",
                 "nif", "nif cliente", "contribuinte", "cnp", "cui", "cod fiscal", "codice fiscale", "partita iva",
                 "nie", "dni", "telefone", "telefon", "telefono", "teléfono", "card", "cartão", "card client",
                 "tessera", "tarjeta", "client", "cliente"],
    "name": ["name", "customer name", "nome", "nome cliente", "nume", "nume client", "nombre", "nombre cliente",
             "companyname", "cliente", "client"],
    "amount": ["amount", "total", "net sales", "gross sales", "total collected", "valor", "valoare", "suma",
               "total linha", "valoare totală", "importo", "totale", "importe"],
    "sku": ["sku", "stockcode", "stock code", "productcode", "product code", "item code", "cod", "cod produs",
            "código", "código artigo", "artigo", "referência", "codice", "codice articolo", "código producto"],
    "quantity": ["quantity", "qty", "lineitem quantity", "cantitate", "quantidade", "qtd", "qtd.", "quantità",
                 "qta", "cantidad", "cant."],
    "unit_price": ["unit_price", "unit price", "unitprice", "price", "lineitem price", "preț unitar",
                   "preţ unitar", "pret unitar", "preț", "preţ", "pret", "preço", "preço unitário", "preço unit.",
                   "prezzo", "prezzo unitario", "precio", "precio unitario"],
    "description": ["description", "lineitem name", "item", "item name", "product", "denumire", "descrição",
                    "descricao", "designação", "descrizione", "descripción", "descripcion"],
    "refund_of": ["refund_of", "doc. origem", "documento origem", "documento de origem", "bon inițial",
                  "bon iniţial", "bon initial", "documento origine", "scontrino originale", "ticket original",
                  "factura rectificada"],
    "channel": ["channel"],
}
# customer columns whose values are tax ids (NIF, CNP, codice fiscale...): the preset says customer_kind tax_id
# customer values that mean "no customer" on pt/ro/it/es tills (a preset's anonymous_values)
ANONYMOUS = ("Consumidor final", "999999990", "Client ocazional", "Cliente occasionale", "Cliente contado",
             "Cliente genérico")
TAX_ID_HEADERS = {"nif", "nif cliente", "contribuinte", "cnp", "cui", "cod fiscal", "codice fiscale",
                  "partita iva", "nie", "dni", "customertaxid"}
_COMMA_NUMBER = re.compile(r"-?\d{1,3}(?:\.\d{3})*,\d{1,3}")
_DOT_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})*\.\d{1,3}")


def inspect_file(path: Path, *, encoding: str | None = None, country: str | None = None,
                 locale: str | None = None) -> dict:
    """Delimiter, encoding, decimal style, date order, header and a starting preset of a CSV file, found as the
    import finds them (tillcsv/detect.py; the date order from the whole file)."""
    from loyaltycli.base import files
    from loyaltycli.tillcsv import files as import_files
    from loyaltycli.tillcsv import detect

    import_files.check_input(path, str(path))  # a device, a pipe, /proc/self/environ: refused as the import does
    try:
        raw = detect.sample(path)
    except IsADirectoryError:
        raise InvalidInput(_('{path} is a folder, not a CSV file').format(path=path)) from None
    except OSError as exc:
        raise InvalidInput(_('cannot read {path}: {value}').format(path=path, value=os_reason(exc))) from None
    if not raw.strip():
        raise InvalidInput(_('{path} is empty').format(path=path))
    cut = raw.rfind(b"\n")
    if len(raw) == detect.SAMPLE_BYTES and cut > 0:
        raw = raw[:cut + 1]
    name = check_encoding(encoding)
    if name is None:
        name = "utf-8" if detect.is_utf8(raw) else detect.legacy_encoding(raw)
    text = raw.decode(name, errors="replace")
    lines = text.splitlines()
    first = lines[0] if lines else ""
    delimiter = ";" if first.count(";") > first.count(",") else "\t" if first.count("\t") > first.count(",") else ","
    rows = list(csv.reader(lines[:SAMPLE_ROWS + 1], delimiter=delimiter))
    header = [h.strip() for h in rows[0]] if rows else []
    if not import_files.looks_like_header(header):  # never echo what may be an environment or a binary file
        raise InvalidInput(_('{path}: {describe_header}').format(
            path=path, describe_header=import_files.describe_header(header)))
    header = [files.mask_secrets(h) for h in header]
    body = [r for r in rows[1:] if r]
    columns = _guess_columns(header)
    comma = dot = 0
    for row in body:
        for value in row:
            value = value.strip().lstrip("€$£").strip()
            if _COMMA_NUMBER.fullmatch(value):
                comma += 1
            elif _DOT_NUMBER.fullmatch(value):
                dot += 1
    decimal = "," if comma > dot else "."
    order = _date_order(path, name, delimiter, header, columns, body, dates.shop_order(locale))
    kind = _customer_kind(header, columns, body, country)
    preset = presets.Preset(name=path.stem.lower(), description=f"made by `loyalty import inspect {path.name}`",
                            columns=columns, decimal=decimal,
                            date_order=order if order in ("DMY", "MDY") else None,
                            encoding=None if name == "utf-8" else name, customer_kind=kind,
                            skip_when=_annulled(header), negate_when=_credit_notes(header),
                            anonymous_values=_anonymous(header, columns, body))
    return {"file": str(path), "delimiter": delimiter, "encoding": name, "decimal": decimal,
            "date_order": order, "header": header, "columns": columns, "customer_kind": kind,
            "rows_read": len(body), "preset_toml": presets.to_toml(preset)}


def _customer_kind(header: list[str], columns: dict[str, str], body: list[list[str]],
                   country: str | None) -> str | None:
    """'tax_id' when the customer column is a tax id (its header says so, or most of its values are valid
    tax ids for the shop's country, checked with python-stdnum): a NIF is never a phone."""
    from loyaltycli.base import taxid

    column = next((h for h, field in columns.items() if field == "customer"), None)
    if column is None:
        return None
    if column.lower() in TAX_ID_HEADERS:
        return "tax_id"
    i = header.index(column)
    values = [r[i].strip() for r in body[:500] if i < len(r) and r[i].strip()]
    valid = 0
    for value in values:
        try:
            taxid.normalize(value, country)
            valid += 1
        except Exception:  # noqa: BLE001  not a tax id (InvalidInput), whatever stdnum raised
            pass
    return "tax_id" if values and valid >= 0.8 * len(values) else None


def _anonymous(header: list[str], columns: dict[str, str], body: list[list[str]]) -> list[str]:
    """The till's own "no customer" values seen in the customer column (Consumidor final, 999999990...)."""
    column = next((h for h, field in columns.items() if field == "customer"), None)
    if column is None:
        return []
    i = header.index(column)
    seen = {r[i].strip().lower() for r in body if i < len(r)}
    return [value for value in ANONYMOUS if value.lower() in seen]


def _annulled(header: list[str]) -> dict[str, list[str]]:
    """An `Estado` / `Stato` column (PT, IT): annulled documents (A) are left out."""
    for name in header:
        if name.lower() in ("estado", "estado documento", "stato"):
            return {name: ["A"]}
    return {}


def _credit_notes(header: list[str]) -> dict[str, list[str]]:
    """A document type column: credit notes (NC, NCR, Nota de crédito) are returns."""
    for name in header:
        if name.lower() in ("tipo", "tipo doc.", "tipo documento", "tipo de documento", "invoicetype"):
            return {name: ["NC", "NCR", "Nota de crédito"]}
    return {}


def _guess_columns(header: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    taken: set[str] = set()
    lowered = [h.lower() for h in header]
    for field, names in SYNONYMS.items():
        for name in names:
            if name in lowered and header[lowered.index(name)] not in out and field not in taken:
                out[header[lowered.index(name)]] = field
                taken.add(field)
                break
    if "time" in taken and "timestamp" in taken:  # a separate date column: read as the date
        for column, field in out.items():
            if field == "timestamp":
                out[column] = "date"
    return out


def _date_order(path: Path, encoding: str, delimiter: str, header: list[str], columns: dict[str, str],
                body: list[list[str]], shop: str | None = None) -> str:
    """DMY, MDY or YMD as the file shows, read to its end as the import reads it (streamed); where its dates
    read both ways, the shop's order (``shop``: a day-first locale's DMY, said so), else 'unknown'."""
    from loyaltycli.tillcsv.translate import ReadOptions, lines_for

    index = [i for i, h in enumerate(header) if columns.get(h) in ("timestamp", "date")]
    if not index:
        index = [i for i in range(len(header)) if any(dates.orders_of(r[i]) for r in body[:20] if i < len(r))]
    if not index:
        return "none found"
    finder = dates.OrderFinder()
    iso = False
    column = index[0]
    with open(path, "rb") as handle:
        reader = csv.reader(lines_for(handle, ReadOptions(encoding=None if encoding == "utf-8" else encoding)),
                            delimiter=delimiter)
        next(reader, None)
        try:
            for row in reader:
                if column < len(row):
                    value = row[column]
                    iso = iso or dates.is_iso(value)
                    finder.add(value)
                    if finder.day_first and finder.month_first:
                        break
        except csv.Error:
            pass
    if shop and finder.ambiguous and not (finder.day_first or finder.month_first):
        return f"{shop} (the shop's locale)"
    try:
        order = finder.order()
    except InvalidInput:
        return "unknown (dates read both ways: give --date-order)" if not finder.day_first else "mixed"
    return order or ("YMD" if iso else "none found")


def with_columns(report: dict, columns: dict[str, str]) -> dict:
    """The report with another column mapping (from the walk-through of `import inspect` on a terminal): its
    columns and preset TOML redone, the rest as found."""
    order = report["date_order"]
    path = Path(report["file"])
    preset = presets.Preset(name=path.stem.lower(), description=f"made by `loyalty import inspect {path.name}`",
                            columns=dict(columns), decimal=report["decimal"],
                            date_order=order if order in ("DMY", "MDY") else None,
                            encoding=None if report["encoding"] == "utf-8" else report["encoding"])
    return {**report, "columns": dict(columns), "preset_toml": presets.to_toml(preset)}


def missing_fields(columns: dict[str, str]) -> list[str]:
    """The fields an import needs that a mapping leaves out (a timestamp, or a date and a time)."""
    fields = set(columns.values())
    if "date" in fields and "time" in fields:
        fields.add("timestamp")
    return [f for f in presets.REQUIRED if f not in fields]


def save_preset(report: dict, name: str) -> Path:
    """Write the report's preset into the user's preset folder as NAME.toml."""
    norm = (name or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9_-]{1,64}", norm):
        raise InvalidInput(_('--save {name!r}: a preset name is 1 to 64 letters, digits, - or _').format(name=name))
    folder = presets.user_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{norm}.toml"
        target.write_text(report["preset_toml"], encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(_('cannot save the preset in {folder}: {value}').format(folder=folder, value=os_reason(exc))) from None
    return target
