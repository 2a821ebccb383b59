"""The service unit passes systemd's own lint and its hardening score stays at most 2.5."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = "myna-reader.service"
MAX_EXPOSURE = 2.5


def systemd_analyze(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze not found (apt-get install systemd)", pytrace=False)
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_unit_verifies_without_a_warning(installed_root: Path) -> None:
    # verify exits 0 on unknown keys and bad values: stderr must be empty as well. It also
    # checks that ExecStart exists, which the install under the root provides.
    done = systemd_analyze("verify", f"--root={installed_root}",
                           f"/etc/systemd/system/{UNIT}")
    assert (done.returncode, done.stderr) == (0, "")


def test_unit_verify_catches_a_missing_exec_start(installed_root: Path) -> None:
    launcher = installed_root / "opt/myna-reader/current/bin/myna-reader"
    saved = launcher.read_bytes()
    launcher.unlink()
    try:
        done = systemd_analyze("verify", f"--root={installed_root}",
                               f"/etc/systemd/system/{UNIT}")
    finally:
        launcher.write_bytes(saved)
        launcher.chmod(0o755)
    assert "is not executable" in done.stderr


def exposure(root: Path) -> float:
    done = systemd_analyze("security", "--offline=true", f"--root={root}", "--no-pager", UNIT)
    match = re.search(rf"Overall exposure level for {re.escape(UNIT)}: (\d+\.\d+)", done.stdout)
    assert match, done.stdout[-2000:] + done.stderr
    return float(match.group(1))


def test_hardening_exposure_is_at_most_2_5(installed_root: Path) -> None:
    assert exposure(installed_root) <= MAX_EXPOSURE


def test_unit_keeps_the_contract_the_runner_relies_on(installed_root: Path) -> None:
    text = (installed_root / "etc/systemd/system" / UNIT).read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=on-failure",
                 "StateDirectory=myna-reader", "ConfigurationDirectory=myna-reader",
                 "User=myna-reader", "Environment=SDL_VIDEODRIVER=kmsdrm",
                 "SupplementaryGroups=video input render audio dialout plugdev",
                 "ExecStart=/opt/myna-reader/current/bin/myna-reader run"):
        assert re.search(rf"^{re.escape(line)}$", text, re.MULTILINE), line


KIOSK = "myna-reader-cage.service"
KIOSK_MAX_EXPOSURE = 3.5  # a logind session on a tty (PAMName=) is part of the design


def test_the_cage_kiosk_unit_verifies_and_stays_hardened(installed_root: Path) -> None:
    """The Wayland route's unit: systemd's lint without a word, the reader's contract (notify
    from cage's child, the Wayland driver), and its exposure score."""
    cage = shutil.which("cage")
    assert cage, "apt-get install cage (the kiosk unit's ExecStart)"
    target = installed_root / "usr/bin/cage"
    if not target.exists():  # verify checks ExecStart inside the root
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cage, target)
    done = systemd_analyze("verify", f"--root={installed_root}", f"/etc/systemd/system/{KIOSK}")
    assert (done.returncode, done.stderr) == (0, "")
    text = (installed_root / "etc/systemd/system" / KIOSK).read_text()
    for line in ("Type=notify", "NotifyAccess=all", "Environment=SDL_VIDEODRIVER=wayland",
                 "Conflicts=myna-reader.service getty@tty7.service", "User=myna-reader",
                 "ExecStart=/usr/bin/cage -d -- /opt/myna-reader/current/bin/myna-reader run"):
        assert re.search(rf"^{re.escape(line)}$", text, re.MULTILINE), line
    done = systemd_analyze("security", "--offline=true", f"--root={installed_root}",
                           "--no-pager", KIOSK)
    match = re.search(rf"Overall exposure level for {re.escape(KIOSK)}: (\d+\.\d+)", done.stdout)
    assert match, done.stdout[-2000:] + done.stderr
    assert float(match.group(1)) <= KIOSK_MAX_EXPOSURE
