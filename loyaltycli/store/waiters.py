"""Who waits for a SQLite database's write lock: tills say so while they wait, and an import between its
blocks asks (store/batches.py), so that it gives the lock back at once."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class WriteWaiters:
    """Writers waiting for a SQLite database's write lock, told apart from none: each writer holds a shared
    lock (flock) on ``NAME-wait`` beside the database while its BEGIN IMMEDIATE waits; ``any()`` (the
    import, between its blocks) asks for an exclusive one without waiting, which fails while a writer
    waits. SQLite itself cannot tell who waits for its lock. No file (a read-only folder, not a file
    database): nobody is ever said to wait."""

    def __init__(self, path: Path | None):
        self.path = Path(str(path) + "-wait") if path is not None else None
        self._fd: int | None = None

    def _open(self, create: bool = False) -> int | None:
        if self.path is None:
            return None
        try:  # made by the first import that asks (0600); a writer only opens it
            return os.open(self.path, os.O_RDWR | (os.O_CREAT if create else 0) | getattr(os, "O_CLOEXEC", 0)
                           | getattr(os, "O_NOFOLLOW", 0),  # a planted link is not followed
                           0o600)
        except OSError:
            return None

    @contextmanager
    def waiting(self) -> Iterator[None]:
        fd = self._open()
        if fd is not None:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except (OSError, ImportError):
                pass  # someone's check holds it for a moment: this wait goes unsaid
        try:
            yield
        finally:
            if fd is not None:
                os.close(fd)  # the lock goes with it

    def any(self) -> bool:
        """True while another writer waits for the write lock."""
        if self._fd is None:
            self._fd = self._open(create=True)
            if self._fd is None:
                self.path = None
                return False
        try:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except (OSError, ImportError):
            return False
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        return False
