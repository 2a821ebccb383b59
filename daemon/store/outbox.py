"""The durable outbox: every confirmation result waits here until the terminal acks its id.

SQLite in WAL mode with synchronous=FULL: a `put` that returned survives a SIGKILL and a power
cut. A result leaves the outbox only by an ack of its id (then its id is remembered, so a
late duplicate ack or a re-submit of the same id changes nothing) or by expiry: a result
older than the TTL is dropped with an audit line, because an old confirmation must not reach
the terminal as if it were current. The payload is the result's wire form, which holds the
certificate the terminal needs and no name, PIN or passcode field.

`Outbox(None)` keeps the same tables in memory, for a reader whose file cannot be opened
(daemon/runtime/service.py `open_outbox`): its results live as long as the process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from myna_reader.daemon.engine import (
    AuditEvent,
    AuditOutcome,
    AuditRecord,
    Method,
    Mode,
    ResultMessage,
)
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.files import PRIVATE_FILE

OUTBOX_FILE = "outbox.sqlite3"
DEFAULT_TTL_S = 24 * 3600.0
EXPIRED_OUTCOME = AuditOutcome.UNDELIVERED_EXPIRED
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    method TEXT NOT NULL,
    cert TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS delivered (
    id TEXT PRIMARY KEY,
    acked REAL NOT NULL
);
"""


class OutboxError(DaemonError):
    """The outbox file cannot be opened or used (corrupt, unwritable, a newer schema)."""


@dataclass(frozen=True, slots=True)
class PendingResult:
    id: str
    wire: dict[str, Any]  # ResultMessage.to_wire()
    created: float  # wall clock when it was put


class Outbox:
    """Thread-safe: the runner puts, the link's threads read and ack."""

    def __init__(self, path: Path | None, audit: AuditLog | None = None,
                 ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.time) -> None:
        """`path` None: in memory, for a reader whose outbox file cannot be opened."""
        if ttl_s <= 0:
            raise ValueError("the outbox TTL must be positive")
        self.path = None if path is None else Path(path)
        self.audit = audit
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        try:
            if self.path is not None:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW,
                                 PRIVATE_FILE))
            self._db = sqlite3.connect(":memory:" if self.path is None else self.path,
                                       isolation_level=None, check_same_thread=False,
                                       timeout=5.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise OutboxError(f"{OUTBOX_FILE} has schema {version}; this release knows "
                                  f"{SCHEMA_VERSION} (roll the update back or move the file)")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"cannot open the outbox {self.path}: {exc}") from exc

    @classmethod
    def in_state_dir(cls, state_dir: Path, audit: AuditLog | None = None,
                     ttl_s: float = DEFAULT_TTL_S) -> Outbox:
        return cls(Path(state_dir) / OUTBOX_FILE, audit, ttl_s)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise OutboxError(f"outbox: {exc}") from exc

    def put(self, result: ResultMessage) -> bool:
        """Store `result` durably. False if its id is already pending or was delivered."""
        payload = json.dumps(result.to_wire(), separators=(",", ":"))
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM delivered WHERE id=?", (result.id,)).fetchone():
                return False
            cursor = db.execute(
                "INSERT INTO pending (id, created, method, cert, payload) VALUES (?,?,?,?,?) "
                "ON CONFLICT(id) DO NOTHING",
                (result.id, self.clock(), result.method.value, result.certificate_fingerprint,
                 payload))
            return cursor.rowcount == 1

    def pending(self) -> list[PendingResult]:
        """Every unacked result, oldest first."""
        with self._transaction() as db:
            rows = db.execute("SELECT id, payload, created FROM pending ORDER BY seq").fetchall()
        return [PendingResult(row[0], json.loads(row[1]), row[2]) for row in rows]

    def ack(self, result_id: str) -> bool:
        """Mark `result_id` delivered. True if it was pending (a duplicate ack returns False)."""
        with self._transaction() as db:
            deleted = db.execute("DELETE FROM pending WHERE id=?", (result_id,)).rowcount
            if deleted:
                db.execute("INSERT OR REPLACE INTO delivered (id, acked) VALUES (?,?)",
                           (result_id, self.clock()))
        return bool(deleted)

    def is_pending(self, result_id: str) -> bool:
        with self._transaction() as db:
            row = db.execute("SELECT 1 FROM pending WHERE id=?", (result_id,)).fetchone()
        return row is not None

    def expire(self) -> list[str]:
        """Drop results older than the TTL, one audit line each (written before the row goes:
        a crash in between repeats a line rather than losing one). Returns their ids."""
        cutoff = self.clock() - self.ttl_s
        with self._transaction() as db:
            rows = db.execute("SELECT id, method, cert FROM pending WHERE created < ? "
                              "ORDER BY seq", (cutoff,)).fetchall()
            for result_id, method, cert in rows:
                if self.audit is not None:
                    self.audit.append(_expiry_record(result_id, Method(method), cert))
                db.execute("DELETE FROM pending WHERE id=?", (result_id,))
            # a remembered id older than the TTL can no longer be re-submitted by anyone
            db.execute("DELETE FROM delivered WHERE acked < ?", (cutoff,))
        return [row[0] for row in rows]

    def __len__(self) -> int:
        with self._transaction() as db:
            count: int = db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]
        return count

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _expiry_record(result_id: str, method: Method, cert: str) -> AuditRecord:
    mode = Mode.STAFF if method is Method.VISUAL else Mode.UNATTENDED
    return AuditRecord(event=AuditEvent.CONFIRMATION, mode=mode, outcome=EXPIRED_OUTCOME,
                       session_id=result_id, method=method, cert_fingerprint=cert)
