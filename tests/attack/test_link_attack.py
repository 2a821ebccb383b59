"""The host link under attack by a local process of another user (issue 12, first bullets).

Real processes and real sockets: the reader's end of the link runs in its own process
(tests/attack/link_reader.py: the real HostLink, outbox and passcode store), the attacker's
scripts (tests/attack/rogue_link.py) run as a real second user, and the real terminal's code
pairs with the secret it is given. Before the link authenticated, a rogue local process was
the terminal: it got the results, acked them away, issued a passcode and pushed a challenge;
and a few connections dribbling newlines held every pairing slot of a token listener.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from myna_reader.daemon.link.channel import (
    STATE_SECRET_FILE,
    read_secret_file,
    terminal_handshake,
)
from myna_reader.daemon.link.reader_end import MAX_UNPAIRED_PER_PEER, PAIR_TIMEOUT_S
from myna_reader.daemon.link.terminal import Terminal
from myna_reader.daemon.link.transport import TcpEndpoint, connect_tcp
from myna_reader.daemon.store.outbox import Outbox
from myna_reader.daemon.store.passcode import PasscodeStore
from tests.attack.second_user import Rogue, world_readable_copy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WAIT_S = 30.0  # a bound that turns a hang into a failure, not a speed target
STARVE_S = 12.0
# a terminal reconnects every RECONNECT_S; one a second stays within a peer's connect rate
TERMINAL_CADENCE_S = 1.0


class ReaderProcess:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.proc = subprocess.Popen([sys.executable, str(HERE / "link_reader.py"), str(state)],
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                     env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                         [str(ROOT), os.environ.get("PYTHONPATH", "")])})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the reader process did not start"
        self.port = int(json.loads(line)["port"])

    def stop(self) -> dict[str, Any]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=WAIT_S)
        return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[ReaderProcess]:
    process = ReaderProcess(tmp_path / "state")
    try:
        yield process
    finally:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


def _secret(state: Path) -> Any:
    return read_secret_file(state / STATE_SECRET_FILE)


def _pair_once(port: int, state: Path) -> list[str]:
    """The real terminal's handshake, then the first lines of its session."""
    raw = connect_tcp(TcpEndpoint("127.0.0.1", port), timeout=WAIT_S)
    try:
        stream = terminal_handshake(raw, _secret(state), time.monotonic() + WAIT_S,
                                    time.monotonic)
        data = b""
        deadline = time.monotonic() + WAIT_S
        while data.count(b"\n") < 1 and time.monotonic() < deadline:
            data += stream.read() or b""
        return [json.loads(x)["type"] for x in data.splitlines()]
    finally:
        raw.close()


def test_a_rogue_local_process_is_not_the_terminal(rogue: Rogue, reader: ReaderProcess,
                                                    tmp_path: Path) -> None:
    script = world_readable_copy(str(HERE / "rogue_link.py"))
    done = rogue.run(script, "terminal", "127.0.0.1", str(reader.port), str(reader.state),
                     str(reader.proc.pid))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    kinds = {m.get("type") for m in found["seen"]}
    assert kinds <= {"auth.hello", "error"}, kinds  # no hello, status, result or ack
    assert {m.get("fault") for m in found["seen"] if m.get("type") == "error"} <= {
        "not-paired", "pairing-failed", "bad-field"}
    files = found["files"]
    assert files[str(reader.state / STATE_SECRET_FILE)] == "error 13"  # EACCES
    assert files[f"/proc/{reader.proc.pid}/environ"] == "error 13"
    secret = _secret(reader.state).value
    assert secret not in base64.b64decode(files[f"/proc/{reader.proc.pid}/cmdline"])
    # nothing the rogue sent took effect
    assert not PasscodeStore(reader.state).status().provisioned
    # the engine heard only the reader's own "no terminal yet" at start: no challenge, no pairing
    events = [json.loads(line)["event"]
              for line in (reader.state / "events.jsonl").read_text().splitlines()]
    assert events == ["TerminalLink"]
    outbox = Outbox.in_state_dir(reader.state)
    assert [p.id for p in outbox.pending()] == ["s-1", "s-2"]
    # the real terminal, which holds the secret, gets both results and acks them away
    taken: list[str] = []
    stop = threading.Event()
    terminal = Terminal(TcpEndpoint("127.0.0.1", reader.port),
                        lambda m: taken.append(str(m["id"])) if m.get("type") == "result"
                        else None, secret=_secret(reader.state))
    thread = threading.Thread(target=terminal.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while len(outbox) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(WAIT_S)
    assert sorted(taken) == ["s-1", "s-2"]
    assert len(outbox) == 0
    outbox.close()
    print(f"rogue terminal: {len(found['seen'])} lines received, of kinds {sorted(kinds)}")


def test_unpaired_connections_cannot_starve_the_paired_terminal(
        rogue: Rogue, reader: ReaderProcess, tmp_path: Path) -> None:
    script = world_readable_copy(str(HERE / "rogue_link.py"))
    attacker = rogue.popen(script, "starve", "127.0.0.1", str(reader.port), str(STARVE_S))
    pairings = 0
    try:
        time.sleep(1.0)  # let the flood build up first (not a wait for an event: a head start)
        while attacker.poll() is None:
            assert _pair_once(reader.port, reader.state)[:1] == ["hello"]
            pairings += 1
            time.sleep(TERMINAL_CADENCE_S)
    finally:
        out, err = attacker.communicate(timeout=WAIT_S + STARVE_S)
    figures = reader.stop()
    flood = json.loads(out)
    print(f"pairing starvation: the rogue tried {flood['tried']} connections, held at most "
          f"{flood['most_open']} open at once and none longer than {flood['longest_held_s']} s; "
          f"the reader held at most {figures['most_unpaired']} unpaired at once and dropped "
          f"{figures['refused']}; the terminal paired {pairings} times meanwhile")
    assert attacker.returncode == 0, err
    assert pairings >= 3
    assert flood["tried"] > 10 * MAX_UNPAIRED_PER_PEER
    # the deadline holds whatever the rogue sends (newlines every 50 ms); slack for scheduling
    assert flood["longest_held_s"] <= PAIR_TIMEOUT_S + 2.0
    # the rogue is one peer (one uid on loopback), the terminal another: a handshake of the
    # terminal's own never waits behind more than the rogue's share
    assert figures["most_unpaired"] <= MAX_UNPAIRED_PER_PEER + 2
