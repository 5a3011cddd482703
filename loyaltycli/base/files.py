"""Files we write and files we only read: private exclusive creation, regular-file checks, stale temporary
copies, and secrets kept out of messages.

Loyalty data is personal data: every file written here is readable by its owner only (0600), is created
exclusively (never through a symlink, never over a file that is there unless the caller says so), and a
temporary copy left by a killed process is removed by the next run.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from loyaltycli.base.errors import DatabaseUnavailable, InvalidInput
from loyaltycli.i18n import N_, _


# The operating system's reasons, in the person's language (its own strerror is English)
_REASONS = {errno.ENOENT: N_("no such file or folder"), errno.EACCES: N_("permission denied"),
            errno.EPERM: N_("permission denied"), errno.ENOSPC: N_("the disk is full"),
            errno.EEXIST: N_("it exists already"), errno.EISDIR: N_("it is a folder"),
            errno.ENOTDIR: N_("a part of the path is not a folder"), errno.EROFS: N_("the disk is read-only"),
            errno.ENAMETOOLONG: N_("the name is too long")}


def reason(exc: BaseException) -> str:
    """Why an operation on a file failed, as people read it: the common reasons translated, else the
    system's own words."""
    known = _REASONS.get(getattr(exc, "errno", None))
    return _(known) if known else str(getattr(exc, "strerror", None) or exc)


def shown(path) -> str:
    """A path as text that can always be printed (undecodable bytes as \\xNN escapes)."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (an OSError or a database error) says the disk or the file system is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "disk is full" in text or "no space left" in text or "quota exceeded" in text


def no_space(folder: Path) -> bool:
    """True when the file system of ``folder`` has (almost) no room left for us."""
    try:
        info = os.statvfs(folder)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 256 * 1024


def disk_full_error(what: str) -> DatabaseUnavailable:
    """The one message for a full disk (exit 4)."""
    error = DatabaseUnavailable(_('disk full: {what}; nothing was changed (free some space and run it again)').format(what=_(what)))
    error.disk_full = True
    return error


def create_private(path: Path, *, force: bool = False, what: str = "file"):
    """Open ``path`` for writing as a new file, mode 0600, returning a binary file object.

    Refuses a symlink always, and a file that exists unless ``force`` (then only a regular file, which is
    truncated). Never follows a link planted at the name."""
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        _refuse_existing(path, os.lstat(path), force, what)
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between lstat and open
            os.close(fd)
            raise InvalidInput(_('{what} {path} is not a regular file; give another name').format(what=_(what), path=shown(path)))
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


def _refuse_existing(path: Path, info: os.stat_result, force: bool, what: str) -> None:
    """What is at ``path`` already (``info``: its lstat) and may not be written over: a link, anything but a
    regular file, a file unless ``force``."""
    if stat.S_ISLNK(info.st_mode):
        raise InvalidInput(_('{what} {path} is a symbolic link; refusing to write through it').format(what=_(what), path=shown(path))) from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(_('{what} {path} exists and is not a regular file; give another name').format(what=_(what), path=shown(path))) from None
    if not force:
        raise InvalidInput(_('{what} {path} already exists; remove it, give another name, or add --force to replace it').format(what=_(what), path=shown(path))) from None


def check_new(path: Path, *, force: bool = False, what: str = "file") -> None:
    """Refuse now what ``create_private(path, force=...)`` would refuse later (a link, a folder, a file there
    without ``force``, a folder missing or not writable), before the work whose result the file will hold;
    nothing is created. A full disk can still fail the write itself."""
    path = Path(path)
    try:
        _refuse_existing(path, os.lstat(path), force, what)
        return
    except FileNotFoundError:
        pass
    folder = path.parent
    problem = (None if os.access(folder, os.W_OK | os.X_OK) else
               FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT)) if not folder.is_dir() else
               PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
    if problem is not None:
        raise InvalidInput(_('cannot write {path}: {value}').format(path=shown(path), value=reason(problem)))


def create_private_empty(path: Path) -> None:
    """Create ``path`` as a new empty 0600 file (exclusively: no file, no link may be there)."""
    create_private(path).close()


def regular_file(path: Path, what: str = "file") -> Path:
    """``path`` if it is a regular file (after following links); else InvalidInput saying what it is."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InvalidInput(_('{what} {path} does not exist').format(what=_(what), path=shown(path))) from None
    except OSError as exc:
        raise InvalidInput(_('cannot read {path}: {value}').format(path=shown(path), value=reason(exc))) from None
    if stat.S_ISDIR(mode):
        raise InvalidInput(_('{path} is a folder; give a {what}').format(path=shown(path), what=_(what)))
    if not stat.S_ISREG(mode):
        kind = _(N_("a device") if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                 N_("a pipe") if stat.S_ISFIFO(mode) else N_("a socket") if stat.S_ISSOCK(mode)
                 else N_("not a regular file"))
        raise InvalidInput(_('{path} is {kind}; give a regular {what} (or `-` for standard input)').format(path=shown(path), kind=kind, what=_(what)))
    return path


# -- temporary copies ---------------------------------------------------------------------------------------
def temp_beside(path: Path, tag: str) -> Path:
    """The name of a temporary file beside ``path``, owned by this process (its pid is in the name)."""
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}.tmp")


_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<tag>[a-z]+)-(?P<pid>\d+)\.tmp(?:-wal|-shm|-journal)?$")


def temp_tag(path: Path) -> str:
    """What a temporary file of ours is for ('restore', 'spill'...; '' when it is not one of ours)."""
    match = _TEMP.match(Path(path).name)
    return match["tag"] if match else ""


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Temporary data kept beside the database: a restore's staged copy, an import's SAF-T rows and spill file.
DATABASE_TEMP_TAGS = ("restore", "aside", "saft", "spill")


def leftovers(folder: Path, tags: tuple[str, ...]) -> list[tuple[Path, int, bool]]:
    """Our temporary files in ``folder`` with one of ``tags``: (path, pid, its process still running?)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        match = _TEMP.match(name)
        if match and match["tag"] in tags:
            found.append((Path(folder) / name, int(match["pid"]), _alive(int(match["pid"]))))
    return found


def remove_stale_temps(folder: Path, tags: tuple[str, ...]) -> list[Path]:
    """Remove temporary copies (ours, by name) left in ``folder`` by processes that are gone (killed
    backups, restores, exports). Returns what was removed."""
    removed = []
    for path, _pid, alive in leftovers(folder, tags):
        if alive:
            continue
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                path.unlink()
                removed.append(path)
        except OSError:
            pass
    return removed


# -- secrets ------------------------------------------------------------------------------------------------
_SECRET_KEYS = r"(?:password|passwd|pass|pwd|sslpassword|secret|token|api_key|apikey)"
_QUERY_SECRET = re.compile(r"(?i)([?&;]" + _SECRET_KEYS + r"=)[^&;#\s]*")
_USERINFO = re.compile(r"(://[^/@:\s]*:)[^@/\s]*@")
_ENV_SECRET = re.compile(r"(?i)(?<![?&;\w])([A-Z0-9_]*" + _SECRET_KEYS + r"[A-Z0-9_]*=)(?!\*\*\*)[^\s&;]*")


def mask_secrets(text: str) -> str:
    """``text`` with every password it carries replaced by ***: the userinfo password of a URL,
    ``?password=`` (and other secret) query parameters, and ``PGPASSWORD=...``-like words."""
    text = _USERINFO.sub(r"\1***@", str(text))
    text = _QUERY_SECRET.sub(r"\1***", text)
    return _ENV_SECRET.sub(r"\1***", text)


def read_toml(path: Path, label: str) -> dict:
    """A TOML file's document; one clear InvalidInput (naming ``label``) when it cannot be read or parsed."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(_('cannot read {label}: {value}').format(label=label, value=reason(exc))) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(_('{label} is not valid TOML: {exc}').format(label=label, exc=exc)) from None
