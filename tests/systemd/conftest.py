"""A DESTDIR install of the release (systemd/install.sh --root), shared by the unit tests.

The wheel is built from this tree (pip, with build isolation) and installed without its
dependencies: the tests check the install layout and the unit, not the daemon's imports.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.repo import REPO

INSTALL_SH = REPO / "systemd" / "install.sh"
HOST_UNITS = Path("/usr/lib/systemd/system")  # targets the unit orders against


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(REPO)], check=True, capture_output=True, timeout=600)
    (found,) = out.glob("myna_reader-*.whl")
    return found


InstallRunner = Callable[..., subprocess.CompletedProcess[str]]


def run_install(root: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INSTALL_SH), "--root", str(root), *map(str, args)],
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture
def install() -> InstallRunner:
    """`install(root, *options)`: systemd/install.sh --root REPO OPTIONS."""
    return run_install


@pytest.fixture(scope="session")
def installed_root(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A root with the release installed, plus the host's units so targets resolve."""
    root = tmp_path_factory.mktemp("root")
    done = run_install(root, "--wheel", wheel, "--no-deps")
    assert done.returncode == 0, done.stdout + done.stderr
    if not HOST_UNITS.is_dir():
        pytest.fail("systemd is not installed (apt-get install systemd)", pytrace=False)
    shutil.copytree(HOST_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    return root
