"""The transition handlers of the session engine, and the deadline handlers.

Each handler is `(state, event, now) -> (state, effects)`, pure, typed for the event it takes;
a deadline handler is `(state, now) -> (state, effects)`. table.py says which handler runs for
which (phase, event kind) and which deadline handler for which phase: read that first.
"""

from __future__ import annotations

import hashlib

from myna_reader.daemon.engine import error_codes as codes
from myna_reader.daemon.engine.certificate_life import assess
from myna_reader.daemon.engine.consent import ConsentAnswer, in_result_order
from myna_reader.daemon.engine.countdown import (
    VOICE_PHASES,
    WARNED_PHASES,
    deadlines,
    standby_deadline,
    voice_scale,
)
from myna_reader.daemon.engine.derive import (
    READING_PHASES,
    challenge_window,
    face_offered,
    pin_usable,
    session_pages,
)
from myna_reader.daemon.engine.effects import (
    AuditRecord,
    CheckPasscode,
    Effect,
    ErrorMessage,
    MatchFace,
    Note,
    PlayCue,
    ProbeCard,
    ReadCertificate,
    ReadPinCounter,
    ReleaseCard,
    ResultMessage,
    SaveSound,
    SendToHost,
    Sign,
    VerifyPin,
    WriteAudit,
)
from myna_reader.daemon.engine.error_codes import ErrorCode, code_of
from myna_reader.daemon.engine.model import (
    CardJobFailed,
    CardPlaced,
    CardProbed,
    CertificateRead,
    ChallengeReceived,
    DigitPressed,
    Event,
    FaceGuidance,
    FaceMatched,
    IllegalEvent,
    PasscodeChecked,
    PasscodeStatus,
    PinCounterRead,
    PinVerified,
    Pressed,
    ReaderAttached,
    Session,
    Signed,
    State,
    TerminalLink,
    VoiceGuided,
    evolve,
)
from myna_reader.daemon.engine.secret import EMPTY_SECRET
from myna_reader.daemon.engine.settings import SessionConfig, StaffScope
from myna_reader.daemon.engine.views import Ending, Sound
from myna_reader.daemon.engine.vocabulary import (
    CHALLENGE_MAX_BYTES,
    CHALLENGE_MIN_BYTES,
    PASSCODE_LENGTH,
    PIN_LENGTH,
    AuditEvent,
    AuditOutcome,
    Button,
    CertificateLife,
    Credential,
    Cue,
    EndReason,
    Language,
    Method,
    Mode,
    NoteEvent,
    Phase,
    PinOutcome,
    Prescription,
    Screen,
    TokenKind,
)

Outcome = tuple[State, list[Effect]]


# --- helpers -------------------------------------------------------------------------------


def _timeout_of(config: SessionConfig, phase: Phase) -> float | None:
    t = config.timeouts
    if phase is Phase.MATCHING_FACE:
        return config.face.time_limit_s + t.card_job_s  # the job's own limit, then some
    if phase in READING_PHASES:
        return t.challenge_s if phase is Phase.AWAITING_CHALLENGE else t.card_job_s
    return {
        Phase.METHOD: t.method_s, Phase.PIN: t.pin_s, Phase.CONSENT: t.consent_page_s,
        Phase.PRESCRIPTION: t.consent_page_s,
        Phase.DONE: t.done_s, Phase.ERROR: t.error_s, Phase.STAFF_PASSCODE: t.passcode_s,
        Phase.CHECKING_PASSCODE: t.store_job_s, Phase.STAFF_LOCKED: t.staff_locked_s,
        Phase.STAFF_STANDBY: config.staff.idle_s, Phase.TECHNICIAN: t.technician_s,
        Phase.TECHNICIAN_CODE: t.passcode_s, Phase.CHECKING_TECHNICIAN: t.store_job_s,
        Phase.TECHNICIAN_LOCKED: t.staff_locked_s, Phase.TECHNICIAN_UNSET: t.staff_locked_s,
    }.get(phase)


def _enter(state: State, phase: Phase, now: float, **changes: object) -> State:
    """Move to `phase` with its own deadline (restarted even when re-entering the phase);
    a countdown and the last screen's ending are gone, unless `changes` says otherwise."""
    deadline, ends_at = deadlines(state.config, phase, now, _timeout_of(state.config, phase),
                                  voice_scale(state, phase))
    return evolve(state, **{"phase": phase, "deadline": deadline, "ends_at": ends_at,
                            "countdown": None, "ended": None, **changes})


#: what a finished screen (done, error) showed: gone once it is left
CLEARED = {"error_code": None, "error_token": None, "notice": None}


def _session(state: State) -> Session:
    assert state.session is not None, "a session phase always has a session"
    return state.session


def _audit(event: AuditEvent, mode: Mode, outcome: AuditOutcome, session: Session | None = None,
           error_code: str | None = None) -> WriteAudit:
    return WriteAudit(AuditRecord(
        event, mode, outcome, session_id=None if session is None else session.id,
        method=None if session is None else session.method,
        cert_fingerprint=None if session is None else session.cert_fingerprint,
        error_code=error_code))


def _end_session(state: State, outcome: AuditOutcome, error_code: str | None = None) -> Outcome:
    """Close the session (if any): unpower the card, audit the outcome."""
    session = state.session
    if session is None:
        return state, []
    effects: list[Effect] = []
    if not session.card_released:
        effects.append(ReleaseCard(session.id))
    effects.append(_audit(AuditEvent.CONFIRMATION, session.mode, outcome, session, error_code))
    return evolve(state, session=None, entry=EMPTY_SECRET), effects


def _staff_exit(state: State, reason: AuditOutcome) -> Outcome:
    if state.mode is not Mode.STAFF:
        return state, []
    return (evolve(state, mode=Mode.UNATTENDED),
            [_audit(AuditEvent.STAFF_EXIT, Mode.STAFF, reason)])


def _standby(state: State, now: float, staff_reason: AuditOutcome,
             ended: Ending | None = None) -> Outcome:
    """Standby, in the facility's language; `ended` says why the last screen ended."""
    state, effects = _staff_exit(state, staff_reason)
    state = _enter(state, Phase.STANDBY, now, entry=EMPTY_SECRET, language=None, ended=ended,
                   **CLEARED)
    if ended is not None:
        state = evolve(state, deadline=standby_deadline(state.config, now))
    return state, effects


def _rest(state: State, now: float, ended: Ending | None = None) -> Outcome:
    """Where a finished screen goes: staff standby while staff mode lasts, else standby."""
    if state.mode is Mode.STAFF and state.staff_provisioned:
        return _enter(state, Phase.STAFF_STANDBY, now, entry=EMPTY_SECRET, language=None,
                      ended=ended, **CLEARED), []
    return _standby(state, now, AuditOutcome.PASSCODE_CLEARED, ended)


def _fail(state: State, now: float, code: ErrorCode) -> Outcome:
    session_id = None if state.session is None else state.session.id
    token = None if state.session is None else state.session.token
    state, effects = _end_session(state, AuditOutcome.ERROR, code.code)
    effects += [SendToHost(ErrorMessage(code.code, session_id)), PlayCue(Cue.ERROR)]
    return _enter(state, Phase.ERROR, now, error_code=code.code, error_token=token), effects


def _abort_to_rest(state: State, now: float, outcome: AuditOutcome,
                   ended: Ending | None = None) -> Outcome:
    state, effects = _end_session(state, outcome)
    state, more = _rest(state, now, ended)
    return state, effects + more


def _with_session(state: State, **changes: object) -> State:
    return evolve(state, session=evolve(_session(state), **changes))


# --- reader and card presence --------------------------------------------------------------


def reader_attached(s: State, e: ReaderAttached, now: float) -> Outcome:
    return _enter(s, Phase.STANDBY, now, reader=e.name), []


def reader_detached(s: State, e: Event, now: float) -> Outcome:
    s, effects = _end_session(s, AuditOutcome.READER_LOST)
    s, more = _staff_exit(s, AuditOutcome.READER_LOST)
    s = _enter(s, Phase.NO_READER, now, reader=None, card_present=False, entry=EMPTY_SECRET,
               language=None, **CLEARED)
    return s, effects + more


def card_placed(s: State, e: CardPlaced, now: float) -> Outcome:
    if s.card_present:
        raise IllegalEvent(s.phase, e, "a card is already present")
    if s.terminal_away and s.mode is Mode.UNATTENDED:
        # no terminal, no confirmation: refused before anything is asked of the card or the
        # patient (nothing was powered, so nothing to release)
        session = Session(e.session_id, s.mode, e.wall_time, now, card_released=True)
        return _fail(evolve(s, card_present=True, session=session), now, codes.TERMINAL_AWAY)
    session = Session(e.session_id, s.mode, e.wall_time, now)
    s = _enter(s, Phase.PROBING, now, card_present=True, session=session, **CLEARED)
    return s, [PlayCue(Cue.CARD_DETECTED), ProbeCard(session.id)]


def card_noted(s: State, e: Event, now: float) -> Outcome:
    """A card placed or removed where no session can start (keypad, lock notice, ...)."""
    placed = isinstance(e, CardPlaced)
    if s.card_present == placed:
        raise IllegalEvent(s.phase, e, "card presence did not change")
    return evolve(s, card_present=placed), []


def card_removed_mid_session(s: State, e: Event, now: float) -> Outcome:
    return _fail(evolve(s, card_present=False), now, codes.CARD_REMOVED)


def card_removed_after_reading(s: State, e: Event, now: float) -> Outcome:
    """A phone is held, not laid down: once its part is done it may leave before the last
    page. A plastic card lies on the reader until the confirmation is complete."""
    session = _session(s)
    if session.card_released and session.token is not None and session.token.phone:
        return evolve(s, card_present=False), []
    return card_removed_mid_session(s, e, now)


def card_removed_done(s: State, e: Event, now: float) -> Outcome:
    return _rest(evolve(s, card_present=False), now)


# --- terminal messages ---------------------------------------------------------------------


def _challenge_refusal(s: State, e: ChallengeReceived) -> str | None:
    """Why the terminal's challenge is not taken, or None: only the session that waits for
    one (docs/host-protocol.md), once, and of the protocol's length."""
    session = s.session
    if not CHALLENGE_MIN_BYTES <= len(e.challenge) <= CHALLENGE_MAX_BYTES:
        return "length"
    if e.session_id is not None and (session is None or e.session_id != session.id):
        return "other-session"
    if session is None or not challenge_window(s):
        return "not-awaited"
    if session.challenge is not None:
        return "second"
    return None


def challenge(s: State, e: ChallengeReceived, now: float) -> Outcome:
    """The terminal's challenge, bound to the session that waits for it. Anything else is
    refused to the terminal with its code and audited; the patient's session goes on."""
    reason = _challenge_refusal(s, e)
    if reason is not None:
        session = s.session
        code = codes.CHALLENGE_REFUSED.code
        record = AuditRecord(
            AuditEvent.CHALLENGE_REFUSED, s.mode, AuditOutcome.REFUSED,
            session_id=None if session is None else session.id, error_code=code,
            challenge_sha256=hashlib.sha256(e.challenge).hexdigest(), reason=reason)
        return s, [WriteAudit(record),
                   SendToHost(ErrorMessage(code, None if session is None else session.id,
                                           e.ref))]
    s = _with_session(s, challenge=e.challenge)
    if s.phase is Phase.AWAITING_CHALLENGE:
        return _sign(s, now)
    return s, []


def _lock(s: State, now: float, e: PasscodeStatus | PasscodeChecked) -> State:
    """The lock the store reports, on the credential it reports it for."""
    until = now + e.locked_for_s if e.locked_for_s > 0 else None
    wall = e.locked_until_wall if e.locked_for_s > 0 else None
    if e.credential is Credential.TECHNICIAN:
        return evolve(s, technician_locked_until=until, technician_locked_until_wall=wall)
    return evolve(s, staff_locked_until=until, staff_locked_until_wall=wall)


STAFF_ENTRY_PHASES = frozenset({
    Phase.STAFF_PASSCODE, Phase.CHECKING_PASSCODE, Phase.STAFF_LOCKED, Phase.STAFF_STANDBY,
})


TECHNICIAN_ENTRY_PHASES = frozenset({
    Phase.TECHNICIAN_CODE, Phase.CHECKING_TECHNICIAN, Phase.TECHNICIAN_LOCKED,
    Phase.TECHNICIAN,
})


def passcode_status(s: State, e: PasscodeStatus, now: float) -> Outcome:
    if e.credential is Credential.TECHNICIAN:
        return _technician_status(s, e, now)
    s = evolve(_lock(s, now, e), staff_provisioned=e.provisioned)
    if not e.provisioned and s.phase in STAFF_ENTRY_PHASES:
        return _standby(s, now, AuditOutcome.PASSCODE_CLEARED)
    if s.phase is Phase.STAFF_LOCKED and e.locked_for_s <= 0:
        return _standby(s, now, AuditOutcome.CANCELLED)  # a re-issue lifted the lock
    return s, []


def passcode_checked(s: State, e: PasscodeChecked, now: float) -> Outcome:
    if e.credential is Credential.TECHNICIAN:
        return _technician_checked(s, e, now)
    s = _lock(s, now, e)
    if s.phase is not Phase.CHECKING_PASSCODE:
        return s, []  # late answer: only its lock news counts, never a stale success
    if e.locked_for_s > 0:
        return (_enter(s, Phase.STAFF_LOCKED, now, entry=EMPTY_SECRET),
                [_audit(AuditEvent.STAFF_LOCKOUT, Mode.UNATTENDED, AuditOutcome.LOCKED)])
    if e.ok:
        s = _enter(s, Phase.STAFF_STANDBY, now, mode=Mode.STAFF, entry=EMPTY_SECRET,
                   passcode_wrong=False, passcode_failures_left=None)
        return s, [_audit(AuditEvent.STAFF_ENTER, Mode.STAFF, AuditOutcome.ENTERED)]
    return (_enter(s, Phase.STAFF_PASSCODE, now, passcode_wrong=True,
                   passcode_failures_left=e.failures_left),
            [Note(NoteEvent.PASSCODE_WRONG, tries_left=e.failures_left)])


# --- keypads -------------------------------------------------------------------------------


def digit(s: State, e: DigitPressed, now: float) -> Outcome:
    if not 0 <= e.digit <= 9:
        raise IllegalEvent(s.phase, e, "a keypad digit is 0..9")
    limit = PIN_LENGTH if s.phase is Phase.PIN else PASSCODE_LENGTH
    if len(s.entry) >= limit:
        return s, []  # a double tap on a full pad: nothing to do
    return evolve(s, entry=s.entry.append(e.digit)), []


def delete(s: State, e: Event, now: float) -> Outcome:
    return evolve(s, entry=s.entry.drop_last()), []


def pin_ok(s: State, e: Event, now: float) -> Outcome:
    if len(s.entry) != PIN_LENGTH:
        raise IllegalEvent(s.phase, e, "OK before four digits")
    session = _session(s)
    pin = s.entry
    s = _enter(s, Phase.VERIFYING, now, entry=EMPTY_SECRET)
    return s, [VerifyPin(session.id, pin)]


def _check_code(s: State, e: Event, now: float, phase: Phase,
                credential: Credential) -> Outcome:
    if len(s.entry) != PASSCODE_LENGTH:
        raise IllegalEvent(s.phase, e, "OK before four digits")
    code = s.entry
    return _enter(s, phase, now, entry=EMPTY_SECRET), [CheckPasscode(code, credential)]


def passcode_ok(s: State, e: Event, now: float) -> Outcome:
    return _check_code(s, e, now, Phase.CHECKING_PASSCODE, Credential.STAFF)


def technician_ok(s: State, e: Event, now: float) -> Outcome:
    return _check_code(s, e, now, Phase.CHECKING_TECHNICIAN, Credential.TECHNICIAN)


def _method(s: State, method: Method) -> tuple[State, list[Effect]]:
    """The session goes on with `method`: noted for the journal when it changes."""
    session = _session(s)
    if session.method is method:
        return s, []
    return _with_session(s, method=method), [Note(NoteEvent.METHOD, session.id, method=method)]


def _to_pin(s: State, now: float) -> Outcome:
    s, effects = _method(s, Method.PIN)
    s = _enter(s, Phase.PIN, now, entry=EMPTY_SECRET)
    return s, effects + ([PlayCue(Cue.ONE_TRY_LEFT)] if _session(s).pin_tries == 1 else [])


def pin_back(s: State, e: Event, now: float) -> Outcome:
    if not _session(s).method_screen:
        raise IllegalEvent(s.phase, e, "no method screen to go back to")
    return _enter(s, Phase.METHOD, now, entry=EMPTY_SECRET), []


# --- the card flow -------------------------------------------------------------------------
# The token answers the card-or-phone question itself. A plastic card and an iPhone show their
# certificate before anything is asked, so no PIN is ever typed for a certificate that cannot
# be used; an Android token releases it only after VERIFY (docs/session.md).


def probed(s: State, e: CardProbed, now: float) -> Outcome:
    s = _with_session(s, token=e.token)
    if not e.auth_cert:
        return _fail(s, now, codes.NO_AUTH_CERT)
    if e.token is TokenKind.ANDROID:
        if s.mode is Mode.STAFF:
            return _fail(s, now, codes.ANDROID_NEEDS_PIN)
        return _read_counter(s, now)
    noted: list[Effect] = []
    if e.token is TokenKind.IPHONE:
        s, noted = _method(s, Method.PHONE)
    elif s.mode is Mode.STAFF:
        s, noted = _method(s, Method.VISUAL)
    s, effects = _read_certificate(s, now)
    return s, noted + effects


def _read_certificate(s: State, now: float) -> Outcome:
    return _enter(s, Phase.READING_CERT, now), [ReadCertificate(_session(s).id)]


def _read_counter(s: State, now: float) -> Outcome:
    return _enter(s, Phase.READING_COUNTER, now), [ReadPinCounter(_session(s).id)]


def counter_read(s: State, e: PinCounterRead, now: float) -> Outcome:
    s = _with_session(s, pin_tries=e.tries)
    if face_offered(s):
        return _enter(_with_session(s, method_screen=True), Phase.METHOD, now), []
    if pin_usable(s):
        return _to_pin(s, now)
    return _fail(s, now, codes.NO_PIN_SET if e.tries is None else codes.PIN_BLOCKED)


def certificate_read(s: State, e: CertificateRead, now: float) -> Outcome:
    session = _session(s)
    assessment = assess(e.not_after, session.wall(now), s.config.certificate)
    s = _with_session(s, cert_der=e.der, cert_fingerprint=e.fingerprint, certificate=assessment)
    phone = session.token is not None and session.token.phone
    if assessment.life is CertificateLife.EXPIRED or (
            assessment.life is CertificateLife.GRACE and phone):
        return _fail(s, now, codes.CERT_EXPIRED)  # a phone stops at its expiry: no grace
    if session.method is Method.VISUAL:
        return _card_done(s, now)
    if session.method is Method.PHONE or session.pin_verified:
        return _to_signature(s, now)
    return _read_counter(s, now)  # a plastic card: now the PIN (or the face) is worth asking


def choose_pin(s: State, e: Event, now: float) -> Outcome:
    if not pin_usable(s):
        raise IllegalEvent(s.phase, e, "the PIN is not offered for this card")
    return _to_pin(s, now)


def choose_face(s: State, e: Event, now: float) -> Outcome:
    if not face_offered(s):
        raise IllegalEvent(s.phase, e, "face matching is not offered")
    s, noted = _method(s, Method.FACE)
    s = _enter(s, Phase.MATCHING_FACE, now)
    return s, [*noted, MatchFace(_session(s).id)]


def face_guided(s: State, e: FaceGuidance, now: float) -> Outcome:
    """The face job asks the patient for something: shown, the job's deadline unchanged."""
    return _with_session(s, face_prompt=e.prompt), []


def face_matched(s: State, e: FaceMatched, now: float) -> Outcome:
    if e.ok:
        return _card_done(_with_session(s, face_prompt=None), now)  # certificate read before
    session = _session(s)
    final = e.failure is not None and e.failure.final
    failures = s.config.face.attempts if final else session.face_failures + 1
    s = _with_session(s, face_failed=True, face_failures=failures, method=None,
                      face_prompt=None)
    if face_offered(s) or pin_usable(s):
        return _enter(s, Phase.METHOD, now), []
    if session.pin_tries is None:  # 顔認証マイナンバーカード: no PIN to fall back on
        return _fail(s, now, codes.FACE_NOT_CONFIRMED)
    return _fail(s, now, codes.PIN_BLOCKED)


def pin_verified(s: State, e: PinVerified, now: float) -> Outcome:
    if e.outcome is PinOutcome.OK:
        s = _with_session(s, pin_wrong=False, pin_verified=True)
        if _session(s).cert_der is None:  # Android: the certificate opens only now
            return _read_certificate(s, now)
        return _to_signature(s, now)
    if e.outcome is PinOutcome.BLOCKED or e.tries_left <= 0:
        return _fail(_with_session(s, pin_tries=0), now, codes.PIN_BLOCKED)
    wrong = Note(NoteEvent.PIN_WRONG, _session(s).id, tries_left=e.tries_left)
    s, effects = _to_pin(_with_session(s, pin_tries=e.tries_left, pin_wrong=True), now)
    return s, [wrong, *effects]


def _to_signature(s: State, now: float) -> Outcome:
    if _session(s).challenge is None:
        return _enter(s, Phase.AWAITING_CHALLENGE, now), []
    return _sign(s, now)


def _sign(s: State, now: float) -> Outcome:
    challenge = _session(s).challenge
    assert challenge is not None
    s = _enter(s, Phase.SIGNING, now)
    return s, [Sign(_session(s).id, challenge)]


def signed(s: State, e: Signed, now: float) -> Outcome:
    return _card_done(_with_session(s, signature=e.signature), now)


def _card_done(s: State, now: float) -> Outcome:
    """The card's part is over: unpower it, then the consent pages."""
    session = _session(s)
    s = _with_session(s, card_released=True, page=0)
    effects: list[Effect] = [ReleaseCard(session.id)]
    if not session_pages(s):
        s, more = _after_consents(s, now)
        return s, effects + more
    return _enter(s, Phase.CONSENT, now), effects


def job_failed(s: State, e: CardJobFailed, now: float) -> Outcome:
    return _fail(s, now, code_of(e.error, _session(s).token))


# --- consent and the result ----------------------------------------------------------------


def answer(s: State, e: Pressed, now: float) -> Outcome:
    session = _session(s)
    pages = session_pages(s)
    page = pages[session.page]
    agreed = e.button is Button.AGREE
    time = session.wall(now)
    validity = s.config.consent_validity
    kept = tuple(a for a in session.answers if a.item not in page.items)
    answers = kept + tuple(ConsentAnswer(item, agreed, time, validity.until(item, agreed, time))
                           for item in page.items)
    s = _with_session(s, answers=answers, page=session.page + 1)
    if session.page + 1 == len(pages):
        return _after_consents(s, now)
    return _enter(s, Phase.CONSENT, now), []


def _after_consents(s: State, now: float) -> Outcome:
    if s.config.ask_prescription:
        return _enter(s, Phase.PRESCRIPTION, now), []
    return _finish(s, now)


def choose_prescription(s: State, e: Pressed, now: float) -> Outcome:
    choice = (Prescription.ELECTRONIC if e.button is Button.PRESCRIPTION_ELECTRONIC
              else Prescription.PAPER)
    return _finish(_with_session(s, prescription=choice), now)


def prescription_back(s: State, e: Event, now: float) -> Outcome:
    pages = session_pages(s)
    if not pages:
        raise IllegalEvent(s.phase, e, "no consent page to go back to")
    return _enter(_with_session(s, page=len(pages) - 1), Phase.CONSENT, now), []


def consent_back(s: State, e: Event, now: float) -> Outcome:
    session = _session(s)
    if session.page == 0:
        raise IllegalEvent(s.phase, e, "already on the first page")
    return _enter(_with_session(s, page=session.page - 1), Phase.CONSENT, now), []


def _finish(s: State, now: float) -> Outcome:
    """Every page is answered: the one result of this session goes to the terminal."""
    session = _session(s)
    assert session.method is not None
    assert session.token is not None
    assert session.cert_der is not None
    assert session.cert_fingerprint is not None
    assert session.certificate is not None
    result = ResultMessage(
        session.id, session.method, session.cert_der, session.cert_fingerprint,
        session.challenge, session.signature, in_result_order(session.answers),
        session.started_wall, session.wall(now), session.token, session.certificate.life,
        session.certificate.expiry, session.prescription)
    notice = None if session.certificate.life is CertificateLife.VALID else session.certificate
    s, ended = _end_session(evolve(s, notice=notice), AuditOutcome.CONFIRMED)
    # the result into the durable outbox before the audit line: a crash in between leaves a
    # delivered result without its line, never an audited confirmation the terminal lacks
    effects: list[Effect] = [SendToHost(result), *ended, PlayCue(Cue.DONE)]
    if s.mode is Mode.STAFF and s.config.staff.scope is StaffScope.ONE:
        s, more = _staff_exit(s, AuditOutcome.CONFIRMED)
        effects += more
    return _enter(s, Phase.DONE, now), effects


# --- buttons that leave ----------------------------------------------------------------------


def cancel(s: State, e: Event, now: float) -> Outcome:
    """中止: in staff mode back to unattended at once; otherwise end the session."""
    s, effects = _end_session(s, AuditOutcome.CANCELLED)
    if s.mode is Mode.STAFF:
        s, more = _standby(s, now, AuditOutcome.CANCELLED)
        return s, effects + more
    s, more = _rest(s, now)
    return s, effects + more


def dismiss(s: State, e: Event, now: float) -> Outcome:
    return _rest(s, now)


def to_standby(s: State, e: Event, now: float) -> Outcome:
    return _standby(s, now, AuditOutcome.CANCELLED)


def staff_button(s: State, e: Event, now: float) -> Outcome:
    if not s.staff_provisioned:
        raise IllegalEvent(s.phase, e, "no passcode is provisioned: no 職員用 button")
    if s.staff_locked_until is not None and now < s.staff_locked_until:
        return _enter(s, Phase.STAFF_LOCKED, now), []
    s = evolve(s, staff_locked_until=None, staff_locked_until_wall=None)
    return _enter(s, Phase.STAFF_PASSCODE, now, entry=EMPTY_SECRET, passcode_wrong=False,
                  passcode_failures_left=None), []


# --- the technician screen, behind the technician code -------------------------------------


def technician(s: State, e: Event, now: float) -> Outcome:
    """The hidden gesture: the technician code's pad; its lock notice while locked; on a
    reader without a code, how to set one (and nothing else)."""
    if not s.technician_provisioned:
        return _enter(s, Phase.TECHNICIAN_UNSET, now), []
    if s.technician_locked_until is not None and now < s.technician_locked_until:
        return _enter(s, Phase.TECHNICIAN_LOCKED, now), []
    s = evolve(s, technician_locked_until=None, technician_locked_until_wall=None)
    return _enter(s, Phase.TECHNICIAN_CODE, now, entry=EMPTY_SECRET, passcode_wrong=False,
                  passcode_failures_left=None), []


def _technician_status(s: State, e: PasscodeStatus, now: float) -> Outcome:
    """`technician set` or `clear` on the device, seen by the running reader at once."""
    s = evolve(_lock(s, now, e), technician_provisioned=e.provisioned)
    if not e.provisioned and s.phase in TECHNICIAN_ENTRY_PHASES:
        return _standby(s, now, AuditOutcome.CANCELLED)
    if s.phase is Phase.TECHNICIAN_LOCKED and e.locked_for_s <= 0:
        return _standby(s, now, AuditOutcome.CANCELLED)  # a new code lifted the lock
    if s.phase is Phase.TECHNICIAN_UNSET and e.provisioned:
        return technician(s, e, now)  # the code was just set: its pad
    return s, []


def _technician_checked(s: State, e: PasscodeChecked, now: float) -> Outcome:
    s = _lock(s, now, e)
    if s.phase is not Phase.CHECKING_TECHNICIAN:
        return s, []  # late answer: only its lock news counts, never a stale success
    if e.locked_for_s > 0:
        return (_enter(s, Phase.TECHNICIAN_LOCKED, now, entry=EMPTY_SECRET),
                [_audit(AuditEvent.TECHNICIAN_LOCKOUT, s.mode, AuditOutcome.LOCKED)])
    if e.ok:
        s = _enter(s, Phase.TECHNICIAN, now, entry=EMPTY_SECRET, passcode_wrong=False,
                   passcode_failures_left=None)
        return s, [_audit(AuditEvent.TECHNICIAN_ENTER, s.mode, AuditOutcome.ENTERED)]
    return (_enter(s, Phase.TECHNICIAN_CODE, now, passcode_wrong=True,
                   passcode_failures_left=e.failures_left),
            [Note(NoteEvent.PASSCODE_WRONG, screen=Screen.TECHNICIAN_CODE,
                  tries_left=e.failures_left)])


def sound_setting(s: State, e: Pressed, now: float) -> Outcome:
    """Voice on/off or a volume step: kept for the next start and audited; the screen's
    deadline starts again (someone is at work)."""
    old = s.sound
    if e.button is Button.VOICE:
        sound = Sound(not old.voice, old.volume)
        outcome = AuditOutcome.VOICE_ON if sound.voice else AuditOutcome.VOICE_OFF
    else:
        sound = old.louder(1 if e.button is Button.VOLUME_UP else -1)
        outcome = AuditOutcome.VOLUME_SET
    s = _enter(s, Phase.TECHNICIAN, now)
    if sound == old:
        return s, []  # the volume is at its end already
    record = AuditRecord(AuditEvent.TECHNICIAN_SETTING, s.mode, outcome,
                         volume=None if e.button is Button.VOICE else sound.volume)
    return evolve(s, sound=sound), [SaveSound(sound), WriteAudit(record)]


# --- deadlines (table.py's TIMEOUTS says which runs in which phase) -------------------------


def card_job_timed_out(s: State, now: float) -> Outcome:
    return _fail(s, now, codes.CARD_TIMEOUT)


def challenge_timed_out(s: State, now: float) -> Outcome:
    return _fail(s, now, codes.NO_CHALLENGE)


def _timed_out(s: State, reason: EndReason = EndReason.TIMEOUT) -> tuple[Ending | None,
                                                                       list[Effect]]:
    """What the next screen says about a person's screen whose deadline ended it, and the
    journal's note (a job's or a notice's deadline ends nobody's work: nothing)."""
    if s.phase not in WARNED_PHASES:
        return None, []
    screen = Screen(s.phase.value)
    session_id = None if s.session is None else s.session.id
    return Ending(reason, screen), [Note(NoteEvent.TIMED_OUT, session_id, screen)]


def walked_away(s: State, now: float) -> Outcome:
    """The patient left a screen that waits for them: end the session quietly."""
    ended, noted = _timed_out(s)
    s, effects = _abort_to_rest(s, now, AuditOutcome.TIMEOUT, ended)
    return s, noted + effects


def shown_long_enough(s: State, now: float) -> Outcome:
    """A finished screen (done, error) has been read: back to where the next patient starts."""
    return _rest(s, now)


def staff_timed_out(s: State, now: float) -> Outcome:
    ended, noted = _timed_out(s)
    s, effects = _standby(s, now, AuditOutcome.TIMEOUT, ended)
    return s, noted + effects


def staff_idle(s: State, now: float) -> Outcome:
    ended, noted = _timed_out(s, EndReason.IDLE)
    s, effects = _standby(s, now, AuditOutcome.IDLE, ended)
    return s, noted + effects


def notice_read(s: State, now: float) -> Outcome:
    """Standby's notice (why the last screen ended) and a language chosen there go back."""
    return evolve(s, ended=None, language=None), []


# --- what every screen offers: more time, the patient's language ---------------------------


def keep_going(s: State, e: Event, now: float) -> Outcome:
    """続ける while a deadline counts down: the screen again, with its whole deadline."""
    if s.countdown is None:
        raise IllegalEvent(s.phase, e, "no countdown to continue")
    session_id = None if s.session is None else s.session.id
    return (_enter(s, s.phase, now, ended=s.ended),
            [Note(NoteEvent.CONTINUED, session_id, Screen(s.phase.value))])


def voice_guided(s: State, e: VoiceGuided, now: float) -> Outcome:
    """The patient is guided by voice: the rest of the session's patient screens wait
    `timeouts.voice_factor` times longer, the one shown now too (from now, with what was
    typed kept). Outside a session, or said again, it changes nothing."""
    session = s.session
    if session is None or session.voice_guided:
        return s, []
    s = _with_session(s, voice_guided=True)
    screen = Screen(s.phase.value) if s.phase in VOICE_PHASES else None
    if screen is not None:
        s = _enter(s, s.phase, now, ended=s.ended)
    return s, [Note(NoteEvent.VOICE, session.id, screen)]


def choose_language(s: State, e: Event, now: float) -> Outcome:
    """日本語 / English: the other language, for this patient only. On standby it lasts a
    while without a card; a session keeps it until it ends (docs/session.md)."""
    current = s.language or s.config.language
    chosen = Language.EN if current is Language.JA else Language.JA
    s = evolve(s, language=None if chosen is s.config.language else chosen)
    if s.phase is Phase.STANDBY:
        s = evolve(s, deadline=standby_deadline(s.config, now))
    return s, []


# --- the terminal on the link --------------------------------------------------------------


def terminal_link(s: State, e: TerminalLink, now: float) -> Outcome:
    """The terminal came or went. While it is away no unattended confirmation goes on before
    its card part is done (no PIN is asked for a result nobody can take); when it is back the
    error that said so gives way to standby by itself."""
    if s.terminal_away != e.connected:
        return s, []  # no change (a new terminal session replacing the last one)
    s = evolve(s, terminal_away=not e.connected)
    noted: list[Effect] = [Note(NoteEvent.TERMINAL, connected=e.connected)]
    session = s.session
    if (not e.connected and s.mode is Mode.UNATTENDED and session is not None
            and not session.card_released):
        s, effects = _fail(s, now, codes.TERMINAL_AWAY)
        return s, noted + effects
    if e.connected and s.phase is Phase.ERROR and s.error_code == codes.TERMINAL_AWAY.code:
        s, effects = _rest(s, now)
        return s, noted + effects
    return s, noted
