"""A small real tmpfs for full-disk tests (`mount -t tmpfs -o size=2m`, see docs/reliability.md),
filled with dd until the kernel answers ENOSPC."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SIZE = "2m"  # the test bench's full-disk size
FILLER = "filler"


@contextmanager
def small_tmpfs(path: Path, size: str = SIZE) -> Iterator[Path]:
    """A fresh tmpfs of `size` at `path` (0700, as the state directory is), unmounted after."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                    str(path)], check=True, capture_output=True, text=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True, capture_output=True)


def fill(path: Path) -> None:
    """Fill the file system of `path` with one file, `filler`: dd stops at ENOSPC."""
    done = subprocess.run(["dd", "if=/dev/zero", f"of={path / FILLER}", "bs=4096"],
                          capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "No space left" in done.stderr, done.stderr


def free_bytes(path: Path) -> int:
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize
