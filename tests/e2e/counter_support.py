"""The counter as a person meets it (the parts conftest.py's `counter` fixture wires): the
daemon in its own process under an sd_notify socket, its window in a real Xvfb, the reference
terminal in its own process, a real pcscd with the simulated card behind vpcd. Nothing in
between is mocked.

The person's eyes are screenshots of the X server, their finger is xdotool at the centre of
the rects `myna-reader screens` writes; the terminal's `status` lines tell which screen is up.
Every wait is bounded, so a missing step fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import load_profile
from myna_reader.drivers.sim.vpcd import VpcdBridge
from tests.support.xserver import XServerUnavailableError, click, grab, running_xvfb

CLI = Path(sys.executable).with_name("myna-reader")
SIZE = "800x480"
WATCHDOG_USEC = 2_000_000
STEP_TIMEOUT_S = 20.0  # bounds every wait: only turns a hang into a failure
SETTLE_S = 0.3  # a screen unchanged this long (longer than one animation frame) is drawn
Region = tuple[int, int, int, int]  # left, top, right, bottom
Screens = dict[str, list[dict[str, Any]]]  # screen id -> `myna-reader screens` elements


class Lines:
    """Timestamped lines a child writes, read in a thread, waited on with bounds."""

    def __init__(self) -> None:
        self.items: list[tuple[float, Any]] = []
        self.changed = threading.Condition()

    def add(self, item: Any) -> None:
        with self.changed:
            self.items.append((time.monotonic(), item))
            self.changed.notify_all()

    def wait(self, what: str, found: Callable[[], Any], timeout: float = STEP_TIMEOUT_S) -> Any:
        with self.changed:
            if not self.changed.wait_for(found, timeout):
                pytest.fail(f"{what}: not within {timeout:.0f} s (last seen: "
                            f"{[i for _, i in self.items[-5:]]})")
            return found()


@dataclass
class Terminal:
    """`myna-reader host --json --issue-passcode` with a challenge the test knows."""

    proc: subprocess.Popen[str]
    challenge: bytes
    lines: Lines = field(default_factory=Lines)

    def read_lines(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.add(json.loads(line))

    def messages(self, since: float = 0.0) -> list[dict[str, Any]]:
        with self.lines.changed:
            return [m for t, m in self.lines.items if t >= since]

    def of_type(self, kind: str, since: float = 0.0) -> list[dict[str, Any]]:
        return [m for m in self.messages(since) if m.get("type") == kind]

    def events(self, name: str, since: float = 0.0) -> list[dict[str, Any]]:
        return [m for m in self.messages(since) if m.get("event") == name]

    def status(self) -> dict[str, Any] | None:
        found = self.of_type("status")
        return found[-1] if found else None

    def wait_status(self, screen: str, **fields: object) -> dict[str, Any]:
        def matches() -> dict[str, Any] | None:
            now = self.status()
            if now is not None and now["screen"] == screen and all(
                    now.get(k) == v for k, v in fields.items()):
                return now
            return None
        return self.lines.wait(f"status screen={screen} {fields}", matches)  # type: ignore[no-any-return]

    def passcode(self) -> str:
        issued = self.lines.wait("the terminal's passcode-issued event",
                                 lambda: self.events("passcode-issued"))
        return str(issued[0]["passcode"])


def start_terminal(port: int, state_dir: Path, *options: str,
                   challenge: bytes = b"") -> Terminal:
    """The reference terminal on the daemon's link, its JSON lines read in a thread."""
    proc = subprocess.Popen([str(CLI), "host", "--link", f"tcp://127.0.0.1:{port}",
                             "--link-secret-file", str(state_dir / "link.secret"), "--json",
                             *options], stdout=subprocess.PIPE, text=True)
    terminal = Terminal(proc, challenge)
    threading.Thread(target=terminal.read_lines, daemon=True).start()
    return terminal


def run_command(config: Path, reader: str, port: int, state_dir: Path) -> list[str]:
    """`myna-reader run` as the tests start it: their own config, reader, link and state."""
    return [str(CLI), "run", "--config", str(config), "--reader", reader,
            "--link", f"tcp://127.0.0.1:{port}", "--state-dir", str(state_dir), "--size", SIZE]


def stop_processes(*procs: subprocess.Popen[Any]) -> None:
    """SIGTERM each child still running; one that has not ended 15 s later is killed."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def display_with_gallery(tmp: Path) -> Iterator[tuple[str, Screens]]:
    """A real Xvfb at SIZE for the block, and the rects `myna-reader screens` gives each
    screen's elements (what the finger presses). No Xvfb fails the test; it never skips."""
    gallery = tmp / "screens"
    made = subprocess.run([str(CLI), "screens", "--out", str(gallery), "--size", SIZE],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy"}, check=False)
    if made.returncode != 0:
        pytest.fail(f"myna-reader screens failed: {made.stderr}", pytrace=False)
    screens = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in gallery.glob("*.json")}
    xvfb = running_xvfb(SIZE)
    try:
        display = xvfb.__enter__()
    except XServerUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield display, screens
    finally:
        xvfb.__exit__(None, None, None)


class WatchedCard(SimulatedCard):
    """The simulated card, noting at each power-off whether the daemon was still running:
    pcscd also powers off a card its client left when that client dies, so only a power-off
    before the exit shows the daemon unpowered the card itself."""

    def __init__(self, daemon_running: Callable[[], bool]) -> None:
        super().__init__(load_profile("standard"))
        self.daemon_running = daemon_running
        self.power_offs: list[bool] = []  # daemon running at each power-off

    def power_off(self) -> None:
        self.power_offs.append(self.daemon_running())
        super().power_off()


def process_running(pid: int) -> bool:
    """Alive, not a zombie (read from /proc: no race with a Popen.wait in another thread)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    spawned: float
    notify: Lines
    log_path: Path

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@dataclass
class Counter:
    display: str
    daemon: Daemon
    terminal: Terminal
    card: WatchedCard
    bridge: VpcdBridge
    screens: Screens
    shots: Path
    figures: dict[str, float] = field(default_factory=dict)

    # --- the rects of `myna-reader screens` ----------------------------------------------

    def element(self, screen: str, label: str) -> dict[str, Any]:
        """The element of `screen` a person would press: found by its visible label."""
        matches = [e for e in self.screens[screen] if e["label"] == label]
        assert len(matches) == 1, f"{screen}: {label!r} in {self.screens[screen]}"
        return matches[0]

    def press(self, screen: str, label: str) -> None:
        click(self.display, self.element(screen, label)["rect"])

    def title_area(self, screen: str) -> Region:
        """The header left of the language toggle: the screen's title (consent page n/N)."""
        x, y, _, h = self.element(screen, "English")["rect"]
        return (0, 0, x, y + h)

    def text_area(self, screen: str) -> Region:
        """Between the header and the action row, left of the keypad: the masked digits."""
        _, y, _, h = self.element(screen, "English")["rect"]
        pad_left = min(e["rect"][0] for e in self.screens[screen] if e["role"] == "key")
        return (0, y + h, pad_left, self.element(screen, "中止")["rect"][1])

    # --- what a person sees ------------------------------------------------------------------

    def look(self, region: Region | None = None) -> Image.Image:
        image = grab(self.display).convert("RGB")
        return image.crop(region) if region else image

    def shot(self, name: str) -> Path:
        path = self.shots / f"{len(list(self.shots.iterdir())):02d}-{name}.png"
        self.look().save(path)
        return path

    def settled(self) -> Image.Image:
        """Wait until the screen holds still for SETTLE_S (a drawn, not animated, screen)."""
        deadline = time.monotonic() + STEP_TIMEOUT_S
        before = self.look()
        while time.monotonic() < deadline:
            time.sleep(SETTLE_S)
            now = self.look()
            if ImageChops.difference(before, now).getbbox() is None:
                return now
            before = now
        pytest.fail(f"the screen did not settle within {STEP_TIMEOUT_S:.0f} s")

    def changes(self, region: Region, action: Callable[[], None], what: str) -> None:
        """Run `action` (a press) and wait until `region` of the screen shows its effect."""
        before = self.look(region)
        action()
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while time.monotonic() < deadline:
            if ImageChops.difference(before, self.look(region)).getbbox() is not None:
                return
            time.sleep(0.02)
        self.shot("no-change")
        pytest.fail(f"{what}: the screen did not change within {STEP_TIMEOUT_S:.0f} s")


