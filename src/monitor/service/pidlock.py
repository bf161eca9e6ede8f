"""EDGE: one daemon per database: a lock file beside it (`<db>.lock`, holding the daemon's pid).

The lock is an flock on the open file, so it goes with the process however it ends (SIGKILL included):
no stale lock to clean up. The pid in it is for people and for `monitor status`, never trusted alone.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from ..errors import MonitorError


class AlreadyRunning(MonitorError):
    exit_code = 3


def lock_path(db_path: str) -> Path:
    return Path(str(db_path) + ".lock")


def acquire(db_path: str) -> IO[str]:
    """The database's lock, held until the returned file is closed; AlreadyRunning when another daemon
    holds it."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        pid = handle.read().strip() or "?"
        handle.close()
        raise AlreadyRunning(
            f"another monitor daemon (pid {pid}) already runs on {db_path}; "
            f"stop it first, or give this one another --db"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def running_pid(db_path: str) -> int | None:
    """The pid of the daemon holding the database's lock, or None when no daemon runs."""
    path = lock_path(db_path)
    if not path.exists():
        return None
    with path.open("r+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def lock_suspects(db_path: str) -> list[str]:
    """Other processes that have the database open ("pid 123 (sqlite3)"), so a log can say whom to ask.
    Linux only (/proc); best effort: processes of other users are not visible to a non-root daemon."""
    try:
        target = os.path.realpath(db_path)
        names = {target, target + "-wal", target + "-shm"}
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if any(os.path.realpath(fd) in names for fd in (entry / "fd").iterdir()):
                    command = (entry / "comm").read_text().strip()
                    found.append(f"pid {entry.name} ({command})")
            except OSError:
                continue  # gone meanwhile, or not ours to look at
        return sorted(found)
    except OSError:
        return []
