"""One serving process per SQLite data directory: an exclusive lock on ``nngrade.lock`` in it.

Two services grading from one SQLite file would each take the other's claims for stale
ones.  The lock is an ``flock`` held for the life of the process (the kernel drops it when
the process dies, even by ``kill -9``), and the file names the holder's pid for the message.
PostgreSQL needs no lock: claims there carry leases (``service.worker.queue``).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

LOCK_NAME = "nngrade.lock"

_held: dict[Path, int] = {}  # data directory -> file descriptor holding its lock in this process
_guard = threading.Lock()


class DataDirBusy(RuntimeError):
    """Another process serves this data directory."""


def hold(data_dir: Path) -> Path:
    """Take the data directory's lock for this process (again: a no-op); raise :class:`DataDirBusy`
    naming the holder if another process has it.  Returns the lock file's path."""
    data_dir = Path(data_dir).resolve()
    path = data_dir / LOCK_NAME
    with _guard:
        if data_dir in _held:
            return path
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DataDirBusy(f"another nngrade service (pid {holder}) is serving the data directory {data_dir}; "
                              f"stop it, or give this one its own --data-dir (NNGRADE_DATA_DIR). Several "
                              f"processes can share one PostgreSQL database (DATABASE_URL), not one SQLite "
                              f"file.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[data_dir] = fd
        return path


def release(data_dir: Path) -> None:
    """Give the lock back (at shutdown)."""
    data_dir = Path(data_dir).resolve()
    with _guard:
        fd = _held.pop(data_dir, None)
    if fd is not None:
        os.close(fd)
