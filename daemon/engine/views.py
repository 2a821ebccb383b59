"""View models (what a screen shows: ids, codes, numbers; never UI text) and their derivation
from the engine state, with the terminal's `status`. The UI renders a view and decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from myna_reader.daemon.engine.consent import ConsentItem
from myna_reader.daemon.engine.effects import StatusMessage
from myna_reader.daemon.engine.error_codes import BY_CODE
from myna_reader.daemon.engine.model import FacePrompt, Mode, Phase, Screen, State, TokenKind

# --- view models ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class View:
    screen: ClassVar[Screen]
    mode: Mode = Mode.UNATTENDED


@dataclass(frozen=True, slots=True, kw_only=True)
class NoReaderView(View):
    screen: ClassVar[Screen] = Screen.NO_READER


@dataclass(frozen=True, slots=True, kw_only=True)
class StandbyView(View):
    screen: ClassVar[Screen] = Screen.STANDBY
    staff_button: bool = False  # 職員用: only when a passcode is provisioned
    remove_card: bool = False  # a finished card still lies on the reader


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingView(View):
    screen: ClassVar[Screen] = Screen.READING
    cancel_button: bool = True
    face_prompt: FacePrompt | None = None  # face authentication: what to do now


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


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffPasscodeView(View):
    screen: ClassVar[Screen] = Screen.STAFF_PASSCODE
    digits: int = 0
    wrong: bool = False
    failures_left: int | None = None
    checking: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffLockedView(View):
    screen: ClassVar[Screen] = Screen.STAFF_LOCKED
    locked_until_wall: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffStandbyView(View):
    screen: ClassVar[Screen] = Screen.STAFF_STANDBY
    remove_card: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentView(View):
    screen: ClassVar[Screen] = Screen.CONSENT
    page_index: int = 0
    page_count: int = 0
    page_id: str = ""
    items: tuple[ConsentItem, ...] = ()
    back_button: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DoneView(View):
    screen: ClassVar[Screen] = Screen.DONE
    remove_card: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorView(View):
    screen: ClassVar[Screen] = Screen.ERROR
    code: str = ""
    ask_staff: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TechnicianView(View):
    screen: ClassVar[Screen] = Screen.TECHNICIAN
    reader: str | None = None
    passcode_provisioned: bool = False
    staff_locked: bool = False


READING_PHASES = frozenset({
    Phase.PROBING, Phase.MATCHING_FACE, Phase.VERIFYING, Phase.READING_CERT,
    Phase.AWAITING_CHALLENGE, Phase.SIGNING,
})


def face_offered(state: State) -> bool:
    """Face matching needs a camera and the chip photo of a plastic card."""
    session = state.session
    return (state.config.face_available and session is not None
            and session.token is TokenKind.PLASTIC_CARD
            and session.face_failures < state.config.face.attempts)


def pin_usable(state: State) -> bool:
    session = state.session
    return session is not None and session.pin_tries is not None and session.pin_tries > 0


def view_of(state: State) -> View:
    phase, mode, session = state.phase, state.mode, state.session
    if phase is Phase.STANDBY:
        return StandbyView(mode=mode, staff_button=state.staff_provisioned,
                           remove_card=state.card_present)
    if phase is Phase.MATCHING_FACE and session is not None:
        return ReadingView(mode=mode, face_prompt=session.face_prompt or FacePrompt.SHOW_CARD)
    if phase in READING_PHASES:
        return ReadingView(mode=mode)
    if phase is Phase.PIN and session is not None:
        tries = session.pin_tries
        return PinView(mode=mode, digits=len(state.entry), tries_left=tries,
                       one_try_left=tries == 1, wrong=session.pin_wrong,
                       back_button=session.method_screen)
    if phase is Phase.METHOD and session is not None:
        return MethodView(mode=mode, face=face_offered(state), pin=pin_usable(state),
                          face_failed=session.face_failed)
    if phase is Phase.CONSENT and session is not None:
        pages = state.config.consent_pages
        page = pages[session.page]
        return ConsentView(mode=mode, page_index=session.page, page_count=len(pages),
                           page_id=page.id, items=page.items, back_button=session.page > 0)
    if phase in (Phase.STAFF_PASSCODE, Phase.CHECKING_PASSCODE):
        return StaffPasscodeView(mode=mode, digits=len(state.entry), wrong=state.passcode_wrong,
                                 failures_left=state.passcode_failures_left,
                                 checking=phase is Phase.CHECKING_PASSCODE)
    if phase is Phase.STAFF_LOCKED:
        return StaffLockedView(mode=mode, locked_until_wall=state.staff_locked_until_wall)
    if phase is Phase.STAFF_STANDBY:
        return StaffStandbyView(mode=mode, remove_card=state.card_present)
    if phase is Phase.DONE:
        return DoneView(mode=mode, remove_card=state.card_present)
    if phase is Phase.ERROR:
        code = BY_CODE.get(state.error_code or "")
        return ErrorView(mode=mode, code=state.error_code or "",
                         ask_staff=code is not None and code.ask_staff)
    if phase is Phase.TECHNICIAN:
        return TechnicianView(mode=mode, reader=state.reader,
                              passcode_provisioned=state.staff_provisioned,
                              staff_locked=state.staff_locked_until is not None)
    return NoReaderView(mode=mode)


def status_of(state: State, view: View) -> StatusMessage:
    return StatusMessage(state.mode, view.screen, state.reader, state.staff_provisioned,
                         state.staff_locked_until_wall)
