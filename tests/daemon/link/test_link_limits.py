"""The challenge's rate limit from both ends, over real sockets with the real handshake: the
reader never refuses the one challenge a card session asks for, however quickly sessions
follow each other; a refusal names its wait; the reference terminal sends a refused challenge
again after that wait, a bounded number of times."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from myna_reader.daemon.engine import ChallengeReceived, Mode, Screen, StatusMessage
from myna_reader.daemon.link.channel import SealedStream, reader_handshake
from myna_reader.daemon.link.limits import WarningThrottle
from myna_reader.daemon.link.protocol import LineSplitter, encode, outgoing
from myna_reader.daemon.link.terminal import CHALLENGE_RETRIES
from myna_reader.daemon.link.transport import SocketStream
from tests.daemon.link.support import (
    SECRET,
    WAIT_S,
    Console,
    Events,
    SealedClient,
    open_outbox,
    running_link,
    wait_for,
)

CHALLENGE = base64.b64encode(bytes(32)).decode("ascii")


def wants(session: str) -> StatusMessage:
    return StatusMessage(Mode.UNATTENDED, Screen.PIN, "r", True, None, session_id=session,
                         challenge_wanted=True)


def challenge(message_id: str, session: str) -> dict[str, object]:
    return {"type": "challenge", "id": message_id, "v": 1, "session": session,
            "challenge": CHALLENGE}


def test_the_challenge_a_session_asks_for_is_never_rate_limited(tmp_path: Path) -> None:
    events = Events()
    with running_link("tcp://127.0.0.1:0", open_outbox(tmp_path), events) as link, \
            SealedClient(link) as client:
        client.read_lines(1)  # hello
        sessions = [f"s-{n}" for n in range(12)]  # far faster than the 1/s of other commands
        for count, session in enumerate(sessions, 1):  # as the engine does: the next session
            link.send_status(wants(session))  # asks once the last one took its challenge
            client.send_messages(challenge(f"c-{session}", session))
            wait_for(lambda: len(events.of(ChallengeReceived)) == count,  # noqa: B023
                     f"the challenge of {session}")
        assert [e.session_id for e in events.of(ChallengeReceived)] == sessions
        # anything beyond the one asked for is charged: a flood meets the limit, told its wait
        client.send_messages(*(challenge(f"x-{n}", "s-11") for n in range(5)))
        refusal = wait_line(client, lambda m: m["type"] == "error")
    assert (refusal["fault"], refusal["ref"]) == ("rate-limited", "x-3")  # a burst of 3 passed
    assert 0 < refusal["retry_after_s"] <= 1.0


def wait_line(client: SealedClient, ok: Any) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        line = client.read_lines(1)[0]
        if ok(line):
            return line
    raise AssertionError("gave up waiting for the line")


class LimitingReader:
    """A hand-driven reader's end: the real listener socket and handshake, then v1 lines
    written by the test, so it can refuse the terminal's challenge for its rate."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stream: SealedStream | None = None
        self._splitter = LineSplitter()
        self._ids = 0

    def accept(self) -> None:
        self.listener.settimeout(WAIT_S)
        sock, peer = self.listener.accept()
        self.stream = reader_handshake(SocketStream(sock, f"{peer[0]}:{peer[1]}"), SECRET,
                                       time.monotonic() + WAIT_S, time.monotonic)

    def send(self, payload: dict[str, object]) -> None:
        assert self.stream is not None
        self._ids += 1
        self.stream.write(encode(outgoing(payload, f"r-{self._ids}")))

    def read(self, timeout: float = WAIT_S) -> dict[str, Any] | None:
        assert self.stream is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self._splitter.feed(self.stream.read() or b""):
                assert isinstance(item, bytes)
                return dict(json.loads(item))
        return None

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.listener.close()


@contextlib.contextmanager
def limiting_reader() -> Iterator[LimitingReader]:
    reader = LimitingReader()
    try:
        yield reader
    finally:
        reader.close()


def rate_limited(ref: str, after_s: float) -> dict[str, object]:
    return {"type": "error", "code": "protocol", "fault": "rate-limited", "detail": "slow down",
            "ref": ref, "retry_after_s": after_s}


def test_the_terminal_sends_a_rate_limited_challenge_again_after_the_wait() -> None:
    with limiting_reader() as reader, Console(f"tcp://127.0.0.1:{reader.port}") as console:
        reader.accept()
        reader.send({"type": "status", **wants("s-1").to_wire()})
        first = reader.read()
        assert first is not None and (first["type"], first["session"]) == ("challenge", "s-1")
        sent = time.monotonic()
        reader.send(rate_limited(first["id"], 0.3))
        again = reader.read()
        assert again is not None and (again["type"], again["session"]) == ("challenge", "s-1")
        assert time.monotonic() - sent >= 0.3  # not before the wait the reader named
        assert again["challenge"] == first["challenge"] and again["id"] != first["id"]
        wait_for(lambda: console.events("challenge-retry"), "the console's retry event")
        # bounded: refused every time, it gives up after CHALLENGE_RETRIES retries
        last = again
        for _ in range(CHALLENGE_RETRIES - 1):
            reader.send(rate_limited(last["id"], 0.05))
            retry = reader.read()
            assert retry is not None and retry["type"] == "challenge"
            last = retry
        reader.send(rate_limited(last["id"], 0.05))
        wait_for(lambda: console.events("challenge-given-up"), "the console giving up")
        assert reader.read(timeout=0.5) is None  # nothing more is sent
        assert len(console.events("challenge-retry")) == CHALLENGE_RETRIES


def test_the_terminal_does_not_retry_a_challenge_its_session_no_longer_wants() -> None:
    with limiting_reader() as reader, Console(f"tcp://127.0.0.1:{reader.port}"):
        reader.accept()
        reader.send({"type": "status", **wants("s-1").to_wire()})
        first = reader.read()
        assert first is not None and first["type"] == "challenge"
        reader.send(rate_limited(first["id"], 0.2))
        over = StatusMessage(Mode.UNATTENDED, Screen.STANDBY, "r", True, None)
        reader.send({"type": "status", **over.to_wire()})  # the patient left meanwhile
        assert reader.read(timeout=0.6) is None


def test_a_flood_of_bad_lines_logs_five_lines_then_a_count(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="myna_reader.daemon.link.reader_end")
    clock = [0.0]
    with running_link("tcp://127.0.0.1:0", open_outbox(tmp_path)) as link, \
            SealedClient(link) as client:
        link.warnings = WarningThrottle(link.warnings.logger, clock=lambda: clock[0])
        client.read_lines(1)  # hello
        client.send(*(b"not json %d" % n for n in range(40)))
        wait_for(lambda: link.warnings.suppressed == 35, "the flood counted")
        clock[0] = 61.0  # the window closes: the housekeeping's next flush says how many
        wait_for(lambda: any("35 more" in r.getMessage() for r in caplog.records),
                 "the count line")
    refused = [r for r in caplog.records if "refused a line" in r.getMessage()]
    assert len(refused) == 5
