"""The session engine's vocabulary: phases, events, the session and the engine state.

All values are frozen. A PIN or passcode only ever travels inside a `Secret` (masked repr).
Effects, host messages and audit records are in session_effects; view models in session_views.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from myna_reader.daemon.engine.consent import ConsentAnswer
from myna_reader.daemon.engine.error_codes import CardErrorKind
from myna_reader.daemon.engine.secret import EMPTY_SECRET, Secret
from myna_reader.daemon.engine.settings import SessionConfig

if TYPE_CHECKING:
    from myna_reader.daemon.engine.effects import StatusMessage
    from myna_reader.daemon.engine.views import View

PIN_LENGTH = 4
PASSCODE_LENGTH = 4


class Mode(StrEnum):
    UNATTENDED = "unattended"  # 無人運転 (face or PIN)
    STAFF = "staff"  # 目視確認モード


class Screen(StrEnum):
    """Screen ids: part of the interface (view models, host `status`, `myna-reader screens`)."""

    NO_READER = "no-reader"
    STANDBY = "standby"
    READING = "reading"
    METHOD = "method"
    PIN = "pin"
    STAFF_PASSCODE = "staff-passcode"
    STAFF_LOCKED = "staff-locked"
    STAFF_STANDBY = "staff-standby"
    CONSENT = "consent"
    DONE = "done"
    ERROR = "error"
    TECHNICIAN = "technician"


class Phase(StrEnum):
    """The engine's state kinds. Several phases share a screen (e.g. every card job: reading)."""

    NO_READER = "no-reader"
    STANDBY = "standby"
    PROBING = "probing"
    METHOD = "method"
    MATCHING_FACE = "matching-face"
    PIN = "pin"
    VERIFYING = "verifying"
    READING_CERT = "reading-cert"
    AWAITING_CHALLENGE = "awaiting-challenge"
    SIGNING = "signing"
    CONSENT = "consent"
    DONE = "done"
    ERROR = "error"
    STAFF_PASSCODE = "staff-passcode"
    CHECKING_PASSCODE = "checking-passcode"
    STAFF_LOCKED = "staff-locked"
    STAFF_STANDBY = "staff-standby"
    TECHNICIAN = "technician"


class Button(StrEnum):
    """Button ids a touch (or key) becomes; keypad digits are `DigitPressed`."""

    STAFF = "staff"  # 職員用
    CANCEL = "cancel"  # 中止
    METHOD_FACE = "method-face"
    METHOD_PIN = "method-pin"
    DELETE = "delete"  # keypad: remove the last digit
    OK = "ok"
    BACK = "back"
    AGREE = "agree"  # 同意する
    DISAGREE = "disagree"  # 同意しない
    TECHNICIAN = "technician"  # the hidden technician gesture, normalised by the UI


class TokenKind(StrEnum):
    PLASTIC_CARD = "plastic-card"  # JPKIAPICCTOKEN2
    ANDROID = "android"  # JPKIAPGPSETOKEN: the auth PIN comes before the certificate
    IPHONE = "iphone"  # JPKIAPIOSTOKEN


class Method(StrEnum):
    PIN = "pin"
    FACE = "face"
    VISUAL = "visual"  # staff visual check


class FacePrompt(StrEnum):
    """What the patient is asked to do while face authentication runs (reading screen)."""

    SHOW_CARD = "show-card"  # the card camera is reading the card face
    STRAIGHTEN_CARD = "straighten-card"  # the card face was not read with confidence
    LOOK_STRAIGHT = "look-straight"
    TURN_LEFT = "turn-left"  # the patient's own left
    TURN_RIGHT = "turn-right"


class FaceFailure(StrEnum):
    """Why face authentication did not confirm the patient (no personal data)."""

    NO_MATCH = "no-match"  # the live face is not the chip photo's
    NOT_LIVE = "not-live"  # the head-turn challenge was not followed
    CARD_UNREAD = "card-unread"  # 照合番号B could not be read with confidence
    CARD_REFUSED = "card-refused"  # 照合番号B refused, its tries low, or the 券面AP closed
    UNAVAILABLE = "unavailable"  # a camera or the model failed

    @property
    def final(self) -> bool:
        """Another face attempt on this card would fail the same way."""
        return self in (FaceFailure.CARD_REFUSED, FaceFailure.UNAVAILABLE)


class PinOutcome(StrEnum):
    OK = "ok"
    INCORRECT = "incorrect"
    BLOCKED = "blocked"


class Cue(StrEnum):
    CARD_DETECTED = "card-detected"
    ONE_TRY_LEFT = "one-try-left"
    ERROR = "error"
    DONE = "done"


class AuditEvent(StrEnum):
    CONFIRMATION = "confirmation"
    STAFF_ENTER = "staff-enter"
    STAFF_EXIT = "staff-exit"
    STAFF_LOCKOUT = "staff-lockout"
    UPDATE = "update"  # an install, rollback or refused bundle (daemon.update_install)

# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReaderAttached:
    name: str


@dataclass(frozen=True, slots=True)
class ReaderDetached:
    pass


@dataclass(frozen=True, slots=True)
class CardPlaced:
    """`session_id` is unique per placement (the runner makes it: boot id + counter);
    `wall_time` (epoch seconds) anchors every wall-clock time of the session."""

    session_id: str
    wall_time: float


@dataclass(frozen=True, slots=True)
class CardRemoved:
    pass


@dataclass(frozen=True, slots=True)
class Pressed:
    button: Button


@dataclass(frozen=True, slots=True)
class DigitPressed:
    digit: int


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed; the runner sends one at (or after) the deadline of the last SetDeadline."""


@dataclass(frozen=True, slots=True)
class CardProbed:
    """ProbeCard's answer. `pin_tries` is the auth PIN's counter read without VERIFY:
    0 = blocked, None = no PIN set (顔認証マイナンバーカード)."""

    session_id: str
    token: TokenKind
    auth_cert: bool
    pin_tries: int | None


@dataclass(frozen=True, slots=True)
class PinVerified:
    session_id: str
    outcome: PinOutcome
    tries_left: int


@dataclass(frozen=True, slots=True)
class CertificateRead:
    session_id: str
    der: bytes = field(repr=False)
    fingerprint: str  # short SHA-256 (drivers.certificate.CertificateInfo.short_fingerprint)
    expired: bool


@dataclass(frozen=True, slots=True)
class Signed:
    session_id: str
    signature: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class FaceMatched:
    session_id: str
    ok: bool
    failure: FaceFailure | None = None  # set when not ok


@dataclass(frozen=True, slots=True)
class FaceGuidance:
    """The face job's progress: what the patient must do now (the job is still running)."""

    session_id: str
    prompt: FacePrompt


@dataclass(frozen=True, slots=True)
class CardJobFailed:
    session_id: str
    error: CardErrorKind


@dataclass(frozen=True, slots=True)
class ChallengeReceived:
    """The terminal's challenge, signed with the auth key in PIN mode (used once)."""

    challenge: bytes


@dataclass(frozen=True, slots=True)
class PasscodeIssued:
    """The terminal's `passcode.issue`: the engine hands it to the store (StorePasscode)."""

    code: Secret


@dataclass(frozen=True, slots=True)
class PasscodeChecked:
    """The store's answer to CheckPasscode. `locked_for_s` > 0 while staff entry is locked."""

    ok: bool
    failures_left: int
    locked_for_s: float = 0.0
    locked_until_wall: float | None = None


@dataclass(frozen=True, slots=True)
class PasscodeStatus:
    """The store's state: sent at start and after every issue or clear."""

    provisioned: bool
    locked_for_s: float = 0.0
    locked_until_wall: float | None = None


Event = (
    ReaderAttached | ReaderDetached | CardPlaced | CardRemoved | Pressed | DigitPressed | Tick
    | CardProbed | PinVerified | CertificateRead | Signed | FaceMatched | FaceGuidance
    | CardJobFailed | ChallengeReceived | PasscodeIssued | PasscodeChecked | PasscodeStatus
)
JobResult = (CardProbed | PinVerified | CertificateRead | Signed | FaceMatched | FaceGuidance
             | CardJobFailed)
JOB_RESULTS = (CardProbed, PinVerified, CertificateRead, Signed, FaceMatched, FaceGuidance,
               CardJobFailed)


# --- state ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    """One card placement, from CardPlaced to its end."""

    id: str
    mode: Mode
    started_wall: float
    started_mono: float
    token: TokenKind | None = None
    pin_tries: int | None = None
    pin_wrong: bool = False
    method: Method | None = None
    method_screen: bool = False  # the method choice was shown (so PIN has a back button)
    face_failed: bool = False
    face_failures: int = 0  # face attempts that failed in this card session
    face_prompt: FacePrompt | None = None  # the face job's current request to the patient
    cert_der: bytes | None = field(default=None, repr=False)
    cert_fingerprint: str | None = None
    challenge: bytes | None = field(default=None, repr=False)
    signature: bytes | None = field(default=None, repr=False)
    page: int = 0
    answers: tuple[ConsentAnswer, ...] = ()
    card_released: bool = False

    def wall(self, now: float) -> float:
        """Wall-clock time for monotonic `now`, anchored at the card placement."""
        return self.started_wall + (now - self.started_mono)


@dataclass(frozen=True, slots=True)
class State:
    config: SessionConfig = field(repr=False, compare=False)
    phase: Phase = Phase.NO_READER
    mode: Mode = Mode.UNATTENDED
    reader: str | None = None
    card_present: bool = False
    session: Session | None = None
    entry: Secret = EMPTY_SECRET  # digits typed on the current keypad (PIN or passcode)
    deadline: float | None = None
    staff_provisioned: bool = False
    staff_locked_until: float | None = None  # monotonic
    staff_locked_until_wall: float | None = None
    passcode_wrong: bool = False
    passcode_failures_left: int | None = None
    challenge: bytes | None = field(default=None, repr=False)  # the terminal's, unused yet
    error_code: str | None = None  # shown on the error screen
    shown: View | None = None  # the last view shown (None before the first)
    status: StatusMessage | None = None


class IllegalEvent(Exception):  # noqa: N818  (h11's name for the same thing)
    """An event that has no meaning in the current phase (raised under strict=True)."""

    def __init__(self, phase: Phase, event: Event, reason: str = "no transition") -> None:
        self.phase = phase
        self.event_kind = type(event).__name__
        self.reason = reason
        super().__init__(f"{self.event_kind} in phase {phase.value}: {reason}")


_T = TypeVar("_T", State, Session)


def evolve(obj: _T, **changes: object) -> _T:
    """`dataclasses.replace` for State and Session, without its per-call introspection: the
    engine makes several per event and replace() alone cost most of the engine's time."""
    cls = type(obj)
    slots, names = _FIELDS[cls]
    if not changes.keys() <= names:
        raise TypeError(f"unknown fields: {sorted(changes.keys() - names)}")
    new = object.__new__(cls)
    setattr_ = object.__setattr__
    for name in slots:
        setattr_(new, name, changes[name] if name in changes else getattr(obj, name))
    return new


_FIELDS: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {
    cls: (cls.__slots__, frozenset(cls.__slots__)) for cls in (State, Session)
}
