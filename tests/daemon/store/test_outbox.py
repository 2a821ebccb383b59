"""The durable outbox on a real SQLite file: ack by id, restarts, TTL expiry with audit."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.outbox import EXPIRED_OUTCOME, Outbox, OutboxError
from tests.daemon.link.support import make_result, make_signer

SIGNER = make_signer()


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_results_wait_until_acked_and_keep_their_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    for i in range(3):
        assert outbox.put(make_result(f"s-{i}", SIGNER))
    assert [p.id for p in outbox.pending()] == ["s-0", "s-1", "s-2"]
    assert outbox.pending()[0].wire == make_result("s-0", SIGNER).to_wire()
    assert outbox.ack("s-1")
    assert [p.id for p in outbox.pending()] == ["s-0", "s-2"]
    assert len(outbox) == 2


def test_duplicate_acks_and_resubmits_change_nothing(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    result = make_result("s-1", SIGNER, challenge=b"c" * 32)
    assert outbox.put(result)
    assert not outbox.put(result)  # already pending
    assert outbox.ack("s-1")
    assert not outbox.ack("s-1")
    assert not outbox.ack("never-sent")
    assert not outbox.put(result)  # delivered ids are remembered
    assert outbox.pending() == []


def test_pending_results_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "outbox.sqlite3"
    first = Outbox(path)
    first.put(make_result("s-1", SIGNER))
    first.put(make_result("s-2", SIGNER))
    first.ack("s-1")
    # no close(): a SIGKILL gives none either
    second = Outbox(path)
    assert [p.id for p in second.pending()] == ["s-2"]
    assert not second.put(make_result("s-1", SIGNER))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_expired_results_leave_with_an_audit_line(tmp_path: Path) -> None:
    clock = Clock()
    audit = AuditLog(tmp_path, clock=clock)
    outbox = Outbox(tmp_path / "outbox.sqlite3", audit=audit, ttl_s=3600, clock=clock)
    outbox.put(make_result("old-visual", SIGNER))
    outbox.put(make_result("old-pin", SIGNER, challenge=b"c" * 32))
    clock.now += 1800
    outbox.put(make_result("fresh", SIGNER))
    clock.now += 1801
    assert outbox.expire() == ["old-visual", "old-pin"]
    assert [p.id for p in outbox.pending()] == ["fresh"]
    lines = audit.read()
    assert [(a["session"], a["outcome"], a["method"], a["mode"]) for a in lines] == [
        ("old-visual", EXPIRED_OUTCOME, "visual", "staff"),
        ("old-pin", EXPIRED_OUTCOME, "pin", "unattended")]
    assert lines[0]["cert"] == make_result("x", SIGNER).certificate_fingerprint
    assert outbox.expire() == []
    assert len(audit.read()) == 2


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="cannot open the outbox"):
        Outbox(path)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    Outbox(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(OutboxError, match="schema 99"):
        Outbox(path)
