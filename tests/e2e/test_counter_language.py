"""A patient who taps English: the whole confirmation in English through the real X server,
and the next patient meets a Japanese standby (the language is the session's, issue 14).

The bench is conftest.py's `counter` (the daemon with its window in Xvfb, the terminal, a
real pcscd with the simulated card). What the screen shows is judged against the renders of
`myna-reader screens` in each language: the header and the language button are drawn by the
same code from the same fonts, so the live pixels equal the gallery's there exactly.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.e2e.counter_support import CLI, SIZE, STEP_TIMEOUT_S, Counter, Region
from tests.e2e.test_counter import (
    PIN,
    answer_consents,
    at_standby,
    place_card,
    take_card_off,
    type_code,
)

pytestmark = [pytest.mark.x11, pytest.mark.pcscd]


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gallery in English, rendered as the daemon renders (same size, same fonts)."""
    out = tmp_path_factory.mktemp("screens-en")
    made = subprocess.run([str(CLI), "screens", "--out", str(out), "--size", SIZE, "--lang", "en"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy"})
    if made.returncode != 0:
        pytest.fail(f"myna-reader screens --lang en failed: {made.stderr}", pytrace=False)
    return out


def header(counter: Counter, screen: str) -> Region:
    """The title bar: the screen's title and the language button."""
    _, y, _, h = counter.element(screen, "English")["rect"]
    return (0, 0, int(SIZE.split("x")[0]), y + h + 1)


def toggle(counter: Counter, screen: str) -> Region:
    x, y, w, h = counter.element(screen, "English")["rect"]
    return (x, y, x + w, y + h)


def shows(counter: Counter, gallery: Path, screen: str, region: Region, what: str) -> None:
    """Wait (bounded) until `region` of the live screen is the gallery's, pixel for pixel."""
    want = Image.open(gallery / f"{screen}.png").convert("RGB").crop(region)
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline:
        if ImageChops.difference(want, counter.look(region)).getbbox() is None:
            return
        time.sleep(0.05)
    counter.shot(f"not-{screen}")
    pytest.fail(f"{what}: the {screen} screen does not show it within {STEP_TIMEOUT_S:.0f} s")


def test_a_confirmation_in_english_then_standby_in_japanese(counter: Counter,
                                                           english: Path) -> None:
    japanese = counter.shots.parent / "screens"  # the fixture's own `myna-reader screens`
    at_standby(counter)
    shows(counter, japanese, "standby", toggle(counter, "standby"), "the Japanese standby")
    counter.press("standby", "English")
    shows(counter, english, "standby", toggle(counter, "standby"), "English after the tap")
    counter.shot("standby-english")
    since = time.monotonic()
    place_card(counter, "card_placed_to_first_status_english_ms")
    counter.terminal.wait_status("pin", mode="unattended")
    shows(counter, english, "pin", header(counter, "pin"), "the PIN pad in English")
    counter.shot("pin-english")
    type_code(counter, "pin", PIN)
    counter.terminal.wait_status("consent")
    # the gallery's consent page is a staff one (another header colour): the language
    # button is the standby's, in the same place on every unattended screen
    shows(counter, english, "standby", toggle(counter, "standby"), "consent in English")
    answer_consents(counter)
    shows(counter, english, "done", header(counter, "done"), "the end in English")
    counter.shot("done-english")
    results = counter.terminal.lines.wait("the confirmation's result",
                                          lambda: counter.terminal.of_type("result", since=since))
    assert len(results) == 1, results
    take_card_off(counter)
    # the next patient: Japanese again, without anyone pressing 日本語
    shows(counter, japanese, "standby", header(counter, "standby"), "the next standby")
    counter.shot("standby-japanese-again")
