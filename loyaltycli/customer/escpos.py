"""ESC/POS bytes for receipt printers: a small encoder of our own (no dependencies).

Only the commands a customer's slip needs, as Epson documents them and the compatible printers
(Star in ESC/POS mode, Bixolon, Xprinter, Rongta...) accept them:

- ``ESC @`` initialise; ``ESC t n`` select the code page the text bytes are in;
- ``ESC E n`` bold, ``ESC a n`` alignment, ``GS ! n`` character size, ``LF`` line feed;
- ``GS ( k`` the printer's own QR code: model, module size, error correction, store, print;
- ``GS V 66 n`` feed to the cutter and cut (partial cut).

Text is encoded in the code page selected; a character the page lacks is replaced predictably (see
``to_page``), never an error; control characters in text (a name holding ESC...) are never sent.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

ESC, GS, LF = b"\x1b", b"\x1d", b"\n"

# Python codec -> the ESC t number of Epson's table (TM-T20/T88 and the compatible printers).
CODE_PAGES = {
    "cp437": 0,    # PC437 USA, standard Europe
    "cp850": 2,    # PC850 Multilingual
    "cp1252": 16,  # WPC1252
    "cp852": 18,   # PC852 Latin 2: ă â î ş ţ (cedilla forms), no €
    "cp858": 19,   # PC858: PC850 with €; the accents of pt, es, it, fr, de
    "cp1250": 45,  # WPC1250 Latin 2 with €: on newer Epson models, not on many compatible printers
}
DEFAULT_PAGE = "cp858"
# The page for a language (its base: 'pt_PT' -> 'pt'); any other language: DEFAULT_PAGE.
LANGUAGE_PAGES = {"ro": "cp852"}

# What stands in for a character the page lacks, best first: the first one the page has is used.
# Romanian s and t with comma below are in no common ESC/POS page: their cedilla forms are in
# PC852 and WPC1250 (and look the same at a receipt printer's 203 dpi).
SUBSTITUTES = {
    "ș": ("ş", "s"), "ț": ("ţ", "t"), "Ș": ("Ş", "S"), "Ț": ("Ţ", "T"),
    "€": ("EUR",), "●": ("■", "*"), "○": ("·", "-"), "•": ("·", "*"), "·": ("-",),
    "–": ("-",), "—": ("-",), "‑": ("-",),
    "−": ("-",), "…": ("...",), "“": ('"',), "”": ('"',), "„": ('"',), "‘": ("'",), "’": ("'",),
    "«": ('"',), "»": ('"',), "×": ("x",), "✓": ("v",),
}
UNKNOWN = "?"
# Spaces that money formats hold (12,50\u00a0€): a plain space on paper, whatever the page has.
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})

QR_CORRECTION = {"L": 48, "M": 49, "Q": 50, "H": 51}


def page_for(language: str | None) -> str:
    """The code page of a language ('ro' -> 'cp852'; others -> 'cp858')."""
    base = (language or "").replace("-", "_").split("_")[0].lower()
    return LANGUAGE_PAGES.get(base, DEFAULT_PAGE)


def check_page(name: str) -> str:
    """``name`` as a known code page ('CP852' -> 'cp852'); ValueError listing the known ones."""
    page = (name or "").strip().lower().replace("-", "").replace("_", "")
    if page.isdigit():
        page = "cp" + page
    if page not in CODE_PAGES:
        raise ValueError(", ".join(sorted(CODE_PAGES)))
    return page


def _encodable(text: str, page: str) -> bool:
    try:
        text.encode(page)
    except UnicodeEncodeError:
        return False
    return True


def substitute(char: str, page: str) -> str:
    """What prints for ``char`` in ``page``: itself, else its listed substitute, else the letter
    without its accent, else '?'. Control characters print as '?'."""
    if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return UNKNOWN
    if _encodable(char, page):
        return char
    for candidate in SUBSTITUTES.get(char, ()):
        if _encodable(candidate, page):
            return candidate
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if plain and plain != char and _encodable(plain, page) and all(c.isprintable() for c in plain):
        return plain
    return UNKNOWN


def to_page(text: str, page: str) -> str:
    """``text`` with what the page lacks replaced (``substitute``): what the paper shows."""
    return "".join(substitute(ch, page) for ch in text.translate(SPACES))


def encode_text(text: str, page: str) -> bytes:
    """``text`` as bytes of the code page ``page``; never raises."""
    return to_page(text, page).encode(page)


@dataclass
class Line:
    """One line of a slip: its text and how it prints."""

    text: str
    bold: bool = False
    align: str = "left"  # left | center | right
    size: int = 1  # 1: normal; 2: double width and height


@dataclass
class QR:
    """A QR code printed by the printer itself (GS ( k)."""

    data: str
    module: int = 6  # dots per module, 1..16
    correction: str = "M"


ALIGN = {"left": 0, "center": 1, "right": 2}


def init(page: str) -> bytes:
    """ESC @ (reset) and ESC t n (the code page of the text that follows)."""
    return ESC + b"@" + ESC + b"t" + bytes([CODE_PAGES[page]])


def styled(line: Line, page: str) -> bytes:
    """One text line, its whole style (alignment, bold, size) set before it."""
    size = max(1, min(int(line.size), 8)) - 1
    return (ESC + b"a" + bytes([ALIGN.get(line.align, 0)])
            + ESC + b"E" + bytes([1 if line.bold else 0])
            + GS + b"!" + bytes([size << 4 | size])
            + encode_text(line.text, page) + LF)


def _qr_function(fn: int, payload: bytes) -> bytes:
    """GS ( k pL pH cn=49 fn payload."""
    length = len(payload) + 2
    return GS + b"(k" + bytes([length % 256, length // 256, 49, fn]) + payload


def qr(code: QR) -> bytes:
    """The QR code, centred: model 2, module size, error correction, store the data, print."""
    data = code.data.encode("ascii", "replace")
    if len(data) > 7000:
        raise ValueError("QR data too long")
    return (ESC + b"a\x01"
            + _qr_function(65, bytes([50, 0]))  # fn 165: model 2
            + _qr_function(67, bytes([max(1, min(code.module, 16))]))  # fn 167: module size
            + _qr_function(69, bytes([QR_CORRECTION.get(code.correction, 49)]))  # fn 169
            + _qr_function(80, b"0" + data)  # fn 180: store (m = 48)
            + _qr_function(81, b"0")  # fn 181: print
            + LF + ESC + b"a\x00")


def cut(feed: int = 3) -> bytes:
    """Feed to the cutter (and ``feed`` dots more) and cut, leaving a hinge (GS V 66 n)."""
    return GS + b"V" + bytes([66, max(0, min(feed, 255))])


def document(parts: list[Line | QR], page: str = DEFAULT_PAGE, *, feed_lines: int = 3) -> bytes:
    """A whole receipt: init with the code page, each line or QR code, blank lines, the cut."""
    out = [init(page)]
    for part in parts:
        out.append(qr(part) if isinstance(part, QR) else styled(part, page))
    out.append(LF * feed_lines)
    out.append(cut())
    return b"".join(out)
