"""UI test fixtures: headless pygame (SDL dummy drivers), fonts, catalogs, voice, a real Xvfb."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"  # headless tests; the Xvfb tests run their own process
os.environ["SDL_AUDIODRIVER"] = "dummy"

import shutil
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from myna_reader.ui.app import load_fonts
from myna_reader.ui.fonts import FontSet
from myna_reader.ui.make_voice import build
from myna_reader.ui.messages import Lang, Messages, load_messages
from myna_reader.ui.settings import UiSettings
from tests.support.xserver import XServerUnavailableError, running_xvfb
from tests.ui.ui_support import INFO


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
    """The prompts synthesised into DIR/ja with Debian's Open JTalk and DIR/en with Piper
    (fails, never skips, without them); returns DIR."""
    if shutil.which("open_jtalk") is None:
        pytest.fail("open_jtalk is missing: apt-get install open-jtalk open-jtalk-mecab-naist-jdic")
    out = tmp_path_factory.mktemp("voice")
    build(out / "ja", Lang.JA, engine="open-jtalk")
    build(out / "en", Lang.EN, engine="piper")
    return out


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """A real X server for the session (fails, never skips, when Xvfb is missing)."""
    try:
        server = running_xvfb()
        display = server.__enter__()
    except XServerUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield display
    server.__exit__(None, None, None)
