"""Presets: how a till export's columns map onto ours, and its quirks (data in loyaltycli/presets/*.toml)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from loyaltycli.base.errors import InvalidInput, NotFound
from loyaltycli.i18n import _, ngettext
from loyaltycli.i18n import N_

# what a customer column holds (--customer-kind); a preset may also say "contact": a phone or an e-mail
CUSTOMER_KINDS = ("card", "phone", "email", "code", "tax_id")
PRESET_CUSTOMER_KINDS = (*CUSTOMER_KINDS, "contact")
CANONICAL = ("receipt_id", "timestamp", "customer", "amount", "channel", "sku", "quantity", "unit_price",
             "date", "time", "description", "refund_of", "name", "tax_id")
REQUIRED = ("receipt_id", "timestamp", "customer")
PRESET_DIR = Path(__file__).resolve().parents[1] / "presets"
_NAME = re.compile(r"[a-z0-9_-]{1,64}")
_KEYS = {"description", "headers", "columns", "date_formats", "default_channel", "cancellation_prefix", "anonymous",
         "customer_kind", "negate_when", "skip_when", "anonymous_values", "date_order", "decimal", "encoding",
         "currency", "format"}


# -- presets -------------------------------------------------------------------------------------
@dataclass
class Preset:
    """How an export's columns map onto ours, and its quirks (data in loyaltycli/presets/*.toml)."""

    name: str = "canonical"
    description: str = "receipt_id, timestamp, customer, amount, channel, sku, quantity, unit_price"
    columns: dict[str, str] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    default_channel: str = "store"
    cancellation_prefix: str | None = None
    anonymous: str = "skip"  # rows without a customer are not loyalty sales: skipped, counted ("reject" refuses them)
    anonymous_values: list[str] = field(default_factory=list)  # customer values meaning none ("Consumidor final")
    date_order: str | None = None  # DMY | MDY | YMD; None: read from the file
    decimal: str = "."  # "," for 1.234,56
    encoding: str | None = None
    currency: str | None = None  # noted (e.g. GBP); amounts are read as they are
    format: str = "csv"  # or "saft-pt" (the Portuguese SAF-T XML file)
    origin: str = "built-in"  # built-in, user (config folder) or a file path
    customer_kind: str | None = None  # card | email | phone | contact: how to enroll an unknown customer
    # column -> the values that make a row a return (negate_when) or leave it out (skip_when, e.g. Estado = A)
    negate_when: dict[str, list[str]] = field(default_factory=dict)
    skip_when: dict[str, list[str]] = field(default_factory=dict)
    # the export's own column names, shown after the description as they are: the till's words
    headers: list[str] = field(default_factory=list)

    def described(self, translated: bool = True) -> str:
        """'Loyverse receipts: Date, Receipt number...': the description (a built-in one in the language
        of messages, its msgid extracted from the preset files) and the export's column names as they are."""
        text = _(self.description) if translated and self.origin == "built-in" and self.description \
            else self.description
        return f"{text}: {', '.join(self.headers)}" if self.headers else text


def user_dir() -> Path:
    """The user's own presets: LOYALTY_PRESETS_DIR, else <config folder>/loyaltycli/presets (platformdirs)."""
    pinned = os.environ.get("LOYALTY_PRESETS_DIR")
    if pinned:
        return Path(pinned)
    from platformdirs import user_config_dir

    return Path(user_config_dir("loyaltycli", appauthor=False)) / "presets"


def _named(folder: Path) -> dict[str, Path]:
    try:
        return {p.stem.lower(): p for p in sorted(folder.glob("*.toml")) if _NAME.fullmatch(p.stem.lower())}
    except OSError:
        return {}


def list_presets() -> list[Preset]:
    """The user's presets, then the built-in ones a user preset of the same name does not hide."""
    users = _named(user_dir())
    built = {name: path for name, path in _named(PRESET_DIR).items() if name not in users}
    return ([_load_file(path, name, "user: " + str(path)) for name, path in sorted(users.items())]
            + [_load_file(path, name, "built-in") for name, path in sorted(built.items())])


def load_preset(name: str) -> Preset:
    """A preset: a TOML file's path (ends in .toml), else a name from the user's folder, else built in."""
    raw = (name or "").strip()
    if raw.lower().endswith(".toml"):
        path = Path(raw).expanduser()
        if not path.is_file():
            raise NotFound(_('preset file {raw} does not exist').format(raw=raw))
        return _load_file(path, path.stem.lower(), str(path))
    norm = raw.lower()
    if _NAME.fullmatch(norm):
        path = _named(user_dir()).get(norm)
        if path is not None:
            return _load_file(path, norm, "user: " + str(path))
        path = PRESET_DIR / f"{norm}.toml"
        if path.is_file():
            return _load_file(path, norm, "built-in")
    known = ", ".join(sorted({*_named(user_dir()), *_named(PRESET_DIR)}))
    raise NotFound(_('unknown preset {name!r}; known presets: {known} (or give a file: --preset my-till.toml)').format(name=name, known=known))


def _load_file(path: Path, name: str, origin: str) -> Preset:
    from loyaltycli.base.files import read_toml

    data = read_toml(path, f"preset {path}")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise InvalidInput(ngettext('preset {path}: unknown key {unknown}; known: {keys}',
                                    'preset {path}: unknown keys {unknown}; known: {keys}', len(unknown)).format(
            path=path, unknown=', '.join(unknown), keys=', '.join(sorted(_KEYS))))
    wrong = _wrong_types(data)
    if wrong:
        raise InvalidInput(_('preset {name} ({path}) is broken: {problems}').format(name=name, path=path, problems='; '.join(wrong)))
    anonymous_values = data.get("anonymous_values", [])
    if isinstance(anonymous_values, str):
        anonymous_values = [anonymous_values]
    preset = Preset(name=name, description=str(data.get("description", "")),
                    headers=[str(h) for h in data.get("headers", [])],
                    columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
                    date_formats=list(data.get("date_formats", [])),
                    default_channel=data.get("default_channel", "store"),
                    cancellation_prefix=data.get("cancellation_prefix"),
                    anonymous=data.get("anonymous", "skip"), customer_kind=data.get("customer_kind"),
                    negate_when=_values_of(data.get("negate_when", {})),
                    skip_when=_values_of(data.get("skip_when", {})),
                    anonymous_values=[str(v) for v in anonymous_values],
                    date_order=data.get("date_order"), decimal=str(data.get("decimal", ".")),
                    encoding=data.get("encoding"), currency=data.get("currency"),
                    format=str(data.get("format", "csv")), origin=origin)
    bad = [v for v in preset.columns.values() if v not in CANONICAL]
    problems = []
    if bad:
        problems.append(_('fields {bad} are not among {canonical}').format(bad=bad, canonical=', '.join(CANONICAL)))
    if preset.anonymous not in ("reject", "skip"):
        problems.append(_('anonymous {anonymous!r} is not skip or reject').format(anonymous=preset.anonymous))
    from loyaltycli.tillcsv.dates import ORDERS

    if preset.date_order is not None and str(preset.date_order).upper() not in ORDERS:
        problems.append(_('date_order {date_order!r} is not DMY, MDY or YMD').format(date_order=preset.date_order))
    if preset.decimal not in (".", ","):
        problems.append(_('decimal {decimal!r} is not . or ,').format(decimal=preset.decimal))
    if preset.format not in ("csv", "saft-pt"):
        problems.append(_('format {format!r} is not csv or saft-pt').format(format=preset.format))
    if preset.customer_kind is not None and preset.customer_kind not in PRESET_CUSTOMER_KINDS:
        problems.append(_('customer_kind {customer_kind!r} is not {preset_customer_kinds} or {preset_customer_kinds2}').format(customer_kind=preset.customer_kind, preset_customer_kinds=', '.join(PRESET_CUSTOMER_KINDS[:-1]), preset_customer_kinds2=PRESET_CUSTOMER_KINDS[-1]))
    if preset.encoding is not None:
        from loyaltycli.tillcsv.files import check_encoding

        try:
            check_encoding(preset.encoding)
        except InvalidInput as exc:
            problems.append(str(exc).replace("--encoding", "encoding", 1))
    if problems:
        raise InvalidInput(_('preset {name} ({path}) is broken: {problems}').format(name=name, path=path, problems='; '.join(problems)))
    return preset


def _values_of(table) -> dict[str, list[str]]:
    """A preset's negate_when / skip_when: COLUMN = "VALUE" or COLUMN = ["VALUE", ...]."""
    if not isinstance(table, dict):
        return {}
    return {str(k): [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in table.items()}


def parse_skip_when(items: Iterable[str]) -> dict[str, list[str]]:
    """--skip-when ['Estado=A', ...] -> {'Estado': ['A']} (repeatable; a column may take several values)."""
    out: dict[str, list[str]] = {}
    for item in items or []:
        column, sep, value = (item or "").partition("=")
        column, value = column.strip(), value.strip()
        if not sep or not column or not value:
            raise InvalidInput(_('--skip-when {item!r} is not COLUMN=VALUE (e.g. --skip-when Estado=A)').format(item=item))
        out.setdefault(column, []).append(value)
    return out
# what each key of a preset file holds: text, a list of texts, a table of text = text
_TEXT, _TEXTS, _TABLE = "text", "list of texts", "table"
_TYPES = {"description": _TEXT, "headers": _TEXTS, "columns": _TABLE, "date_formats": _TEXTS, "default_channel": _TEXT,
          "cancellation_prefix": _TEXT, "anonymous": _TEXT, "customer_kind": _TEXT, "negate_when": _TABLE,
          "skip_when": _TABLE, "anonymous_values": _TEXTS, "date_order": _TEXT, "decimal": _TEXT,
          "encoding": _TEXT, "currency": _TEXT, "format": _TEXT}
_SHAPES = {_TEXT: N_('text in quotes, e.g. {key} = "..."'), _TEXTS: N_('a list of texts, e.g. {key} = ["..."]'),
           _TABLE: N_('a table of texts, e.g. [{key}] then "Column" = "field"')}


def _wrong_types(data: dict) -> list[str]:
    """One problem per key whose value is not of its kind (a number where text is wanted...)."""
    problems = []
    for key, kind in _TYPES.items():
        if key not in data:
            continue
        value = data[key]
        if kind == _TEXT:
            ok = isinstance(value, str)
        elif kind == _TEXTS:
            ok = (isinstance(value, list) and all(isinstance(v, str) for v in value)) or (
                key == "anonymous_values" and isinstance(value, str))
        else:
            ok = isinstance(value, dict) and all(
                isinstance(v, str) or (key in ("negate_when", "skip_when") and isinstance(v, list)
                                       and all(isinstance(x, str) for x in v)) for v in value.values())
        if not ok:
            problems.append(_('{key} must be {shape} (it is {value})').format(
                key=key, shape=_(_SHAPES[kind]).format(key=key), value=_shown_value(value)))
    return problems


def _shown_value(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def to_toml(preset: Preset) -> str:
    """A preset as TOML text (what `loyalty import inspect --save` writes)."""
    import tomli_w

    data: dict = {"description": preset.description}
    if preset.headers:
        data["headers"] = list(preset.headers)
    for key in ("date_order", "encoding", "currency"):
        if getattr(preset, key):
            data[key] = getattr(preset, key)
    if preset.decimal != ".":
        data["decimal"] = preset.decimal
    if preset.format != "csv":
        data["format"] = preset.format
    if preset.anonymous_values:
        data["anonymous_values"] = list(preset.anonymous_values)
    if preset.customer_kind:
        data["customer_kind"] = preset.customer_kind
    data["columns"] = dict(preset.columns)
    for key in ("negate_when", "skip_when"):
        if getattr(preset, key):
            data[key] = {column: list(values) for column, values in getattr(preset, key).items()}
    return tomli_w.dumps(data)


def parse_map(items: Iterable[str]) -> dict[str, str]:
    """['Invoice=receipt_id', ...] -> {'Invoice': 'receipt_id'}."""
    out = {}
    for item in items or []:
        column, sep, target = (item or "").rpartition("=")
        column, target = column.strip(), target.strip().lower()
        if not sep or not column:
            raise InvalidInput(_('--map {item!r} is not COLUMN=FIELD (e.g. --map Invoice=receipt_id)').format(item=item))
        if target not in CANONICAL:
            raise InvalidInput(_('--map {item!r}: {target!r} is not one of {canonical}').format(item=item, target=target, canonical=', '.join(CANONICAL)))
        out[column] = target
    return out


