"""UI test fixtures: headless pygame (SDL dummy drivers), fonts, catalogs, voice, a real Xvfb."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"  # headless tests; the Xvfb tests run their own process
os.environ["SDL_AUDIODRIVER"] = "dummy"

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest
from ui_support import INFO

from myna_reader.ui.app import load_fonts
from myna_reader.ui.fonts import FontSet
from myna_reader.ui.make_voice import build
from myna_reader.ui.messages import Lang, Messages, load_messages
from myna_reader.ui.settings import UiSettings


@pytest.fixture(scope="session")
def messages() -> dict[Lang, Messages]:
    return load_messages()


@pytest.fixture(scope="session")
def fonts(messages: dict[Lang, Messages]) -> FontSet:
    pygame.display.init()
    pygame.font.init()
    return load_fonts(UiSettings(facility_name=INFO.facility), messages)


@pytest.fixture(scope="session")
def voice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The prompts synthesised with Debian's Open JTalk (fails, never skips, without it)."""
    if shutil.which("open_jtalk") is None:
        pytest.fail("open_jtalk is missing: apt-get install open-jtalk open-jtalk-mecab-naist-jdic")
    out = tmp_path_factory.mktemp("voice-ja")
    build(out, engine="open-jtalk")
    return out


def _free_display() -> int:
    for number in range(90, 200):
        if not (Path(f"/tmp/.X{number}-lock").exists()
                or Path(f"/tmp/.X11-unix/X{number}").exists()):
            return number
    raise RuntimeError("no free X display number")


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """A real X server for the session (fails, never skips, when Xvfb is missing)."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.fail("Xvfb and xdotool are needed: apt-get install xvfb xdotool xauth")
    number = _free_display()
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "800x480x24",
                               "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 10
    while not socket.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"Xvfb :{number} did not start")
        time.sleep(0.05)
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)
