"""The view and the terminal's `status` derived from the engine state (pure functions)."""

from __future__ import annotations

from dataclasses import replace

from myna_reader.daemon.engine.consent import ConsentPage, asked_pages
from myna_reader.daemon.engine.effects import StatusMessage
from myna_reader.daemon.engine.error_codes import BY_CODE
from myna_reader.daemon.engine.model import State
from myna_reader.daemon.engine.views import (
    ConsentView,
    Countdown,
    DoneView,
    ErrorView,
    MethodView,
    NoReaderView,
    PinView,
    PrescriptionView,
    ReadingView,
    StaffLockedView,
    StaffPasscodeView,
    StaffStandbyView,
    StandbyView,
    TechnicianCodeView,
    TechnicianLockedView,
    TechnicianUnsetView,
    TechnicianView,
    View,
)
from myna_reader.daemon.engine.vocabulary import (
    CertificateLife,
    FacePrompt,
    Method,
    Phase,
    TokenKind,
)

READING_PHASES = frozenset({
    Phase.PROBING, Phase.MATCHING_FACE, Phase.VERIFYING, Phase.READING_CERT,
    Phase.READING_COUNTER, Phase.AWAITING_CHALLENGE, Phase.SIGNING,
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


#: where a session that signs (PIN, phone) may take the terminal's challenge: from the PIN
#: pad (a phone: its certificate) until the signature is asked of the card
CHALLENGE_PHASES = frozenset({
    Phase.PIN, Phase.VERIFYING, Phase.READING_CERT, Phase.AWAITING_CHALLENGE,
})


def challenge_window(state: State) -> bool:
    """The session on screen signs and is where it may take the terminal's challenge."""
    session = state.session
    # an iPhone signs in staff mode too: its own Face ID check is stronger than a look
    return (session is not None and session.method in (Method.PIN, Method.PHONE)
            and state.phase in CHALLENGE_PHASES)


def challenge_wanted(state: State) -> bool:
    """In its window and without a challenge yet: what `status` tells the terminal."""
    return challenge_window(state) and state.session is not None and (
        state.session.challenge is None)


def session_pages(state: State) -> tuple[ConsentPage, ...]:
    """The consent pages this session asks (資格情報のみ asks no viewing item)."""
    session = state.session
    return asked_pages(state.config.consent_pages,
                       session is not None and session.qualification_only)


def view_of(state: State) -> View:
    """The screen's view, with what every screen carries: the session's language, a
    deadline's countdown and the sound settings (replaced in only when they differ from a
    view's defaults)."""
    view = _screen_view(state)
    language = state.language or state.config.language
    if language is view.language and state.countdown is None and state.sound == view.sound:
        return view
    countdown = None if state.countdown is None else Countdown(state.countdown)
    return replace(view, language=language, countdown=countdown, sound=state.sound)


def _screen_view(state: State) -> View:
    phase, mode, session = state.phase, state.mode, state.session
    if phase is Phase.STANDBY:
        return StandbyView(mode=mode, staff_button=state.staff_provisioned,
                           remove_card=state.card_present, terminal_away=state.terminal_away,
                           ended=state.ended)
    if phase is Phase.MATCHING_FACE and session is not None:
        return ReadingView(mode=mode, face_prompt=session.face_prompt or FacePrompt.SHOW_CARD)
    if phase in READING_PHASES:
        return ReadingView(mode=mode, token=None if session is None else session.token)
    if phase is Phase.PIN and session is not None:
        tries = session.pin_tries
        return PinView(mode=mode, digits=len(state.entry), tries_left=tries,
                       one_try_left=tries == 1, wrong=session.pin_wrong,
                       back_button=session.method_screen,
                       token=session.token or TokenKind.PLASTIC_CARD)
    if phase is Phase.METHOD and session is not None:
        return MethodView(mode=mode, face=face_offered(state), pin=pin_usable(state),
                          face_failed=session.face_failed)
    if phase is Phase.CONSENT and session is not None:
        pages = session_pages(state)
        page = pages[session.page]
        return ConsentView(mode=mode, page_index=session.page, page_count=len(pages),
                           page_id=page.id, items=page.items, back_button=session.page > 0)
    if phase in (Phase.STAFF_PASSCODE, Phase.CHECKING_PASSCODE):
        return StaffPasscodeView(mode=mode, digits=len(state.entry), wrong=state.passcode_wrong,
                                 failures_left=state.passcode_failures_left,
                                 checking=phase is Phase.CHECKING_PASSCODE)
    if phase in (Phase.TECHNICIAN_CODE, Phase.CHECKING_TECHNICIAN):
        return TechnicianCodeView(mode=mode, digits=len(state.entry),
                                  wrong=state.passcode_wrong,
                                  failures_left=state.passcode_failures_left,
                                  checking=phase is Phase.CHECKING_TECHNICIAN)
    if phase is Phase.TECHNICIAN_LOCKED:
        return TechnicianLockedView(mode=mode,
                                    locked_until_wall=state.technician_locked_until_wall)
    if phase is Phase.TECHNICIAN_UNSET:
        return TechnicianUnsetView(mode=mode)
    if phase is Phase.STAFF_LOCKED:
        return StaffLockedView(mode=mode, locked_until_wall=state.staff_locked_until_wall)
    if phase is Phase.STAFF_STANDBY:
        return StaffStandbyView(mode=mode, remove_card=state.card_present,
                                terminal_away=state.terminal_away, ended=state.ended)
    if phase is Phase.PRESCRIPTION and session is not None:
        return PrescriptionView(mode=mode, back_button=bool(session_pages(state)))
    if phase is Phase.DONE:
        notice = state.notice
        if notice is None:
            return DoneView(mode=mode, remove_card=state.card_present)
        grace = notice.life is CertificateLife.GRACE
        return DoneView(mode=mode, remove_card=state.card_present, certificate_life=notice.life,
                        certificate_expiry=notice.expiry,
                        grace_until=notice.grace_until if grace else None)
    if phase is Phase.ERROR:
        code = BY_CODE.get(state.error_code or "")
        return ErrorView(mode=mode, code=state.error_code or "",
                         ask_staff=code is not None and code.ask_staff, token=state.error_token)
    if phase is Phase.TECHNICIAN:
        return TechnicianView(mode=mode, reader=state.reader,
                              passcode_provisioned=state.staff_provisioned,
                              staff_locked=state.staff_locked_until is not None,
                              terminal_away=state.terminal_away)
    return NoReaderView(mode=mode)


def status_of(state: State, view: View) -> StatusMessage:
    return StatusMessage(state.mode, view.screen, state.reader, state.staff_provisioned,
                         state.staff_locked_until_wall, state.ended,
                         None if state.session is None else state.session.id,
                         challenge_wanted(state))
