"""The technician screen under attack through the real UI path (issue 12, item 4).

A patient holds the title for the technician gesture (FINGERDOWN, the hold, FINGERUP on the
title's own rect) and taps whatever the screen offers: the real app, runner, engine and
PasscodeStore (real scrypt) answer. Without the technician code no voice or volume button is
ever drawn and nothing changes; wrong codes lock the pad. The technician sets the code with
`myna-reader technician set` (stdin), the running reader offers the pad at once, the right
code opens the screen, and voice off is kept in the state directory and audited.
"""

from __future__ import annotations

import io
import json
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pygame
import pytest

from myna_reader.daemon.cli import main
from myna_reader.daemon.engine import (
    Button,
    Credential,
    Event,
    Screen,
    SessionConfig,
    Sound,
    View,
)
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import Clocks, PasscodeStore
from myna_reader.daemon.store.sound import SOUND_FILE, SoundStore
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.ui.app import App
from myna_reader.ui.screens import TECHNICIAN_HOLD_S
from myna_reader.ui.settings import UiSettings
from tests.attack.test_passcode_attack import FakeClock, Touchscreen

TECHNICIAN_CODE = "3692"
SETTINGS = {Button.VOICE.value, Button.VOLUME_DOWN.value, Button.VOLUME_UP.value}


class Patient(Touchscreen):
    def hold_title(self) -> None:
        """The hidden gesture, as a finger makes it: down on the title, held, up."""
        frame = self.app.frame
        assert frame is not None
        title = next(e for e in frame.elements if e.id == Button.TECHNICIAN.value)
        x, y, w, h = title.rect
        at: dict[str, Any] = {"x": (x + w / 2) / self.app.layout.width,
              "y": (y + h / 2) / self.app.layout.height}
        pygame.event.post(pygame.event.Event(pygame.FINGERDOWN, **at, dx=0.0, dy=0.0,
                                             finger_id=0, touch_id=1, pressure=1.0))
        self.app.step()
        held_until = time.monotonic() + TECHNICIAN_HOLD_S + 0.1
        while time.monotonic() < held_until:  # the gesture's own length, not a wait
            self.app.step()
        pygame.event.post(pygame.event.Event(pygame.FINGERUP, **at, dx=0.0, dy=0.0,
                                             finger_id=0, touch_id=1, pressure=1.0))
        self.app.step()

    def offered(self) -> set[str]:
        assert self.app.frame is not None
        return {e.id for e in self.app.frame.elements}


Rig = tuple[Patient, PasscodeStore, AuditLog, Path, Runner]


@pytest.fixture
def counter(tmp_path: Path) -> Iterator[Rig]:
    clock = FakeClock()
    clocks = Clocks(wall=clock.wall, boottime=clock.monotonic, boot_id=lambda: "boot-1")
    technician = PasscodeStore(tmp_path, clocks=clocks, credential=Credential.TECHNICIAN)
    audit = AuditLog(tmp_path, clock=clock.wall)
    events: queue.Queue[Event] = queue.Queue()
    app = App(UiSettings(voice=True), events.put)
    app.voice.say = lambda keys, lang=None: None  # type: ignore[method-assign]  # no sound here
    runner = Runner(config=SessionConfig(), open_reader=lambda: SimReader(present=False),
                    store=PasscodeStore(tmp_path, clocks=clocks), audit=audit, display=app,
                    link=None, events=events, clock=clock.monotonic, wall=clock.wall,
                    technician=technician, sound=SoundStore(tmp_path, Sound(True, 80)))
    engine = threading.Thread(target=runner.run, name="engine", daemon=True)
    engine.start()
    patient = Patient(app)
    patient.screen(Screen.STANDBY)
    try:
        yield patient, technician, audit, tmp_path, runner
    finally:
        runner.stop()
        engine.join(timeout=10)
        pygame.display.quit()


def test_a_patient_cannot_reach_the_voice_toggle_without_the_code(counter: Rig) -> None:
    patient, technician, audit, state_dir, runner = counter
    technician.set(TECHNICIAN_CODE)
    deadline = time.monotonic() + 5
    while not (runner.state is not None and runner.state.technician_provisioned):
        assert time.monotonic() < deadline, "the running reader did not see the new code"
        patient.app.step()
    seen: list[View] = []
    guesses = (f"{n:04d}" for n in range(10_000))
    for _ in range(2):  # hold, five wrong codes, the lock; hold again: still the lock
        patient.screen(Screen.STANDBY)
        patient.hold_title()
        view = patient.until("the pad or its lock", lambda v: v.screen in (
            Screen.TECHNICIAN_CODE, Screen.TECHNICIAN_LOCKED))
        while view.screen is Screen.TECHNICIAN_CODE:
            assert not SETTINGS & patient.offered()
            view = patient.enter_code(next(guesses))
            seen.append(view)
        assert view.screen is Screen.TECHNICIAN_LOCKED
        assert not SETTINGS & patient.offered()
        patient.tap("ok")
    assert len(seen) == 5 and all(v.screen is not Screen.TECHNICIAN for v in seen)
    assert not (state_dir / SOUND_FILE).exists()
    assert patient.app.voice.enabled and patient.app.volume == 80
    events = [line["event"] for line in audit.read()]
    assert events == ["technician-lockout"]


def test_a_fresh_reader_says_how_then_the_code_opens_the_settings(
        counter: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    patient, _, audit, state_dir, _ = counter
    patient.hold_title()
    patient.screen(Screen.TECHNICIAN_UNSET)
    assert patient.offered() & ({"ok"} | SETTINGS) == {"ok"}
    monkeypatch.setattr("sys.stdin", io.StringIO(TECHNICIAN_CODE + "\n"))
    assert main(["technician", "set", "--state-dir", str(state_dir)]) == 0
    patient.screen(Screen.TECHNICIAN_CODE)  # the running reader saw the new code
    assert patient.enter_code(TECHNICIAN_CODE).screen is Screen.TECHNICIAN
    patient.tap(Button.VOICE.value)
    patient.until("voice off", lambda v: not v.sound.voice)
    assert not patient.app.voice.enabled
    assert json.loads((state_dir / SOUND_FILE).read_text()) == {"voice": False, "volume": 80}
    kept = [(line["event"], line["outcome"]) for line in audit.read()]
    assert kept == [("technician-enter", "entered"), ("technician-setting", "voice-off")]
