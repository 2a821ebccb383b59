"""A full disk at the first audit line (issue 12, point 6): a real 2 MiB tmpfs as the state
directory, filled with dd before the reader starts (docs/reliability.md, "Faults the reader
survives").

Real parts: the runner's engine and workers, the simulated card's key, the passcode store,
audit log and outbox on the full tmpfs, the host link on a loopback socket with a terminal
that passed the real handshake. The engine must stay alive; a PIN confirmation is refused
before the card signs, with its error code; a staff visual check goes on, its audit lines and
result kept in memory and written once there is room again; nothing stored before is lost.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from myna_reader.daemon.engine import (
    Button,
    ChallengeReceived,
    DigitPressed,
    ErrorView,
    Pressed,
    Screen,
    SessionConfig,
)
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.outbox import Outbox
from myna_reader.daemon.store.passcode import PASSCODE_FILE, PasscodeStore
from myna_reader.drivers.backends.sim import SimReader
from tests.attack.paired_terminal import WAIT_S, Screens, linked_runner
from tests.crash.tmpfs import fill, free_bytes, small_tmpfs

PASSCODE = "2580"
CARD_IO_ERROR = "107"  # what a signature refused for want of its audit line shows
SQLITE_SIDE_FILES = ("-wal", "-shm")  # the outbox's journal: folded in at its close


@pytest.fixture
def full_state(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "state") as state:
        yield state


def _wait(condition: threading.Condition, test: object, what: str) -> None:
    assert callable(test)
    with condition:
        assert condition.wait_for(test, WAIT_S), what


def test_a_full_disk_at_the_first_audit_line(full_state: Path) -> None:
    store = PasscodeStore(full_state)
    store.set(PASSCODE)
    audit = AuditLog(full_state)
    outbox = Outbox.in_state_dir(full_state, audit=audit)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in full_state.iterdir()
              if p.is_file() and not p.name.endswith(SQLITE_SIDE_FILES)}
    fill(full_state)
    assert free_bytes(full_state) < 4096

    reader = SimReader("standard", present=False, supports_extended=False)
    screens = Screens()
    with linked_runner(reader, store, audit, outbox, screens) as (runner, terminal, engine):
        # a PIN confirmation: no room for the signature's audit line, so no signature
        reader.insert()
        screens.wait(Screen.PIN)
        for d in "1234":
            runner.post(DigitPressed(int(d)))
        runner.post(Pressed(Button.OK))
        runner.post(ChallengeReceived(b"c" * 32))
        screens.wait(Screen.ERROR)
        shown = screens.views[-1]
        assert isinstance(shown, ErrorView) and shown.code == CARD_IO_ERROR
        terminal.wait_for(lambda m: m["type"] == "error" and m["code"] == CARD_IO_ERROR,
                          "the refusal at the terminal")
        assert not any(m["type"] == "result" for m in terminal.messages)
        reader.remove()
        runner.post(Pressed(Button.OK))
        screens.wait(Screen.STANDBY)
        assert engine.is_alive()

        # a staff visual check: the passcode is read, not written, so staff entry still works
        runner.post(Pressed(Button.STAFF))
        screens.wait(Screen.STAFF_PASSCODE)
        for d in PASSCODE:
            runner.post(DigitPressed(int(d)))
        runner.post(Pressed(Button.OK))
        screens.wait(Screen.STAFF_STANDBY)
        reader.insert()
        screens.wait(Screen.CONSENT)
        for _ in SessionConfig().consent_pages:
            runner.post(Pressed(Button.AGREE))
        screens.wait(Screen.DONE)
        assert engine.is_alive()
        assert not any(m["type"] == "result" for m in terminal.messages)  # not stored yet

        # room again: the kept audit lines and the result are written, in order, and sent
        (full_state / "filler").unlink()
        reader.remove()
        terminal.wait_for(lambda m: m["type"] == "result" and m["method"] == "visual",
                          "the visual check's result once stored")
        _wait(screens.changed, lambda: any(
            line["event"] == "staff-enter" for line in audit.read()), "the staff-enter line")
        events = [(line["event"], line["outcome"], line["code"]) for line in audit.read()]
        assert ("confirmation", "error", CARD_IO_ERROR) in events
        assert ("staff-enter", "entered", None) in events
        assert not any(event == "signature" for event, _, _ in events)  # never signed
        assert engine.is_alive()
    after = {name: hashlib.sha256((full_state / name).read_bytes()).hexdigest()
             for name in before if (full_state / name).exists()}
    assert after[PASSCODE_FILE] == before[PASSCODE_FILE]  # the passcode is not rewritten
    assert set(before) <= set(after)  # nothing stored before is gone
    reopened = Outbox.in_state_dir(full_state, audit=AuditLog(full_state))
    try:  # the terminal never acked: the visual check's result waits, stored
        assert [item.wire["method"] for item in reopened.pending()] == ["visual"]
    finally:
        reopened.close()
    assert os.access(full_state, os.W_OK)


def test_fill_leaves_no_room(tmp_path: Path) -> None:
    """The bench itself: dd really fills the tmpfs, and a write then fails with ENOSPC."""
    with small_tmpfs(tmp_path / "state") as state:
        fill(state)
        done = subprocess.run(["dd", "if=/dev/zero", f"of={state / 'more'}", "bs=4096",
                               "count=1"], capture_output=True, text=True, check=False)
        assert done.returncode != 0 and "No space left" in done.stderr
