"""Logging for the daemon: journald under systemd, stderr with levels elsewhere.

Under systemd stderr is connected to the journal (JOURNAL_STREAM names that stream), and
journald reads a leading `<N>` as the line's syslog priority, so priorities survive with no
extra dependency and no socket of our own; the journal adds the time, the unit and the pid.
Elsewhere lines carry a time and a level name.

Structure: `log.info("card inserted", extra=fields(reader=name))` renders as
`card inserted reader="ACS ACR39U"`: key=value pairs a technician can grep and
`journalctl -o cat` keeps.

Personal data is never passed to a logger (DESIGN.md). As a safety net every formatted line,
tracebacks included, is passed through `redact`: any run of exactly 12 digits (the length of
a My Number) and the value after `pin=`, `passcode=`, `password=` or `token=` (the link's
pairing token) are masked.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
from typing import TextIO

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO,
          "warning": logging.WARNING, "error": logging.ERROR}
# syslog(3) priorities, which journald parses from a `<N>` prefix on a stream line
_SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4,
                    logging.ERROR: 3, logging.CRITICAL: 2}
_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")
_SECRET_VALUE = re.compile(
    r"(?i)\b(pin|passcode|password|token)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)")
_PLAIN_VALUE = re.compile(r"[^\s\"=]+")
FIELDS_ATTR = "fields"
JOURNAL_FORMAT = "%(name)s: %(message)s"  # journald adds the time, unit and pid
TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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


class StructuredFormatter(logging.Formatter):
    """The message, its key=value fields, then redaction of the whole text."""

    def __init__(self, *, journal: bool) -> None:
        super().__init__(JOURNAL_FORMAT if journal else TERMINAL_FORMAT)
        self._journal = journal

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        text = super().formatMessage(record)
        values = getattr(record, FIELDS_ATTR, None)
        if isinstance(values, Mapping) and values:
            text = f"{text} {render_fields(values)}"
        return text

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        if not self._journal:
            return text
        # every line of a traceback gets the priority, or journald files it as info
        prefix = f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in text.split("\n"))


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
                  environ: Mapping[str, str] | None = None) -> logging.Handler:
    """Route the root logger to `stream` (stderr), formatted for journald when it is one.

    Replaces any handler set before (the CLI's early basicConfig). Returns the handler.
    """
    target = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(target)
    handler.setFormatter(StructuredFormatter(journal=stream_is_journal(target, environ)))
    logging.basicConfig(level=LEVELS[level], handlers=[handler], force=True)
    return handler
