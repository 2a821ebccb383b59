"""Durable file writes for the daemon's state directory.

`write_atomic`: a reader sees the old file or the new one, never a mix, even across a power
cut (temporary file in the same directory, fsync, rename, fsync of the directory).
`append_line`: one whole line per write(2) on an O_APPEND descriptor, then fsync.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

PRIVATE_FILE = 0o600


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = PRIVATE_FILE,
                 owner: tuple[int, int] | None = None) -> None:
    """With `owner` (uid, gid), the new file is given to that user by descriptor (fchown)
    before it replaces the old one: root writing the service's file."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        try:
            os.fchmod(fd, mode)
            if owner is not None and os.fstat(fd)[4:6] != owner:
                os.fchown(fd, *owner)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def remove_durably(path: Path) -> bool:
    """Delete `path` (if present) so the deletion survives a power cut. True if it existed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True


def open_plain(path: Path, flags: int, mode: int = PRIVATE_FILE) -> int:
    """A descriptor on `path` only if it is a plain file of its own: no symlink (O_NOFOLLOW),
    no FIFO or device (checked on the open file; O_NONBLOCK so a FIFO cannot hang the open),
    no second hard link. What root must use in a directory another user can write."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
        os.close(fd)
        raise OSError(errno.EPERM, f"{path.name} is not a plain file of its own", str(path))
    return fd


def append_line(path: Path, line: bytes, mode: int = PRIVATE_FILE,
                owner: tuple[int, int] | None = None) -> None:
    """Append one whole line. With `owner` (uid, gid), the file is given to that user by
    descriptor (fchown), never by path."""
    if not line.endswith(b"\n") or b"\n" in line[:-1]:
        raise ValueError("append_line takes exactly one line ending in a newline")
    created = not path.exists()
    fd = open_plain(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    try:
        if owner is not None and os.fstat(fd)[4:6] != owner:
            os.fchown(fd, *owner)
        written = os.write(fd, line)
        if written != len(line):  # a full disk: leave no half line behind
            os.ftruncate(fd, os.fstat(fd).st_size - written)
            raise OSError(f"short write to {path.name} ({written} of {len(line)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def trim_torn_tail(path: Path) -> int:
    """Cut a last line that a crash left without its newline; returns the bytes removed."""
    try:
        fd = open_plain(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    with os.fdopen(fd, "rb+") as f:
        data = f.read()
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
        return len(data) - keep
