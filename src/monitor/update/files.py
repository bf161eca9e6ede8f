"""EDGE: files named by a user, read as data from elsewhere: only regular files, and only up to a cap.

`monitor import` reads whatever a folder holds. A named pipe there would block the read forever, a link to
/dev/zero would read until memory runs out, a file of gigabytes would be held whole: each is refused with
what it is, and the other files are read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..units import format_size

_NOT_REGULAR = (
    (stat.S_ISFIFO, "named pipe"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISDIR, "folder"),
)


class Refused(Exception):
    """A file that is not read, and why (its message)."""


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file (a link followed), else Refused with what it is. The
    kind is read before the file is opened, and again from what was opened, without blocking: a named pipe
    put in its place meanwhile is refused, never waited on."""
    try:
        _regular(os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise Refused(f"cannot be read: {error.strerror or error}") from None
    try:
        _regular(os.fstat(fd).st_mode)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _regular(mode: int) -> None:
    for test, kind in _NOT_REGULAR:
        if test(mode):
            raise Refused(f"not a regular file ({kind})")
    if not stat.S_ISREG(mode):
        raise Refused("not a regular file")


def read_capped(path: Path, cap: int) -> bytes:
    """A regular file's bytes, Refused when there are more than `cap` (reading at most one more)."""
    with open_regular(path) as stream:
        if os.fstat(stream.fileno()).st_size > cap:
            raise Refused(f"larger than {format_size(cap)} (polling.max_bytes)")
        try:
            body = stream.read(cap + 1)
        except OSError as error:
            raise Refused(f"cannot be read: {error.strerror or error}") from None
    if len(body) > cap:  # it grew since
        raise Refused(f"larger than {format_size(cap)} (polling.max_bytes)")
    return body
