"""The installer killed with SIGKILL at random points (a power cut, a pulled plug).

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
from pathlib import Path

from myna_reader.daemon import doctor, update_install
from myna_reader.daemon.update_install import Layout, install

from .conftest import UpdateCli

KILLS = 8
SEED = 6  # fixed: a failure names the delays, and a rerun repeats them


def assert_whole_and_running(layout: Layout, allowed: set[str]) -> str:
    version = update_install.current_version(layout)
    assert version in allowed, os.readlink(layout.current)
    check = update_install.run_self_check(layout, version, timeout=60)
    assert check is None, check
    return version


def kill_after(delay: float, bundle: Path, layout: Layout) -> int | None:
    """Start the installer as a process group, SIGKILL it (and its pip) after DELAY."""
    proc = subprocess.Popen([sys.executable, "-m", "myna_reader.daemon.cli_update", "update",
                             "install", str(bundle), "--root", str(layout.root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None
    return proc.returncode  # it finished before the kill


def test_killed_installer_leaves_old_or_new_release_whole(
        layout: Layout, bundles: dict[str, Path], update_cli: UpdateCli) -> None:
    install(bundles["1.0.0"], layout)
    start = time.monotonic()
    assert install(bundles["1.1.0"], layout).outcome == "installed"
    span = time.monotonic() - start  # how long one install takes here: the kills cover it
    rng = random.Random(SEED)
    delays = sorted(rng.uniform(0.05, span * 1.5) for _ in range(KILLS))
    finished = 0
    left_on: list[str] = []  # the release each kill left linked (pytest -s prints them)
    for delay in delays:
        if update_install.current_version(layout) != "1.0.0":  # each round starts on 1.0.0
            reset = update_cli("rollback", "--root", layout.root)
            assert reset.returncode == 0, (delay, reset.stderr)
        assert update_install.current_version(layout) == "1.0.0"
        code = kill_after(delay, bundles["1.1.0"], layout)
        finished += code is not None
        assert code in (None, 0), delay
        version = assert_whole_and_running(layout, {"1.0.0", "1.1.0"})
        status = update_cli("status", "--root", layout.root)
        assert status.returncode == 0, status.stderr
        left_on.append(f"{delay:.2f}s:{version}{' pending' if 'pending:' in status.stdout else ''}")
    print("kills:", ", ".join(left_on))
    assert finished < KILLS  # the kills landed inside the install
    assert any(":1.0.0" in kill for kill in left_on)  # the earliest ones before the switch

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
    proc = subprocess.Popen([sys.executable, "-m", "myna_reader.daemon.cli_update", "update",
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
    launcher = subprocess.run([str(layout.current / "bin/myna-reader"), "--version"],
                              capture_output=True, text=True, timeout=120, check=True)
    assert launcher.stdout.split()[-1] == "1.3.0"
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
