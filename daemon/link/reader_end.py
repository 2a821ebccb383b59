"""The reader's end of the host link: JSON lines to the terminal over TCP or serial.

`HostLink` runs in its own threads and never blocks its caller: every connection has a writer
thread fed by a queue, and a reader thread that turns the terminal's lines into engine events
(`on_event`, called from that thread: the runner posts them to its queue).

Sessions. TCP: every connection must pass the handshake of daemon/link/channel.py (the
pairing secret, loopback included) within PAIR_TIMEOUT_S of its opening; incoming bytes do not
extend that deadline. Until then it holds one of MAX_UNPAIRED slots, at most
MAX_UNPAIRED_PER_PEER per peer (an address; on loopback, an address and the peer socket's
uid): a new connection beyond either bound pushes out the oldest waiting one of its peer, or of
all, so a peer that opens connections and never authenticates cannot keep the terminal out.
Only an authenticated connection starts a session, and a newer session replaces an older one
(the terminal reconnecting after a network fault is not refused because the old connection is
not known dead yet). Serial: the port is the session (a cable is its own authentication, see
docs/security.md). A `pair` on a running session restarts it (the terminal's "send me
everything again", and the only way to resync a serial line). Each session start sends
`hello`, the latest `status`, then every result still in the outbox.

Every terminal command is rate limited per session (COMMAND_RATES); a `rate-limited` refusal
says when to try again (`retry_after_s`). The one challenge the reader's `status` asks for
(`challenge_wanted`, once per card session) is never charged: a terminal that answers each
card session at once is never refused, however quickly patients follow each other. Refused
and malformed lines are answered with an `error` and logged through a WarningThrottle.

A `config` message goes to `apply_config` (the runner), which checks it as config.toml is
checked and applies it for the sessions that start later; the ack follows, or an `error`
with the schema's problems.

Exactly once: a result is written to the outbox before it is sent, sent at most once per
session (serial lines: again after `resend_after_s` without an ack), and dropped only by the
terminal's ack of its id; the terminal drops repeats by id.
"""

from __future__ import annotations

import itertools
import logging
import queue
import secrets
import select
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from myna_reader.daemon.engine import (
    ChallengeReceived,
    ConfigError,
    ErrorMessage,
    Event,
    ResultMessage,
    Secret,
    StatusMessage,
    TerminalLink,
)
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.link.channel import AuthError, LinkSecret, reader_handshake
from myna_reader.daemon.link.limits import TokenBucket, WarningThrottle
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
    loopback_peer_uid,
    open_serial,
    parse_link_url,
    require_token_for,
)
from myna_reader.daemon.store.outbox import Outbox, OutboxError

log = logging.getLogger(__name__)

PAIR_TIMEOUT_S = 5.0  # from accept to a finished handshake; data does not extend it
MAX_UNPAIRED = 8  # connections in their handshake at once
MAX_UNPAIRED_PER_PEER = 2
PEER_CONNECT_RATE = (2.0, 8.0)  # new connections per second per peer, and the burst
MAX_PEERS_TRACKED = 256
# (per second, burst) for each terminal command, per session: generous for a real terminal
# (every pending result is acked at a session start), tight for a flood
COMMAND_RATES: dict[type, tuple[float, float]] = {
    Ack: (200.0, 2000.0),
    Pair: (1.0, 3.0),
    Challenge: (1.0, 3.0),
    PasscodeIssue: (0.1, 3.0),
    ConfigUpdate: (1.0, 3.0),
}
BAD_LINE_RATE = (2.0, 10.0)  # malformed lines answered per second per connection
MAX_PROBLEMS, MAX_PROBLEM_CHARS = 16, 500  # a refused config's problems in its error line
SERIAL_RESEND_S = 30.0  # a serial line may lose bytes: unacked results go again
SERIAL_REOPEN_S = 1.0
HOUSEKEEPING_S = 1.0
EXPIRE_EVERY_S = 60.0

PasscodeSink = Callable[[Secret], None]
ConfigSink = Callable[[Mapping[str, object]], None]


def _problems_wire(error: ConfigError) -> list[dict[str, object]]:
    """The schema's problems as the `error` carries them, bounded to fit one line."""
    def cut(text: str | None) -> str | None:
        return text if text is None or len(text) <= MAX_PROBLEM_CHARS else (
            text[:MAX_PROBLEM_CHARS] + "...")
    return [{"key": cut(p.key), "value": cut(p.shown), "fix": cut(p.fix)}
            for p in error.problems[:MAX_PROBLEMS]]


class HostLinkError(DaemonError):
    """The link cannot start (address in use, no pairing secret for a TCP listener)."""


class _Connection:
    """One terminal connection: a stream, its writer thread and what was sent on it."""

    def __init__(self, stream: ByteStream, peer: str, authenticated: bool) -> None:
        self.stream = stream
        self.peer = peer  # the per-peer limits' key
        self.authenticated = authenticated
        self.closing = False  # refused: the error reply goes out, nothing more is read
        self.opened = time.monotonic()
        self.sent: dict[str, float] = {}  # result id -> monotonic time sent (guarded by link)
        self.closed = threading.Event()
        self.buckets = {kind: TokenBucket(*rate) for kind, rate in COMMAND_RATES.items()}
        self.bad_lines = TokenBucket(*BAD_LINE_RATE)
        self.answered: str | None = None  # the last card session whose awaited challenge came
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
            except OSError as exc:  # an unpaired peer that left is no news
                (log.warning if self.authenticated else log.debug)(
                    "host link %s: write failed (%s); dropping it", self.stream.name, exc)
                break
        self.close()


class HostLink:
    """The link for the runner. `hello` holds the hello fields (protocol.hello_fields);
    `secret` is required for a TCP listener; `issue_passcode` stores a terminal's passcode
    and returns once it is stored (it raises DaemonError when it could not be): the ack
    follows it; `apply_config` applies a terminal's settings (ConfigError when they are
    refused) and returns once they hold: the ack follows it too."""

    def __init__(self, url: str | LinkEndpoint, outbox: Outbox,
                 on_event: Callable[[Event], None],
                 hello: Mapping[str, object], *,
                 secret: LinkSecret | None = None,
                 issue_passcode: PasscodeSink | None = None,
                 apply_config: ConfigSink | None = None,
                 resend_after_s: float | None = None,
                 expire_every_s: float = EXPIRE_EVERY_S) -> None:
        self.endpoint = parse_link_url(url) if isinstance(url, str) else url
        self.outbox = outbox
        self.on_event = on_event
        self.issue_passcode = issue_passcode
        self.apply_config = apply_config
        self.secret = secret
        self.hello = dict(hello)
        self.resend_after_s = resend_after_s if resend_after_s is not None else (
            SERIAL_RESEND_S if isinstance(self.endpoint, SerialEndpoint) else None)
        self.expire_every_s = expire_every_s
        self.warnings = WarningThrottle(log)
        self.refused_connections = 0  # pushed out of a slot or over a peer's connect rate
        self._lock = threading.Lock()
        self._active: _Connection | None = None
        self._all: set[_Connection] = set()
        self._unpaired: list[_Connection] = []  # oldest first (guarded by _lock)
        self._unapplied_acks: list[str] = []  # acks the outbox could not store (a full disk)
        self._peer_rates: OrderedDict[str, TokenBucket] = OrderedDict()
        self._status: StatusMessage | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._id_prefix = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self._synced = threading.Condition(self._lock)

    # --- the runner's API ------------------------------------------------------------------

    def start(self) -> None:
        self._post(TerminalLink(connected=False))  # no terminal until a session begins
        if isinstance(self.endpoint, TcpEndpoint):
            try:
                require_token_for(self.endpoint)
            except ValueError as exc:
                raise HostLinkError(str(exc)) from None
            if self.secret is None:
                raise HostLinkError("a TCP link needs a pairing secret: every listener "
                                    "authenticates its terminal, loopback included")
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
    def unpaired(self) -> int:
        """Connections still in their handshake."""
        with self._lock:
            return len(self._unpaired)

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
            try:
                pending = self.outbox.pending()
            except OutboxError as exc:  # the results stay stored; the next session tries again
                log.error("host link: %s", exc)
                pending = []
            for item in pending:
                conn.send(encode(outgoing(item.wire, item.id)))
                conn.sent[item.id] = time.monotonic()
            previous, self._active = self._active, conn
            self._synced.notify_all()
            self._post(TerminalLink(connected=True))  # under the lock: in order with the end
        log.info("host link: session with %s started", conn.stream.name)
        if previous is not None and previous is not conn:
            log.info("host link: %s replaces %s", conn.stream.name, previous.stream.name)
            previous.close()

    def _authenticate(self, conn: _Connection) -> bool:
        """The TCP handshake, within the pairing deadline; the connection's stream is then the
        sealed one. False (and the connection refused) otherwise."""
        assert self.secret is not None
        try:
            conn.stream = reader_handshake(conn.stream, self.secret,
                                           conn.opened + PAIR_TIMEOUT_S, time.monotonic)
        except AuthError as exc:
            self.warnings.warn("host link %s: not paired: %s", conn.stream.name, exc.detail)
            if not conn.closed.is_set():
                conn.send(self._line(HostProtocolError(exc.fault, exc.detail).to_wire()))
            return False
        except (OSError, ValueError):  # gone, or pushed out of its slot
            return False
        with self._lock:
            if conn in self._unpaired:
                self._unpaired.remove(conn)
            conn.authenticated = True
        return not conn.closed.is_set()

    def _serve(self, conn: _Connection) -> None:
        """Authenticate a TCP connection, then read the terminal's lines until it ends."""
        try:
            if not conn.authenticated:
                if not self._authenticate(conn):
                    return
                self._start_session(conn)
            splitter = LineSplitter()
            while not (conn.closed.is_set() or conn.closing or self._stopping.is_set()):
                try:
                    data = conn.stream.read()
                except (OSError, ValueError) as exc:  # ValueError: closed under our feet
                    if not conn.closed.is_set():
                        log.warning("host link %s: read failed (%s)", conn.stream.name, exc)
                    break
                if data == b"":
                    break
                for item in splitter.feed(data or b""):
                    if not conn.closing:
                        self._handle(conn, item)
        finally:
            conn.close(flush=True)
            with self._lock:
                self._all.discard(conn)
                if conn in self._unpaired:
                    self._unpaired.remove(conn)
                if self._active is conn:
                    self._active = None
                    self._post(TerminalLink(connected=False))
            log.info("host link: %s disconnected", conn.stream.name)

    def _handle(self, conn: _Connection, item: bytes | HostProtocolError) -> None:
        try:
            if isinstance(item, HostProtocolError):
                raise item
            message = parse_terminal_line(item)
            bucket = conn.buckets[type(message)]
            if not (self._awaited(conn, message) or bucket.take()):
                raise HostProtocolError(Fault.RATE_LIMITED, "too many of these; slow down",
                                        message.id,
                                        extra={"retry_after_s": round(bucket.wait_s(), 3)})
            self._dispatch(conn, message)
        except HostProtocolError as exc:
            self.warnings.warn("host link %s: refused a line: %s", conn.stream.name, exc)
            if conn.bad_lines.take() and deserves_reply(
                    None if isinstance(item, HostProtocolError) else item):
                conn.send(self._line(exc.to_wire()))

    def _awaited(self, conn: _Connection, message: TerminalMessage) -> bool:
        """The first challenge for the card session that the latest status asks one for:
        one per card session, so it needs no rate limit (the engine still judges it)."""
        if not isinstance(message, Challenge):
            return False
        with self._lock:
            status = self._status
            wanted = None if status is None or not status.challenge_wanted else (
                status.session_id)
            if wanted is None or message.session not in (None, wanted) or (
                    conn.answered == wanted):
                return False
            conn.answered = wanted
            return True

    def _dispatch(self, conn: _Connection, message: TerminalMessage) -> None:
        log.debug("host link %s: %s %s", conn.stream.name, type(message).__name__, message.id)
        if isinstance(message, Pair):
            self._start_session(conn)
            return
        if isinstance(message, Ack):
            try:
                changed = self.outbox.ack(message.ref)
            except OutboxError as exc:  # kept and applied once the outbox can store it again
                self.warnings.warn("host link: ack of %s not stored yet: %s", message.ref, exc)
                with self._lock:
                    self._unapplied_acks.append(message.ref)
                return
            if not changed:
                log.debug("host link: ack of %s changed nothing (duplicate or unknown)",
                          message.ref)
            return
        if isinstance(message, ConfigUpdate):
            self._apply_config(message)
            conn.send(self._line({"type": "ack", "ref": message.id}))
            return
        if isinstance(message, Challenge):
            # the engine takes it or refuses it (an `error` naming it, and an audit line); a
            # connection already replaced by a newer session is no longer the terminal
            with self._lock:
                if conn is not self._active:
                    raise HostProtocolError(Fault.NOT_PAIRED, "this connection was replaced",
                                            message.id)
            self._post(ChallengeReceived(message.challenge, message.session, message.id))
            return
        self._store_passcode(message)
        conn.send(self._line({"type": "ack", "ref": message.id}))

    def _store_passcode(self, message: PasscodeIssue) -> None:
        """The store writes the passcode before the terminal hears the ack."""
        if self.issue_passcode is None:
            raise HostProtocolError(Fault.UNSUPPORTED, "this reader has no passcode store",
                                    message.id)
        try:
            self.issue_passcode(message.code)
        except DaemonError as exc:
            log.error("host link: passcode not stored: %s", exc)
            raise HostProtocolError(Fault.REFUSED, "the passcode could not be stored; the "
                                    "previous one still holds", message.id) from None

    def _apply_config(self, message: ConfigUpdate) -> None:
        """The runner applies the settings (checked as config.toml is) before the ack."""
        if self.apply_config is None:
            raise HostProtocolError(Fault.UNSUPPORTED, "this reader takes no settings over "
                                    "the link", message.id)
        try:
            self.apply_config(message.settings)
        except ConfigError as exc:
            raise HostProtocolError(
                Fault.REFUSED, f"settings: {len(exc.problems)} problem(s); nothing changed",
                message.id, extra={"problems": _problems_wire(exc)}) from None
        except DaemonError as exc:
            log.error("host link: settings not applied: %s", exc)
            raise HostProtocolError(Fault.REFUSED, "the settings could not be applied; the "
                                    "previous ones still hold", message.id) from None

    def _post(self, event: Event) -> None:
        try:
            self.on_event(event)
        except Exception:  # the runner's bug must not take the link down
            log.exception("host link: callback failed for %s", type(event).__name__)

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
            listener.listen(64)
        except OSError as exc:
            listener.close()
            raise HostLinkError(f"cannot listen on {endpoint.host}:{endpoint.port}: "
                                f"{exc.strerror or exc}") from exc
        return listener

    @staticmethod
    def _peer_key(sock: socket.socket, peer: tuple[str, int]) -> str:
        host = peer[0]
        if TcpEndpoint(host, peer[1]).loopback:
            uid = loopback_peer_uid(sock.getsockname()[:2], peer[:2])
            if uid is not None:
                return f"{host} uid {uid}"
        return host

    def _admit(self, conn: _Connection) -> list[_Connection]:
        """Take `conn` into a handshake slot; the connections it pushes out. Under _lock."""
        bucket = self._peer_rates.get(conn.peer)
        if bucket is None:
            bucket = self._peer_rates[conn.peer] = TokenBucket(*PEER_CONNECT_RATE)
            while len(self._peer_rates) > MAX_PEERS_TRACKED:
                self._peer_rates.popitem(last=False)
        self._peer_rates.move_to_end(conn.peer)
        if not bucket.take():
            return [conn]
        out: list[_Connection] = []
        same_peer = [c for c in self._unpaired if c.peer == conn.peer]
        if len(same_peer) >= MAX_UNPAIRED_PER_PEER:
            out.append(same_peer[0])
        elif len(self._unpaired) >= MAX_UNPAIRED:
            out.append(self._unpaired[0])
        for old in out:
            self._unpaired.remove(old)
        self._unpaired.append(conn)
        self._all.add(conn)
        return out

    def _accept_loop(self) -> None:
        assert self._listener is not None
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
                               self._peer_key(sock, peer), authenticated=False)
            with self._lock:
                pushed_out = self._admit(conn)
            for old in pushed_out:
                self.refused_connections += 1
                self.warnings.warn("host link: %s dropped before pairing (peer %s over its "
                                   "limit, or every slot taken)", old.stream.name, old.peer)
                old.close()
            if conn in pushed_out:
                continue
            log.info("host link: %s connected", conn.stream.name)
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
            conn = _Connection(stream, stream.name, authenticated=True)
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
                except DaemonError as exc:  # the outbox or the audit log: tried again later
                    log.error("host link: %s", exc)
                else:
                    if expired:
                        log.warning("host link: %d undelivered result(s) expired",
                                    len(expired))
            self._apply_kept_acks()
            if self.resend_after_s is not None:
                self._resend_stale(self.resend_after_s)
            self.warnings.flush()
            if self._stopping.wait(HOUSEKEEPING_S):
                return

    def _apply_kept_acks(self) -> None:
        """The terminal took these results, but the outbox could not say so then."""
        with self._lock:
            kept, self._unapplied_acks = self._unapplied_acks, []
        for index, ref in enumerate(kept):
            try:
                self.outbox.ack(ref)
            except OutboxError:
                with self._lock:
                    self._unapplied_acks[:0] = kept[index:]
                return

    def _resend_stale(self, after_s: float) -> None:
        with self._lock:
            conn = self._active
            if conn is None:
                return
            now = time.monotonic()
            try:
                pending = self.outbox.pending()
            except OutboxError as exc:
                log.error("host link: %s", exc)
                return
            for item in pending:
                if now - conn.sent.get(item.id, now) >= after_s:
                    conn.send(encode(outgoing(item.wire, item.id)))
                    conn.sent[item.id] = now

