"""View models: what a screen shows (ids, codes, numbers; never UI text). The UI renders a
view and decides nothing; derive.py makes them from the engine state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from myna_reader.daemon.engine.consent import ConsentItem
from myna_reader.daemon.engine.vocabulary import (
    Button,
    CertificateLife,
    EndReason,
    FacePrompt,
    Language,
    Mode,
    Screen,
    TokenKind,
)


@dataclass(frozen=True, slots=True)
class Countdown:
    """A deadline about to end what a person is doing: the seconds left and the button that
    gives them more time (shown and spoken; docs/session.md, "Deadlines that warn")."""

    seconds_left: int
    continue_button: Button = Button.CONTINUE


@dataclass(frozen=True, slots=True)
class Ending:
    """Why the screen before this one ended on its own, and which screen that was."""

    reason: EndReason
    screen: Screen

@dataclass(frozen=True, slots=True)
class Sound:
    """Voice guidance and volume: the technician's settings, changed only behind the
    technician code, kept in the state directory and carried by every view."""

    voice: bool = True
    volume: int = 80  # percent

    STEP: ClassVar[int] = 10  # one press of a volume button

    def louder(self, steps: int) -> Sound:
        return Sound(self.voice, max(0, min(100, self.volume + steps * self.STEP)))


DEFAULT_SOUND = Sound()  # until the runner tells the kept settings

# --- view models ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class View:
    screen: ClassVar[Screen]
    mode: Mode = Mode.UNATTENDED
    language: Language = Language.JA  # the session's: back to the facility's after it
    countdown: Countdown | None = None
    sound: Sound = DEFAULT_SOUND  # how the display speaks and plays (every screen)


@dataclass(frozen=True, slots=True, kw_only=True)
class NoReaderView(View):
    screen: ClassVar[Screen] = Screen.NO_READER


@dataclass(frozen=True, slots=True, kw_only=True)
class StandbyView(View):
    screen: ClassVar[Screen] = Screen.STANDBY
    staff_button: bool = False  # 職員用: only when a passcode is provisioned
    remove_card: bool = False  # a finished card still lies on the reader
    terminal_away: bool = False  # no terminal on the link: no patient can confirm now
    ended: Ending | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingView(View):
    screen: ClassVar[Screen] = Screen.READING
    cancel_button: bool = True
    face_prompt: FacePrompt | None = None  # face authentication: what to do now
    token: TokenKind | None = None  # known after the probe: "keep the phone still"


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodView(View):
    screen: ClassVar[Screen] = Screen.METHOD
    face: bool = False
    pin: bool = True
    face_failed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PinView(View):
    screen: ClassVar[Screen] = Screen.PIN
    digits: int = 0  # how many masked digits to draw
    tries_left: int | None = None
    one_try_left: bool = False  # the warning before the last try
    wrong: bool = False  # the last VERIFY failed
    back_button: bool = False
    token: TokenKind = TokenKind.PLASTIC_CARD  # Android: the スマホ用電子証明書's PIN


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffPasscodeView(View):
    screen: ClassVar[Screen] = Screen.STAFF_PASSCODE
    digits: int = 0
    wrong: bool = False
    failures_left: int | None = None
    checking: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TechnicianCodeView(StaffPasscodeView):
    """The staff pad, asking for the technician code."""

    screen: ClassVar[Screen] = Screen.TECHNICIAN_CODE


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffLockedView(View):
    screen: ClassVar[Screen] = Screen.STAFF_LOCKED
    locked_until_wall: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TechnicianLockedView(StaffLockedView):
    screen: ClassVar[Screen] = Screen.TECHNICIAN_LOCKED


@dataclass(frozen=True, slots=True, kw_only=True)
class TechnicianUnsetView(View):
    """No technician code on this reader: how to set one; no setting is reachable."""

    screen: ClassVar[Screen] = Screen.TECHNICIAN_UNSET


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffStandbyView(View):
    screen: ClassVar[Screen] = Screen.STAFF_STANDBY
    remove_card: bool = False
    terminal_away: bool = False  # results wait in the outbox until it is back
    ended: Ending | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentView(View):
    screen: ClassVar[Screen] = Screen.CONSENT
    page_index: int = 0
    page_count: int = 0
    page_id: str = ""
    items: tuple[ConsentItem, ...] = ()
    back_button: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PrescriptionView(View):
    """処方箋の発行方法: 電子処方箋 or 紙の処方箋, after the consent pages."""

    screen: ClassVar[Screen] = Screen.PRESCRIPTION
    back_button: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DoneView(View):
    """The confirmation; an expiring certificate's date (or, in its grace, the last day of
    資格情報のみ) is told after it."""

    screen: ClassVar[Screen] = Screen.DONE
    remove_card: bool = True
    certificate_life: CertificateLife = CertificateLife.VALID
    certificate_expiry: date | None = None  # set when there is a notice to give
    grace_until: date | None = None  # set in the grace period


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorView(View):
    screen: ClassVar[Screen] = Screen.ERROR
    code: str = ""
    ask_staff: bool = False
    token: TokenKind | None = None  # a phone's 006 says what to do with a phone


@dataclass(frozen=True, slots=True, kw_only=True)
class TechnicianView(View):
    screen: ClassVar[Screen] = Screen.TECHNICIAN
    reader: str | None = None
    passcode_provisioned: bool = False  # False: staff mode needs a passcode from the terminal
    staff_locked: bool = False
    terminal_away: bool = False
