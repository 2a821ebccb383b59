"""The audit log: one JSON line per confirmation and per staff-mode entry, exit and lockout.

A line holds the time, the event, the mode, the method, the outcome, the session id, the
certificate's short fingerprint and an error code: no name, no My Number, no PIN, no
passcode, no photo can be written, because `AuditRecord` has no field that could hold one.
Each line is appended with one write(2) and fsync'd; a line torn by a crash is cut at start.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from myna_reader.daemon.engine import AuditRecord
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.store.files import append_line, trim_torn_tail

AUDIT_FILE = "audit.jsonl"


def audit_line(record: AuditRecord, wall: float) -> dict[str, object]:
    stamp = datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")
    line: dict[str, object] = {
        "time": stamp.replace("+00:00", "Z"),
        "event": record.event.value,
        "mode": None if record.mode is None else record.mode.value,
        "method": None if record.method is None else record.method.value,
        "outcome": record.outcome,
        "session": record.session_id,
        "cert": record.cert_fingerprint,
        "code": record.error_code,
    }
    if record.release is not None:
        line["release"] = record.release
    if record.challenge_sha256 is not None:
        line["challenge_sha256"] = record.challenge_sha256
    if record.reason is not None:
        line["reason"] = record.reason
    return line


class AuditError(DaemonError):
    """The audit log cannot be written or read (a full disk, EIO, permissions)."""


class AuditLog:
    """`owner` (uid, gid): the service's user, for a root process (the updater) that appends
    here; the file is then opened as a plain file only and handed over by descriptor."""

    def __init__(self, state_dir: Path, clock: Callable[[], float] = time.time,
                 owner: tuple[int, int] | None = None) -> None:
        self.path = Path(state_dir) / AUDIT_FILE
        self.clock = clock
        self.owner = owner
        self.torn_bytes_removed: int | None = None  # None: the torn tail is not cut yet
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise AuditError(f"audit log {self.path}: {exc.strerror or exc}") from None
        # a file the reader cannot open now (EACCES, EIO) must not keep it from starting:
        # the first append cuts the tail instead, and its AuditError names the fault
        with contextlib.suppress(OSError):
            self.torn_bytes_removed = trim_torn_tail(self.path)

    def append(self, record: AuditRecord) -> dict[str, object]:
        line = audit_line(record, self.clock())
        data = json.dumps(line, ensure_ascii=True, separators=(",", ":")) + "\n"
        try:
            if self.torn_bytes_removed is None:  # a line after a torn one would be lost
                self.torn_bytes_removed = trim_torn_tail(self.path)
            append_line(self.path, data.encode("ascii"), owner=self.owner)
        except OSError as exc:  # ENOSPC, EIO, EACCES: the caller decides what may go on
            raise AuditError(f"audit log: cannot append ({exc.strerror or exc})") from None
        return line

    def read(self) -> list[dict[str, object]]:
        """Every whole line; a corrupt one is skipped, never fatal."""
        try:
            text = self.path.read_bytes().decode("ascii", "replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise AuditError(f"audit log: cannot read ({exc.strerror or exc})") from None
        lines: list[dict[str, object]] = []
        for raw in text.splitlines():
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                lines.append(parsed)
        return lines
