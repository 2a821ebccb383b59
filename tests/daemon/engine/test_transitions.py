"""Table tests: one case per transition of the engine's TABLE and TIMEOUTS (a meta-test checks
that every table entry has a case), then the illegal events of every phase."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from myna_reader.daemon.engine import (
    TABLE,
    TIMEOUTS,
    AuditEvent,
    Button,
    CardErrorKind,
    CardJobFailed,
    CardPlaced,
    CardProbed,
    CardRemoved,
    CertificateRead,
    ChallengeReceived,
    CheckPasscode,
    ConsentView,
    Credential,
    Cue,
    DigitPressed,
    Effect,
    ErrorMessage,
    Event,
    FaceFailure,
    FaceGuidance,
    FaceMatched,
    FacePrompt,
    FaceSettings,
    Ignored,
    IllegalEvent,
    MatchFace,
    Method,
    MethodView,
    Mode,
    PasscodeChecked,
    PasscodeStatus,
    Phase,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    PinView,
    PlayCue,
    Pressed,
    ProbeCard,
    ReadCertificate,
    ReaderAttached,
    ReaderDetached,
    ReadingView,
    ReadPinCounter,
    ReleaseCard,
    ResultMessage,
    SaveSound,
    Secret,
    SendToHost,
    SessionConfig,
    SetDeadline,
    Show,
    Sign,
    Signed,
    Sound,
    StaffModeConfig,
    StaffScope,
    StandbyView,
    StatusMessage,
    Tick,
    TokenKind,
    VerifyPin,
    WriteAudit,
    start,
    step,
)
from tests.daemon.engine.engine_driver import (
    CERT_DER,
    CHALLENGE,
    FACE,
    FINGERPRINT,
    NOT_AFTER,
    PIN_TEXT,
    REACH,
    UNTIL_CANCEL,
    WALL0,
    Driver,
    all_reachers,
    awaiting_challenge,
    checking_passcode,
    checking_technician,
    consent,
    done,
    error,
    error_card_gone,
    matching_face,
    method,
    no_reader,
    pin,
    probing,
    reading_cert,
    reading_counter,
    signing,
    staff_consent,
    staff_done,
    staff_locked,
    staff_passcode,
    staff_probing,
    staff_reading_cert,
    staff_standby,
    standby,
    technician,
    technician_code,
    technician_locked,
    technician_unset,
    verifying,
)

Check = Callable[[Driver, list[Effect]], object]  # a returned value must be truthy
EventOf = Callable[[Driver], Event]
TIMEOUT = "timeout"


def _nothing(d: Driver, out: list[Effect]) -> None:
    pass


@dataclass
class Case:
    name: str
    reach: Callable[[], Driver]
    event: EventOf | None  # None: the phase's deadline passes
    phase: Phase
    check: Check = _nothing
    mode: Mode | None = Mode.UNATTENDED
    keys: list[object] = field(default_factory=list)

    def run(self) -> tuple[Driver, list[Effect], tuple[Phase, object]]:
        d = self.reach()
        before = d.phase
        if self.event is None:
            assert d.state.deadline is not None
            end = d.state.ends_at or d.state.deadline  # past a countdown: its end
            out = d.feed(Tick(), dt=end - d.now)
            return d, out, (before, TIMEOUT)
        event = self.event(d)
        out = d.feed(event)
        key = event.button if isinstance(event, Pressed) else type(event)
        return d, out, (before, key)

    def holds(self) -> None:
        """Run the case: the phase and mode it names, its check, a deadline still ahead."""
        d, out, _ = self.run()
        assert d.phase is self.phase
        if self.mode is not None:
            assert d.state.mode is self.mode
        verdict = self.check(d, out)
        assert verdict is None or verdict, f"check of {self.name!r} is false"
        if d.state.deadline is not None:
            assert d.state.deadline > d.now


def ev(event: Event) -> EventOf:
    return lambda d: event


def probed(token: TokenKind, auth: bool = True) -> EventOf:
    return lambda d: CardProbed(d.sid, token, auth)


def counter(tries: int | None) -> EventOf:
    return lambda d: PinCounterRead(d.sid, tries)


def cert(not_after: datetime = NOT_AFTER) -> EventOf:
    return lambda d: CertificateRead(d.sid, CERT_DER, FINGERPRINT, not_after)


def has(*kinds: type) -> Check:
    def check(d: Driver, out: list[Effect]) -> None:
        for kind in kinds:
            assert any(isinstance(e, kind) for e in out), f"no {kind.__name__} in {out}"
    return check


def error_code(code: str) -> Check:
    def check(d: Driver, out: list[Effect]) -> None:
        assert d.state.error_code == code
        sent = [e.message for e in out if isinstance(e, SendToHost)]
        assert ErrorMessage(code, sent[0].session_id if sent else None) in sent  # type: ignore[union-attr]
        assert PlayCue(Cue.ERROR) in out
        assert d.state.session is None
    return check


def audit(event: AuditEvent, outcome: str) -> Check:
    def check(d: Driver, out: list[Effect]) -> None:
        records = [e.record for e in out if isinstance(e, WriteAudit)]
        assert any(r.event is event and r.outcome == outcome for r in records), records
    return check


def all_of(*checks: Check) -> Check:
    def check(d: Driver, out: list[Effect]) -> None:
        for c in checks:
            verdict = c(d, out)
            assert verdict is None or verdict
    return check


def no_result(d: Driver, out: list[Effect]) -> None:
    assert not [e for e in out if isinstance(e, SendToHost)
                and isinstance(e.message, ResultMessage | ErrorMessage)]


def released_once(d: Driver, out: list[Effect]) -> None:
    """The session's card was unpowered exactly once, whenever that was."""
    assert len([e for e in d.effects if isinstance(e, ReleaseCard)]) == 1


def _standby_with_card() -> Driver:
    d = done()
    d.press(Button.OK)
    return d


def _staff_standby_with_card() -> Driver:
    d = staff_done(UNTIL_CANCEL)
    d.press(Button.OK)
    return d


def _card_then(reach: Callable[[], Driver]) -> Callable[[], Driver]:
    def go() -> Driver:
        d = reach()
        d.feed(CardPlaced("extra", WALL0))
        return d
    return go


FACE_TWICE = SessionConfig(face=FaceSettings(available=True, attempts=2))


def _face_job(config: SessionConfig = FACE_TWICE, tries: int | None = 3) -> Driver:
    d = reading_counter(config)
    d.feed(PinCounterRead(d.sid, tries))
    d.press(Button.METHOD_FACE)
    return d


def _pin_full() -> Driver:
    d = pin()
    d.type_digits()
    return d


def _pin_from_method() -> Driver:
    d = method()
    d.press(Button.METHOD_PIN)
    return d


def _consent_page2() -> Driver:
    d = consent()
    d.press(Button.DISAGREE)
    return d


def _consent_last() -> Driver:
    d = consent()
    for _ in d.config.consent_pages[:-1]:
        d.press(Button.AGREE)
    return d


def _standby_locked() -> Driver:
    d = staff_locked()
    d.press(Button.OK)
    return d


TECH = Credential.TECHNICIAN


def _technician_provisioned() -> Driver:
    d = standby()
    d.feed(PasscodeStatus(True, credential=TECH))
    return d


def _technician_lock_seen() -> Driver:
    d = technician_locked()
    d.press(Button.OK)
    return d


def _technician_typed() -> Driver:
    d = technician_code()
    d.type_digits((3, 6, 9, 2))
    return d


def _technician_loud() -> Driver:
    d = technician()
    d.press(Button.VOLUME_UP)
    d.press(Button.VOLUME_UP)  # 100
    return d


def _passcode_typed() -> Driver:
    d = staff_passcode()
    d.type_digits((2, 5, 8, 0))
    return d


def _digits(n: int) -> Check:
    def check(d: Driver, out: list[Effect]) -> None:
        assert len(d.state.entry) == n
        assert d.state.shown.digits == n  # type: ignore[union-attr]
    return check


def _pin_ok(d: Driver, out: list[Effect]) -> None:
    jobs = [e for e in out if isinstance(e, VerifyPin)]
    assert jobs == [VerifyPin(jobs[0].session_id, Secret(PIN_TEXT))]
    assert len(d.state.entry) == 0  # the PIN does not stay in the state


def _result(d: Driver, out: list[Effect]) -> None:
    results = [e.message for e in out if isinstance(e, SendToHost)
               and isinstance(e.message, ResultMessage)]
    assert len(results) == 1
    result = results[0]
    assert result.method is Method.PIN
    assert result.certificate == CERT_DER
    assert result.challenge == CHALLENGE
    assert result.signature == b"SIGNATURE"
    assert [a.item.value for a in result.consents] == [
        "limit-application", "specific-disease", "health-checkups", "pharmaceutical",
        "diagnosis", "operation"]
    assert all(a.agreed for a in result.consents)
    assert result.started <= result.finished


CASES: list[Case] = [
    Case("reader attached", no_reader, ev(ReaderAttached("r")), Phase.STANDBY,
         has(Show, SendToHost)),
    Case("card placed", standby, lambda d: CardPlaced("s9", WALL0), Phase.PROBING,
         all_of(has(ProbeCard), lambda d, out: PlayCue(Cue.CARD_DETECTED) in out)),
    Case("card taken from standby", _standby_with_card, ev(CardRemoved()), Phase.STANDBY,
         lambda d, out: d.state.shown == StandbyView(staff_button=True)),
    Case("staff button", standby, ev(Pressed(Button.STAFF)), Phase.STAFF_PASSCODE),
    Case("staff button while locked", _standby_locked, ev(Pressed(Button.STAFF)),
         Phase.STAFF_LOCKED),
    Case("technician, no code set", standby, ev(Pressed(Button.TECHNICIAN)),
         Phase.TECHNICIAN_UNSET, lambda d, out: d.state.shown.screen.value == "technician-unset"),  # type: ignore[union-attr]
    # probe outcomes: the token decides what comes first
    Case("probe: plastic card, certificate first", probing, probed(TokenKind.PLASTIC_CARD),
         Phase.READING_CERT, has(ReadCertificate)),
    Case("probe: no auth cert", probing, probed(TokenKind.PLASTIC_CARD, False),
         Phase.ERROR, error_code("105")),
    Case("probe: Android, PIN counter first", probing, probed(TokenKind.ANDROID),
         Phase.READING_COUNTER, has(ReadPinCounter)),
    Case("probe: iPhone, certificate first", probing, probed(TokenKind.IPHONE),
         Phase.READING_CERT, all_of(has(ReadCertificate),
                                    lambda d, out: d.state.session.method is Method.PHONE)),  # type: ignore[union-attr]
    Case("staff probe: read without PIN", staff_probing, probed(TokenKind.PLASTIC_CARD),
         Phase.READING_CERT, has(ReadCertificate), Mode.STAFF),
    Case("staff probe: Android", staff_probing, probed(TokenKind.ANDROID),
         Phase.ERROR, error_code("103"), Mode.STAFF),
    # the certificate before the PIN, then the counter
    Case("cert usable: the PIN counter next", reading_cert, cert(), Phase.READING_COUNTER,
         all_of(has(ReadPinCounter), lambda d, out: not any(isinstance(e, VerifyPin)
                                                            for e in d.effects))),
    Case("counter: PIN card", reading_counter, counter(3), Phase.PIN,
         lambda d, out: d.state.shown == PinView(tries_left=3)),
    Case("counter: one try left", reading_counter, counter(1), Phase.PIN,
         lambda d, out: PlayCue(Cue.ONE_TRY_LEFT) in out and d.state.shown.one_try_left),  # type: ignore[union-attr]
    Case("counter: face card", reading_counter, counter(None), Phase.ERROR,
         error_code("102")),
    Case("counter: PIN blocked", reading_counter, counter(0), Phase.ERROR, error_code("101")),
    Case("counter: face configured", lambda: reading_counter(FACE), counter(3), Phase.METHOD,
         lambda d, out: d.state.shown == MethodView(face=True, pin=True)),
    Case("counter: face configured, blocked PIN", lambda: reading_counter(FACE), counter(0),
         Phase.METHOD, lambda d, out: d.state.shown == MethodView(face=True, pin=False)),
    # method
    Case("method: PIN", method, ev(Pressed(Button.METHOD_PIN)), Phase.PIN,
         lambda d, out: d.state.shown.back_button),  # type: ignore[union-attr]
    Case("method: face", method, ev(Pressed(Button.METHOD_FACE)), Phase.MATCHING_FACE,
         has(MatchFace)),
    Case("face matched: the certificate was read before", matching_face,
         lambda d: FaceMatched(d.sid, True), Phase.CONSENT,
         all_of(has(ReleaseCard), lambda d, out: not any(isinstance(e, ReadCertificate)
                                                         for e in out))),
    Case("face not matched", matching_face, lambda d: FaceMatched(d.sid, False), Phase.METHOD,
         lambda d, out: d.state.shown == MethodView(face=False, pin=True, face_failed=True)),
    Case("face guidance: shown, same deadline", matching_face,
         lambda d: FaceGuidance(d.sid, FacePrompt.TURN_LEFT), Phase.MATCHING_FACE,
         lambda d, out: d.state.shown == ReadingView(face_prompt=FacePrompt.TURN_LEFT)
         and not any(isinstance(e, SetDeadline) for e in out)),
    Case("face not matched, an attempt left", _face_job,
         lambda d: FaceMatched(d.sid, False, FaceFailure.NOT_LIVE), Phase.METHOD,
         lambda d, out: d.state.shown == MethodView(face=True, pin=True, face_failed=True)),
    Case("face refused by the card: no second attempt", _face_job,
         lambda d: FaceMatched(d.sid, False, FaceFailure.CARD_REFUSED), Phase.METHOD,
         lambda d, out: d.state.shown == MethodView(face=False, pin=True, face_failed=True)),
    Case("face not matched, no PIN, an attempt left", lambda: _face_job(tries=None),
         lambda d: FaceMatched(d.sid, False, FaceFailure.NO_MATCH), Phase.METHOD,
         lambda d, out: d.state.shown == MethodView(face=True, pin=False, face_failed=True)),
    Case("face not matched, no PIN, no attempt left",
         lambda: _face_job(SessionConfig(face=FaceSettings(available=True)), tries=None),
         lambda d: FaceMatched(d.sid, False, FaceFailure.NO_MATCH), Phase.ERROR,
         error_code("111")),
    # PIN pad
    Case("PIN digit", pin, ev(DigitPressed(4)), Phase.PIN, _digits(1)),
    Case("PIN delete", _pin_full, ev(Pressed(Button.DELETE)), Phase.PIN, _digits(3)),
    Case("PIN OK", _pin_full, ev(Pressed(Button.OK)), Phase.VERIFYING, _pin_ok),
    Case("PIN back", _pin_from_method, ev(Pressed(Button.BACK)), Phase.METHOD),
    Case("VERIFY ok, no challenge yet", verifying,
         lambda d: PinVerified(d.sid, PinOutcome.OK, 3), Phase.AWAITING_CHALLENGE),
    Case("VERIFY ok, challenge waiting", lambda: _with_challenge(verifying),
         lambda d: PinVerified(d.sid, PinOutcome.OK, 3), Phase.SIGNING,
         lambda d, out: Sign(d.sid, CHALLENGE) in out),
    Case("VERIFY wrong", verifying, lambda d: PinVerified(d.sid, PinOutcome.INCORRECT, 2),
         Phase.PIN,
         lambda d, out: d.state.shown == PinView(tries_left=2, wrong=True)
         and not any(isinstance(e, VerifyPin) for e in out)),  # never an automatic retry
    Case("VERIFY wrong, one left", verifying,
         lambda d: PinVerified(d.sid, PinOutcome.INCORRECT, 1), Phase.PIN,
         lambda d, out: PlayCue(Cue.ONE_TRY_LEFT) in out),
    Case("VERIFY blocked", verifying, lambda d: PinVerified(d.sid, PinOutcome.BLOCKED, 0),
         Phase.ERROR, error_code("101")),
    # certificate and signature
    Case("cert expired long ago: no PIN asked", reading_cert,
         cert(datetime(2020, 3, 31, 14, 59, 59, tzinfo=UTC)), Phase.ERROR,
         all_of(error_code("006"), has(ReleaseCard),
                lambda d, out: not any(isinstance(e, ReadPinCounter | VerifyPin)
                                       for e in d.effects))),
    Case("staff cert", staff_reading_cert, cert(), Phase.CONSENT, has(ReleaseCard),
         Mode.STAFF),
    Case("challenge arrives", awaiting_challenge, ev(ChallengeReceived(CHALLENGE)),
         Phase.SIGNING, has(Sign)),
    Case("signed", signing, lambda d: Signed(d.sid, b"SIGNATURE"), Phase.CONSENT,
         has(ReleaseCard)),
    # consent
    Case("consent agree", consent, ev(Pressed(Button.AGREE)), Phase.CONSENT,
         lambda d, out: d.state.shown.page_index == 1),  # type: ignore[union-attr]
    Case("consent back", _consent_page2, ev(Pressed(Button.BACK)), Phase.CONSENT,
         lambda d, out: isinstance(d.state.shown, ConsentView) and d.state.shown.page_index == 0),
    Case("consent last page", _consent_last, ev(Pressed(Button.AGREE)), Phase.DONE,
         all_of(_result, audit(AuditEvent.CONFIRMATION, "confirmed"))),
    Case("consent last page, disagree", _consent_last, ev(Pressed(Button.DISAGREE)),
         Phase.DONE, lambda d, out: [a.agreed for a in d.results()[0].consents][:2]
         == [False, False]),
    Case("staff confirmation, scope one", lambda: _staff_consent_last(None),
         ev(Pressed(Button.AGREE)), Phase.DONE,
         all_of(audit(AuditEvent.STAFF_EXIT, "confirmed"),
                lambda d, out: d.results()[0].method is Method.VISUAL)),
    Case("staff confirmation, until-cancel", lambda: _staff_consent_last(UNTIL_CANCEL),
         ev(Pressed(Button.AGREE)), Phase.DONE,
         lambda d, out: len(d.results()) == 1
         and not any(isinstance(e, WriteAudit) and e.record.event is AuditEvent.STAFF_EXIT
                     for e in out), Mode.STAFF),
    # done and error
    Case("done, card taken", done, ev(CardRemoved()), Phase.STANDBY),
    Case("done, card taken, staff stays", lambda: staff_done(UNTIL_CANCEL), ev(CardRemoved()),
         Phase.STAFF_STANDBY, mode=Mode.STAFF),
    Case("done OK", done, ev(Pressed(Button.OK)), Phase.STANDBY,
         lambda d, out: d.state.shown == StandbyView(staff_button=True, remove_card=True)),
    Case("error, card placed again", error_card_gone, lambda d: CardPlaced("again", WALL0),
         Phase.PROBING, has(ProbeCard)),
    Case("error, card taken", error, ev(CardRemoved()), Phase.ERROR),
    Case("error OK", error, ev(Pressed(Button.OK)), Phase.STANDBY),
    # staff entry
    Case("passcode digit", staff_passcode, ev(DigitPressed(0)), Phase.STAFF_PASSCODE,
         _digits(1)),
    Case("passcode delete", _passcode_typed, ev(Pressed(Button.DELETE)), Phase.STAFF_PASSCODE,
         _digits(3)),
    Case("passcode OK", _passcode_typed, ev(Pressed(Button.OK)), Phase.CHECKING_PASSCODE,
         lambda d, out: CheckPasscode(Secret("2580")) in out and len(d.state.entry) == 0),
    Case("passcode right", checking_passcode, ev(PasscodeChecked(True, 5)),
         Phase.STAFF_STANDBY, audit(AuditEvent.STAFF_ENTER, "entered"), Mode.STAFF),
    Case("passcode wrong", checking_passcode, ev(PasscodeChecked(False, 4)),
         Phase.STAFF_PASSCODE,
         lambda d, out: d.state.shown.failures_left == 4 and d.state.shown.wrong),  # type: ignore[union-attr]
    Case("passcode wrong, locks", checking_passcode,
         ev(PasscodeChecked(False, 0, 1800.0, WALL0 + 1800)), Phase.STAFF_LOCKED,
         all_of(audit(AuditEvent.STAFF_LOCKOUT, "locked"),
                lambda d, out: d.state.status.locked_until_wall == WALL0 + 1800)),  # type: ignore[union-attr]
    Case("lock notice OK", staff_locked, ev(Pressed(Button.OK)), Phase.STANDBY),
    Case("staff standby, card placed", staff_standby, lambda d: CardPlaced("v1", WALL0),
         Phase.PROBING, has(ProbeCard), Mode.STAFF),
    Case("staff standby, card taken", _staff_standby_with_card, ev(CardRemoved()),
         Phase.STAFF_STANDBY, mode=Mode.STAFF),
    Case("technician OK", technician, ev(Pressed(Button.OK)), Phase.STANDBY),
    # the technician code: the gesture leads to its pad, the right code to the screen
    Case("technician gesture, code set", _technician_provisioned,
         ev(Pressed(Button.TECHNICIAN)), Phase.TECHNICIAN_CODE),
    Case("technician gesture while locked", _technician_lock_seen,
         ev(Pressed(Button.TECHNICIAN)), Phase.TECHNICIAN_LOCKED),
    Case("technician digit", technician_code, ev(DigitPressed(3)), Phase.TECHNICIAN_CODE,
         _digits(1)),
    Case("technician delete", _technician_typed, ev(Pressed(Button.DELETE)),
         Phase.TECHNICIAN_CODE, _digits(3)),
    Case("technician code OK", _technician_typed, ev(Pressed(Button.OK)),
         Phase.CHECKING_TECHNICIAN,
         lambda d, out: CheckPasscode(Secret("3692"), TECH) in out and len(d.state.entry) == 0),
    Case("technician code right", checking_technician,
         ev(PasscodeChecked(True, 5, credential=TECH)), Phase.TECHNICIAN,
         audit(AuditEvent.TECHNICIAN_ENTER, "entered")),
    Case("technician code wrong", checking_technician,
         ev(PasscodeChecked(False, 4, credential=TECH)), Phase.TECHNICIAN_CODE,
         lambda d, out: d.state.shown.failures_left == 4 and d.state.shown.wrong),  # type: ignore[union-attr]
    Case("technician code wrong, locks", checking_technician,
         ev(PasscodeChecked(False, 0, 60.0, WALL0 + 60, TECH)), Phase.TECHNICIAN_LOCKED,
         all_of(audit(AuditEvent.TECHNICIAN_LOCKOUT, "locked"),
                lambda d, out: d.state.technician_locked_until_wall == WALL0 + 60,
                lambda d, out: d.state.staff_locked_until is None)),  # staff entry unaffected
    Case("a staff answer does not open the technician screen", checking_technician,
         ev(PasscodeChecked(True, 5)), Phase.CHECKING_TECHNICIAN),
    Case("technician lock notice OK", technician_locked, ev(Pressed(Button.OK)),
         Phase.STANDBY),
    Case("technician unset notice OK", technician_unset, ev(Pressed(Button.OK)),
         Phase.STANDBY),
    Case("technician code set while its notice shows", technician_unset,
         ev(PasscodeStatus(True, credential=TECH)), Phase.TECHNICIAN_CODE),
    Case("technician code cleared on the screen", technician,
         ev(PasscodeStatus(False, credential=TECH)), Phase.STANDBY,
         lambda d, out: not d.state.technician_provisioned),
    Case("technician lock lifted by a new code", technician_locked,
         ev(PasscodeStatus(True, credential=TECH)), Phase.STANDBY),
    # its settings: through the engine, kept and audited
    Case("voice off", technician, ev(Pressed(Button.VOICE)), Phase.TECHNICIAN,
         all_of(lambda d, out: SaveSound(Sound(False, 80)) in out,
                audit(AuditEvent.TECHNICIAN_SETTING, "voice-off"),
                lambda d, out: d.state.shown.sound == Sound(False, 80))),  # type: ignore[union-attr]
    Case("volume up", technician, ev(Pressed(Button.VOLUME_UP)), Phase.TECHNICIAN,
         all_of(lambda d, out: SaveSound(Sound(True, 90)) in out,
                lambda d, out: any(isinstance(e, WriteAudit) and e.record.volume == 90
                                   for e in out))),
    Case("volume down", technician, ev(Pressed(Button.VOLUME_DOWN)), Phase.TECHNICIAN,
         all_of(lambda d, out: SaveSound(Sound(True, 70)) in out,
                audit(AuditEvent.TECHNICIAN_SETTING, "volume-set"))),
    Case("volume at its top", _technician_loud, ev(Pressed(Button.VOLUME_UP)),
         Phase.TECHNICIAN, lambda d, out: not any(isinstance(e, SaveSound) for e in out)),
    Case("technician pad walked away", technician_code, None, Phase.STANDBY),
    Case("technician store silent", checking_technician, None, Phase.STANDBY),
    Case("technician lock notice ends", technician_locked, None, Phase.STANDBY),
    Case("technician unset notice ends", technician_unset, None, Phase.STANDBY),
    # deadlines
    Case("probe times out", probing, None, Phase.ERROR, error_code("108")),
    Case("face match times out", matching_face, None, Phase.ERROR, error_code("108")),
    Case("VERIFY times out", verifying, None, Phase.ERROR, error_code("108")),
    Case("cert read times out", reading_cert, None, Phase.ERROR, error_code("108")),
    Case("counter read times out", reading_counter, None, Phase.ERROR, error_code("108")),
    Case("signature times out", signing, None, Phase.ERROR, error_code("108")),
    Case("challenge never comes", awaiting_challenge, None, Phase.ERROR, error_code("109")),
    Case("method walked away", method, None, Phase.STANDBY,
         all_of(audit(AuditEvent.CONFIRMATION, "timeout"), has(ReleaseCard))),
    Case("PIN walked away", pin, None, Phase.STANDBY,
         all_of(audit(AuditEvent.CONFIRMATION, "timeout"), has(ReleaseCard))),
    Case("consent walked away", consent, None, Phase.STANDBY,
         all_of(audit(AuditEvent.CONFIRMATION, "timeout"), no_result)),
    Case("staff consent walked away", staff_consent, None, Phase.STAFF_STANDBY,
         no_result, Mode.STAFF),
    Case("done screen ends", done, None, Phase.STANDBY),
    Case("error screen ends", error, None, Phase.STANDBY),
    Case("passcode pad walked away", staff_passcode, None, Phase.STANDBY),
    Case("passcode store silent", checking_passcode, None, Phase.STANDBY),
    Case("lock notice ends", staff_locked, None, Phase.STANDBY),
    Case("technician screen ends", technician, None, Phase.STANDBY),
    Case("staff idle", staff_standby, None, Phase.STANDBY,
         audit(AuditEvent.STAFF_EXIT, "idle")),
]


def _with_challenge(reach: Callable[[], Driver]) -> Driver:
    d = reach()
    d.feed(ChallengeReceived(CHALLENGE))
    return d


def _staff_consent_last(config: SessionConfig | None) -> Driver:
    d = staff_consent(config)
    for _ in d.config.consent_pages[:-1]:
        d.press(Button.AGREE)
    return d


# generic cases, for every phase where the table has the entry
for _name, _reach in all_reachers():
    _phase = _reach().phase
    CASES.append(Case(f"{_name}: challenge", _reach, ev(ChallengeReceived(CHALLENGE)),
                      Phase.SIGNING if _phase is Phase.AWAITING_CHALLENGE else _phase,
                      mode=None))
    CASES.append(Case(f"{_name}: stale passcode answer", _reach, ev(PasscodeChecked(True, 5)),
                      Phase.STAFF_STANDBY if _phase is Phase.CHECKING_PASSCODE else _phase,
                      mode=None))
    _cleared = _phase in (Phase.STAFF_PASSCODE, Phase.CHECKING_PASSCODE, Phase.STAFF_LOCKED,
                          Phase.STAFF_STANDBY)
    CASES.append(Case(f"{_name}: passcode cleared", _reach, ev(PasscodeStatus(False)),
                      Phase.STANDBY if _cleared else _phase,
                      lambda d, out: not d.state.staff_provisioned, mode=None))
    if _phase is not Phase.NO_READER:
        CASES.append(Case(f"{_name}: reader lost", _reach, ev(ReaderDetached()),
                          Phase.NO_READER, lambda d, out: d.state.session is None))
    if _phase not in (Phase.NO_READER, Phase.STANDBY):
        CASES.append(Case(f"{_name}: 中止", _reach, ev(Pressed(Button.CANCEL)), Phase.STANDBY,
                          no_result))
for _phase in (Phase.PROBING, Phase.METHOD, Phase.MATCHING_FACE, Phase.PIN, Phase.VERIFYING,
               Phase.READING_CERT, Phase.READING_COUNTER, Phase.AWAITING_CHALLENGE,
               Phase.SIGNING, Phase.CONSENT):
    CASES.append(Case(f"{_phase.value}: card removed", REACH[_phase][0], ev(CardRemoved()),
                      Phase.ERROR, all_of(error_code("106"), released_once)))
for _phase in (Phase.PROBING, Phase.MATCHING_FACE, Phase.VERIFYING, Phase.READING_CERT,
               Phase.READING_COUNTER, Phase.SIGNING):
    CASES.append(Case(f"{_phase.value}: card job failed", REACH[_phase][0],
                      lambda d: CardJobFailed(d.sid, CardErrorKind.IO_ERROR), Phase.ERROR,
                      error_code("107")))
for _phase, _reach in ((Phase.STAFF_PASSCODE, staff_passcode),
                       (Phase.CHECKING_PASSCODE, checking_passcode),
                       (Phase.STAFF_LOCKED, staff_locked), (Phase.TECHNICIAN, technician),
                       (Phase.TECHNICIAN_CODE, technician_code),
                       (Phase.CHECKING_TECHNICIAN, checking_technician),
                       (Phase.TECHNICIAN_LOCKED, technician_locked),
                       (Phase.TECHNICIAN_UNSET, technician_unset)):
    CASES.append(Case(f"{_phase.value}: card placed", _reach, lambda d: CardPlaced("x", WALL0),
                      _phase, lambda d, out: d.state.card_present, mode=None))
    CASES.append(Case(f"{_phase.value}: card removed", _card_then(_reach), ev(CardRemoved()),
                      _phase, lambda d, out: not d.state.card_present, mode=None))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case) -> None:
    case.holds()


def test_kept_sound_settings_are_where_the_engine_starts() -> None:
    state, effects = start(SessionConfig(), Sound(False, 30))
    assert state.sound == Sound(False, 30)
    assert [e.view.sound for e in effects if isinstance(e, Show)] == [Sound(False, 30)]


def test_every_table_entry_and_deadline_has_a_case() -> None:
    # the phones', life cycle's and prescription's cases live in their own module
    from tests.daemon.engine.test_deadlines_and_presence import CASES as OURS
    from tests.daemon.engine.test_phones_and_certificates import CASES as MORE
    covered = {case.run()[2] for case in CASES + MORE + OURS}
    missing_table = set(TABLE) - covered
    missing_timeouts = {(p, TIMEOUT) for p in TIMEOUTS} - covered
    assert not missing_table, sorted(map(str, missing_table))
    assert not missing_timeouts, sorted(map(str, missing_timeouts))


@pytest.mark.parametrize(("name", "reach"), all_reachers(), ids=[n for n, _ in all_reachers()])
def test_reachers_reach_their_phase(name: str, reach: Callable[[], Driver]) -> None:
    assert reach().phase.value == name.split("#", maxsplit=1)[0]


# --- illegal events ----------------------------------------------------------------------------

def _press_probe(button: Button) -> Callable[[Driver], Event]:
    return lambda d: Pressed(button)


PROBES: list[Callable[[Driver], Event]] = [
    lambda d: ReaderAttached("second"),
    lambda d: ReaderDetached(),
    lambda d: CardPlaced("p", WALL0),
    lambda d: CardRemoved(),
    lambda d: DigitPressed(1),
    *[_press_probe(b) for b in Button],
    lambda d: CardProbed(d.state.session.id if d.state.session else "none",
                         TokenKind.PLASTIC_CARD, True),
    lambda d: PinVerified(d.state.session.id if d.state.session else "none",
                          PinOutcome.OK, 3),
    lambda d: Signed(d.state.session.id if d.state.session else "none", b"s"),
]


@pytest.mark.parametrize(("name", "reach"), all_reachers(), ids=[n for n, _ in all_reachers()])
def test_illegal_events_raise_under_strict_and_are_ignored_otherwise(
        name: str, reach: Callable[[], Driver]) -> None:
    illegal = 0
    for probe in PROBES:
        d = reach()
        event = probe(d)
        before = d.state
        state, out = step(before, event, d.now, strict=False)
        if any(isinstance(e, Ignored) for e in out):
            illegal += 1
            assert state == before
            with pytest.raises(IllegalEvent) as info:
                step(before, event, d.now, strict=True)
            assert out == [Ignored(before.phase, type(event).__name__, info.value.reason)]
            assert info.value.phase is before.phase
        else:
            step(before, event, d.now, strict=True)  # legal: must not raise either
    assert illegal > 0, f"every probe was legal in {name}"


def test_staff_button_is_illegal_without_a_passcode() -> None:
    d = Driver()
    d.feed(ReaderAttached("r"))
    assert d.state.shown == StandbyView(staff_button=False)
    with pytest.raises(IllegalEvent, match="no passcode"):
        d.press(Button.STAFF)


def test_pin_ok_before_four_digits_is_illegal() -> None:
    d = pin()
    d.type_digits((1, 2, 3))
    with pytest.raises(IllegalEvent, match="four digits"):
        d.press(Button.OK)


def test_fifth_digit_is_dropped() -> None:
    d = pin()
    d.type_digits((1, 2, 3, 4, 5))
    assert d.state.entry == Secret("1234")


def test_stale_job_result_is_dropped_silently() -> None:
    d = probing()
    old = d.sid
    d.feed(Tick(), dt=100.0)  # probe timed out: error screen
    assert d.phase is Phase.ERROR
    state_before = d.state
    out = d.feed(CardProbed(old, TokenKind.PLASTIC_CARD, True))
    assert d.state == state_before
    assert out == []


def test_late_touch_after_deadline_meets_the_next_screen() -> None:
    d = consent()
    d.strict = False
    out = d.feed(Pressed(Button.AGREE), dt=1000.0)
    assert d.phase is Phase.STANDBY
    assert not d.results()
    assert any(isinstance(e, Ignored) for e in out)


def test_status_goes_out_on_every_screen_or_mode_change() -> None:
    d = standby()
    d.press(Button.STAFF)
    d.type_digits((2, 5, 8, 0))
    d.press(Button.OK)
    d.feed(PasscodeChecked(True, 5))
    statuses = [e.message for e in d.effects if isinstance(e, SendToHost)
                and isinstance(e.message, StatusMessage)]
    screens = [s.screen.value for s in statuses]
    assert screens == ["no-reader", "standby", "standby", "staff-passcode", "staff-standby"]
    assert statuses[-1].mode is Mode.STAFF


def test_until_cancel_keeps_staff_mode_for_a_second_patient() -> None:
    d = staff_done(UNTIL_CANCEL)
    d.feed(CardRemoved())
    assert d.phase is Phase.STAFF_STANDBY
    d.place_card()
    assert d.state.mode is Mode.STAFF
    d.press(Button.CANCEL)
    assert (d.phase, d.state.mode) == (Phase.STANDBY, Mode.UNATTENDED)
    assert len(d.results()) == 1


def test_staff_idle_deadline_is_configurable() -> None:
    config = SessionConfig(staff=StaffModeConfig(scope=StaffScope.ONE, idle_s=7.0))
    d = staff_standby(config)
    assert d.state.ends_at == pytest.approx(d.now + 7.0)  # its countdown starts at 3.5 s
