"""What a technician sees of the sessions: one structured journal line per session event.

Every audit record (a confirmation's outcome with its method and error code, staff-mode entry,
exit and lockout, updates) and every engine `Note` (the method, a wrong PIN or passcode, a
deadline's countdown, 続ける, a time-out, the terminal coming or going) becomes one log line
on the `myna_reader.session` logger, with its fields as `MYNA_*` journal fields
(daemon/runtime/logs.py):

    journalctl -u myna-reader MYNA_EVENT=pin-wrong        # every wrong PIN
    journalctl -u myna-reader MYNA_CODE=113 -o json       # refusals for want of a terminal

Nothing personal reaches these lines: the engine's notes and audit records hold ids, codes,
counts and screen names only, and this module leaves out even the certificate's fingerprint
and the challenge's hash that the audit log keeps for the terminal's reconciliation.
"""

from __future__ import annotations

import logging

from myna_reader.daemon.engine import (
    BY_CODE,
    AuditEvent,
    AuditOutcome,
    AuditRecord,
    Note,
    NoteEvent,
)
from myna_reader.daemon.runtime.logs import fields

log = logging.getLogger("myna_reader.session")

_QUIET_OUTCOMES = {AuditOutcome.CONFIRMED, AuditOutcome.ENTERED, AuditOutcome.CANCELLED,
                   AuditOutcome.IDLE, AuditOutcome.TIMEOUT, AuditOutcome.INSTALLED,
                   AuditOutcome.SIGNING}


def _drop_none(**values: object) -> dict[str, object]:
    return {key: value for key, value in values.items() if value is not None}


def _tries(count: int | None) -> str:
    return f"{count} try" if count == 1 else f"{count} tries"


def _note_text(note: Note) -> str:
    screen = None if note.screen is None else note.screen.value
    match note.event:
        case NoteEvent.METHOD:
            return f"method {note.method}"
        case NoteEvent.PIN_WRONG:
            return f"PIN wrong, {_tries(note.tries_left)} left"
        case NoteEvent.PASSCODE_WRONG:
            return f"staff passcode wrong, {_tries(note.tries_left)} before the lock"
        case NoteEvent.COUNTDOWN:
            return f"{screen} screen ends in {note.seconds} s unless continued"
        case NoteEvent.CONTINUED:
            return f"{screen} screen continued"
        case NoteEvent.TIMED_OUT:
            return f"{screen} screen timed out"
        case NoteEvent.TERMINAL:
            return ("terminal connected" if note.connected
                    else "terminal away: no unattended confirmation until it is back")
        case NoteEvent.VOICE:
            return "guided by voice: the patient's screens wait longer for this session"


def noted(note: Note) -> None:
    level = logging.WARNING if note.event is NoteEvent.TERMINAL and not note.connected \
        else logging.INFO
    terminal = None if note.connected is None else ("connected" if note.connected else "away")
    log.log(level, _note_text(note), extra=fields(**_drop_none(
        event=note.event.value, session=note.session_id,
        screen=None if note.screen is None else note.screen.value,
        method=None if note.method is None else note.method.value,
        tries_left=note.tries_left, seconds=note.seconds, terminal=terminal)))


def _audit_text(record: AuditRecord) -> str:
    code = BY_CODE.get(record.error_code or "")
    match record.event:
        case AuditEvent.CONFIRMATION:
            detail = f" {code.code} {code.key}" if code is not None else ""
            return f"confirmation {record.outcome.value}{detail}"
        case AuditEvent.STAFF_ENTER:
            return "staff mode entered"
        case AuditEvent.STAFF_EXIT:
            return f"staff mode ended ({record.outcome.value})"
        case AuditEvent.STAFF_LOCKOUT:
            return "staff entry locked after wrong passcodes"
        case _:
            release = f" {record.release}" if record.release else ""
            return f"{record.event.value} {record.outcome.value}{release}"


def audited(record: AuditRecord) -> None:
    level = logging.INFO if record.outcome in _QUIET_OUTCOMES else logging.WARNING
    code = BY_CODE.get(record.error_code or "")
    log.log(level, _audit_text(record), extra=fields(**_drop_none(
        event=record.event.value, outcome=record.outcome.value, session=record.session_id,
        mode=None if record.mode is None else record.mode.value,
        method=None if record.method is None else record.method.value,
        code=record.error_code, code_key=None if code is None else code.key,
        release=record.release)))
