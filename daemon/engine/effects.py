"""What the engine asks the world to do: card jobs, store jobs, screen, terminal, audit, cues,
deadlines. Host messages and audit records are values too; none can hold a PIN or passcode
except the three jobs that use one (SECRET_EFFECTS), and there only as a masked `Secret`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from myna_reader.daemon.engine.consent import ConsentAnswer
from myna_reader.daemon.engine.secret import Secret
from myna_reader.daemon.engine.views import View
from myna_reader.daemon.engine.vocabulary import (
    AuditEvent,
    AuditOutcome,
    Cue,
    Method,
    Mode,
    Phase,
    Screen,
)

# --- host messages -------------------------------------------------------------------------


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


@dataclass(frozen=True, slots=True)
class StatusMessage:
    mode: Mode
    screen: Screen
    reader: str | None
    staff_available: bool
    locked_until_wall: float | None

    def to_wire(self) -> dict[str, object]:
        return {"type": "status", "mode": self.mode.value, "screen": self.screen.value,
                "reader": self.reader, "staff_available": self.staff_available,
                "lockout": (None if self.locked_until_wall is None
                            else {"until": self.locked_until_wall})}


@dataclass(frozen=True, slots=True)
class ResultMessage:
    id: str
    method: Method
    certificate: bytes = field(repr=False)
    certificate_fingerprint: str
    challenge: bytes | None = field(repr=False)
    signature: bytes | None = field(repr=False)
    consents: tuple[ConsentAnswer, ...]
    started: float
    finished: float

    def to_wire(self) -> dict[str, object]:
        return {"type": "result", "id": self.id, "method": self.method.value,
                "certificate": _b64(self.certificate), "challenge": _b64(self.challenge),
                "signature": _b64(self.signature),
                "consents": [{"item": a.item.value, "agreed": a.agreed, "time": a.time}
                             for a in self.consents],
                "started": self.started, "finished": self.finished}


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    code: str
    session_id: str | None

    def to_wire(self) -> dict[str, object]:
        return {"type": "error", "code": self.code, "session": self.session_id}


HostMessage = StatusMessage | ResultMessage | ErrorMessage

# --- audit records -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What one audit line says; store/audit.py adds the time. No personal data fits in it."""

    event: AuditEvent
    mode: Mode | None  # None for events outside a session (updates)
    outcome: AuditOutcome
    session_id: str | None = None
    method: Method | None = None
    cert_fingerprint: str | None = None
    error_code: str | None = None
    release: str | None = None  # the version an update event concerns
    challenge_sha256: str | None = None  # a signature's challenge, hashed (hex)

# --- effects -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardJob:
    """Base of the jobs the runner executes with the card driver (or the camera)."""

    session_id: str


@dataclass(frozen=True, slots=True)
class ProbeCard(CardJob):
    """Token kind, certificate availability and, where the PIN may be asked, the auth PIN
    counter (no VERIFY). Staff mode never asks the PIN, so it skips the counter's 2 APDUs."""

    pin_counter: bool = True


@dataclass(frozen=True, slots=True)
class VerifyPin(CardJob):
    pin: Secret


@dataclass(frozen=True, slots=True)
class ReadCertificate(CardJob):
    pass


@dataclass(frozen=True, slots=True)
class Sign(CardJob):
    challenge: bytes


@dataclass(frozen=True, slots=True)
class MatchFace(CardJob):
    """Camera + chip photo comparison (where configured)."""


@dataclass(frozen=True, slots=True)
class ReleaseCard(CardJob):
    """Unpower the card: a verified PIN never outlives the session."""


@dataclass(frozen=True, slots=True)
class CheckPasscode:
    code: Secret


@dataclass(frozen=True, slots=True)
class StorePasscode:
    code: Secret


@dataclass(frozen=True, slots=True)
class Show:
    view: View


@dataclass(frozen=True, slots=True)
class SendToHost:
    message: HostMessage


@dataclass(frozen=True, slots=True)
class WriteAudit:
    record: AuditRecord


@dataclass(frozen=True, slots=True)
class PlayCue:
    cue: Cue


@dataclass(frozen=True, slots=True)
class SetDeadline:
    """Send a Tick at monotonic time `at` (None: no deadline pending)."""

    at: float | None


@dataclass(frozen=True, slots=True)
class Ignored:
    """An event that is illegal in this phase; the runner logs it (production mode)."""

    phase: Phase
    event: str
    reason: str


Effect = (
    CardJob | CheckPasscode | StorePasscode | Show | SendToHost | WriteAudit | PlayCue
    | SetDeadline | Ignored
)
SECRET_EFFECTS = (VerifyPin, CheckPasscode, StorePasscode)
