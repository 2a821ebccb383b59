"""The real window in a real X server (Xvfb): xdotool clicks on every element's rect reach the
engine's intent queue as the matching intents; a screenshot shows what was rendered."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pygame
import pytest
from PIL import ImageGrab

from myna_reader.daemon.engine import Screen
from myna_reader.daemon.version import __version__
from myna_reader.ui.fonts import FontSet
from myna_reader.ui.layout import Layout
from myna_reader.ui.messages import Lang, Messages
from myna_reader.ui.samples import GALLERY
from myna_reader.ui.screens import ScreenInfo, render
from myna_reader.ui.widgets import HEADER, Canvas
from tests.support.xserver import click

pytestmark = pytest.mark.x11
HARNESS = Path(__file__).with_name("x_harness.py")


class Harness:
    def __init__(self, display: str, size: str = "800x480", rotation: int = 0) -> None:
        env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11")
        self.display = display
        self.proc = subprocess.Popen([sys.executable, str(HARNESS), size, str(rotation)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(self, kind: str, timeout: float = 10.0) -> Any:  # a JSON value
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {kind} line from the app within {timeout}s")
            word, _, data = line.partition(" ")
            if word == kind:
                return json.loads(data)

    def show(self, screen: Screen) -> list[dict[str, Any]]:
        self.send(f"show {screen.value}")
        elements: list[dict[str, Any]] = self.expect("FRAME")
        return elements

    def click(self, rect: list[int]) -> None:
        click(self.display, rect)

    def close(self) -> None:
        self.send("quit")
        try:
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def expected(element: dict[str, Any]) -> dict[str, object]:
    if element["id"].startswith("digit-"):
        return {"digit": int(element["id"].removeprefix("digit-"))}
    return {"button": element["id"]}


@pytest.fixture
def harness(xvfb: str) -> Iterator[Harness]:
    h = Harness(xvfb)
    yield h
    h.close()


@pytest.mark.parametrize("screen", list(Screen), ids=[s.value for s in Screen])
def test_clicks_reach_the_engine(screen: Screen, harness: Harness) -> None:
    elements = harness.show(screen)
    engine_elements = [e for e in elements if e["role"] in ("button", "key")]
    for element in engine_elements:
        harness.click(element["rect"])
        assert harness.expect("INTENT") == expected(element), element
    assert "language" in {e["id"] for e in engine_elements}  # the session's: the engine's


def test_rotated_panel_maps_clicks(xvfb: str) -> None:
    h = Harness(xvfb, rotation=180)
    try:
        elements = h.show(Screen.PIN)
        for element_id in ("digit-1", "digit-9", "cancel"):
            element = next(e for e in elements if e["id"] == element_id)
            h.click(element["rect"])
            assert h.expect("INTENT") == expected(element)
    finally:
        h.close()


def test_screenshot_is_the_rendered_frame(harness: Harness, xvfb: str, fonts: FontSet,
                                          messages: dict[Lang, Messages]) -> None:
    """What the X server shows is, pixel for pixel, the render function's frame."""
    harness.show(Screen.STAFF_STANDBY)
    harness.show(Screen.STANDBY)
    shot = ImageGrab.grab(xdisplay=xvfb).convert("RGB")
    assert shot.size == (800, 480)
    assert shot.getpixel((5, 5)) == HEADER  # unattended mode's title bar
    surface = pygame.Surface((800, 480))
    info = ScreenInfo(version=__version__, voice_on=False)
    render(GALLERY[Screen.STANDBY], Canvas(surface, Layout(800, 480), fonts, messages[Lang.JA]),
           info)
    assert shot.tobytes() == pygame.image.tobytes(surface, "RGB")
