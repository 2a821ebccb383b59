"""A technician's day in the journal: staff entry and exit, a wrong PIN, a time-out after its
countdown, an error, a lockout, the terminal going away and the refusal that follows, each one
structured journal entry with its MYNA_* fields and nothing personal.

Everything is real but journald, which does not run here: the daemon's JournalHandler sends
its native-protocol datagrams to an AF_UNIX socket this test binds (as tests/support/notify.py
does for sd_notify), and the entries are read back the way journald parses them. The runner,
sim reader, passcode store, audit log, TCP host link and reference terminal are the real ones.
The transcript is printed in `journalctl -o json`'s shape (pytest -s shows it).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from myna_reader.daemon.engine import (
    Button,
    DigitPressed,
    ErrorView,
    PinView,
    Pressed,
    Screen,
    SessionConfig,
    StaffLockedView,
    StaffPasscodeView,
    StandbyView,
    Timeouts,
    View,
)
from myna_reader.daemon.link.reader_end import HostLink
from myna_reader.daemon.runtime.logs import JournalHandler, setup_logging
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import PasscodeStore
from myna_reader.drivers.backends.sim import SimReader
from tests.daemon.link.support import HELLO, SECRET, Console, open_outbox, tcp_url, wait_for
from tests.daemon.runtime.test_runner import WAIT_S, Recorder
from tests.daemon.runtime.test_runner_presence import wait_view
from tests.systemd.test_daemon_logs import parse_entry

PIN = "1234"  # the synthetic profile's (hw-fixtures/README.md)
WRONG_PIN = "9999"
DAY = SessionConfig(timeouts=Timeouts(pin_s=4.0, warning_s=2.0))  # a time-out within seconds


class Journal:
    """journald's end: a bound datagram socket, each entry parsed as journald does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.entries: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                continue
            self.entries.append(parse_entry(data))

    def session(self) -> list[dict[str, str]]:
        return [e for e in self.entries if e.get("LOGGER") == "myna_reader.session"]

    def settle(self) -> None:
        """Every entry sent so far, read: the reader thread stopped, then what it had not yet
        taken from the socket read here (a send returns once the datagram is queued, so
        nothing sent before this call is missed, however far behind the thread was)."""
        self._stop.set()
        self._thread.join(timeout=5)
        assert not self._thread.is_alive()
        self.sock.setblocking(False)
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return
            self.entries.append(parse_entry(data))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stderr = tmp_path / "stderr"  # stands in for the journal stream systemd hands over
    with stderr.open("w") as stream:
        info = os.fstat(stream.fileno())
        sink = Journal(Path(f"/tmp/myna-journal-{os.getpid()}.socket"))
        try:
            handler = setup_logging("info", stream=stream,
                                    environ={"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"},
                                    journal_socket=str(sink.path))
            assert isinstance(handler, JournalHandler)
            yield sink
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
            handler.close()
            sink.close()
            sink.path.unlink()
    assert stderr.read_text() == ""  # under systemd everything went to the journal


def press(runner: Runner, *keys: str) -> None:
    for key in keys:
        runner.post(DigitPressed(int(key)) if key.isdigit() else Pressed(Button(key)))


def is_(kind: type, **fields: object) -> Callable[[View], bool]:
    return lambda v: isinstance(v, kind) and all(getattr(v, k) == x for k, x in fields.items())


def test_a_day_at_the_counter_in_the_journal(tmp_path: Path, journal: Journal) -> None:
    reader = SimReader("standard", present=False, supports_extended=False)
    seen = Recorder()
    runner = Runner(config=DAY, open_reader=lambda: reader, store=PasscodeStore(tmp_path),
                    audit=AuditLog(tmp_path), display=seen, link=None)
    link = HostLink("tcp://127.0.0.1:0", open_outbox(tmp_path), runner.post, HELLO,
                    secret=SECRET, issue_passcode=runner.issue_passcode)
    runner.link = link
    link.start()
    engine = threading.Thread(target=runner.run, daemon=True)
    engine.start()
    try:
        with Console(tcp_url(link), issue_passcode=True) as console:
            wait_view(seen, "職員用", is_(StandbyView, staff_button=True, terminal_away=False))
            wait_for(lambda: console.events("passcode-issued"), "the terminal's passcode")
            (issued,) = console.events("passcode-issued")
            code = str(issued["passcode"])
            # 1. staff mode: in with the passcode, out with 中止
            press(runner, "staff", *code, "ok")
            wait_view(seen, "staff standby", lambda v: v.screen is Screen.STAFF_STANDBY)
            press(runner, "cancel")
            wait_view(seen, "standby", is_(StandbyView, staff_button=True))
            # 2. a patient types a wrong PIN, then walks away: the countdown, then the end
            reader.insert()
            wait_view(seen, "the PIN pad", is_(PinView, wrong=False))
            press(runner, *WRONG_PIN, "ok")
            wait_view(seen, "the wrong PIN", is_(PinView, wrong=True))
            wait_view(seen, "the countdown", lambda v: v.countdown is not None)
            wait_view(seen, "standby, saying why", lambda v: isinstance(v, StandbyView)
                      and v.ended is not None)
            reader.remove()
            # 3. an error: the card taken mid-PIN
            reader.insert()
            wait_view(seen, "the PIN pad again", is_(PinView, wrong=False))
            reader.remove()
            wait_view(seen, "106", is_(ErrorView, code="106"))
            press(runner, "ok")
            # 4. somebody plays with 職員用: five wrong passcodes lock it
            wrong = "1357" if code != "1357" else "2468"
            press(runner, "staff")
            for left in (4, 3, 2, 1):
                press(runner, *wrong, "ok")
                wait_view(seen, f"{left} left", is_(StaffPasscodeView, failures_left=left,
                                                    checking=False))
            press(runner, *wrong, "ok")
            wait_view(seen, "the lock", lambda v: isinstance(v, StaffLockedView))
            press(runner, "ok")
        # 5. the terminal goes away; the next patient is refused before any PIN
        wait_view(seen, "standby: terminal away", is_(StandbyView, terminal_away=True))
        reader.insert()
        wait_view(seen, "113", is_(ErrorView, code="113"))
    finally:
        runner.stop()
        engine.join(WAIT_S)
        link.stop()
    assert not engine.is_alive()

    journal.settle()
    entries = journal.session()
    print("\n--- journal transcript (journalctl -o json fields of the session lines) ---")
    for entry in entries:
        shown = {k: v for k, v in entry.items() if k in ("MESSAGE", "PRIORITY",
                 "SYSLOG_IDENTIFIER") or k.startswith("MYNA_")}
        print(json.dumps(shown, ensure_ascii=False, sort_keys=True))
    events = [(e["MYNA_EVENT"], e.get("MYNA_OUTCOME") or e.get("MYNA_SCREEN")
               or e.get("MYNA_TERMINAL") or e.get("MYNA_METHOD") or e.get("MYNA_TRIES_LEFT"))
              for e in entries]
    expected = [
        ("terminal", "away"), ("terminal", "connected"), ("staff-enter", "entered"),
        ("staff-exit", "cancelled"),
        ("method", "pin"), ("pin-wrong", "2"), ("countdown", "pin"), ("timed-out", "pin"),
        ("confirmation", "timeout"), ("method", "pin"), ("confirmation", "error"),
        ("passcode-wrong", "4"), ("passcode-wrong", "3"), ("passcode-wrong", "2"),
        ("passcode-wrong", "1"), ("staff-lockout", "locked"), ("terminal", "away"),
        ("confirmation", "error"),
    ]
    rest = iter(events)  # in this order, other lines (a refused challenge, say) between
    assert all(any(event == wanted for event in rest) for wanted in expected), events
    codes = [e.get("MYNA_CODE") for e in entries if e["MYNA_EVENT"] == "confirmation"]
    assert codes == [None, "106", "113"]
    assert {e["SYSLOG_IDENTIFIER"] for e in entries} == {"myna-reader"}
    priorities = {e["MYNA_EVENT"]: e["PRIORITY"] for e in entries}
    assert priorities["staff-lockout"] == "4" and priorities["method"] == "6"
    # nothing personal and no secret: no PIN, no passcode, no certificate in any field
    for entry in journal.entries:
        for key, value in entry.items():
            if key in ("MYNA_SESSION", "CODE_FILE", "CODE_LINE", "THREAD_NAME"):
                continue
            for secret in (PIN, WRONG_PIN, code):
                assert secret not in value.split(), (key, value)
        assert "MYNA_CERT" not in entry
