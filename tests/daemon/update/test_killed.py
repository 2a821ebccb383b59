"""The installer killed with SIGKILL at random points (a power cut, a pulled plug).

Each round waits until the installer is seen in a phase (verifying, building the venv, built,
switched), then kills it a random moment later: the points are random, every phase is hit.
After every kill `current` must name a complete release that runs and passes its own
self-check: the old one or the new one, never a half-built one. The next update command
settles what the killed one left, and a last install completes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from myna_reader.daemon.runtime import doctor
from myna_reader.daemon.update import install as update_install
from myna_reader.daemon.update.install import Layout, install
from tests.daemon.update.conftest import UpdateCli, launcher_version

SEED = 6  # fixed: a failure names the kill points, and a rerun repeats them
JITTER_S = 0.5
ROUNDS_PER_PHASE = 2
Phase = Callable[[Layout], bool]


def verifying(layout: Layout) -> bool:
    return any(layout.releases.glob(".incoming-*"))


def building(layout: Layout) -> bool:
    return layout.release("1.1.0").exists()


def built(layout: Layout) -> bool:
    return (layout.release("1.1.0") / update_install.MARKER).exists()


def switched(layout: Layout) -> bool:
    return update_install.current_version(layout) == "1.1.0"


# each phase, and which release a kill in it must leave linked (None: either)
PHASES: list[tuple[Phase, str | None]] = [(verifying, "1.0.0"), (building, "1.0.0"),
                                         (built, None), (switched, "1.1.0")]


def assert_whole_and_running(layout: Layout, allowed: set[str]) -> str:
    version = update_install.current_version(layout)
    assert version in allowed, os.readlink(layout.current)
    check = update_install.run_self_check(layout, version, timeout=60)
    assert check is None, check
    return version


def start_installer(bundle: Path, layout: Layout) -> subprocess.Popen[bytes]:
    """The installer as its own process group, so SIGKILL takes its pip and venv with it."""
    return subprocess.Popen([sys.executable, "-m", "myna_reader.daemon.cli.update", "update",
                             "install", str(bundle), "--root", str(layout.root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill_in(phase: Phase, jitter: float, bundle: Path, layout: Layout) -> None:
    """SIGKILL the installer a random JITTER after it is seen entering PHASE."""
    proc = start_installer(bundle, layout)
    try:
        while not phase(layout):
            assert proc.poll() is None, f"the installer ended before {phase.__name__}"
            time.sleep(0.01)
        time.sleep(jitter)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_killed_installer_leaves_old_or_new_release_whole(
        layout: Layout, bundles: dict[str, Path], update_cli: UpdateCli) -> None:
    install(bundles["1.0.0"], layout)
    rng = random.Random(SEED)
    for phase, expected in PHASES:
        for _ in range(ROUNDS_PER_PHASE):
            if update_install.current_version(layout) != "1.0.0":  # each round starts on 1.0.0
                reset = update_cli("rollback", "--root", layout.root)
                assert reset.returncode == 0, reset.stderr
            # ... with no 1.1.0 on disk, so the phases are this round's
            update_install.prune(layout, update_install.load_state(layout), keep=1)
            assert not layout.release("1.1.0").exists()
            jitter = rng.uniform(0, JITTER_S)
            kill_in(phase, jitter, bundles["1.1.0"], layout)
            where = f"killed {jitter:.2f} s into {phase.__name__}"
            version = assert_whole_and_running(layout, {"1.0.0", "1.1.0"})
            assert expected in (None, version), where
            status = update_cli("status", "--root", layout.root)
            assert status.returncode == 0, (where, status.stderr)

    # a relative --root, as a technician may type it
    done = update_cli("install", bundles["1.1.0"], "--root", layout.root.name,
                      cwd=layout.root.parent)
    assert done.returncode == 0, done.stderr
    assert assert_whole_and_running(layout, {"1.1.0"}) == "1.1.0"
    state = update_install.status(layout)
    assert state["pending"] is None
    assert state["releases"] == ["1.0.0", "1.1.0"]
    assert not list(layout.releases.glob(".*"))


def test_killed_during_the_health_check_is_settled_by_the_next_command(
        layout: Layout, bundles: dict[str, Path], update_cli: UpdateCli) -> None:
    """The window between the switch and mark-good, hit for sure: 1.3.0 never sends READY."""
    install(bundles["1.1.0"], layout)
    proc = subprocess.Popen([sys.executable, "-m", "myna_reader.daemon.cli.update", "update",
                             "install", str(bundles["1.3.0-no-ready"]), "--root",
                             str(layout.root), "--deadline", "600"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        while update_install.current_version(layout) != "1.3.0":
            assert proc.poll() is None, "the installer ended before switching"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    # linked, whole and launchable, but not confirmed: status and doctor say so
    assert launcher_version(layout.current) == "1.3.0"
    status = update_cli("status", "--root", layout.root)
    assert "pending:  1.3.0 was not confirmed" in status.stdout
    line = doctor.check_version(layout.root).line()
    assert "the update to 1.3.0 was not confirmed" in line
    assert line.startswith("FAIL version: ")

    settled = update_cli("install", bundles["1.1.0"], "--root", layout.root, "--deadline", "3")
    assert settled.returncode == 0, settled.stderr
    assert settled.stdout.startswith(
        "first, an interrupted update: myna-reader 1.3.0 failed its health check (no READY "
        "within 3 s); 1.1.0 is running again\nmyna-reader 1.1.0 is already installed and running")
    assert update_install.current_version(layout) == "1.1.0"
    assert not layout.release("1.3.0").exists()
    state = update_install.status(layout)
    assert (state["pending"], state["last"]["outcome"]) == (None, "rolled-back")
    line = doctor.check_version(layout.root).line()
    assert line.startswith("OK   version: ")
    assert "; last update: install rolled-back 1.3.0 " in line
