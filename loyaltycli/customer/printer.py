"""Where a slip's ESC/POS bytes go: a receipt printer on the network (raw TCP, `tcp://HOST:9100`), a
printer device (`/dev/usb/lp0`) or a file.

A printer is opened before anything is recorded (`purchase --slip` refuses the sale while its
printer cannot be reached); a failure is one ``PrinterUnavailable`` line, never a traceback. Folders
are never created; a regular file is written owner-only and only over an empty file or an earlier
slip (never over the database or any other file given by mistake).
"""

from __future__ import annotations

import errno
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

from loyaltycli.base.errors import InvalidInput, LoyaltyError
from loyaltycli.base.files import create_private, shown
from loyaltycli.i18n import _

TIMEOUT = 5.0  # seconds to connect and to send
DEFAULT_PORT = 9100  # raw printing ("JetDirect", "AppSocket")
SLIP_START = b"\x1b@"  # what every slip starts with (ESC @): a file that does is an earlier slip


class PrinterUnavailable(LoyaltyError):
    """The printer cannot be reached or written to."""


@dataclass
class Target:
    text: str  # as given, for messages
    host: str | None = None
    port: int | None = None
    path: Path | None = None


def parse_target(text: str) -> Target:
    """`tcp://HOST[:PORT]` (PORT 9100 when omitted) or a path; InvalidInput for anything else."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidInput(_("--printer needs a file, a device such as /dev/usb/lp0, or "
                             "tcp://HOST:9100"))
    if "://" not in raw:
        return Target(raw, path=Path(raw))
    scheme, _sep, rest = raw.partition("://")
    if scheme.lower() != "tcp":
        raise InvalidInput(_("printer {target!r}: only tcp://HOST:PORT is understood (or a file or "
                             "device)").format(target=raw))
    host, port = rest.rstrip("/"), DEFAULT_PORT
    if host.startswith("["):  # [IPv6]:port
        address, _sep, tail = host[1:].partition("]")
        host = address
        if tail.startswith(":"):
            port = _port(raw, tail[1:])
    elif host.count(":") == 1:
        host, number = host.split(":")
        port = _port(raw, number)
    if not host or "/" in host:
        raise InvalidInput(_("printer {target!r} names no host; write it like "
                             "tcp://192.168.1.50:9100").format(target=raw))
    return Target(raw, host=host, port=port)


def _port(target: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidInput(_("printer {target!r}: the port must be a number from 1 to 65535")
                           .format(target=target))
    return int(text)


class Printer:
    """An open printer: ``send`` the bytes once, then it is closed."""

    def __init__(self, target: Target):
        self.target = target
        self._socket = None
        self._file = None
        if target.host is not None:
            self._socket = self._connect()
        else:
            self._file = _open_file(target)

    def _connect(self):
        t = self.target
        try:
            return socket.create_connection((t.host, t.port), timeout=TIMEOUT)
        except socket.timeout:
            raise self._error(_("no answer within {seconds} seconds")
                              .format(seconds=int(TIMEOUT))) from None
        except OSError as exc:
            raise self._error(_reason(exc)) from None

    def _error(self, reason: str) -> PrinterUnavailable:
        return PrinterUnavailable(_("cannot reach the printer {target}: {reason}").format(
            target=self.target.text, reason=reason))

    def send(self, data: bytes) -> int:
        """Write ``data`` and close; the number of bytes written."""
        try:
            if self._socket is not None:
                self._socket.sendall(data)
                try:
                    self._socket.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            else:
                if self._file is None:  # a regular file: written owner-only, never through a link
                    self._file = create_private(self.target.path, force=True, what="printer file")
                self._file.write(data)
                self._file.flush()
        except socket.timeout:
            raise self._error(_("it stopped taking data for {seconds} seconds")
                              .format(seconds=int(TIMEOUT))) from None
        except OSError as exc:
            raise self._error(_reason(exc)) from None
        finally:
            self.close()
        return len(data)

    def close(self) -> None:
        for thing in (self._socket, self._file):
            if thing is not None:
                try:
                    thing.close()
                except OSError:
                    pass
        self._socket = self._file = None


def _reason(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return _("unknown host")
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".").lower()


def _open_file(target: Target):
    """A device or FIFO opened as it is (never created, never truncated); None for a regular file,
    new or an earlier slip, checked here and written at ``send`` (a sale refused leaves it be)."""
    path = target.path
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise PrinterUnavailable(_("printer {path}: folder {folder} does not exist (it is not "
                                       "created)").format(path=shown(path),
                                                          folder=shown(path.parent))) from None
        mode = None
    except OSError as exc:
        raise PrinterUnavailable(_("cannot use the printer {path}: {reason}")
                                 .format(path=shown(path), reason=_reason(exc))) from None
    try:
        if mode is not None and stat.S_ISDIR(mode):
            raise PrinterUnavailable(_("printer {path} is a folder; give a device or a file")
                                     .format(path=shown(path)))
        if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            # O_NONBLOCK: a FIFO without a reader is refused at once instead of hanging
            flags = (os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
            fd = os.open(path, flags)
            os.set_blocking(fd, True)
            return os.fdopen(fd, "wb")
        if mode is not None and stat.S_ISREG(mode):
            if os.path.islink(path):  # a device may be a link (/dev/printer); a file is not
                raise PrinterUnavailable(_("printer file {path} is a symbolic link; refusing to write "
                                           "through it").format(path=shown(path)))
            with open(path, "rb") as fh:
                head = fh.read(len(SLIP_START))
            if head and head != SLIP_START:
                raise PrinterUnavailable(_("printer file {path} holds something else than a slip; "
                                           "give another name").format(path=shown(path)))
        elif mode is not None:
            raise PrinterUnavailable(_("printer {path} is neither a device nor a file")
                                     .format(path=shown(path)))
        if not os.access(path if mode is not None else path.parent, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return None
    except OSError as exc:
        raise PrinterUnavailable(_("cannot use the printer {path}: {reason}")
                                 .format(path=shown(path), reason=_reason(exc))) from None


def open_printer(text: str) -> Printer:
    """The printer named by ``text`` (see ``parse_target``), opened (else PrinterUnavailable)."""
    return Printer(parse_target(text))
