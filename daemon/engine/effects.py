"""What the engine asks the world to do: card jobs, store jobs, screen, terminal, audit, cues,
deadlines. Host messages and audit records are values too; none can hold a PIN or passcode
except the two jobs that use one (SECRET_EFFECTS), and there only as a masked `Secret`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date

from myna_reader.daemon.engine.consent import ConsentAnswer
from myna_reader.daemon.engine.secret import Secret
from myna_reader.daemon.engine.views import Ending, Sound, View
from myna_reader.daemon.engine.vocabulary import (
    AuditEvent,
    AuditOutcome,
    CertificateLife,
    Credential,
    Cue,
    Method,
    Mode,
    NoteEvent,
    Phase,
    Prescription,
    Screen,
    TokenKind,
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
    ended: Ending | None = None  # why the last screen ended on its own (a timeout, idle)
    session_id: str | None = None  # the card session on screen
    challenge_wanted: bool = False  # that session takes the terminal's challenge now

    def to_wire(self) -> dict[str, object]:
        return {"type": "status", "mode": self.mode.value, "screen": self.screen.value,
                "session": self.session_id, "challenge_wanted": self.challenge_wanted,
                "reader": self.reader, "staff_available": self.staff_available,
                "lockout": (None if self.locked_until_wall is None
                            else {"until": self.locked_until_wall}),
                "ended": (None if self.ended is None else
                          {"reason": self.ended.reason.value, "screen": self.ended.screen.value})}


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
    token: TokenKind
    certificate_life: CertificateLife
    certificate_expiry: date
    prescription: Prescription | None = None

    @property
    def qualification_only(self) -> bool:
        return self.certificate_life is CertificateLife.GRACE

    def to_wire(self) -> dict[str, object]:
        return {"type": "result", "id": self.id, "method": self.method.value,
                "token": self.token.value,
                "certificate": _b64(self.certificate), "challenge": _b64(self.challenge),
                "signature": _b64(self.signature),
                "certificate_life": self.certificate_life.value,
                "certificate_expiry": self.certificate_expiry.isoformat(),
                "qualification_only": self.qualification_only,
                "consents": [{"item": a.item.value, "flags": list(a.item.flags),
                              "agreed": a.agreed, "time": a.time,
                              "available_until": a.available_until}
                             for a in self.consents],
                "prescription": None if self.prescription is None else self.prescription.value,
                "started": self.started, "finished": self.finished}


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    code: str
    session_id: str | None
    ref: str | None = None  # the terminal message it answers (a refused challenge)

    def to_wire(self) -> dict[str, object]:
        wire: dict[str, object] = {"type": "error", "code": self.code, "session": self.session_id}
        if self.ref is not None:
            wire["ref"] = self.ref
        return wire


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
    reason: str | None = None  # why a terminal's challenge was refused (handlers.py)
    volume: int | None = None  # a technician's volume setting, in percent

# --- effects -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardJob:
    """Base of the jobs the runner executes with the card driver (or the camera)."""

    session_id: str


@dataclass(frozen=True, slots=True)
class ProbeCard(CardJob):
    """Token kind and certificate availability: what the flow depends on first."""


@dataclass(frozen=True, slots=True)
class ReadPinCounter(CardJob):
    """The auth PIN's retry counter, without VERIFY: asked only where the PIN pad will be
    shown, and on a card only once its certificate is known to be usable."""


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
    """Check `code` against the store of `credential` (the staff passcode or the technician
    code); answered by a PasscodeChecked of the same credential."""

    code: Secret
    credential: Credential = Credential.STAFF


@dataclass(frozen=True, slots=True)
class SaveSound:
    """Keep the technician's voice and volume settings for the next start."""

    sound: Sound


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
class Note:
    """A session event for the technician's journal (daemon/runtime/session_log.py). Ids,
    screens, counts and codes only: nothing personal fits in it."""

    event: NoteEvent
    session_id: str | None = None
    screen: Screen | None = None
    method: Method | None = None
    tries_left: int | None = None
    seconds: int | None = None
    connected: bool | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """An event that is illegal in this phase; the runner logs it (production mode)."""

    phase: Phase
    event: str
    reason: str


Effect = (
    CardJob | CheckPasscode | SaveSound | Show | SendToHost | WriteAudit | PlayCue
    | SetDeadline | Note | Ignored
)
SECRET_EFFECTS = (VerifyPin, CheckPasscode)
