"""Reading a till file a megabyte at a time: line breaks, encodings and over-long lines at chunk edges."""

from __future__ import annotations

import csv
import io

import pytest

from loyaltycli.tillcsv import lines as tilllines

pytestmark = pytest.mark.dialect_free("the import's line reader (tillcsv): no database")


def read(data: bytes) -> tuple[list[str], tilllines.Lines]:
    lines = tilllines.Lines(io.BytesIO(data))
    return list(lines), lines


@pytest.mark.parametrize("chunk", [3, 7, 64, 1 << 20])
def test_lines_are_the_same_whatever_the_chunk_size(monkeypatch, chunk):
    monkeypatch.setattr(tilllines, "_CHUNK_BYTES", chunk)
    data = b'\xef\xbb\xbfh1,h2\r\nab,cd\r\nef,"g\r\nh"\r\n\r\ncaf\xc3\xa9,1\nlast,2'
    lines, reader = read(data)
    assert lines == ["h1,h2\r\n", "ab,cd\r\n", 'ef,"g\r\n', 'h"\r\n', "\r\n", "café,1\n", "last,2\n"]
    assert list(csv.reader(lines)) == [["h1", "h2"], ["ab", "cd"], ["ef", "g\r\nh"], [], ["café", "1"],
                                       ["last", "2"]]
    assert reader.count == 7 and reader.bytes_read == len(data) and reader.legacy == 0


def test_a_line_that_is_not_utf8_is_read_as_windows_1252_and_counted(monkeypatch):
    lines, reader = read(b"a,1\nb\xe9,2\nc\x00,3\n")
    assert lines == ["a,1\n", "bé,2\n", "c\ufffd,3\n"] and reader.legacy == 1


@pytest.mark.parametrize("chunk", [5, 1 << 20])
def test_an_over_long_line_is_dropped_and_numbered(monkeypatch, chunk):
    monkeypatch.setattr(tilllines, "_CHUNK_BYTES", chunk)
    monkeypatch.setattr(tilllines, "MAX_LINE_BYTES", 64)
    data = b"x,y\n" + b"z" * 300 + b"\nq,r\n" + b"w" * 100
    lines, reader = read(data)
    assert lines == ["x,y\n", "\n", "q,r\n", "\n"]
    assert reader.oversized == {2, 4} and reader.count == 4 and reader.bytes_read == len(data)
