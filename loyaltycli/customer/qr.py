"""QR images of a card code: PNG bytes, SVG text, and text for a terminal (segno, imported here only)."""

from __future__ import annotations

import io

# Medium error correction: a card that is creased or scuffed still scans; a 27-character code of the
# alphanumeric set is then a version 2 symbol (25 x 25 modules).
ERROR = "m"
BORDER = 4  # the quiet zone the standard asks for, in modules


def symbol(code: str):
    """The segno QR code of ``code`` (alphanumeric mode: the code is upper-case)."""
    import segno

    return segno.make_qr(code, error=ERROR, boost_error=False)


def matrix(code: str, *, border: int = BORDER) -> list[list[bool]]:
    """The modules of the symbol with its quiet zone, rows of True (dark) and False (light)."""
    return [[bool(cell) for cell in row] for row in symbol(code).matrix_iter(scale=1, border=border)]


def png(code: str, *, scale: int = 8, border: int = BORDER) -> bytes:
    """A PNG image of the code (``scale`` pixels per module)."""
    out = io.BytesIO()
    symbol(code).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def svg(code: str, *, scale: float = 4, border: int = BORDER, xmldecl: bool = True) -> str:
    """An SVG image of the code; without ``xmldecl`` it can be written inline into HTML."""
    out = io.BytesIO()
    symbol(code).save(out, kind="svg", scale=scale, border=border, xmldecl=xmldecl, svgns=True,
                      title=code, nl=False)
    return out.getvalue().decode("utf-8")


def svg_data_uri(code: str, *, scale: float = 4, border: int = BORDER) -> str:
    """The SVG image as a data: URI (for an <img> in an HTML page or e-mail)."""
    return symbol(code).svg_data_uri(scale=scale, border=border)


# Half blocks: one text line shows two rows of modules, so the symbol is about square on a terminal.
UPPER, LOWER, FULL, EMPTY = "\u2580", "\u2584", "\u2588", " "


def terminal_text(code: str, *, ansi: bool = True, border: int = BORDER) -> str:
    """The code as lines of text. With ``ansi``, every character sets its colours (black on white, as
    printed), so it scans on dark and light terminals alike; without, dark modules are block characters
    on the page's own background (for a light background, a file or a printer)."""
    rows = matrix(code, border=border)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2]):
        if ansi:
            # upper half block: foreground paints the top module, background the bottom one
            line = "".join(f"\x1b[{30 if t else 97};{40 if b else 107}m{UPPER}" for t, b in zip(top, bottom))
            lines.append(line + "\x1b[0m")
        else:
            line = "".join(FULL if t and b else UPPER if t else LOWER if b else EMPTY for t, b in zip(top, bottom))
            lines.append(line.rstrip())
    return "\n".join(lines)


def save(path, data: bytes, *, force: bool = False, what: str = "file") -> None:
    """Write ``data`` to a new file ``path`` (0600: a card code lets its holder spend the points);
    ``force`` replaces a regular file. Problems are InvalidInput, one line."""
    from pathlib import Path

    from loyaltycli.base import files
    from loyaltycli.base.errors import InvalidInput
    from loyaltycli.i18n import gettext

    path = Path(path).expanduser()
    try:
        with files.create_private(path, force=force, what=what) as fh:
            fh.write(data)
    except OSError as exc:
        if files.disk_full(exc):
            raise files.disk_full_error(f"cannot write {files.shown(path)}") from None
        raise InvalidInput(gettext('cannot write {path}: {value}').format(
            path=files.shown(path), value=files.reason(exc))) from None
