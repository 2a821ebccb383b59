"""The runner with what surrounds it (issue 14): the real host link telling the engine when a
terminal is there, no PIN asked while it is away, standby back by itself when it returns;
`myna-reader passcode set` / `clear` in another process acting on the running reader at once.

Real parts: the sim reader, the passcode store and audit log on a temp dir, the TCP host link
with its handshake, the reference terminal (tests/daemon/link/support.Console), the CLI in a child
process. The display is a recorder (the touchscreen has its own suites)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from myna_reader.daemon.engine import (
    Button,
    DigitPressed,
    ErrorView,
    Pressed,
    Screen,
    SessionConfig,
    StaffLockedView,
    StaffPasscodeView,
    StandbyView,
    TerminalLink,
    View,
)
from myna_reader.daemon.link.reader_end import HostLink
from myna_reader.daemon.runtime.control import ControlServer, query
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import PasscodeStore
from myna_reader.drivers.backends.sim import SimReader
from tests.daemon.link.support import (
    HELLO,
    SECRET,
    Console,
    Events,
    open_outbox,
    running_link,
    tcp_url,
)
from tests.daemon.runtime.test_runner import WAIT_S, Recorder


def wait_view(seen: Recorder, what: str, ok: Callable[[View], bool]) -> View:
    with seen.changed:
        if not seen.changed.wait_for(lambda: bool(seen.views) and ok(seen.views[-1]), WAIT_S):
            raise AssertionError(f"gave up waiting for {what}; last {seen.views[-1:]}")
        return seen.views[-1]


@dataclass
class Rig:
    runner: Runner
    reader: SimReader
    seen: Recorder
    link: HostLink
    state: Path


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    reader = SimReader("standard", present=False, supports_extended=False)
    seen = Recorder()
    store = PasscodeStore(tmp_path)
    runner = Runner(config=SessionConfig(), open_reader=lambda: reader, store=store,
                    audit=AuditLog(tmp_path), display=seen, link=None)
    link = HostLink("tcp://127.0.0.1:0", open_outbox(tmp_path), runner.post, HELLO,
                    secret=SECRET, issue_passcode=runner.issue_passcode)
    runner.link = link
    link.start()  # as serve() does: the link first, then the engine
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        yield Rig(runner, reader, seen, link, tmp_path)
    finally:
        runner.stop()
        thread.join(WAIT_S)
        link.stop()
    assert not thread.is_alive()


def test_the_link_tells_when_a_terminal_comes_and_goes(tmp_path: Path) -> None:
    events = Events()
    with running_link("tcp://127.0.0.1:0", open_outbox(tmp_path), events) as link:
        with Console(tcp_url(link)):
            assert link.wait_connected(WAIT_S)
        for _ in range(int(WAIT_S * 100)):
            if len(events.of(TerminalLink)) == 3:
                break
            threading.Event().wait(0.01)
    assert events.of(TerminalLink) == [TerminalLink(False), TerminalLink(True),
                                       TerminalLink(False)]


def test_no_pin_without_a_terminal_and_standby_returns_by_itself(rig: Rig) -> None:
    away = wait_view(rig.seen, "standby saying the terminal is away",
                     lambda v: isinstance(v, StandbyView) and v.terminal_away)
    assert away.screen is Screen.STANDBY
    rig.reader.insert()
    error = wait_view(rig.seen, "the refusal", lambda v: isinstance(v, ErrorView))
    assert isinstance(error, ErrorView) and error.code == "113"
    assert not any(v.screen is Screen.PIN for v in rig.seen.views)  # no PIN was asked
    assert rig.reader.card is not None and not rig.reader.card.powered  # never even powered
    with Console(tcp_url(rig.link)):
        back = wait_view(rig.seen, "standby, by itself",
                         lambda v: isinstance(v, StandbyView) and not v.terminal_away)
        assert isinstance(back, StandbyView) and back.remove_card  # the refused card lies there
        rig.reader.remove()
        rig.reader.insert()
        wait_view(rig.seen, "the PIN pad, now", lambda v: v.screen is Screen.PIN)
    wait_view(rig.seen, "113 once the terminal went mid-PIN",
              lambda v: isinstance(v, ErrorView) and v.code == "113")
    assert rig.reader.card is not None and not rig.reader.card.powered  # unpowered again
    # what `myna-reader status` hears from this daemon, over the real control socket
    control = ControlServer(Path(f"/tmp/myna-status-{os.getpid()}.sock"), rig.runner.status)
    control.start()
    try:
        status = query(control.path)
    finally:
        control.stop()
    assert (status["screen"], status["mode"], status["language"]) == ("error", "unattended",
                                                                      "ja")
    assert status["terminal"] == {"connected": False, "since": pytest.approx(time.time(), abs=60)}
    errors = status["last_errors"]
    assert isinstance(errors, list) and [e["code"] for e in errors] == ["113", "113"]
    assert status["staff"] == {"provisioned": False, "locked_until": None}


def tries_left(count: int) -> Callable[[View], bool]:
    def answered(v: View) -> bool:
        return isinstance(v, StaffPasscodeView) and v.failures_left == count and not v.checking
    return answered


def _cli(state: Path, *args: str, stdin: str = "") -> None:
    subprocess.run([sys.executable, "-m", "myna_reader.daemon.cli", "passcode", *args,
                    "--state-dir", str(state)], input=stdin, text=True, check=True,
                   capture_output=True, timeout=60)


def test_passcode_set_and_clear_in_another_process_act_at_once(rig: Rig) -> None:
    wait_view(rig.seen, "standby without 職員用",
              lambda v: isinstance(v, StandbyView) and not v.staff_button)
    _cli(rig.state, "set", stdin="2580\n")
    wait_view(rig.seen, "職員用 on the running reader",
              lambda v: isinstance(v, StandbyView) and v.staff_button)
    rig.runner.post(Pressed(Button.STAFF))  # a patient playing with 職員用: five guesses
    wait_view(rig.seen, "the pad", lambda v: v.screen is Screen.STAFF_PASSCODE)
    for left in (4, 3, 2, 1, 0):
        for digit in "1357":
            rig.runner.post(DigitPressed(int(digit)))
        rig.runner.post(Pressed(Button.OK))
        if left:
            wait_view(rig.seen, f"{left} tries left", tries_left(left))
    locked = wait_view(rig.seen, "the lock", lambda v: isinstance(v, StaffLockedView))
    assert isinstance(locked, StaffLockedView) and locked.locked_until_wall is not None
    _cli(rig.state, "set", stdin="2468\n")  # the technician re-issues on the device
    wait_view(rig.seen, "the lock lifted, standby",
              lambda v: isinstance(v, StandbyView) and v.staff_button)
    rig.runner.post(Pressed(Button.STAFF))
    wait_view(rig.seen, "the pad, not the lock", lambda v: v.screen is Screen.STAFF_PASSCODE)
    rig.runner.post(Pressed(Button.CANCEL))
    _cli(rig.state, "clear")
    wait_view(rig.seen, "職員用 gone", lambda v: isinstance(v, StandbyView)
              and not v.staff_button)
