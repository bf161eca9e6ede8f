"""EDGE: the one way monitor rewrites a config file the user owns (`monitor feeds import`), as editors do.

A config can hold feed passwords in its URLs, so its mode (0600, 0640) is the user's choice, and it may be a
symlink into a dotfiles repository. A rewrite keeps both: the link's target is the file written (the link
stays a link), and the new text goes to a temporary file beside that target, which is given the old file's
owner and mode before it holds a byte, flushed to the disk and renamed over the old one. A reader, the daemon
included, sees the old config or the new one, never half of one, and no one who could not read the old file
can ever read the new one.

The text is read and written as it is: a BOM (Windows Notepad writes one) and CRLF line ends stay what the
user's editor chose.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from ..errors import UsageError


def read_text(path: str | Path) -> str:
    """The config's text exactly as stored: BOM and line ends kept (no newline translation)."""
    with open(path, encoding="utf-8", newline="") as file:
        return file.read()


def write_text(path: str | Path, text: str) -> Path:
    """Replace the config file at `path` with `text`, keeping its mode, owner and symlink; returns the file
    written (the resolved target). Raises UsageError naming the file when it cannot be written."""
    target = Path(os.path.realpath(path))
    try:
        old = target.stat()
        _replace(target, text, old)
    except OSError as error:
        raise UsageError(f"{path}: cannot be rewritten: {error.strerror or error}; nothing was changed") from None
    return target


def _replace(target: Path, text: str, old: os.stat_result) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            os.fchmod(out.fileno(), _mode(out.fileno(), old))  # before the first byte: never wider than before
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


def _mode(handle: int, old: os.stat_result) -> int:
    """Give the new file the old one's owner where the process may, and return the mode it may then have: the
    old mode, or, when the old group could not be kept, one whose group has only what others had (the new
    group's members were others to the old file)."""
    mode = stat.S_IMODE(old.st_mode)
    for uid in (old.st_uid, -1):  # only root may give a file away; any user may keep a group of theirs
        try:
            os.fchown(handle, uid, old.st_gid)
            return mode
        except PermissionError:
            continue
        except OSError as error:  # a file system without owners (a FAT stick, some network shares)
            if error.errno in (errno.EINVAL, errno.ENOTSUP):
                return mode
            raise
    if os.fstat(handle).st_gid == old.st_gid:
        return mode
    return (mode & ~stat.S_IRWXG) | ((mode & stat.S_IRWXO) << 3)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable: a crash right after it must not bring the old config back."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename is done either way
    finally:
        os.close(handle)
