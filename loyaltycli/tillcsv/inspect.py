"""`loyalty import inspect FILE`: what a till export looks like (delimiter, encoding, decimal style, date
order, header) and a preset to start from, guessed from its first rows. Guesses are shown, never applied."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from loyaltycli.base.errors import InvalidInput
from loyaltycli.tillcsv import dates, presets
from loyaltycli.tillcsv.translate import check_encoding
from loyaltycli.i18n import _

SAMPLE_BYTES = 256 * 1024
SAMPLE_ROWS = 2000
# header names (lower case) seen in real exports, for the fields they hold
SYNONYMS = {
    "receipt_id": ["receipt_id", "receipt", "receipt number", "receipt no", "invoiceno", "invoice", "invoice no",
                   "transaction id", "order", "order id", "document", "número", "numero", "număr bon", "numar bon",
                   "nr bon", "bon"],
    "timestamp": ["timestamp", "datetime", "invoicedate", "date", "created at", "paid at", "data", "dată"],
    "time": ["time", "hora", "ora"],
    "customer": ["customer", "customerid", "customer id", "customer contacts", "email", "customer email", "phone",
                 "nif", "client", "cliente", "card"],
    "amount": ["amount", "total", "net sales", "gross sales", "total collected", "valor", "valoare", "suma"],
    "sku": ["sku", "stockcode", "stock code", "productcode", "product code", "item code", "cod", "cod produs",
            "código", "referência"],
    "quantity": ["quantity", "qty", "lineitem quantity", "cantitate", "quantidade", "qtd"],
    "unit_price": ["unit_price", "unit price", "unitprice", "price", "lineitem price", "preț unitar",
                   "preţ unitar", "pret unitar", "preț", "preţ", "pret", "preço", "preço unitário"],
    "description": ["description", "lineitem name", "item", "item name", "product", "denumire", "descrição"],
    "channel": ["channel"],
}
_COMMA_NUMBER = re.compile(r"-?\d{1,3}(?:\.\d{3})*,\d{1,3}")
_DOT_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})*\.\d{1,3}")


def inspect_file(path: Path, *, encoding: str | None = None) -> dict:
    """Delimiter, encoding, decimal style, date order, header and a starting preset of a CSV file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(SAMPLE_BYTES)
    except IsADirectoryError:
        raise InvalidInput(_('{path} is a folder, not a CSV file').format(path=path)) from None
    except OSError as exc:
        raise InvalidInput(_('cannot read {path}: {value}').format(path=path, value=exc.strerror or exc)) from None
    if not raw.strip():
        raise InvalidInput(_('{path} is empty').format(path=path))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    cut = raw.rfind(b"\n")
    if len(raw) == SAMPLE_BYTES and cut > 0:
        raw = raw[:cut + 1]
    name = check_encoding(encoding)
    if name is None:
        try:
            text = raw.decode("utf-8")
            name = "utf-8"
        except UnicodeDecodeError:
            name = _legacy_encoding(raw)
            text = raw.decode(name, errors="replace")
    else:
        text = raw.decode(name, errors="replace")
    lines = text.splitlines()
    first = lines[0] if lines else ""
    delimiter = ";" if first.count(";") > first.count(",") else "\t" if first.count("\t") > first.count(",") else ","
    rows = list(csv.reader(lines[:SAMPLE_ROWS + 1], delimiter=delimiter))
    header = [h.strip() for h in rows[0]] if rows else []
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
    order = _date_order(header, columns, body)
    preset = presets.Preset(name=path.stem.lower(), description=f"made by `loyalty import inspect {path.name}`",
                            columns=columns, decimal=decimal,
                            date_order=order if order in ("DMY", "MDY") else None,
                            encoding=None if name == "utf-8" else name)
    return {"file": str(path), "delimiter": delimiter, "encoding": name, "decimal": decimal,
            "date_order": order, "header": header, "columns": columns, "rows_read": len(body),
            "preset_toml": presets.to_toml(preset)}


_CENTRAL = set("ăşţłřěůőűčćęąńśźżďťľĺŕĂŞŢŁŘĚŮŐŰČĆĘĄŃŚŹŻĎŤĽĹŔ")
_WESTERN = set("ãõàèìòùñÃÕÀÈÌÒÙÑ")
_ODD = set("þºðÞÐ¾¼½³¹²ª")


def _legacy_encoding(raw: bytes) -> str:
    """cp1250 (Central Europe, Romania) or cp1252 (Western Europe) for bytes that are not UTF-8: the one
    whose letters look like words; cp1252 when in doubt."""
    central = raw.decode("cp1250", errors="replace")
    western = raw.decode("cp1252", errors="replace")
    score_central = sum(ch in _CENTRAL for ch in central) - sum(ch in _ODD for ch in central)
    score_western = sum(ch in _WESTERN for ch in western) - sum(ch in _ODD for ch in western)
    return "cp1250" if score_central > score_western else "cp1252"


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


def _date_order(header: list[str], columns: dict[str, str], body: list[list[str]]) -> str:
    """DMY, MDY or YMD as the sample shows; 'unknown' when its dates read both ways."""
    index = [i for i, h in enumerate(header) if columns.get(h) in ("timestamp", "date")]
    if not index:
        index = [i for i in range(len(header)) if any(dates.orders_of(r[i]) for r in body[:20] if i < len(r))]
    if not index:
        return "none found"
    finder = dates.OrderFinder()
    iso = False
    for row in body:
        if index[0] < len(row):
            value = row[index[0]]
            iso = iso or dates.is_iso(value)
            finder.add(value)
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
        raise InvalidInput(_('cannot save the preset in {folder}: {value}').format(folder=folder, value=exc.strerror or exc)) from None
    return target
