"""An A4 page of cut-out cards to print from the browser: each card the QR code and the code's text (and,
only when the shop asks, the shop's name and the customer's first name)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from loyaltycli.customer import qr

# ISO/IEC 7810 ID-1, the size of a bank card: 2 across and 5 down fill an A4 page within 10 mm margins.
CARD_WIDTH_MM, CARD_HEIGHT_MM = 85.6, 53.98
PER_PAGE = 10


@dataclass(frozen=True)
class SheetCard:
    """One card of the sheet: the code (in the QR and printed under it) and an optional first name."""

    code: str
    name: str | None = None


def first_name(name: str | None) -> str | None:
    """The first word of a name (what a card may show, at most)."""
    words = (name or "").split()
    return words[0] if words else None


STYLE = f"""
@page {{ size: A4; margin: 10mm; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; background: #fff; color: #000; }}
.page {{ display: grid; grid-template-columns: repeat(2, {CARD_WIDTH_MM}mm);
         grid-auto-rows: {CARD_HEIGHT_MM}mm; break-after: page; }}
.page:last-child {{ break-after: auto; }}
.card {{ border: 0.3mm dashed #999; padding: 4mm; display: flex; align-items: center; gap: 4mm;
         break-inside: avoid; overflow: hidden; }}
.card img {{ width: 38mm; height: 38mm; image-rendering: pixelated; flex: none; }}
.text {{ display: flex; flex-direction: column; gap: 2mm; min-width: 0; }}
.shop {{ font-size: 4.2mm; font-weight: bold; overflow-wrap: anywhere; }}
.name {{ font-size: 3.6mm; overflow-wrap: anywhere; }}
.code {{ font-family: "DejaVu Sans Mono", "Courier New", monospace; font-size: 2.6mm; overflow-wrap: anywhere; }}
@media screen {{ body {{ padding: 10mm; }} }}
"""


def sheet_html(cards: list[SheetCard], *, shop: str | None = None, title: str = "Loyalty cards",
               lang: str = "en") -> str:
    """The HTML page: pages of ``PER_PAGE`` cards, every text escaped, every QR an inline SVG image."""
    pages = [cards[i:i + PER_PAGE] for i in range(0, len(cards), PER_PAGE)] or [[]]
    html_lang = lang.replace("_", "-")  # BCP 47: pt-PT
    parts = [f'<!DOCTYPE html>\n<html lang="{escape(html_lang)}">\n<head>\n<meta charset="utf-8">\n'
             f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"]
    for page in pages:
        parts.append('<div class="page">\n')
        for card in page:
            lines = []
            if shop:
                lines.append(f'<div class="shop">{escape(shop)}</div>')
            if card.name:
                lines.append(f'<div class="name">{escape(card.name)}</div>')
            lines.append(f'<div class="code">{escape(card.code)}</div>')
            parts.append(f'<div class="card"><img alt="{escape(card.code)}" src="{qr.svg_data_uri(card.code)}">'
                         f'<div class="text">{"".join(lines)}</div></div>\n')
        parts.append("</div>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)
