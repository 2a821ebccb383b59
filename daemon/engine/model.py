"""The session engine's model: the events, the session and the engine state.

All values are frozen. A PIN or passcode only ever travels inside a `Secret` (masked repr).
The words (phases, screens, ...) are in vocabulary.py; effects, host messages and audit records
in effects.py; view models in views.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from myna_reader.daemon.engine.certificate_life import Assessment
from myna_reader.daemon.engine.consent import ConsentAnswer
from myna_reader.daemon.engine.effects import StatusMessage
from myna_reader.daemon.engine.error_codes import CardErrorKind
from myna_reader.daemon.engine.secret import EMPTY_SECRET, Secret
from myna_reader.daemon.engine.settings import SessionConfig
from myna_reader.daemon.engine.views import DEFAULT_SOUND, Ending, Sound, View
from myna_reader.daemon.engine.vocabulary import (
    Button,
    CertificateLife,
    Credential,
    FaceFailure,
    FacePrompt,
    Language,
    Method,
    Mode,
    Phase,
    PinOutcome,
    Prescription,
    TokenKind,
)

# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReaderAttached:
    name: str


@dataclass(frozen=True, slots=True)
class ReaderDetached:
    pass


@dataclass(frozen=True, slots=True)
class CardPlaced:
    """`session_id` is unique per placement (the runner makes it: a uuid4, unique across restarts);
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
class VoiceGuided:
    """The display's news that the patient is guided by voice: they asked for a prompt again
    or typed on the USB keypad. The session's person screens then wait longer."""


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed; the runner sends one at (or after) the deadline of the last SetDeadline."""


@dataclass(frozen=True, slots=True)
class CardProbed:
    """ProbeCard's answer: what carries the JPKI AP, and whether it holds an auth certificate."""

    session_id: str
    token: TokenKind
    auth_cert: bool


@dataclass(frozen=True, slots=True)
class PinCounterRead:
    """ReadPinCounter's answer: the auth PIN's counter read without VERIFY.
    0 = blocked, None = no PIN set (顔認証マイナンバーカード)."""

    session_id: str
    tries: int | None


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
    not_after: datetime  # timezone-aware; the engine judges it against the session's wall clock


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
    """The terminal's challenge for the session `session_id` (None: the current one), taken
    only while that session waits for one (derive.challenge_wanted) and signed once. `ref`:
    the link message's id, so a refusal names it."""

    challenge: bytes = field(repr=False)
    session_id: str | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class PasscodeChecked:
    """The store's answer to CheckPasscode. `locked_for_s` > 0 while staff entry is locked."""

    ok: bool
    failures_left: int
    locked_for_s: float = 0.0
    locked_until_wall: float | None = None
    credential: Credential = Credential.STAFF


@dataclass(frozen=True, slots=True)
class PasscodeStatus:
    """The store's state: sent at start and after every issue or clear (each credential's
    store its own)."""

    provisioned: bool
    locked_for_s: float = 0.0
    locked_until_wall: float | None = None
    credential: Credential = Credential.STAFF


@dataclass(frozen=True, slots=True)
class TerminalLink:
    """The runner's news of the host link: a terminal session began (True) or ended."""

    connected: bool


Event = (
    ReaderAttached | ReaderDetached | CardPlaced | CardRemoved | Pressed | DigitPressed | Tick
    | CardProbed | PinCounterRead | PinVerified | CertificateRead | Signed | FaceMatched
    | FaceGuidance | CardJobFailed | ChallengeReceived | PasscodeChecked
    | PasscodeStatus | TerminalLink | VoiceGuided
)
JobResult = (CardProbed | PinCounterRead | PinVerified | CertificateRead | Signed | FaceMatched
             | FaceGuidance | CardJobFailed)
JOB_RESULTS = (CardProbed, PinCounterRead, PinVerified, CertificateRead, Signed, FaceMatched,
               FaceGuidance, CardJobFailed)


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
    certificate: Assessment | None = None  # its life cycle on this day; None until read
    pin_verified: bool = False
    challenge: bytes | None = field(default=None, repr=False)  # taken for this session only
    signature: bytes | None = field(default=None, repr=False)
    page: int = 0
    answers: tuple[ConsentAnswer, ...] = ()
    prescription: Prescription | None = None
    card_released: bool = False
    voice_guided: bool = False  # its person screens wait timeouts.voice_factor times longer

    @property
    def qualification_only(self) -> bool:
        """資格情報のみ: an expired plastic card within its grace shares no data."""
        return (self.certificate is not None
                and self.certificate.life is CertificateLife.GRACE)

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
    deadline: float | None = None  # when the engine needs a Tick next
    ends_at: float | None = None  # a person's screen: when its deadline ends it (countdown.py)
    countdown: int | None = None  # seconds left, shown while the deadline warns
    ended: Ending | None = None  # why the last screen ended on its own, told on this one
    language: Language | None = None  # the session's choice; None: the facility's default
    terminal_away: bool = False  # the runner said the link has no terminal
    staff_provisioned: bool = False
    staff_locked_until: float | None = None  # monotonic
    staff_locked_until_wall: float | None = None
    passcode_wrong: bool = False  # the last code on a pad (staff or technician) was wrong
    passcode_failures_left: int | None = None
    technician_provisioned: bool = False
    technician_locked_until: float | None = None  # monotonic
    technician_locked_until_wall: float | None = None
    sound: Sound = DEFAULT_SOUND  # the technician's settings (kept; given to start())
    error_code: str | None = None  # shown on the error screen
    error_token: TokenKind | None = None  # what was on the reader when the error came
    notice: Assessment | None = None  # the done screen's certificate notice, if any
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
