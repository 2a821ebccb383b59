"""The runner's wiring: threads, queue, engine, card jobs, passcode store, audit, link.

The reader is the real sim backend and the store and audit log are the real ones on a temp
dir. The display and the terminal link are recorders here: these tests are about what the
runner hands them (the real touchscreen and link have their own suites, and the end-to-end
test runs them all together).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from myna_reader.daemon.engine import (
    Button,
    ChallengeReceived,
    Cue,
    DigitPressed,
    ErrorMessage,
    Pressed,
    ResultMessage,
    Screen,
    SessionConfig,
    StatusMessage,
    View,
)
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import PasscodeStore
from myna_reader.drivers.backends.sim import SimReader

WAIT_S = 10.0  # a bound that turns a hang into a failure, not a speed target


class Recorder:
    def __init__(self) -> None:
        self.views: list[View] = []
        self.cues: list[Cue] = []
        self.results: list[ResultMessage] = []
        self.statuses: list[StatusMessage] = []
        self.errors: list[ErrorMessage] = []
        self.changed = threading.Condition()

    def _note(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def post_view(self, view: View) -> None:
        self.views.append(view)
        self._note()

    def post_cue(self, cue: Cue) -> None:
        self.cues.append(cue)

    def send_status(self, message: StatusMessage) -> None:
        self.statuses.append(message)

    def submit_result(self, message: ResultMessage) -> None:
        self.results.append(message)
        self._note()

    def send_error(self, message: ErrorMessage) -> None:
        self.errors.append(message)

    def wait_screen(self, screen: Screen) -> None:
        deadline = time.monotonic() + WAIT_S
        with self.changed:
            while not (self.views and self.views[-1].screen is screen):
                left = deadline - time.monotonic()
                assert left > 0, f"screen {screen} not reached; last {self.views[-1:]}"
                self.changed.wait(left)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Runner, SimReader, Recorder]]:
    reader = SimReader("standard", present=False, supports_extended=False)
    store = PasscodeStore(tmp_path)
    store.set("2580")
    seen = Recorder()
    runner = Runner(config=SessionConfig(), open_reader=lambda: reader, store=store,
                    audit=AuditLog(tmp_path), display=seen, link=seen)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    seen.wait_screen(Screen.STANDBY)
    yield runner, reader, seen
    runner.stop()
    thread.join(WAIT_S)
    assert not thread.is_alive()


def _press_all(runner: Runner, *events: object) -> None:
    for event in events:
        runner.post(event)  # type: ignore[arg-type]


def test_a_staff_confirmation_end_to_end(rig: tuple[Runner, SimReader, Recorder]) -> None:
    runner, reader, seen = rig
    _press_all(runner, Pressed(Button.STAFF), *[DigitPressed(int(d)) for d in "2580"],
               Pressed(Button.OK))
    seen.wait_screen(Screen.STAFF_STANDBY)
    reader.insert()
    seen.wait_screen(Screen.CONSENT)
    for _ in range(len(SessionConfig().consent_pages)):
        runner.post(Pressed(Button.AGREE))
    seen.wait_screen(Screen.DONE)
    [result] = seen.results
    assert result.method.value == "visual"
    assert result.signature is None
    assert reader.card is not None and not reader.card.powered  # released before consent
    reader.remove()
    seen.wait_screen(Screen.STANDBY)
    assert runner.results_sent == 1


def test_a_pin_confirmation_signs_the_terminals_challenge(
        rig: tuple[Runner, SimReader, Recorder]) -> None:
    from myna_reader.drivers.certificate import parse_certificate

    runner, reader, seen = rig
    reader.insert()
    seen.wait_screen(Screen.PIN)
    _press_all(runner, *[DigitPressed(int(d)) for d in "1234"], Pressed(Button.OK))
    runner.post(ChallengeReceived(b"terminal says hello"))  # to the session that waits
    seen.wait_screen(Screen.CONSENT)
    for _ in range(len(SessionConfig().consent_pages)):
        runner.post(Pressed(Button.AGREE))
    seen.wait_screen(Screen.DONE)
    [result] = seen.results
    assert result.signature is not None
    assert parse_certificate(result.certificate).verifies(b"terminal says hello",
                                                          result.signature)


def test_card_pulled_mid_session_sends_nothing(rig: tuple[Runner, SimReader, Recorder]) -> None:
    runner, reader, seen = rig
    runner.post(ChallengeReceived(b"c"))
    reader.insert()
    seen.wait_screen(Screen.PIN)
    reader.remove()
    seen.wait_screen(Screen.ERROR)
    assert seen.results == []
    assert [e.code for e in seen.errors]
