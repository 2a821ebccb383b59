"""Host link v1: the JSON-lines messages between the reader and the terminal (資格確認端末).

Framing: one JSON object per line, UTF-8, ending in "\\n" (a "\\r" before it is dropped), at
most MAX_LINE_BYTES per line. Every message has `type`, `id` (unique per sender) and `v`
(the protocol version, 1). Unknown extra fields are ignored, so v1 can grow compatibly.
Any bad line becomes a `HostProtocolError`; the link answers it with an `error` message and
keeps running. The full schema with examples: docs/host-protocol.md.

No error detail quotes a field's value: a bad `passcode.issue` must not echo the code.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from myna_reader.daemon.engine import Secret
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.store.passcode import PasscodeFormatError, parse_passcode
from myna_reader.daemon.version import __version__

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 64 * 1024
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
PROTOCOL_ERROR_CODE = "protocol"  # `error.code` of a link-level error (card errors are NNN)
_T = TypeVar("_T")


class Fault(StrEnum):
    """Why a line was refused: the `fault` field of the `error` reply."""

    LINE_TOO_LONG = "line-too-long"
    NOT_JSON = "not-json"
    NOT_OBJECT = "not-object"
    UNSUPPORTED_VERSION = "unsupported-version"
    MISSING_FIELD = "missing-field"
    BAD_FIELD = "bad-field"
    UNKNOWN_TYPE = "unknown-type"
    NOT_PAIRED = "not-paired"
    PAIRING_FAILED = "pairing-failed"
    RATE_LIMITED = "rate-limited"
    REFUSED = "refused"
    UNSUPPORTED = "unsupported"


class HostProtocolError(DaemonError, ValueError):
    """A line that is not a valid v1 message. `ref` is its `id` when one could be read."""

    def __init__(self, fault: Fault, detail: str, ref: str | None = None, *,
                 extra: Mapping[str, object] | None = None) -> None:
        super().__init__(f"{fault.value}: {detail}")
        self.fault = fault
        self.detail = detail
        self.ref = ref
        self.extra = dict(extra or {})  # fields of this fault: retry_after_s, problems

    def to_wire(self) -> dict[str, object]:
        return {"type": "error", "code": PROTOCOL_ERROR_CODE, "fault": self.fault.value,
                "detail": self.detail, "ref": self.ref, **self.extra}


def hello_fields(device_id: str, capabilities: Sequence[str]) -> dict[str, object]:
    """The reader's `hello` (without type/id/v): who it is and what it can do."""
    return {"device": device_id, "version": __version__, "protocol": PROTOCOL_VERSION,
            "capabilities": list(capabilities), "max_line": MAX_LINE_BYTES}


# --- terminal -> reader --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pair:
    """Restarts the session: the terminal's "send me everything again" (a serial line's
    resync). Authentication is the TCP handshake's (daemon/link/channel.py), not this line's."""

    id: str


@dataclass(frozen=True, slots=True)
class Ack:
    """The terminal has stored the message `ref` (a result id): it is never sent again."""

    id: str
    ref: str


@dataclass(frozen=True, slots=True)
class Challenge:
    """For the session `session` (the id the reader's `status` announced; None: the one on
    screen). Its length is the engine's to judge, so a refusal is audited."""

    id: str
    challenge: bytes
    session: str | None = None


@dataclass(frozen=True, slots=True)
class PasscodeIssue:
    id: str
    code: Secret


@dataclass(frozen=True, slots=True)
class ConfigUpdate:
    id: str
    settings: Mapping[str, object]


TerminalMessage = Pair | Ack | Challenge | PasscodeIssue | ConfigUpdate


# --- framing -------------------------------------------------------------------------------


def encode(message: Mapping[str, object]) -> bytes:
    """One line on the wire. `message` must already hold `type`, `id` and `v`."""
    line = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"
    if len(line) > MAX_LINE_BYTES:
        raise ValueError(f"a {message.get('type')} message of {len(line)} bytes exceeds the "
                         f"{MAX_LINE_BYTES}-byte line limit")
    return line


def outgoing(payload: Mapping[str, object], message_id: str) -> dict[str, object]:
    """`payload` (with its `type`) as a v1 message; a payload's own `id` (a result's) wins."""
    return {"id": message_id, **payload, "v": PROTOCOL_VERSION}


def decode_frame(line: bytes) -> dict[str, Any]:
    """Check the v1 envelope of one line (without its newline) and return the object."""
    if len(line) > MAX_LINE_BYTES:
        raise HostProtocolError(Fault.LINE_TOO_LONG, f"lines are at most {MAX_LINE_BYTES} bytes")
    try:
        obj = json.loads(line)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError: ValueError
        raise HostProtocolError(Fault.NOT_JSON, _json_detail(exc)) from None
    if not isinstance(obj, dict):
        raise HostProtocolError(Fault.NOT_OBJECT, "a line is one JSON object")
    raw_id = obj.get("id")
    ref = raw_id if isinstance(raw_id, str) and ID_RE.fullmatch(raw_id) else None
    if "id" not in obj:
        raise HostProtocolError(Fault.MISSING_FIELD, "id")
    if ref is None:
        raise HostProtocolError(Fault.BAD_FIELD, "id: 1-128 characters of A-Z a-z 0-9 . _ : -")
    if "v" not in obj:
        raise HostProtocolError(Fault.MISSING_FIELD, "v", ref)
    version = obj["v"]
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise HostProtocolError(Fault.UNSUPPORTED_VERSION,
                                f"this reader speaks v{PROTOCOL_VERSION}", ref)
    if not isinstance(obj.get("type"), str):
        raise HostProtocolError(Fault.MISSING_FIELD if "type" not in obj else Fault.BAD_FIELD,
                                "type", ref)
    return obj


def deserves_reply(line: bytes | None) -> bool:
    """Whether a refused line gets an `error` reply: never one that is itself an `error`, so
    two misconnected readers (or an echoing line) cannot bounce errors forever."""
    if line is None:
        return True
    try:
        obj = json.loads(line)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return True
    return not (isinstance(obj, dict) and obj.get("type") == "error")


def _json_detail(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):  # position only: the text may hold a passcode
        return f"{exc.msg} at character {exc.pos}"
    if isinstance(exc, RecursionError):  # "[[[[..." deeper than the parser's stack
        return "nested too deeply"
    return "not UTF-8 text"


class LineSplitter:
    """Cuts a byte stream into lines, bounding each one. A line over the limit yields one
    LINE_TOO_LONG error and is skipped up to its newline; the lines after it are intact."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes | HostProtocolError]:
        out: list[bytes | HostProtocolError] = []
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(self._buffer[:end]).removesuffix(b"\r")
            del self._buffer[:end + 1]
            if self._discarding:
                self._discarding = False
            elif len(line) > self.max_line:
                out.append(_too_long(self.max_line))
            elif line.strip():
                out.append(line)
        if len(self._buffer) > self.max_line:
            self._buffer.clear()
            if not self._discarding:
                self._discarding = True
                out.append(_too_long(self.max_line))
        return out


def _too_long(limit: int) -> HostProtocolError:
    return HostProtocolError(Fault.LINE_TOO_LONG, f"lines are at most {limit} bytes")


# --- terminal -> reader: parsing -----------------------------------------------------------


def parse_terminal_line(line: bytes) -> TerminalMessage:
    """A line from the terminal as a typed message, or HostProtocolError."""
    obj = decode_frame(line)
    kind, msg_id = obj["type"], obj["id"]
    if kind == "pair":
        return Pair(msg_id)
    if kind == "ack":
        ref = _field(obj, "ref", str, msg_id)
        if not ID_RE.fullmatch(ref):
            raise HostProtocolError(Fault.BAD_FIELD, "ref: an id", msg_id)
        return Ack(msg_id, ref)
    if kind == "challenge":
        challenge = b64decode_field(obj, "challenge", msg_id)
        session = obj.get("session")
        if session is not None and not (isinstance(session, str) and ID_RE.fullmatch(session)):
            raise HostProtocolError(Fault.BAD_FIELD, "session: an id or null", msg_id)
        return Challenge(msg_id, challenge, session)
    if kind == "passcode.issue":
        try:
            code = parse_passcode(_field(obj, "passcode", str, msg_id))
        except PasscodeFormatError:
            raise HostProtocolError(Fault.BAD_FIELD, "passcode: 4 digits (0-9)",
                                    msg_id) from None
        return PasscodeIssue(msg_id, code)
    if kind == "config":
        return ConfigUpdate(msg_id, _field(obj, "settings", dict, msg_id))
    raise HostProtocolError(Fault.UNKNOWN_TYPE,
                            "expected pair, ack, challenge, passcode.issue or config", msg_id)


def _field(obj: Mapping[str, object], name: str, kind: type[_T], ref: str) -> _T:
    if name not in obj:
        raise HostProtocolError(Fault.MISSING_FIELD, name, ref)
    value = obj[name]
    if not isinstance(value, kind):
        raise HostProtocolError(Fault.BAD_FIELD, f"{name}: a {_JSON_NAMES[kind]}", ref)
    return value


_JSON_NAMES: dict[type, str] = {str: "string", dict: "JSON object", list: "JSON array"}


def b64decode_field(obj: Mapping[str, object], name: str, ref: str) -> bytes:
    try:
        return base64.b64decode(_field(obj, name, str, ref), validate=True)
    except (binascii.Error, ValueError):
        raise HostProtocolError(Fault.BAD_FIELD, f"{name}: base64", ref) from None
