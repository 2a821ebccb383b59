"""`run --simulate` with a display: after the tour the window stays up, and the keys P and R
typed into it (xdotool, a real Xvfb) place and take the simulated card; the window's title
says which keys. Run under the shared lock (x11)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.xserver import XServerUnavailableError, running_xvfb

pytestmark = pytest.mark.x11
BOUND_S = 240.0  # the tour at its watchable pace, then the keys: a hang becomes a failure


class Lines:
    """The child's stdout, line by line, with bounded waits for the next matching one."""

    def __init__(self, stream: object) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line)

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + BOUND_S
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"gave up waiting for {text!r}; last lines {self.seen[-5:]}"
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line


def xdo(display: str, *args: str) -> str:
    return subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display),
                          check=True, capture_output=True, text=True, timeout=20).stdout


def test_the_window_places_and_takes_the_card_with_p_and_r(tmp_path: Path) -> None:
    try:
        server = running_xvfb()
        display = server.__enter__()
    except XServerUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)
    # the real X window: not the dummy driver other suites put in this process's environment
    env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11", SDL_AUDIODRIVER="dummy")
    env.pop("WAYLAND_DISPLAY", None)
    child = subprocess.Popen([sys.executable, "-m", "myna_reader.daemon.cli", "run",
                              "--simulate"], env=env, cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        lines = Lines(child.stdout)
        lines.wait_for("the reader keeps running")
        tree = subprocess.run(["xwininfo", "-root", "-tree"], env=env, check=True, text=True,
                              capture_output=True, timeout=20).stdout
        titles = re.findall(r'^\s+0x[0-9a-f]+ "([^"]*)"', tree, flags=re.M)
        assert "myna-reader simulation: P places the simulated card, R takes it away" in titles, \
            tree
        # no window manager: the keyboard goes to the window under the pointer
        xdo(display, "mousemove", "--sync", "400", "240")
        xdo(display, "key", "p")
        lines.wait_for("screen pin")  # the terminal hears the PIN pad
        xdo(display, "key", "r")
        lines.wait_for("screen error")  # taken mid-PIN: 106, nothing sent
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
            server.__exit__(None, None, None)
    assert child.returncode == 0
    assert list(tmp_path.iterdir()) == []
