"""Presets: how a till export's columns map onto ours, and its quirks (data in loyaltycli/presets/*.toml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from loyaltycli.core.errors import InvalidInput, NotFound

CANONICAL = ("receipt_id", "timestamp", "customer", "amount", "channel", "sku", "quantity", "unit_price")
REQUIRED = ("receipt_id", "timestamp", "customer")
PRESET_DIR = Path(__file__).resolve().parents[1] / "presets"


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
    anonymous: str = "reject"  # or "skip": rows without a customer are not loyalty sales
    customer_kind: str | None = None  # card | email | phone | contact: how to enroll an unknown customer
    negate_when: dict[str, str] = field(default_factory=dict)
    skip_when: dict[str, str] = field(default_factory=dict)


def list_presets() -> list[Preset]:
    return [load_preset(path.stem) for path in sorted(PRESET_DIR.glob("*.toml"))]


def load_preset(name: str) -> Preset:
    """The preset of that name from loyaltycli/presets/, validated."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    norm = (name or "").strip().lower()
    path = PRESET_DIR / f"{norm}.toml"
    if not re.fullmatch(r"[a-z0-9_-]{1,64}", norm) or not path.is_file():
        known = ", ".join(p.stem for p in sorted(PRESET_DIR.glob("*.toml")))
        raise NotFound(f"unknown preset {name!r}; known presets: {known}")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    preset = Preset(name=norm, description=data.get("description", ""),
                    columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
                    date_formats=list(data.get("date_formats", [])),
                    default_channel=data.get("default_channel", "store"),
                    cancellation_prefix=data.get("cancellation_prefix"),
                    anonymous=data.get("anonymous", "reject"), customer_kind=data.get("customer_kind"),
                    negate_when={str(k): str(v) for k, v in data.get("negate_when", {}).items()},
                    skip_when={str(k): str(v) for k, v in data.get("skip_when", {}).items()})
    bad = [v for v in preset.columns.values() if v not in CANONICAL]
    if bad or preset.anonymous not in ("reject", "skip"):
        raise InvalidInput(f"preset {norm} is broken: fields {bad} / anonymous {preset.anonymous!r}")
    return preset


def parse_map(items: Iterable[str]) -> dict[str, str]:
    """['Invoice=receipt_id', ...] -> {'Invoice': 'receipt_id'}."""
    out = {}
    for item in items or []:
        column, sep, target = (item or "").rpartition("=")
        column, target = column.strip(), target.strip().lower()
        if not sep or not column:
            raise InvalidInput(f"--map {item!r} is not COLUMN=FIELD (e.g. --map Invoice=receipt_id)")
        if target not in CANONICAL:
            raise InvalidInput(f"--map {item!r}: {target!r} is not one of {', '.join(CANONICAL)}")
        out[column] = target
    return out


