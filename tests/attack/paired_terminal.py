"""A terminal that passed the real handshake, a display that records the runner's views, and
the real runner and link wired to both: shared by the attack and fault tests."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from myna_reader.daemon.engine import Cue, Screen, SessionConfig, View
from myna_reader.daemon.link.channel import LinkSecret, terminal_handshake
from myna_reader.daemon.link.protocol import LineSplitter, decode_frame, encode, outgoing
from myna_reader.daemon.link.reader_end import HostLink
from myna_reader.daemon.link.transport import ByteStream, TcpEndpoint, connect_tcp
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.outbox import Outbox
from myna_reader.daemon.store.passcode import PasscodeStore
from myna_reader.drivers.backends.sim import SimReader

WAIT_S = 15.0  # a bound that turns a hang into a failure, not a speed target
SECRET = LinkSecret.from_text("challenge-attack-secret-0123456789", "test")


class Screens:
    """The display: the views the runner shows, waited on by screen."""

    def __init__(self) -> None:
        self.views: list[View] = []
        self.changed = threading.Condition()

    def post_view(self, view: View) -> None:
        with self.changed:
            self.views.append(view)
            self.changed.notify_all()

    def post_cue(self, cue: Cue) -> None:
        pass

    def wait(self, screen: Screen) -> None:
        with self.changed:
            assert self.changed.wait_for(
                lambda: bool(self.views) and self.views[-1].screen is screen, WAIT_S), (
                f"screen {screen} not reached; last {self.views[-1:]}")


class PairedTerminal:
    """A terminal that passed the handshake: it sends what the test says, and keeps every
    message of the reader."""

    def __init__(self, port: int) -> None:
        raw = connect_tcp(TcpEndpoint("127.0.0.1", port))
        self.stream: ByteStream = terminal_handshake(raw, SECRET, time.monotonic() + WAIT_S,
                                                     time.monotonic)
        self.messages: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self._ids = 0
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        splitter = LineSplitter()
        while not self._closed:
            try:
                data = self.stream.read()
            except (OSError, ValueError):
                return
            if data == b"":
                return
            for line in splitter.feed(data or b""):
                if isinstance(line, bytes):
                    with self.changed:
                        self.messages.append(decode_frame(line))
                        self.changed.notify_all()

    def send(self, payload: dict[str, object]) -> str:
        self._ids += 1
        message_id = f"t{self._ids}"
        self.stream.write(encode(outgoing(payload, message_id)))
        return message_id

    def challenge(self, data: bytes, session: str | None = None) -> str:
        payload: dict[str, object] = {"type": "challenge",
                                      "challenge": base64.b64encode(data).decode("ascii")}
        if session is not None:
            payload["session"] = session
        return self.send(payload)

    def wait_for(self, test: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        with self.changed:
            assert self.changed.wait_for(lambda: any(test(m) for m in self.messages),
                                         WAIT_S), f"no {what}; got {self.messages}"
            return next(m for m in self.messages if test(m))

    def close(self) -> None:
        self._closed = True
        self.stream.close()


@contextmanager
def linked_runner(reader: SimReader, store: PasscodeStore, audit: AuditLog, outbox: Outbox,
                  screens: Screens) -> Iterator[tuple[Runner, PairedTerminal, threading.Thread]]:
    """The real runner on its engine thread and the real link on a loopback port, a paired
    terminal connected, the standby screen up; all stopped (the outbox closed) at the end."""
    runner = Runner(config=SessionConfig(), open_reader=lambda: reader, store=store,
                    audit=audit, display=screens, link=None)
    link = HostLink("tcp://127.0.0.1:0", outbox, runner.post, hello={"device": "test"},
                    secret=SECRET)
    runner.link = link
    link.start()
    engine = threading.Thread(target=runner.run, daemon=True)
    engine.start()
    address = link.address
    assert address is not None
    terminal = PairedTerminal(address[1])
    try:
        assert link.wait_connected(WAIT_S)
        screens.wait(Screen.STANDBY)
        yield runner, terminal, engine
    finally:
        terminal.close()
        runner.stop()
        engine.join(WAIT_S)
        link.stop()
        outbox.close()
    assert not engine.is_alive()
