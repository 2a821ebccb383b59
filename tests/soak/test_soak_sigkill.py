"""Issue 5's crash fault: the daemon SIGKILLed at random points and restarted over the same
state directory. The soak driver (`myna-reader bench soak --link URL --state-dir DIR`) runs in a
child process with the whole daemon; this test holds the terminal (the real reference
terminal code) across the kills. After every kill the outbox, the passcode store and the
audit log are valid; at the end every confirmation the children audited as confirmed reached
the terminal exactly once, and the outbox is empty.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from myna_reader.daemon.harness.soak import Tally
from myna_reader.daemon.link.channel import STATE_SECRET_FILE, read_secret_file
from myna_reader.daemon.link.terminal import Terminal
from myna_reader.daemon.link.transport import TcpEndpoint
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.outbox import OUTBOX_FILE, Outbox
from myna_reader.daemon.store.passcode import PasscodeStore
from tests.support.ports import free_port

KILLS = 5
FINAL_SESSIONS = 40
WAIT_S = 60.0  # a bound that turns a hang into a failure, not a speed target
# the card- and person-side faults; link cuts are the kills themselves here
FAULTS = "pull,garbled,wrong-code,cancel,detach"


def _wait(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


class Hellos:
    """The terminal's output: the tally of results, and how many hellos it heard."""

    def __init__(self) -> None:
        self.tally = Tally()
        self.count = 0

    def __call__(self, message: Mapping[str, Any]) -> None:
        self.tally(message)
        if message.get("type") == "hello":
            self.count += 1


def _child(state: Path, port: int, sessions: int, seed: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "myna_reader.daemon.cli", "bench", "soak", "--sessions",
               str(sessions), "--seed", str(seed), "--faults", FAULTS, "--state-dir",
               str(state), "--link", f"tcp://127.0.0.1:{port}", "--json"]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    with open(log, "ab") as err:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=err)


def _check_state_files(state: Path) -> None:
    """What a restart will open: each file valid, whatever instant the kill hit."""
    with sqlite3.connect(state / OUTBOX_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    Outbox.in_state_dir(state).close()
    PasscodeStore(state).status()  # raises PasscodeStoreError on a torn or invalid file
    for line in AuditLog(state).read():  # a torn last line is cut; every other parses
        assert line["event"]


def _kill_at_random(child: subprocess.Popen[bytes], seen: Hellos, after_s: float) -> None:
    """SIGKILL `child` `after_s` into its confirmations (once it has delivered one)."""
    hellos, taken = seen.count, len(seen.tally.taken)
    try:
        _wait(lambda: seen.count > hellos, "the child's hello")
        _wait(lambda: len(seen.tally.taken) > taken, "a result from the child")
        time.sleep(after_s)  # somewhere in a confirmation
        assert child.poll() is None, "the child ended before it was killed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(WAIT_S)


def test_sigkill_at_random_points_loses_and_repeats_nothing(tmp_path: Path) -> None:
    rng = random.Random(11)
    state = tmp_path / "state"
    port = free_port()
    seen = Hellos()
    stop = threading.Event()
    # the children make the secret in the state dir at their first start (a loopback listener
    # with none configured); the terminal reads it at each connection, as `host
    # --link-secret-file` does
    terminal = Terminal(TcpEndpoint("127.0.0.1", port), seen,
                        secret=lambda: read_secret_file(state / STATE_SECRET_FILE))
    thread = threading.Thread(target=terminal.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for kill in range(KILLS):
            _kill_at_random(_child(state, port, 10_000, kill, tmp_path / "child.log"), seen,
                            rng.uniform(0.0, 1.5))
            _check_state_files(state)
        child = _child(state, port, FINAL_SESSIONS, KILLS, tmp_path / "child.log")
        out, _ = child.communicate(timeout=WAIT_S * 3)
        assert child.returncode == 0, (tmp_path / "child.log").read_text()[-2000:]
        report = json.loads(out.decode().strip().splitlines()[-1])
    finally:
        stop.set()
        thread.join(WAIT_S)
    _check_state_files(state)
    assert report["stuck"] == 0
    assert report["undelivered_at_exit"] == 0
    outbox = Outbox.in_state_dir(state)
    assert len(outbox) == 0
    outbox.close()
    confirmed = {str(line["session"]) for line in AuditLog(state).read()
                 if line["event"] == "confirmation" and line["outcome"] == "confirmed"}
    taken = seen.tally.taken
    print(f"kills {KILLS}; confirmed {len(confirmed)}; taken {len(taken)}; "
          f"repeats dropped by id {seen.tally.repeats}; "
          f"taken without an audit line (killed between) {len(taken.keys() - confirmed)}")
    assert confirmed, "no confirmation completed"
    assert not confirmed - taken.keys(), "confirmations lost"
    assert all(taken[i] == 1 for i in confirmed), "a confirmation taken twice"
    # the result goes to the outbox before its audit line: a kill in between may leave a
    # delivered result without its line (at most one per kill), never the other way round
    assert len(taken.keys() - confirmed) <= KILLS
