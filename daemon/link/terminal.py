"""The terminal's end of the host link: the logic of the reference terminal (資格確認端末).

`Terminal` connects to the reader (a TCP client of the reader's listener, or the serial device),
authenticates with the pairing secret over TCP (daemon/link/channel.py: it also checks that the
reader holds the secret before it sends anything), sends a fresh random challenge for the
session a `status` says wants one (once per session, so PIN mode can sign), verifies each PIN-
mode signature against the result's certificate, sends a challenge the reader refused as
rate limited again after the wait the reader names (a few times, while the session still
wants it), acks results (unless told not to) and drops
repeats by id, and with `issue_passcode` sends a random 4-digit staff passcode and reports it
once the reader acked it. It reconnects until `stop` is set. What it sees goes to `emit`: every
message from the reader as received, and its own events as {"event": ...}. `myna-reader host`
(daemon/cli/host.py) prints them; the harness and the tests collect them.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from myna_reader.daemon.link.channel import (
    AuthError,
    LinkSecret,
    LinkSecretError,
    terminal_handshake,
)
from myna_reader.daemon.link.protocol import (
    HostProtocolError,
    LineSplitter,
    b64decode_field,
    decode_frame,
    encode,
    outgoing,
)
from myna_reader.daemon.link.transport import (
    ByteStream,
    LinkEndpoint,
    SerialEndpoint,
    TcpEndpoint,
    connect_tcp,
    open_serial,
)
from myna_reader.daemon.store.files import append_line
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.errors import CertificateError

CHALLENGE_BYTES = 32
RECONNECT_S = 0.5
HANDSHAKE_S = 5.0  # the reader's own deadline for it
CHALLENGE_RETRIES = 3  # a rate-limited challenge is sent again at most this often
RETRY_AFTER_S = 1.0  # the wait when a refusal names none (the reader's challenge rate)
MAX_RETRY_AFTER_S = 5.0  # the PIN session waits for its challenge only seconds

Emit = Callable[[Mapping[str, Any]], None]
SecretSource = Callable[[], LinkSecret]


class SeenResults:
    """Result ids already taken; optionally kept in a file (one id per line, fsync'd)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.ids: set[str] = set()
        if path is not None and path.exists():
            self.ids = set(path.read_text(encoding="ascii").split())

    def __contains__(self, result_id: str) -> bool:
        return result_id in self.ids

    def add(self, result_id: str) -> None:
        self.ids.add(result_id)
        if self.path is not None:
            append_line(self.path, result_id.encode("ascii") + b"\n")


class _PendingChallenge:
    """A challenge sent for `session` and not yet taken: what a retry sends again."""

    def __init__(self, session: str, challenge: bytes, message_id: str) -> None:
        self.session = session
        self.challenge = challenge
        self.message_id = message_id
        self.retries = 0
        self.due: float | None = None  # when to send it again (monotonic)


class Terminal:
    """The terminal's logic; `run` holds the connection until `stop` is set. `secret` (a
    secret, or a function that reads it at each connection) is needed for a TCP link."""

    def __init__(self, endpoint: LinkEndpoint, emit: Emit, *,
                 secret: LinkSecret | SecretSource | None = None, ack: bool = True,
                 issue_passcode: bool = False, challenge: bytes | None = None,
                 seen: SeenResults | None = None) -> None:
        self.endpoint = endpoint
        self.emit = emit
        self._secret = secret
        self.ack = ack
        self.issue_passcode = issue_passcode
        self.fixed_challenge = challenge
        self.seen = seen if seen is not None else SeenResults()
        self.challenges: set[bytes] = set()  # sent and not yet seen in a result
        self._challenged: str | None = None  # the last session a challenge went to
        self._pending: _PendingChallenge | None = None  # sent, neither taken nor given up
        self._passcode: tuple[str, str] | None = None  # (message id, code) until acked
        self._passcode_done = False
        self._ids = 0
        self._stream: ByteStream | None = None

    def run(self, stop: threading.Event) -> None:
        down_reason = ""
        while not stop.is_set():
            try:
                stream = self._open()
            except (OSError, AuthError, LinkSecretError) as exc:
                if str(exc) != down_reason:  # say it once, then keep trying quietly
                    down_reason = str(exc)
                    self.emit({"event": "waiting", "link": self._name(), "reason": str(exc)})
                stop.wait(RECONNECT_S)
                continue
            down_reason = ""
            self.emit({"event": "connected", "link": stream.name})
            try:
                self._session(stream, stop)
            finally:
                stream.close()
                self._stream = None
                self._passcode = None  # not acked: the next session issues a fresh one
                self._pending = None
            self.emit({"event": "disconnected", "link": stream.name})
            stop.wait(RECONNECT_S)

    def _name(self) -> str:
        if isinstance(self.endpoint, TcpEndpoint):
            return f"tcp://{self.endpoint.host}:{self.endpoint.port}"
        return self.endpoint.url

    def _open(self) -> ByteStream:
        """A stream to the reader: over TCP only once both ends proved the secret."""
        if isinstance(self.endpoint, SerialEndpoint):
            return open_serial(self.endpoint)
        if self._secret is None:
            raise LinkSecretError("a TCP link needs the pairing secret")
        secret = self._secret if isinstance(self._secret, LinkSecret) else self._secret()
        raw = connect_tcp(self.endpoint)
        try:
            return terminal_handshake(raw, secret, time.monotonic() + HANDSHAKE_S,
                                      time.monotonic)
        except (AuthError, OSError):
            raw.close()
            raise

    def _session(self, stream: ByteStream, stop: threading.Event) -> None:
        self._stream = stream
        if isinstance(self.endpoint, SerialEndpoint):
            # a serial reader may have said hello before we listened: ask for everything
            self._send({"type": "pair"})
        splitter = LineSplitter()
        while not stop.is_set():
            try:
                data = stream.read()
            except OSError:
                return
            if data == b"":
                return
            for item in splitter.feed(data or b""):
                try:
                    if isinstance(item, HostProtocolError):
                        raise item
                    self._handle(decode_frame(item))
                except HostProtocolError as exc:
                    self.emit({"event": "bad-line", "fault": exc.fault.value,
                               "detail": exc.detail})
            self._retry_due()

    def _send(self, payload: Mapping[str, object]) -> str:
        assert self._stream is not None
        self._ids += 1
        message_id = f"t{self._ids}"
        try:
            self._stream.write(encode(outgoing(payload, message_id)))
        except OSError as exc:
            self.emit({"event": "send-failed", "type": payload["type"], "reason": str(exc)})
        return message_id

    def _send_challenge(self, session: str) -> None:
        """One challenge per session, bound to its id; the reader takes no other."""
        if session == self._challenged:
            return
        self._challenged = session
        challenge = self.fixed_challenge or secrets.token_bytes(CHALLENGE_BYTES)
        self.challenges.add(challenge)
        self._pending = _PendingChallenge(session, challenge, self._challenge_line(
            session, challenge))

    def _challenge_line(self, session: str, challenge: bytes) -> str:
        return self._send({"type": "challenge", "session": session,
                           "challenge": base64.b64encode(challenge).decode("ascii")})

    def _rate_limited(self, message: Mapping[str, Any]) -> None:
        """The reader refused our challenge for its rate: again after the wait it names."""
        pending = self._pending
        assert pending is not None
        if pending.retries >= CHALLENGE_RETRIES:
            self._pending = None
            self.emit({"event": "challenge-given-up", "session": pending.session})
            return
        wait = message.get("retry_after_s")
        if not isinstance(wait, int | float) or isinstance(wait, bool) or not wait >= 0:  # NaN too
            wait = RETRY_AFTER_S
        wait = min(float(wait), MAX_RETRY_AFTER_S)
        pending.retries += 1
        pending.due = time.monotonic() + wait
        self.emit({"event": "challenge-retry", "session": pending.session,
                   "after_s": round(wait, 3), "retry": pending.retries})

    def _retry_due(self) -> None:
        pending = self._pending
        if pending is not None and pending.due is not None and time.monotonic() >= pending.due:
            pending.due = None
            pending.message_id = self._challenge_line(pending.session, pending.challenge)

    # --- the reader's messages -------------------------------------------------------------

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "result":
            self._result(message)
            return
        self.emit(message)
        pending = self._pending
        if kind == "error" and pending is not None and message.get("ref") == pending.message_id:
            if message.get("fault") == "rate-limited":
                self._rate_limited(message)
            else:  # taken by nobody: the reader judged it (114), not its rate
                self._pending = None
        if kind == "status":
            if pending is not None and not (message.get("challenge_wanted") is True and
                                            message.get("session") == pending.session):
                self._pending = None  # taken, or its session is over: nothing to send again
            if message.get("challenge_wanted") is True and isinstance(
                    message.get("session"), str):
                self._send_challenge(message["session"])
        if kind == "hello":
            if self.issue_passcode and not self._passcode_done and self._passcode is None:
                code = f"{secrets.randbelow(10_000):04d}"
                self._passcode = (self._send({"type": "passcode.issue", "passcode": code}), code)
        elif kind in ("ack", "error") and self._passcode is not None and (
                message.get("ref") == self._passcode[0]):
            message_id, code = self._passcode
            self._passcode = None
            if kind == "ack":
                self._passcode_done = True
                self.emit({"event": "passcode-issued", "passcode": code})
            else:
                self.emit({"event": "passcode-refused", "ref": message_id})

    def _result(self, message: dict[str, Any]) -> None:
        result_id: str = message["id"]
        if result_id in self.seen:
            self.emit({"event": "duplicate-result", "id": result_id})
        else:
            self.emit(message)
            self.emit({"event": "result-checked", "id": result_id, **self._check(message)})
            if self.ack:
                self.seen.add(result_id)  # stored before the ack: a crash repeats, never loses
        if self.ack:
            self._send({"type": "ack", "ref": result_id})

    def _check(self, message: Mapping[str, Any]) -> dict[str, object]:
        """The certificate's fingerprint and, where the method signs (PIN, an iPhone's own
        check), whether the signature verifies."""
        try:
            cert = parse_certificate(b64decode_field(message, "certificate", message["id"]))
        except (HostProtocolError, CertificateError) as exc:
            return {"certificate": None, "signature": "unverified", "reason": str(exc)}
        facts: dict[str, object] = {"certificate": cert.short_fingerprint,
                                    "method": message.get("method")}
        if message.get("method") not in ("pin", "phone"):
            facts["signature"] = "none"
            return facts
        try:
            challenge = b64decode_field(message, "challenge", message["id"])
            signature = b64decode_field(message, "signature", message["id"])
        except HostProtocolError as exc:
            return {**facts, "signature": "invalid", "reason": exc.detail}
        if challenge not in self.challenges:
            return {**facts, "signature": "unverified", "reason": "not a challenge we sent"}
        self.challenges.discard(challenge)
        facts["signature"] = "valid" if cert.verifies(challenge, signature) else "invalid"
        return facts
