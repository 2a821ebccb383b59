"""The field tests' parts: a fresh Debian root (.ci/fresh-machine --root-only) and the .deb.

The .deb is the one .ci/run built (MYNA_READER_DEB names it), or built here with
.ci/build-deb when that variable is not set. The "previous build" for the upgrade test is that
package with its version lowered (dpkg-deb: same files, an older version), so the upgrade runs
dpkg's and the maintainer scripts' real upgrade path without a second 8-minute build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# the update tests' real wheels and keys, shared (pytest takes fixtures a conftest imports)
from tests.daemon.update.conftest import dependency_wheels, keys  # noqa: F401
from tests.support.repo import REPO

FRESH_MACHINE = REPO / ".ci" / "fresh-machine"
BUILD_DEB = REPO / ".ci" / "build-deb"


@dataclass(frozen=True)
class Root:
    path: Path
    log: Path  # every command run in it, with its output: the transcript

    def run(self, command: str, *, check: bool = True,
            timeout: float = 1200) -> subprocess.CompletedProcess[str]:
        """COMMAND in the root (chroot, a root shell, Debian's noninteractive apt)."""
        done = subprocess.run(
            ["chroot", str(self.path), "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
             "HOME=/root", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive",
             "sh", "-c", command],
            capture_output=True, text=True, timeout=timeout, check=False)
        with self.log.open("a") as f:
            f.write(f"# {command}\n{done.stdout}{done.stderr}# rc {done.returncode}\n")
        if check:
            assert done.returncode == 0, f"{command}: rc {done.returncode}\n" \
                f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        return done


@pytest.fixture(scope="session")
def fresh_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Root]:
    where = Path(f"/var/tmp/myna-field-root-{os.getpid()}")
    made = subprocess.run([str(FRESH_MACHINE), "--root-only", "--dir", str(where)],
                          capture_output=True, text=True, timeout=1800, check=False)
    try:
        assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
        log = REPO / "build" / "field" / "fresh-root-transcript.txt"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        yield Root(where, log)
    finally:
        subprocess.run([str(FRESH_MACHINE), "--remove", "--dir", str(where)],
                       capture_output=True, timeout=600, check=False)


@pytest.fixture(scope="session")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("MYNA_READER_DEB")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("deb")
    done = subprocess.run([str(BUILD_DEB), "--out", str(out)], capture_output=True, text=True,
                          timeout=3600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (found,) = out.glob("myna-reader_*.deb")
    return found


@pytest.fixture(scope="session")
def previous_deb(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same package as an older version (VERSION~prev sorts before VERSION)."""
    work = tmp_path_factory.mktemp("previous")
    tree = work / "tree"
    subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True, timeout=600)
    control = tree / "DEBIAN" / "control"
    lines = control.read_text().splitlines()
    version = next(line.split(": ", 1)[1] for line in lines if line.startswith("Version: "))
    control.write_text("".join(f"Version: {version}~prev\n" if line.startswith("Version: ")
                               else f"{line}\n" for line in lines))
    out = work / f"myna-reader_{version}~prev.deb"
    subprocess.run(["dpkg-deb", "-Znone", "-b", str(tree), str(out)], check=True,
                   capture_output=True, timeout=1200)
    shutil.rmtree(tree)
    return out
