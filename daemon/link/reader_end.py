"""The reader's end of the host link: JSON lines to the terminal over TCP or serial.

`HostLink` runs in its own threads and never blocks its caller: every connection has a writer
thread fed by a queue, and a reader thread that turns the terminal's lines into engine events
(`on_event`, called from that thread: the runner posts them to its queue).

Sessions: a TCP connection (or an opened serial port) starts one at once, unless the
listener has a pairing token: then the terminal's first line must be `pair` with that token,
or the connection is refused. A `pair` on a running session restarts it (the terminal's
"send me everything again", and the only way to resync a serial line). Each session start
sends `hello`, the latest `status`, then every result still in the outbox. A newer session
replaces an older one: the terminal reconnecting after a network fault is not refused because
the old TCP connection is not known dead yet.

Exactly once: a result is written to the outbox before it is sent, sent at most once per
session (serial lines: again after `resend_after_s` without an ack), and dropped only by the
terminal's ack of its id; the terminal drops repeats by id.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import queue
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from myna_reader.daemon.engine import (
    ChallengeReceived,
    DaemonError,
    ErrorMessage,
    Event,
    PasscodeIssued,
    ResultMessage,
    StatusMessage,
)
from myna_reader.daemon.link.protocol import (
    Ack,
    Challenge,
    ConfigUpdate,
    Fault,
    HostProtocolError,
    LineSplitter,
    Pair,
    PasscodeIssue,
    TerminalMessage,
    deserves_reply,
    encode,
    outgoing,
    parse_terminal_line,
)
from myna_reader.daemon.link.transport import (
    POLL_S,
    ByteStream,
    LinkEndpoint,
    SerialEndpoint,
    SocketStream,
    TcpEndpoint,
    open_serial,
    parse_link_url,
    require_token_for,
)
from myna_reader.daemon.store.outbox import Outbox, OutboxError

log = logging.getLogger(__name__)
_T = TypeVar("_T")

PAIR_TIMEOUT_S = 10.0  # an unpaired connection that says nothing is dropped
MAX_UNPAIRED = 4  # connections waiting for `pair` at once; more are refused
SERIAL_RESEND_S = 30.0  # a serial line may lose bytes: unacked results go again
SERIAL_REOPEN_S = 1.0
HOUSEKEEPING_S = 1.0
EXPIRE_EVERY_S = 60.0


class HostLinkError(DaemonError):
    """The link cannot start (address in use, a listener beyond loopback without a token)."""


class _Connection:
    """One terminal connection: a stream, its writer thread and what was sent on it."""

    def __init__(self, stream: ByteStream, authenticated: bool) -> None:
        self.stream = stream
        self.authenticated = authenticated
        self.closing = False  # refused: the error reply goes out, nothing more is read
        self.opened = time.monotonic()
        self.sent: dict[str, float] = {}  # result id -> monotonic time sent (guarded by link)
        self.closed = threading.Event()
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, daemon=True,
                                        name=f"host-link-writer {stream.name}")
        self._writer.start()

    def send(self, line: bytes) -> None:
        if not self.closed.is_set():
            self._queue.put(line)

    def close(self, flush: bool = False) -> None:
        """Close now, or (flush) after the lines already queued are written."""
        if flush:
            self.closing = True
            self._queue.put(None)
            return
        if not self.closed.is_set():
            self.closed.set()
            self.stream.close()
        self._queue.put(None)

    def _write_loop(self) -> None:
        while True:
            line = self._queue.get()
            if line is None or self.closed.is_set():
                break
            try:
                self.stream.write(line)
            except OSError as exc:
                log.warning("host link %s: write failed (%s); dropping it", self.stream.name, exc)
                break
        self.close()


class HostLink:
    """The link for the runner. `hello` holds the hello fields (host_protocol.hello_fields)."""

    def __init__(self, url: str | LinkEndpoint, outbox: Outbox,
                 on_event: Callable[[Event], None],
                 hello: Mapping[str, object],
                 on_config: Callable[[ConfigUpdate], None] | None = None,
                 resend_after_s: float | None = None,
                 expire_every_s: float = EXPIRE_EVERY_S) -> None:
        self.endpoint = parse_link_url(url) if isinstance(url, str) else url
        self.outbox = outbox
        self.on_event = on_event
        self.on_config = on_config
        self.hello = dict(hello)
        self.resend_after_s = resend_after_s if resend_after_s is not None else (
            SERIAL_RESEND_S if isinstance(self.endpoint, SerialEndpoint) else None)
        self.expire_every_s = expire_every_s
        self._lock = threading.Lock()
        self._active: _Connection | None = None
        self._all: set[_Connection] = set()
        self._status: StatusMessage | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._id_prefix = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self._synced = threading.Condition(self._lock)

    # --- the runner's API ------------------------------------------------------------------

    def start(self) -> None:
        if isinstance(self.endpoint, TcpEndpoint):
            try:
                require_token_for(self.endpoint)
            except ValueError as exc:
                raise HostLinkError(str(exc)) from None
            self._listener = self._listen(self.endpoint)
            self._spawn(self._accept_loop, "host-link-accept")
        else:
            self._spawn(self._serial_loop, "host-link-serial")
        self._spawn(self._housekeeping_loop, "host-link-housekeeping")

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            connections = list(self._all)
        for conn in connections:
            conn.close()
        for thread in self._threads:
            thread.join(timeout=5.0)

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._active is not None and not self._active.closed.is_set()

    @property
    def address(self) -> tuple[str, int] | None:
        """The TCP listener's bound address (port 0 in the URL picks a free one)."""
        if self._listener is None:
            return None
        host, port = self._listener.getsockname()[:2]
        return host, port

    def wait_connected(self, timeout: float) -> bool:
        with self._synced:
            return self._synced.wait_for(
                lambda: self._active is not None and not self._active.closed.is_set(), timeout)

    def send_status(self, status: StatusMessage) -> None:
        """Remembered (a new session starts with it) and sent if a terminal is there."""
        with self._lock:
            self._status = status
            if self._active is not None:
                self._active.send(self._line(status.to_wire()))

    def submit_result(self, result: ResultMessage) -> None:
        """Durable first (OutboxError if the outbox cannot store it), then sent if connected."""
        self.outbox.put(result)
        with self._lock:
            conn = self._active
            if conn is not None and result.id not in conn.sent and self.outbox.is_pending(
                    result.id):
                conn.send(encode(outgoing(result.to_wire(), result.id)))
                conn.sent[result.id] = time.monotonic()

    def send_error(self, error: ErrorMessage) -> None:
        """Sent if a terminal is there; not queued (the result, if any, carries the outcome)."""
        with self._lock:
            if self._active is not None:
                self._active.send(self._line(error.to_wire()))

    # --- sessions --------------------------------------------------------------------------

    def _line(self, payload: Mapping[str, object]) -> bytes:
        return encode(outgoing(payload, f"r{self._id_prefix}-{next(self._ids)}"))

    def _start_session(self, conn: _Connection) -> None:
        with self._lock:
            if conn.closed.is_set() or self._stopping.is_set():
                return
            conn.sent.clear()
            conn.send(self._line({"type": "hello", **self.hello}))
            if self._status is not None:
                conn.send(self._line(self._status.to_wire()))
            for item in self.outbox.pending():
                conn.send(encode(outgoing(item.wire, item.id)))
                conn.sent[item.id] = time.monotonic()
            previous, self._active = self._active, conn
            self._synced.notify_all()
        log.info("host link: session with %s started", conn.stream.name)
        if previous is not None and previous is not conn:
            log.info("host link: %s replaces %s", conn.stream.name, previous.stream.name)
            previous.close()

    def _serve(self, conn: _Connection) -> None:
        """Read the terminal's lines until the connection ends."""
        splitter = LineSplitter()
        try:
            while not (conn.closed.is_set() or conn.closing or self._stopping.is_set()):
                try:
                    data = conn.stream.read()
                except (OSError, ValueError) as exc:  # ValueError: closed under our feet
                    if not conn.closed.is_set():
                        log.warning("host link %s: read failed (%s)", conn.stream.name, exc)
                    break
                if data == b"":
                    break
                if data is None:
                    if not conn.authenticated and (
                            time.monotonic() - conn.opened > PAIR_TIMEOUT_S):
                        log.warning("host link %s: no pair message; closing", conn.stream.name)
                        break
                    continue
                for item in splitter.feed(data):
                    if not conn.closing:
                        self._handle(conn, item)
        finally:
            conn.close(flush=True)
            with self._lock:
                self._all.discard(conn)
                if self._active is conn:
                    self._active = None
            log.info("host link: %s disconnected", conn.stream.name)

    def _handle(self, conn: _Connection, item: bytes | HostProtocolError) -> None:
        try:
            if isinstance(item, HostProtocolError):
                raise item
            message = parse_terminal_line(item)
            if not conn.authenticated:
                self._pair(conn, message)
            else:
                self._dispatch(conn, message)
        except HostProtocolError as exc:
            log.warning("host link %s: refused a line: %s", conn.stream.name, exc)
            if deserves_reply(None if isinstance(item, HostProtocolError) else item):
                conn.send(self._line(exc.to_wire()))
            if not conn.authenticated:
                conn.close(flush=True)

    def _pair(self, conn: _Connection, message: TerminalMessage) -> None:
        if not isinstance(message, Pair):
            raise HostProtocolError(Fault.NOT_PAIRED, "the first line must be pair with the "
                                    "token", message.id)
        expected = self.endpoint.token if isinstance(self.endpoint, TcpEndpoint) else None
        if expected is None or message.token is None or not hmac.compare_digest(
                message.token.encode(), expected.encode()):
            raise HostProtocolError(Fault.PAIRING_FAILED, "wrong or missing token", message.id)
        conn.authenticated = True
        self._start_session(conn)

    def _dispatch(self, conn: _Connection, message: TerminalMessage) -> None:
        log.debug("host link %s: %s %s", conn.stream.name, type(message).__name__, message.id)
        if isinstance(message, Pair):
            self._start_session(conn)
            return
        if isinstance(message, Ack):
            if not self.outbox.ack(message.ref):
                log.debug("host link: ack of %s changed nothing (duplicate or unknown)",
                          message.ref)
            return
        if isinstance(message, Challenge):
            self._post(ChallengeReceived(message.challenge))
        elif isinstance(message, PasscodeIssue):
            self._post(PasscodeIssued(message.code))
        else:
            log.info("host link: config with keys %s", sorted(message.settings))
            if self.on_config is not None:
                self._call(self.on_config, message)
        conn.send(self._line({"type": "ack", "ref": message.id}))

    def _post(self, event: Event) -> None:
        self._call(self.on_event, event)

    @staticmethod
    def _call(callback: Callable[[_T], None], value: _T) -> None:
        try:
            callback(value)
        except Exception:  # the runner's bug must not take the link down
            log.exception("host link: callback failed for %s", type(value).__name__)

    # --- transports ------------------------------------------------------------------------

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _listen(self, endpoint: TcpEndpoint) -> socket.socket:
        family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((endpoint.host, endpoint.port))
            listener.listen(8)
        except OSError as exc:
            listener.close()
            raise HostLinkError(f"cannot listen on {endpoint.host}:{endpoint.port}: "
                                f"{exc.strerror or exc}") from exc
        return listener

    def _accept_loop(self) -> None:
        assert self._listener is not None
        assert isinstance(self.endpoint, TcpEndpoint)
        listener = self._listener
        while not self._stopping.is_set():
            try:
                ready, _, _ = select.select([listener], [], [], POLL_S)
                if not ready:
                    continue
                sock, peer = listener.accept()
            except (OSError, ValueError):  # closed by stop()
                break
            conn = _Connection(SocketStream(sock, f"{peer[0]}:{peer[1]}"),
                               authenticated=self.endpoint.token is None)
            with self._lock:
                unpaired = sum(1 for c in self._all if not c.authenticated)
                if not conn.authenticated and unpaired >= MAX_UNPAIRED:
                    conn.close()
                    continue
                self._all.add(conn)
            log.info("host link: %s connected", conn.stream.name)
            if conn.authenticated:
                self._start_session(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True,
                             name=f"host-link-reader {conn.stream.name}").start()

    def _serial_loop(self) -> None:
        assert isinstance(self.endpoint, SerialEndpoint)
        last_error = ""
        while not self._stopping.is_set():
            try:
                stream = open_serial(self.endpoint)
            except OSError as exc:
                if str(exc) != last_error:  # once per distinct error, not every second
                    log.warning("host link: %s; retrying", exc)
                    last_error = str(exc)
                self._stopping.wait(SERIAL_REOPEN_S)
                continue
            last_error = ""
            conn = _Connection(stream, authenticated=True)
            with self._lock:
                self._all.add(conn)
            self._start_session(conn)
            self._serve(conn)
            self._stopping.wait(SERIAL_REOPEN_S)

    def _housekeeping_loop(self) -> None:
        next_expiry = 0.0
        while True:
            now = time.monotonic()
            if now >= next_expiry:
                next_expiry = now + self.expire_every_s
                try:
                    expired = self.outbox.expire()
                except OutboxError as exc:
                    log.error("host link: %s", exc)
                else:
                    if expired:
                        log.warning("host link: %d undelivered result(s) expired",
                                    len(expired))
            if self.resend_after_s is not None:
                self._resend_stale(self.resend_after_s)
            if self._stopping.wait(HOUSEKEEPING_S):
                return

    def _resend_stale(self, after_s: float) -> None:
        with self._lock:
            conn = self._active
            if conn is None:
                return
            now = time.monotonic()
            for item in self.outbox.pending():
                if now - conn.sent.get(item.id, now) >= after_s:
                    conn.send(encode(outgoing(item.wire, item.id)))
                    conn.sent[item.id] = now
