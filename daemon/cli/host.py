"""`myna-reader host`: the reference terminal console, the 資格確認端末's end of the host link.

It connects to the reader (a TCP client of the reader's listener, or the serial device),
answers `hello` with a fresh random challenge (so PIN mode can sign), verifies each PIN-mode
signature against the result's certificate, acks results (unless --no-ack) and drops repeats
by id, and with --issue-passcode sends a random 4-digit staff passcode and shows it once, as
the real terminal shows it to the staff. It reconnects until Ctrl-C or SIGTERM (exit 0).

Output: one line per message and event; with --json one JSON object per line: every message
from the reader as received (a result carries the certificate, whose subject is personal
data: send this output to the system that needs it, not to a log), and the console's own
events as {"event": ...}. A repeated result prints as a `duplicate-result` event, so each
result id appears once. The passcode event is the one place a passcode is printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from myna_reader.daemon.cli.errors import CliError
from myna_reader.daemon.link.protocol import (
    CHALLENGE_MAX_BYTES,
    CHALLENGE_MIN_BYTES,
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
    LinkUrlError,
    SerialEndpoint,
    TcpEndpoint,
    connect_tcp,
    open_serial,
    parse_link_url,
)
from myna_reader.daemon.store.files import append_line
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.errors import CertificateError

CHALLENGE_BYTES = 32
RECONNECT_S = 0.5

Emit = Callable[[Mapping[str, Any]], None]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("host", help="the reference terminal console for the host link")
    p.add_argument("--link", required=True, metavar="URL",
                   help="the reader: tcp://HOST:PORT[?token=T] (its listener), "
                   "serial:///dev/DEVICE?baudrate=N, or a pyserial URL")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per line: every message received, every own event")
    p.add_argument("--issue-passcode", action="store_true",
                   help="send a random 4-digit staff passcode and show it once")
    p.add_argument("--no-ack", action="store_true",
                   help="do not ack results (they stay in the reader's outbox)")
    p.add_argument("--challenge-hex", metavar="HEX",
                   help=f"send this challenge ({CHALLENGE_MIN_BYTES}..{CHALLENGE_MAX_BYTES} "
                   "bytes) instead of fresh random ones")
    p.add_argument("--seen-file", type=Path, metavar="FILE",
                   help="remember acked result ids here, so a restarted console drops repeats")
    p.set_defaults(handler=cmd_host)


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


class Terminal:
    """The console's logic; `run` holds the connection until `stop` is set."""

    def __init__(self, endpoint: LinkEndpoint, emit: Emit, *, ack: bool = True,
                 issue_passcode: bool = False, challenge: bytes | None = None,
                 seen: SeenResults | None = None) -> None:
        self.endpoint = endpoint
        self.emit = emit
        self.ack = ack
        self.issue_passcode = issue_passcode
        self.fixed_challenge = challenge
        self.seen = seen if seen is not None else SeenResults()
        self.challenges: set[bytes] = set()  # sent and not yet seen in a result
        self._passcode: tuple[str, str] | None = None  # (message id, code) until acked
        self._passcode_done = False
        self._ids = 0
        self._stream: ByteStream | None = None

    def run(self, stop: threading.Event) -> None:
        down_reason = ""
        while not stop.is_set():
            try:
                stream = self._open()
            except OSError as exc:
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
            self.emit({"event": "disconnected", "link": stream.name})
            stop.wait(RECONNECT_S)

    def _name(self) -> str:
        if isinstance(self.endpoint, TcpEndpoint):
            return f"tcp://{self.endpoint.host}:{self.endpoint.port}"
        return self.endpoint.url

    def _open(self) -> ByteStream:
        if isinstance(self.endpoint, TcpEndpoint):
            return connect_tcp(self.endpoint)
        return open_serial(self.endpoint)

    def _session(self, stream: ByteStream, stop: threading.Event) -> None:
        self._stream = stream
        token = self.endpoint.token if isinstance(self.endpoint, TcpEndpoint) else None
        if token is not None or isinstance(self.endpoint, SerialEndpoint):
            # a serial reader may have said hello before we listened: ask for everything
            self._send({"type": "pair", **({"token": token} if token else {})})
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

    def _send(self, payload: Mapping[str, object]) -> str:
        assert self._stream is not None
        self._ids += 1
        message_id = f"t{self._ids}"
        try:
            self._stream.write(encode(outgoing(payload, message_id)))
        except OSError as exc:
            self.emit({"event": "send-failed", "type": payload["type"], "reason": str(exc)})
        return message_id

    def _send_challenge(self) -> None:
        challenge = self.fixed_challenge or secrets.token_bytes(CHALLENGE_BYTES)
        self.challenges.add(challenge)
        self._send({"type": "challenge",
                    "challenge": base64.b64encode(challenge).decode("ascii")})

    # --- the reader's messages -------------------------------------------------------------

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "result":
            self._result(message)
            return
        self.emit(message)
        if kind == "hello":
            self._send_challenge()
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
        if message.get("challenge") is not None:
            self._send_challenge()  # each challenge is signed once

    def _check(self, message: Mapping[str, Any]) -> dict[str, object]:
        """The certificate's fingerprint and, in PIN mode, whether the signature verifies."""
        try:
            cert = parse_certificate(b64decode_field(message, "certificate", message["id"]))
        except (HostProtocolError, CertificateError) as exc:
            return {"certificate": None, "signature": "unverified", "reason": str(exc)}
        facts: dict[str, object] = {"certificate": cert.short_fingerprint,
                                    "method": message.get("method")}
        if message.get("method") != "pin":
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


# --- the command ---------------------------------------------------------------------------


def describe(obj: Mapping[str, Any]) -> str:
    """One human line for a message or an event (no certificate bytes)."""
    if "event" in obj:
        if obj["event"] == "passcode-issued":
            return (f"staff passcode issued: {obj['passcode']}  (show it to the staff; it is "
                    "not shown again)")
        rest = " ".join(f"{k}={v}" for k, v in obj.items() if k != "event")
        return f"{obj['event']}: {rest}".rstrip(": ")
    kind = obj["type"]
    if kind == "hello":
        return (f"reader {obj.get('device')} (myna-reader {obj.get('version')}, "
                f"capabilities {', '.join(obj.get('capabilities', []))})")
    if kind == "status":
        return (f"status: mode {obj.get('mode')}, screen {obj.get('screen')}, "
                f"reader {obj.get('reader')}")
    if kind == "result":
        agreed = [c.get("item") for c in obj.get("consents", []) if c.get("agreed")]
        return (f"result {obj['id']}: method {obj.get('method')}, consents agreed: "
                f"{', '.join(agreed) or 'none'}")
    details = " ".join(f"{k}={v}" for k, v in obj.items() if k not in ("type", "v"))
    return f"{kind}: {details}"


def _printer(as_json: bool) -> Emit:
    def emit(obj: Mapping[str, Any]) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) if as_json else (
            describe(obj))
        print(line, flush=True)
    return emit


def _challenge(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        challenge = bytes.fromhex(text)
    except ValueError:
        raise CliError("--challenge-hex: hexadecimal digits only") from None
    if not CHALLENGE_MIN_BYTES <= len(challenge) <= CHALLENGE_MAX_BYTES:
        raise CliError(f"--challenge-hex: {CHALLENGE_MIN_BYTES}..{CHALLENGE_MAX_BYTES} bytes")
    return challenge


def cmd_host(args: argparse.Namespace) -> int:
    try:
        endpoint = parse_link_url(args.link)
    except LinkUrlError as exc:
        raise CliError(str(exc)) from None
    try:
        seen = SeenResults(args.seen_file)
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"--seen-file: {exc}") from None
    terminal = Terminal(endpoint, _printer(args.json), ack=not args.no_ack,
                        issue_passcode=args.issue_passcode,
                        challenge=_challenge(args.challenge_hex), seen=seen)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    terminal.run(stop)
    sys.stdout.flush()
    return 0
