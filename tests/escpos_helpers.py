"""A small ESC/POS reader for the slip tests: the bytes a printer would get, read back into the code page
selected, the text lines (decoded in that page, with their style) and the QR codes' payloads.

Written from Epson's command reference, apart from loyaltycli.customer.escpos: a command the encoder
sends that this reader does not know fails the test.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

# ESC t n -> the Python codec of that table (Epson's numbering)
PAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 18: "cp852", 19: "cp858", 45: "cp1250"}
ALIGN = {0: "left", 1: "center", 2: "right"}


@dataclass
class Printed:
    page: int | None = None  # the ESC t number
    lines: list[str] = field(default_factory=list)  # decoded text lines, in order
    styles: list[tuple[str, bool, str, int]] = field(default_factory=list)  # (text, bold, align, size)
    qr: list[str] = field(default_factory=list)  # payloads printed (GS ( k fn 181 after fn 180)
    qr_settings: list[dict] = field(default_factory=list)  # model, module size, correction of each
    cuts: int = 0
    resets: int = 0


def parse(data: bytes) -> Printed:
    out = Printed()
    i, text = 0, bytearray()
    bold, align, size = False, "left", 1
    stored, settings = None, {}

    def codec() -> str:
        assert out.page is not None, "text before any ESC t"
        return PAGES[out.page]

    while i < len(data):
        byte = data[i]
        if byte == 0x1B:  # ESC
            command = data[i + 1]
            if command == ord("@"):
                out.resets += 1
                bold, align, size = False, "left", 1
                i += 2
            elif command == ord("t"):
                out.page = data[i + 2]
                assert out.page in PAGES, out.page
                i += 3
            elif command == ord("E"):
                bold = bool(data[i + 2] & 1)
                i += 3
            elif command == ord("a"):
                align = ALIGN[data[i + 2] % 48 if data[i + 2] >= 48 else data[i + 2]]
                i += 3
            else:
                raise AssertionError(f"unknown ESC {command:#x} at {i}")
        elif byte == 0x1D:  # GS
            command = data[i + 1]
            if command == ord("!"):
                size = (data[i + 2] & 0x0F) + 1
                i += 3
            elif command == ord("V"):
                out.cuts += 1
                i += 4 if data[i + 2] in (65, 66) else 3
            elif command == ord("(") and data[i + 2] == ord("k"):
                length = data[i + 3] + 256 * data[i + 4]
                body = data[i + 5:i + 5 + length]
                assert body[0] == 49, "GS ( k of a symbol other than QR"
                function = body[1]
                if function == 65:  # model: n1 49 model 1, 50 model 2
                    settings["model"] = body[2] - 48
                elif function == 67:
                    settings["module"] = body[2]
                elif function == 69:
                    settings["correction"] = "LMQH"[body[2] - 48]
                elif function == 80:
                    assert body[2] == 48
                    stored = body[3:].decode("ascii")
                elif function == 81:
                    assert stored is not None, "QR printed before any data was stored"
                    out.qr.append(stored)
                    out.qr_settings.append(dict(settings))
                else:
                    raise AssertionError(f"unknown QR function {function}")
                i += 5 + length
            else:
                raise AssertionError(f"unknown GS {command:#x} at {i}")
        elif byte == 0x0A:  # LF
            line = bytes(text).decode(codec())
            out.lines.append(line)
            out.styles.append((line, bold, align, size))
            text.clear()
            i += 1
        else:
            assert byte >= 0x20, f"control byte {byte:#x} in text at {i}"
            text.append(byte)
            i += 1
    assert not text, "text left without a line feed"
    return out


def tcp_printer():
    """A receipt printer on 127.0.0.1: takes one connection and keeps what it received; (port, the bytes
    received so far, the thread to join)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = bytearray()

    def serve():
        connection, _ = server.accept()
        with connection:
            while chunk := connection.recv(4096):
                received.extend(chunk)
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server.getsockname()[1], received, thread
