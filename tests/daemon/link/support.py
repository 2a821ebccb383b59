"""Both ends of the host link for tests: synthetic results, the reference terminal in a
thread, a TCP proxy that cuts connections (daemon/harness/link_fault.py, shared with the
soak), and a pty bridge for the serial transport.

Everything here is real: sockets, ptys, pyserial, SQLite, the console's own code. Waits are
bounded polls that fail with a message; no test asserts on elapsed time.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import threading
import time
import tty
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from myna_reader.daemon.engine import (
    CertificateLife,
    ConsentAnswer,
    ConsentItem,
    Event,
    Method,
    ResultMessage,
    TokenKind,
)
from myna_reader.daemon.link.channel import LinkSecret, SealedStream, terminal_handshake
from myna_reader.daemon.link.protocol import LineSplitter, hello_fields
from myna_reader.daemon.link.reader_end import HostLink
from myna_reader.daemon.link.terminal import Terminal
from myna_reader.daemon.link.transport import (
    SerialEndpoint,
    SocketStream,
    TcpEndpoint,
    connect_tcp,
    parse_link_url,
)
from myna_reader.daemon.store.outbox import Outbox
from myna_reader.drivers.certificate import parse_certificate

WAIT_S = 15.0
HELLO = hello_fields("test-reader-01", ["pin", "visual", "passcode.issue"])
SECRET = LinkSecret(b"a-synthetic-pairing-secret-0123456789")


def wait_for(predicate: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


@dataclass(frozen=True)
class Signer:
    """A synthetic card key and its self-signed certificate (no personal data)."""

    key: rsa.RSAPrivateKey
    der: bytes

    def sign(self, challenge: bytes) -> bytes:
        return self.key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())


def make_signer() -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Synthetic Test Holder")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return Signer(key, cert.public_bytes(Encoding.DER))


def make_result(result_id: str, signer: Signer, challenge: bytes | None = None,
                signature: bytes | None = None) -> ResultMessage:
    """PIN mode when a challenge is given (signed by `signer` unless `signature`)."""
    method = Method.PIN if challenge is not None else Method.VISUAL
    if challenge is not None and signature is None:
        signature = signer.sign(challenge)
    return ResultMessage(
        id=result_id, method=method, certificate=signer.der,
        certificate_fingerprint=parse_certificate(signer.der).short_fingerprint,
        challenge=challenge, signature=signature,
        consents=(ConsentAnswer(ConsentItem.PHARMACEUTICAL, True, 1_700_000_000.0),),
        started=1_700_000_000.0, finished=1_700_000_010.0, token=TokenKind.PLASTIC_CARD,
        certificate_life=CertificateLife.VALID, certificate_expiry=date(2031, 1, 1))


class Events:
    """Thread-safe collector for the link's on_event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[Event] = []

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.items.append(event)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [e for e in self.items if isinstance(e, kind)]


class Console:
    """The reference terminal (daemon/link/terminal.py's Terminal) in a thread, output kept."""

    def __init__(self, url: str, **options: Any) -> None:
        self._lock = threading.Lock()
        self.out: list[dict[str, Any]] = []
        endpoint = parse_link_url(url)
        if not isinstance(endpoint, SerialEndpoint):
            options.setdefault("secret", SECRET)
        self.terminal = Terminal(endpoint, self._emit, **options)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.terminal.run, args=(self.stop,), daemon=True)

    def _emit(self, obj: Mapping[str, Any]) -> None:
        with self._lock:
            self.out.append(dict(obj))

    def messages(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [o for o in self.out if o.get("type") == kind]

    def events(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [o for o in self.out if o.get("event") == kind]

    def __enter__(self) -> Console:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=WAIT_S)
        assert not self.thread.is_alive(), "the console did not stop"


@contextlib.contextmanager
def running_link(url: str, outbox: Outbox, events: Callable[[Event], None] | None = None,
                 **options: Any) -> Iterator[HostLink]:
    if not isinstance(parse_link_url(url), SerialEndpoint):
        options.setdefault("secret", SECRET)
    link = HostLink(url, outbox, events or Events(), HELLO, **options)
    link.start()
    try:
        yield link
    finally:
        link.stop()


def tcp_url(link: HostLink) -> str:
    assert link.address is not None
    host, port = link.address
    return f"tcp://{host}:{port}"


class SealedClient:
    """A hand-driven terminal: the real handshake, then raw v1 lines through the seal."""

    def __init__(self, link: HostLink, secret: LinkSecret = SECRET) -> None:
        assert link.address is not None
        self.raw = connect_tcp(TcpEndpoint(*link.address))
        self.stream: SealedStream = terminal_handshake(
            self.raw, secret, time.monotonic() + WAIT_S, time.monotonic)
        self._splitter = LineSplitter()
        self._ready: list[dict[str, Any]] = []

    def send(self, *lines: bytes) -> None:
        self.stream.write(b"".join(line + b"\n" for line in lines))

    def send_messages(self, *messages: Mapping[str, Any]) -> None:
        self.send(*(json.dumps(dict(m)).encode() for m in messages))

    def read_lines(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + WAIT_S
        while len(self._ready) < count:
            assert time.monotonic() < deadline, f"gave up waiting for {count} lines"
            data = self.stream.read()
            if data == b"":
                break
            for item in self._splitter.feed(data or b""):
                assert isinstance(item, bytes)
                self._ready.append(json.loads(item))
        taken, self._ready = self._ready[:count], self._ready[count:]
        return taken

    def hung_up(self) -> bool:
        """True once the reader closed the connection (waits for it, bounded)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                data = self.raw.read()
            except OSError:
                return True
            if data == b"":
                return True
        return False

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> SealedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def plain_client(link: HostLink) -> SocketStream:
    """A TCP connection that speaks no handshake (what a rogue local process would open)."""
    assert link.address is not None
    return connect_tcp(TcpEndpoint(*link.address))


def open_outbox(path: Path, **options: Any) -> Outbox:
    return Outbox(path / "outbox.sqlite3", **options)


class PtyBridge:
    """Two pty pairs joined master to master: a null-modem cable between two device paths,
    each opened with pyserial by one end. `dropping` loses bytes like a noisy line."""

    def __init__(self) -> None:
        self.masters: list[int] = []
        self.slaves: list[int] = []
        self.paths: list[str] = []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(master)
            tty.setraw(slave)
            self.masters.append(master)
            self.slaves.append(slave)  # kept open so the line never hangs up
            self.paths.append(os.ttyname(slave))
        self.dropping = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        a, b = self.masters
        while not self._stop.is_set():
            ready, _, _ = select.select([a, b], [], [], 0.1)
            for src in ready:
                try:
                    data = os.read(src, 65536)
                except OSError:  # EIO while no one holds the slave open
                    continue
                if not self.dropping.is_set():
                    os.write(b if src == a else a, data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=WAIT_S)
        for fd in self.masters + self.slaves:
            os.close(fd)
