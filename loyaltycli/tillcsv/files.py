"""Files an import reads and writes: the input must be a regular file; the rejects file (phones, e-mails)
is created exclusively, 0600, never through a link, never over another file unless asked; and an error
quotes no more of a file that is not CSV than its name and the reason.

Plain functions, called from ``services/importer.py`` at a few places."""

from __future__ import annotations

import codecs
import io
import os
import stat
from pathlib import Path

from loyaltycli.base import files
from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import N_, _


def check_input(path: Path, label: str) -> None:
    """Refuse what is not a regular file (a device such as /dev/zero, a FIFO, a socket) before reading."""
    if str(path) == "-":
        return
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # the caller's open() reports a missing or unreadable file
    if stat.S_ISDIR(mode):
        return
    if stat.S_ISREG(mode) and os.stat(path).st_size == 0 and _has_bytes(path):
        # /proc/self/environ and the like: size 0, yet it reads (the environment, passwords included)
        raise InvalidInput(_('{label} is {kind}; give a CSV file').format(label=files.shown(label),
                                                                         kind=_(N_("not a regular file"))))
    if not stat.S_ISREG(mode):
        kind = _(N_("a device") if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else N_("a pipe")
                 if stat.S_ISFIFO(mode) else N_("not a regular file"))
        raise InvalidInput(_('{label} is {kind}; give a CSV file').format(label=files.shown(label), kind=kind))


def _has_bytes(path) -> bool:
    try:
        with open(path, "rb") as handle:
            return bool(handle.read(1))
    except OSError:
        return False


def _is_our_rejects_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            first = fh.readline(65536)
    except OSError:
        return False
    return first.rstrip(b"\r\n").endswith((b",reason", b";reason", b"\treason", b"|reason"))


def check_rejects(path: Path, *, force: bool, default: bool) -> bool:
    """Before anything is imported: may the rejects file be written? Returns True when an existing file
    will be replaced (``force``, or the default FILE.rejects.csv of an earlier run). Refuses links,
    non-regular files and other existing files."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        folder = Path(path).absolute().parent
        if not default and not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
            # a --rejects FILE named in a folder that is missing or not ours to write: said before anything
            # is imported (at the first rejected row the import would stop with some blocks committed)
            raise InvalidInput(_('cannot use the rejects file {path}: {value}').format(
                path=files.shown(path), value=_("its folder does not exist or cannot be written"))) from None
        return False
    except OSError as exc:
        if default:  # FILE.rejects.csv beside the file (a name too long once .rejects.csv is added...)
            raise InvalidInput(_('cannot use the rejects file {path}: {value}; give --rejects FILE').format(path=files.shown(path), value=files.reason(exc))) from None
        raise InvalidInput(_('cannot use the rejects file {path}: {value}').format(path=files.shown(path), value=files.reason(exc))) from None
    if stat.S_ISLNK(info.st_mode):
        raise InvalidInput(_('the rejects file {path} is a symbolic link; refusing to write through it (remove it or give --rejects FILE)').format(path=files.shown(path)))
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(_('the rejects file {path} is not a regular file; give --rejects FILE').format(path=files.shown(path)))
    if force or (default and _is_our_rejects_file(path)):
        return True
    raise InvalidInput(_('the rejects file {path} already exists; remove it, give another --rejects FILE, or add --force to replace it').format(path=files.shown(path)))


def open_rejects(path: Path, *, replace: bool, binary: bool = False):
    """The rejects file as a new 0600 text file (``binary``: bytes; an existing one is unlinked first when
    ``replace``: the new file is ours, whoever owned the old one)."""
    if replace:
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)
        except FileNotFoundError:
            pass
    raw = files.create_private(path, what=N_("the rejects file"))
    return raw if binary else io.TextIOWrapper(raw, encoding="utf-8", newline="")


def looks_like_header(names: list[str]) -> bool:
    """A CSV header: several short printable names, no `NAME=value` (an environment file is not one)."""
    return (len(names) > 1 and all(name.isprintable() for name in names)
            and all(len(name) <= 64 for name in names) and "=" not in ", ".join(names))


def describe_header(names: list[str]) -> str:
    """The header quoted in an error: as it is when it looks like a CSV header, else only what it is not
    (a binary or environment-like file is never echoed: it may hold passwords)."""
    text = ", ".join(names)
    if not looks_like_header(names):
        return _("no CSV header (the file does not look like a CSV export)")
    return repr(files.mask_secrets(text)[:300])


def check_encoding(name: str | None) -> str | None:
    """The codec name of a till file's encoding: a text encoding that writes ASCII as ASCII (the file is
    split into lines at its b'\\n' bytes): utf-8, cp1250, iso-8859-2...; never rot13, base64, zlib or
    utf-16."""
    if not name:
        return None
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        raise InvalidInput(_('--encoding {name!r} is not an encoding Python knows (e.g. utf-8, cp1250, iso-8859-2, iso-8859-16, cp1252)').format(name=name)) from None
    if not getattr(info, "_is_text_encoding", True):  # rot13, base64, hex, zlib, bz2, uu, quopri
        raise InvalidInput(_('--encoding {name!r} is not a text encoding; give the one the till wrote text in (e.g. utf-8, cp1250, iso-8859-2, cp1252)').format(name=name))
    sample = 'receipt_id,amount;"\n09'
    try:
        encoder = info.incrementalencoder()
        encoder.encode("x")  # a byte order mark (utf-8-sig) comes first, not in every line
        keeps_ascii = encoder.encode(sample) == sample.encode("ascii") and info.name not in ("idna",)
    except (UnicodeError, LookupError, TypeError):
        keeps_ascii = False
    if not keeps_ascii:  # utf-16, utf-32, EBCDIC (cp037...), punycode, idna
        raise InvalidInput(_('--encoding {name!r} does not write ASCII letters and digits as single bytes; a till CSV in it cannot be read line by line (convert it to UTF-8 first, e.g. with iconv)').format(name=name))
    return info.name
