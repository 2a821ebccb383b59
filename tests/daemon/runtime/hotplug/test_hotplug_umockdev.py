"""Readers appear and leave on a simulated udev bus, and HotplugMonitor reports each one.

umockdev (Debian: umockdev, gir1.2-umockdev-1.0, python3-gi) simulates the devices and their
uevents; pyudev's real netlink monitor receives them. udev events reach only the process that
owns the testbed with libumockdev-preload loaded, so the scenario runs in a child process
under `umockdev-wrapper` (umockdev_hotplug.py) and this test checks what it printed.
A missing umockdev FAILS this test; it never skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.umockdev

SCRIPT = Path(__file__).with_name("umockdev_hotplug.py")
# Debian's PyGObject lives here (python3-gi); pip's PyGObject>=3.51 needs a newer GLib
GI_DIST_PACKAGES = "/usr/lib/python3/dist-packages"
RUN_TIMEOUT_S = 120


def run_scenario() -> list[dict[str, object]]:
    wrapper = shutil.which("umockdev-wrapper")
    if wrapper is None:
        pytest.fail("umockdev-wrapper not found: apt-get install umockdev gir1.2-umockdev-1.0 "
                    "libumockdev0 python3-gi", pytrace=False)
    env = {**os.environ, "GI_DIST_PACKAGES": GI_DIST_PACKAGES}
    done = subprocess.run([wrapper, sys.executable, str(SCRIPT)], env=env, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_readers_come_and_go_through_the_udev_monitor() -> None:
    lines = run_scenario()
    events = [(e["action"], e["kind"], e["usb_id"], e["spec"]) for e in lines if "action" in e]
    assert [e for e in lines if "error" in e] == []
    assert events == [
        ("add", "ccid", "072f:b100", None),
        ("add", "nfc", "054c:06c1", "nfc:usb:054c:06c1"),
        ("add", "serial", "0403:6001", "nfc:tty:USB0:pn532"),
        ("remove", "ccid", "072f:b100", None),
        ("remove", "nfc", "054c:06c1", "nfc:usb:054c:06c1"),
        ("remove", "serial", "0403:6001", "nfc:tty:USB0:pn532"),
    ]
    presents = [e["present"] for e in lines if "present" in e]
    # before: only a keyboard (no reader); while plugged: all three readers
    assert presents == [[], ["ccid", "nfc", "serial"]]
    assert lines[-1] == {"done": True, "left": 0}
