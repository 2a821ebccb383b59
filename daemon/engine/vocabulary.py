"""The session engine's words: phases, screens, modes, buttons, methods, cues, audit events and
outcomes. Plain enums with no dependency, so every other engine module can use them.
"""

from __future__ import annotations

from enum import StrEnum

PIN_LENGTH = 4
PASSCODE_LENGTH = 4
# a terminal's challenge (docs/host-protocol.md): fresh enough that a signature cannot be
# replayed, short enough for one APDU of the card's signing command
CHALLENGE_MIN_BYTES = 16
CHALLENGE_MAX_BYTES = 512


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
    PRESCRIPTION = "prescription"  # 処方箋の発行方法: 電子処方箋 or 紙の処方箋
    DONE = "done"
    ERROR = "error"
    TECHNICIAN = "technician"
    TECHNICIAN_CODE = "technician-code"  # the technician code's keypad (the staff pad's look)
    TECHNICIAN_LOCKED = "technician-locked"
    TECHNICIAN_UNSET = "technician-unset"  # no technician code: how to set one, nothing else


class Credential(StrEnum):
    """Which code a store keeps and a check is for: each has its own file and lockout."""

    STAFF = "staff"  # the staff passcode: 職員用, 目視確認モード
    TECHNICIAN = "technician"  # the technician code: the technician screen's settings


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
    READING_COUNTER = "reading-counter"  # the auth PIN's retry counter, after the certificate
    AWAITING_CHALLENGE = "awaiting-challenge"
    SIGNING = "signing"
    CONSENT = "consent"
    PRESCRIPTION = "prescription"
    DONE = "done"
    ERROR = "error"
    STAFF_PASSCODE = "staff-passcode"
    CHECKING_PASSCODE = "checking-passcode"
    STAFF_LOCKED = "staff-locked"
    STAFF_STANDBY = "staff-standby"
    TECHNICIAN_CODE = "technician-code"
    CHECKING_TECHNICIAN = "checking-technician"
    TECHNICIAN_LOCKED = "technician-locked"
    TECHNICIAN_UNSET = "technician-unset"
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
    PRESCRIPTION_ELECTRONIC = "prescription-electronic"  # 電子処方箋
    PRESCRIPTION_PAPER = "prescription-paper"  # 紙の処方箋
    TECHNICIAN = "technician"  # the hidden technician gesture, normalised by the UI
    LANGUAGE = "language"  # 日本語 / English: the session's language, back to the default after
    CONTINUE = "continue"  # 続ける: more time, while a deadline counts down
    VOICE = "voice"  # technician screen: voice guidance on/off
    VOLUME_DOWN = "volume-down"  # technician screen
    VOLUME_UP = "volume-up"  # technician screen


class TokenKind(StrEnum):
    PLASTIC_CARD = "plastic-card"  # JPKIAPICCTOKEN2
    ANDROID = "android"  # JPKIAPGPSETOKEN: the auth PIN comes before the certificate
    IPHONE = "iphone"  # JPKIAPIOSTOKEN: the holder authenticates on the phone itself

    @property
    def phone(self) -> bool:
        return self is not TokenKind.PLASTIC_CARD


class Method(StrEnum):
    PIN = "pin"
    FACE = "face"
    VISUAL = "visual"  # staff visual check
    PHONE = "phone"  # iPhone: Face ID / Touch ID on the phone, then its signature


class CertificateLife(StrEnum):
    """Where the auth certificate stands on the day of the session (certificate_life.py)."""

    VALID = "valid"
    EXPIRING = "expiring"  # within the notice period before expiry: a notice after the result
    GRACE = "grace"  # expired, within the grace period: a plastic card confirms 資格情報のみ
    EXPIRED = "expired"  # beyond the grace period (or a phone past expiry): error 006


class Prescription(StrEnum):
    """処方箋の発行方法 the patient chose (PrescriptionIssueSelect 1 / 2 in the terminal's file)."""

    ELECTRONIC = "electronic"  # 電子処方箋
    PAPER = "paper"  # 紙の処方箋


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
    UPDATE = "update"  # an install, rollback or refused bundle (daemon/update/install.py)
    SIGNATURE = "signature"  # the card's auth key about to sign a terminal's challenge
    CHALLENGE_REFUSED = "challenge-refused"  # a terminal's challenge the reader did not take
    CONFIG = "config"  # the terminal's settings (`config` message), applied or refused
    TECHNICIAN_ENTER = "technician-enter"  # the technician screen opened with the right code
    TECHNICIAN_LOCKOUT = "technician-lockout"  # too many wrong technician codes
    TECHNICIAN_SETTING = "technician-setting"  # voice or volume changed on that screen


class AuditOutcome(StrEnum):
    """How an audited event ended: the `outcome` of an audit line (docs/session.md)."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    IDLE = "idle"  # staff mode ended at its idle deadline
    ERROR = "error"
    READER_LOST = "reader-lost"
    PASSCODE_CLEARED = "passcode-cleared"
    ENTERED = "entered"  # staff mode entered with a valid passcode
    LOCKED = "locked"  # staff entry locked after too many wrong passcodes
    UNDELIVERED_EXPIRED = "undelivered-expired"  # a result the terminal never acked, dropped
    INSTALLED = "installed"  # updates: a release installed and marked good
    FAILED = "failed"  # updates: an install that failed its checks and was undone
    REFUSED = "refused"  # a bundle refused before anything changed; a challenge not taken
    ROLLED_BACK = "rolled-back"  # updates: back to the previous release
    ROLLED_BACK_UNHEALTHY = "rolled-back-unhealthy"  # updates: back, but that one fails too
    SIGNING = "signing"  # the signature line, written before the card signs
    APPLIED = "applied"  # the terminal's settings hold for the sessions that start later
    VOICE_ON = "voice-on"  # technician setting: voice guidance switched on
    VOICE_OFF = "voice-off"  # technician setting: voice guidance switched off
    VOLUME_SET = "volume-set"  # technician setting: the volume changed (the line has it)


class Language(StrEnum):
    """A session's language. The facility's default (`ui.language`) is where each starts."""

    JA = "ja"
    EN = "en"


class EndReason(StrEnum):
    """Why a screen ended without anyone pressing anything (told on the screen after it)."""

    TIMEOUT = "timeout"  # nobody answered before the deadline (after its countdown)
    IDLE = "idle"  # staff standby: no card placed before the idle deadline


class NoteEvent(StrEnum):
    """Session events the technician's journal records besides the audit log's lines."""

    METHOD = "method"  # the method a session goes on with (pin, face, visual, phone)
    PIN_WRONG = "pin-wrong"  # VERIFY refused a PIN: the tries left
    PASSCODE_WRONG = "passcode-wrong"  # a wrong staff passcode: the tries left before the lock
    COUNTDOWN = "countdown"  # a deadline began to count down on a person's screen
    CONTINUED = "continued"  # the person asked for more time
    TIMED_OUT = "timed-out"  # the deadline ended what the person was doing
    TERMINAL = "terminal"  # the terminal's link came or went
    VOICE = "voice"  # the patient is guided by voice: this session's deadlines are longer
