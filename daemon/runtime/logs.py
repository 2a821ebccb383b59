"""Logging for the daemon: journal entries with fields under systemd, stderr with levels elsewhere.

Under systemd (stderr is the stream JOURNAL_STREAM names) every record goes to journald over
its native protocol (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/): one datagram per entry on
/run/systemd/journal/socket, with PRIORITY, MESSAGE, the logger and code location, and every
structured field as a `MYNA_*` field, so `journalctl -u myna-reader MYNA_EVENT=pin-wrong`
selects and `journalctl -o json` shows them. No library is needed for that: it is a few
lines over an AF_UNIX socket. Should the socket be missing, stderr still carries each line
with a leading `<N>` that journald reads as its syslog priority. Elsewhere lines carry a time
and a level name.

Structure: `log.info("card inserted", extra=fields(reader=name))` renders as
`card inserted reader="ACS ACR39U"` (key=value pairs a technician can grep and
`journalctl -o cat` keeps) and, in the journal, adds `MYNA_READER=ACS ACR39U`.

Only the daemon's own loggers (`myna_reader.*`) speak below warning: a library's info and
debug records (fontTools, PIL, nfc, usb ...) are dropped at every level, so `-vv` shows the
daemon's APDU trace and not a font parser's.

Personal data is never passed to a logger (docs/security.md). As a safety net every formatted
line, tracebacks and journal fields included, is passed through `redact`: any run of exactly
12 digits standing alone (the length of a My Number) and the value after `pin=`,
`passcode=`, `password=` or `token=` (the link's pairing token) are masked.
"""

from __future__ import annotations

import array
import errno
import fcntl
import logging
import os
import re
import socket
import struct
import sys
from collections.abc import Mapping
from typing import TextIO

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO,
          "warning": logging.WARNING, "error": logging.ERROR}
# syslog(3) priorities, which journald takes from PRIORITY= or a `<N>` prefix on a stream line
_SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4,
                    logging.ERROR: 3, logging.CRITICAL: 2}
# 12 digits standing alone: a hex id (a session's uuid) may hold such a run, and stays whole
_TWELVE_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")
_SECRET_VALUE = re.compile(
    r"(?i)\b(pin|passcode|password|token)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)")
_PLAIN_VALUE = re.compile(r"[^\s\"=]+")
_FIELD_NAME = re.compile(r"[^A-Z0-9_]")
FIELDS_ATTR = "fields"
OWN_LOGGER = "myna_reader"
JOURNAL_FORMAT = "%(name)s: %(message)s"  # journald adds the time, unit and pid
TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "myna-reader"
FIELD_PREFIX = "MYNA_"


def redact(text: str) -> str:
    """`text` with 12-digit runs and pin/passcode/password/token values masked."""
    text = _TWELVE_DIGITS.sub("*" * 12, text)
    return _SECRET_VALUE.sub(r"\1\2***", text)


def fields(**values: object) -> dict[str, Mapping[str, object]]:
    """The `extra` of a structured log call: `log.info("msg", extra=fields(k=v))`."""
    return {FIELDS_ATTR: values}


def render_fields(values: Mapping[str, object]) -> str:
    """`k=v` pairs; values with spaces, quotes or '=' are quoted."""
    parts = []
    for key, value in values.items():
        text = str(value)
        if not _PLAIN_VALUE.fullmatch(text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


def _fields_of(record: logging.LogRecord) -> Mapping[str, object]:
    values = getattr(record, FIELDS_ATTR, None)
    return values if isinstance(values, Mapping) else {}


class OwnRecordsOnly(logging.Filter):
    """Below warning, only the daemon's own records pass: no library chatter at any level."""

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.levelno >= logging.WARNING or record.name == OWN_LOGGER
                or record.name.startswith(OWN_LOGGER + "."))


class StructuredFormatter(logging.Formatter):
    """The message, its key=value fields, then redaction of the whole text."""

    def __init__(self, *, journal: bool, fmt: str | None = None) -> None:
        super().__init__(fmt or (JOURNAL_FORMAT if journal else TERMINAL_FORMAT))
        self._journal = journal

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        text = super().formatMessage(record)
        values = _fields_of(record)
        if values:
            text = f"{text} {render_fields(values)}"
        return text

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        if not self._journal:
            return text
        # every line of a traceback gets the priority, or journald files it as info
        prefix = f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in text.split("\n"))


def field_name(key: str) -> str:
    """A journal field name for a structured key: `tries_left` -> `MYNA_TRIES_LEFT`."""
    return FIELD_PREFIX + _FIELD_NAME.sub("_", key.upper())


def encode_entry(entry: Mapping[str, str]) -> bytes:
    """One journal entry in the native protocol: `KEY=value` lines, and the binary form
    (KEY, newline, little-endian 64-bit length, value) for a value with a newline."""
    out = bytearray()
    for key, value in entry.items():
        data = value.encode("utf-8", "replace")
        if b"\n" in data:
            out += key.encode("ascii") + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode("ascii") + b"=" + data + b"\n"
    return bytes(out)


class JournalHandler(logging.Handler):
    """Each record as one journal entry, sent to journald's native socket."""

    def __init__(self, address: str = JOURNAL_SOCKET, identifier: str = IDENTIFIER) -> None:
        super().__init__()
        self.address = address
        self.identifier = identifier
        self._message = StructuredFormatter(journal=False, fmt="%(message)s")
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    def entry(self, record: logging.LogRecord) -> dict[str, str]:
        """The fields journald stores for `record` (every value redacted)."""
        entry = {
            "MESSAGE": self._message.format(record),
            "PRIORITY": str(_SYSLOG_PRIORITY.get(record.levelno, 6)),
            "SYSLOG_IDENTIFIER": self.identifier,
            "LOGGER": record.name,
            "THREAD_NAME": record.threadName or "",
            "CODE_FILE": record.pathname,
            "CODE_LINE": str(record.lineno),
            "CODE_FUNC": record.funcName or "",
        }
        for key, value in _fields_of(record).items():
            entry[field_name(key)] = redact(str(value))
        return entry

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.send(encode_entry(self.entry(record)))
        except Exception:  # noqa: BLE001  (logging's contract: a handler never raises)
            self.handleError(record)

    def send(self, payload: bytes) -> None:
        try:
            self._socket.sendto(payload, self.address)
        except OSError as exc:
            if exc.errno not in (errno.EMSGSIZE, errno.ENOBUFS):
                raise
            self._send_large(payload)

    def _send_large(self, payload: bytes) -> None:
        """An entry too big for one datagram goes as a sealed memfd (the protocol's way)."""
        fd = os.memfd_create("myna-reader-journal", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.write(fd, payload)
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW
                        | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL)
            self._socket.sendmsg([], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                       array.array("i", [fd]))], 0, self.address)
        finally:
            os.close(fd)

    def close(self) -> None:
        self._socket.close()
        super().close()


def stream_is_journal(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when `stream` is the journal stream systemd handed over (JOURNAL_STREAM=dev:ino)."""
    env = os.environ if environ is None else environ
    device, _, inode = env.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):  # a stream without a descriptor (tests, pytest capture)
        return False
    return (info.st_dev, info.st_ino) == (int(device), int(inode))


def setup_logging(level: str = "info", *, stream: TextIO | None = None,
                  environ: Mapping[str, str] | None = None,
                  journal_socket: str = JOURNAL_SOCKET) -> logging.Handler:
    """Route the root logger to journald's socket when stderr (`stream`) is the journal, and
    to that stream otherwise (formatted for the journal when it is one, for a person else).

    Replaces any handler set before (the CLI's early setup). Returns the handler.
    """
    target = sys.stderr if stream is None else stream
    journal = stream_is_journal(target, environ)
    handler: logging.Handler
    if journal and os.path.exists(journal_socket):
        handler = JournalHandler(journal_socket)
    else:
        handler = logging.StreamHandler(target)
        handler.setFormatter(StructuredFormatter(journal=journal))
    handler.addFilter(OwnRecordsOnly())
    logging.basicConfig(level=LEVELS[level], handlers=[handler], force=True)
    return handler
