"""Real bundles from real wheels, installed into temporary roots (never /opt or /etc).

The dependency wheels come from pip (its cache or the index), once per session. Each test
release is this source tree copied with another version in pyproject.toml and built with
`pip wheel --no-deps`; two of them carry a broken self-check (one exits 1, one never sends
READY), which is how a release that fails its health check is made: the installer runs the
new release's own `update self-check`, so the failure must live inside that release.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from myna_reader.daemon.update import bundle as update_bundle
from myna_reader.daemon.update.install import Layout
from tests.support.repo import REPO

SOURCE_PARTS = ("pyproject.toml", "README.md", "daemon", "drivers", "ui", "hw-fixtures")
BROKEN_SELF_CHECKS = {
    "exit-1": '''

def self_check(layout: Layout, expected: str) -> list[Check]:  # the test's broken release
    return [Check("simulated", False, "this release is broken on purpose", "a test")]
''',
    "no-ready": '''
import time


def self_check(layout: Layout, expected: str) -> list[Check]:  # the test's hung release
    time.sleep(3600)
    return []
''',
}


def launcher_version(release_link: Path) -> str:
    """What a release's own launcher says it is, run as systemd runs it: without this
    shell's PYTHONPATH. A PYTHONPATH holding the source tree puts its build metadata
    (myna_reader.egg-info, version 0.1.0 from pyproject.toml) ahead of the release's own, and
    `--version` then prints 0.1.0 whatever is installed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(release_link / "bin/myna-reader"), "--version"], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.split()[-1]


@dataclass(frozen=True)
class Keys:
    vendor: Path  # trusted in every test root
    other: Path  # a valid key nobody trusts


def _project_wheel(work: Path, version: str, broken: str | None) -> Path:
    """This tree as release VERSION (optionally with a broken self-check), as a wheel."""
    src = work / f"src-{version}"
    src.mkdir()
    for part in SOURCE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, src / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, src / part)
    pyproject = src / "pyproject.toml"
    pyproject.write_text(re.sub(r'(?m)^version = ".*"$', f'version = "{version}"',
                                pyproject.read_text(), count=1))
    if broken:
        with (src / "daemon/runtime/self_check.py").open("a") as f:
            f.write(BROKEN_SELF_CHECKS[broken])
    out = work / f"wheel-{version}"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                           str(out), str(src)], capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("myna_reader-*.whl")
    return wheel


@pytest.fixture(scope="session")
def dependency_wheels(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every dependency of the project as a wheel for this machine (pip's real resolution)."""
    out = tmp_path_factory.mktemp("deps")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(out),
                           str(REPO)], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    for own in out.glob("myna_reader-*.whl"):
        own.unlink()
    return sorted(out.glob("*.whl"))


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    base = tmp_path_factory.mktemp("keys")
    vendor, _, _ = update_bundle.generate_key(base / "vendor")
    other, _, _ = update_bundle.generate_key(base / "other")
    return Keys(vendor, other)


BundleMaker = Callable[..., Path]


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory, dependency_wheels: list[Path],
            keys: Keys) -> dict[str, Path]:
    """Signed bundles by name: 1.0.0, 1.1.0, 1.2.0-exit-1, 1.3.0-no-ready, 1.0.0-downgrade."""
    work = tmp_path_factory.mktemp("bundles")
    made: dict[str, Path] = {}
    for name, version, broken in (("1.0.0", "1.0.0", None), ("1.1.0", "1.1.0", None),
                                  ("1.2.0-exit-1", "1.2.0", "exit-1"),
                                  ("1.3.0-no-ready", "1.3.0", "no-ready")):
        wheel_dir = work / f"wheels-{name}"
        wheel_dir.mkdir()
        for dep in dependency_wheels:
            os.link(dep, wheel_dir / dep.name)
        shutil.copy2(_project_wheel(work, version, broken), wheel_dir)
        made[name] = work / f"{name}.bundle"
        update_bundle.build_bundle(wheel_dir, made[name], keys.vendor)
    made["1.0.0-downgrade"] = work / "1.0.0-downgrade.bundle"
    update_bundle.build_bundle(work / "wheels-1.0.0", made["1.0.0-downgrade"], keys.vendor,
                               downgrade_from="1.1.0")
    made["1.0.0-other-key"] = work / "1.0.0-other-key.bundle"
    update_bundle.build_bundle(work / "wheels-1.0.0", made["1.0.0-other-key"], keys.other)
    return made


@pytest.fixture
def layout(tmp_path: Path, keys: Keys) -> Layout:
    """An empty reader root that trusts the vendor key."""
    root = tmp_path / "root"
    trusted = root / "etc/myna-reader/update-keys"
    trusted.mkdir(parents=True)
    shutil.copy2(keys.vendor.with_name("vendor.pub"), trusted / "vendor.pub")
    return Layout(root)


UpdateCli = Callable[..., subprocess.CompletedProcess[str]]


def _run_update(*args: str | Path, timeout: float = 600,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "myna_reader.daemon.cli.update", "update",
                           *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          check=False, cwd=cwd)


@pytest.fixture
def update_cli() -> UpdateCli:
    """`update_cli(*args)`: `myna-reader update ARGS` as a technician runs it (a process)."""
    return _run_update
