"""A disk that answers EIO, for real: an ext4 file system on a loop device, shut down with
EXT4_IOC_SHUTDOWN (what xfstests' `godown` does). From then on the kernel fails every open,
read, write and fsync on it with EIO, as it does when the storage under it dies. The test
machine's kernel has no device-mapper, so `dmsetup`'s error target cannot run; the loop
device and ext4 are there, and the fault comes from the kernel's own file system code."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SIZE_BYTES = 8 * 1024 * 1024  # room for the stores; mkfs takes milliseconds
EXT4_IOC_SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32)
EXT4_GOING_FLAGS_NOLOGFLUSH = 2  # shut down at once, as a device that stopped answering


@contextmanager
def ext4_disk(path: Path) -> Iterator[Path]:
    """A fresh ext4 mounted at `path` (0700, as the state directory is), unmounted after."""
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="myna-disk-") as scratch:
        image = Path(scratch) / "disk.img"
        with image.open("wb") as f:
            f.truncate(SIZE_BYTES)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True,
                       capture_output=True)
        subprocess.run(["mount", "-o", "loop", str(image), str(path)], check=True,
                       capture_output=True, text=True)
        try:
            os.chmod(path, 0o700)
            yield path
        finally:  # lazy: a store may still hold a descriptor there
            subprocess.run(["umount", "-l", str(path)], check=True, capture_output=True)


def fail(path: Path) -> None:
    """From now on every file operation under the mount `path` fails with EIO."""
    os.sync()  # what was written before the fault is on the disk
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", EXT4_GOING_FLAGS_NOLOGFLUSH))
    finally:
        os.close(fd)
