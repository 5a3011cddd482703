"""Decoding a till file: lines read a megabyte at a time, UTF-8 or (line by line) Windows-1252 / Latin-1."""

from __future__ import annotations

from typing import Iterator

# A line longer than this is rejected without being held in memory.
MAX_LINE_BYTES = 1 << 20
_CHUNK_BYTES = 1 << 20


class Lines:
    """Decoded lines of a binary file: UTF-8 (BOM dropped) or, line by line, Windows-1252 / Latin-1."""

    def __init__(self, handle):
        self.handle = handle
        self.bytes_read = 0
        self.count = 0
        self.oversized: set[int] = set()
        self.legacy = 0

    def __iter__(self) -> Iterator[str]:
        """Lines, decoded a megabyte at a time (each line on its own only where that fails)."""
        read = self.handle.read
        rest = b""
        first = True
        while True:
            chunk = read(_CHUNK_BYTES)
            if not chunk:
                if rest:
                    yield from self._decoded(rest if rest.endswith(b"\n") else rest + b"\n")
                return
            self.bytes_read += len(chunk)
            data = rest + chunk if rest else chunk
            if first:
                if len(data) < 3 and b"\n" not in data:
                    rest = data
                    continue
                first = False
                if data.startswith(b"\xef\xbb\xbf"):
                    data = data[3:]
            end = data.rfind(b"\n") + 1
            if end == 0 and len(data) > MAX_LINE_BYTES:
                # a line longer than the limit: dropped without being held, rejected by its number
                while True:
                    more = read(_CHUNK_BYTES)
                    self.bytes_read += len(more)
                    cut = more.find(b"\n")
                    if not more or cut >= 0:
                        break
                rest = more[cut + 1:] if more else b""
                self.count += 1
                self.oversized.add(self.count)
                yield "\n"
                continue
            rest = data[end:]
            if end:
                yield from self._decoded(data[:end])

    def _decoded(self, block: bytes) -> list[str]:
        """The lines of ``block`` (whole lines, each ending in a line feed) as text."""
        lines = block.split(b"\n")
        lines.pop()
        self.count += len(lines)
        if max(map(len, lines)) > MAX_LINE_BYTES:  # a long line within the block: line by line
            return [self._line(raw, self.count - len(lines) + 1 + i) for i, raw in enumerate(lines)]
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            return [self._line(raw, 0) for raw in lines]
        if "\x00" in text:
            text = text.replace("\x00", "\ufffd")
        out = text.split("\n")
        out.pop()
        return [line + "\n" for line in out]  # the CSV reader keeps a quoted line break only if it sees one

    def _line(self, raw: bytes, number: int) -> str:
        if len(raw) > MAX_LINE_BYTES:
            self.oversized.add(number)
            return "\n"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.legacy += 1
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
        return (text.replace("\x00", "\ufffd") if "\x00" in text else text) + "\n"
