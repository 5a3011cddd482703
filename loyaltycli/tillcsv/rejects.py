"""The rejects file: the rejected rows of a till file copied byte for byte (same delimiter, encoding, quoting,
line endings, header), in the file's order, each with its reason in an added last column. The owner fixes a
row and imports the rejects file itself: the `reason` column is not one the import reads.

The file is streamed once more, a megabyte at a time: a rejected row is copied as its bytes come, the reason
written before its line ending (a line of any length, never held whole)."""

from __future__ import annotations

from typing import BinaryIO, Iterable

from loyaltycli.base.spreadsheet import safe_cell

_CHUNK = 1 << 20


# Romanian's ș and ț (comma below) are not in Windows-1250, whose ş and ţ (cedilla) Romanian tills and
# spreadsheets have always used for them: written so instead of '?'
_CEDILLA = str.maketrans("șțȘȚ", "şţŞŢ")


def reason_cell(text: str, delimiter: str, encoding: str) -> bytes:
    """The reason as one CSV cell in the file's delimiter and encoding (quoted when it must be; a letter the
    encoding lacks as '?', Romanian's comma-below letters as their cedilla forms)."""
    text = safe_cell(text.replace("\r", " ").replace("\n", " "))
    if delimiter in text or '"' in text:
        text = '"' + text.replace('"', '""') + '"'
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.translate(_CEDILLA).encode(encoding, errors="replace")


def write_rejects(source: BinaryIO, out: BinaryIO, rows: Iterable[tuple[int, int, str]], *, delimiter: str,
                  encoding: str) -> None:
    """Copy line 1 (the header, + `reason`) and every row of ``rows`` ((first line, lines, reason)) from
    ``source`` to ``out``."""
    wanted: dict[int, tuple[int, str]] = {}
    for start, count, reason in rows:
        wanted.setdefault(start, (max(1, count), reason))
    sep = delimiter.encode(encoding)
    cells = {1: sep + reason_cell("reason", delimiter, encoding)}
    for start, (count, reason) in wanted.items():
        end = start + count - 1
        if end not in cells:
            cells[end] = sep + reason_cell(reason, delimiter, encoding)
    taken = {1}
    for start, (count, _) in wanted.items():
        taken.update(range(start, start + count))
    line = 1
    held_cr = False  # a taken line's \r at the end of a chunk: written with its \n (the reason goes before it)
    ending = b"\n"
    while True:
        chunk = source.read(_CHUNK)
        if not chunk:
            break
        pos = 0
        size = len(chunk)
        while pos < size:
            nl = chunk.find(b"\n", pos)
            end = size if nl < 0 else nl
            if line in taken:
                piece = chunk[pos:end]
                if held_cr:
                    piece = b"\r" + piece
                    held_cr = False
                if nl < 0:  # the line goes on in the next chunk
                    if piece.endswith(b"\r"):
                        piece, held_cr = piece[:-1], True
                    out.write(piece)
                else:
                    crlf = piece.endswith(b"\r")
                    if crlf:
                        piece = piece[:-1]
                    if line == 1:
                        ending = b"\r\n" if crlf else b"\n"
                    out.write(piece + cells.get(line, b"") + (b"\r\n" if crlf else b"\n"))
            if nl < 0:
                pos = size
            else:
                pos = nl + 1
                line += 1
    if held_cr:
        out.write(b"\r")
    if line in taken:  # the file's last line has no line ending: its reason, and the header's ending
        out.write(cells.get(line, b"") + ending)
