"""The view and the terminal's `status` derived from the engine state (pure functions)."""

from __future__ import annotations

from myna_reader.daemon.engine.effects import StatusMessage
from myna_reader.daemon.engine.error_codes import BY_CODE
from myna_reader.daemon.engine.model import State
from myna_reader.daemon.engine.views import (
    ConsentView,
    DoneView,
    ErrorView,
    MethodView,
    NoReaderView,
    PinView,
    ReadingView,
    StaffLockedView,
    StaffPasscodeView,
    StaffStandbyView,
    StandbyView,
    TechnicianView,
    View,
)
from myna_reader.daemon.engine.vocabulary import FacePrompt, Phase, TokenKind

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
