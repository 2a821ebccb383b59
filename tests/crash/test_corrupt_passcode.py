"""A corrupt passcode file (issue 12, point 6): the store worker survives, staff entry closes,
PIN confirmations go on, and the log says so once, not at every look.

Real parts: the runner and its workers, the passcode store on disk (its file overwritten with
bytes that are not its JSON), the audit log, the simulated card.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from myna_reader.daemon.engine import (
    Button,
    ChallengeReceived,
    DigitPressed,
    Pressed,
    Screen,
    SessionConfig,
    StandbyView,
)
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import PASSCODE_FILE, PasscodeStore
from myna_reader.drivers.backends.sim import SimReader
from tests.attack.paired_terminal import WAIT_S, Screens


class Recorder:
    """The terminal's side of the runner, recorded (the link has its own suites)."""

    def __init__(self) -> None:
        self.results: list[object] = []

    def send_status(self, message: object) -> None:
        pass

    def submit_result(self, message: object) -> None:
        self.results.append(message)

    def send_error(self, message: object) -> None:
        pass


def test_a_corrupt_passcode_file_closes_staff_entry_and_nothing_else(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    PasscodeStore(tmp_path).set("2580")
    (tmp_path / PASSCODE_FILE).write_bytes(b'{"hash": "\x00\xff not json')
    reader = SimReader("standard", present=False, supports_extended=False)
    screens = Screens()
    link = Recorder()
    runner = Runner(config=SessionConfig(), open_reader=lambda: reader,
                    store=PasscodeStore(tmp_path), audit=AuditLog(tmp_path), display=screens,
                    link=link)
    caplog.set_level(logging.WARNING)
    engine = threading.Thread(target=runner.run, daemon=True)
    engine.start()
    try:
        screens.wait(Screen.STANDBY)
        standby = screens.views[-1]
        assert isinstance(standby, StandbyView) and not standby.staff_button  # entry closed
        runner.post(Pressed(Button.STAFF))  # the hidden button does nothing either
        reader.insert()  # a PIN confirmation still goes through
        screens.wait(Screen.PIN)
        for d in "1234":
            runner.post(DigitPressed(int(d)))
        runner.post(Pressed(Button.OK))
        runner.post(ChallengeReceived(b"c" * 32))
        screens.wait(Screen.CONSENT)
        for _ in SessionConfig().consent_pages:
            runner.post(Pressed(Button.AGREE))
        screens.wait(Screen.DONE)
        assert len(link.results) == 1
        assert engine.is_alive()
    finally:
        runner.stop()
        engine.join(WAIT_S)
    assert not engine.is_alive()
    about = [r for r in caplog.records if "passcode" in r.getMessage().lower()
             and r.levelno >= logging.ERROR]
    assert len(about) == 1, [r.getMessage() for r in about]
    assert "Traceback" not in caplog.text
