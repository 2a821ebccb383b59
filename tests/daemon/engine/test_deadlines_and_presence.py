"""Issue 14 in the engine: deadlines that warn (a countdown with 続ける, the reason told after),
the language that belongs to the patient's session, the terminal's absence (no PIN asked
while it is away, standby back by itself), the lock screen lifted by a re-issue, and the
journal's notes. CASES joins test_transitions' meta-test (every table entry has a case)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from myna_reader.daemon.engine import (
    WARNED_PHASES,
    AuditEvent,
    Button,
    CardPlaced,
    CardProbed,
    CardRemoved,
    ChallengeReceived,
    Countdown,
    Effect,
    Ending,
    EndReason,
    ErrorMessage,
    IllegalEvent,
    Language,
    Method,
    Mode,
    Note,
    NoteEvent,
    PasscodeChecked,
    PasscodeStatus,
    Phase,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    PinView,
    Pressed,
    ProbeCard,
    ReaderDetached,
    ReleaseCard,
    Screen,
    SendToHost,
    SessionConfig,
    SetDeadline,
    Show,
    Signed,
    StaffModeConfig,
    StaffStandbyView,
    StandbyView,
    StatusMessage,
    TerminalLink,
    Tick,
    Timeouts,
    TokenKind,
    View,
    VoiceGuided,
    WriteAudit,
)
from tests.daemon.engine.engine_driver import (
    CHALLENGE,
    PIN,
    WALL0,
    Driver,
    all_reachers,
    cert_read,
    consent,
    done,
    method,
    pin,
    prescription,
    staff_consent,
    staff_locked,
    staff_passcode,
    staff_standby,
    standby,
    technician,
)
from tests.daemon.engine.test_transitions import Case, audit, ev

PIN_S = Timeouts().pin_s
WARNING_S = Timeouts().warning_s
NOTICE_S = Timeouts().standby_notice_s
VOICE = Timeouts().voice_factor


def notes(out: list[Effect], event: NoteEvent) -> list[Note]:
    return [e for e in out if isinstance(e, Note) and e.event is event]


def shown(out: list[Effect]) -> list[View]:
    return [e.view for e in out if isinstance(e, Show)]


def view(d: Driver) -> View:
    assert d.state.shown is not None
    return d.state.shown


def rest_view(d: Driver) -> StandbyView | StaffStandbyView:
    v = view(d)
    assert isinstance(v, StandbyView | StaffStandbyView)
    return v


def phase(d: Driver) -> Phase:
    return d.state.phase


def tick_to(d: Driver, at: float | None) -> list[Effect]:
    assert at is not None
    return d.feed(Tick(), dt=at - d.now)


def counting(reach: Callable[[], Driver]) -> Callable[[], Driver]:
    """`reach`, then time up to its warning: the countdown runs."""
    def go() -> Driver:
        d = reach()
        assert d.state.deadline is not None
        tick_to(d, d.state.deadline)
        assert d.state.countdown is not None
        return d
    return go


def away(reach: Callable[[], Driver]) -> Callable[[], Driver]:
    def go() -> Driver:
        d = reach()
        d.feed(TerminalLink(connected=False))
        return d
    return go


def _standby_after_pin_timeout() -> Driver:
    d = pin()
    tick_to(d, d.state.ends_at)
    assert d.state.ended is not None
    return d


def _refused_for_no_terminal() -> Driver:
    d = away(standby)()
    d.place_card()
    assert d.state.error_code == "113"
    return d


# --- the table cases (the meta-test in test_transitions counts them) ----------------------

CASES: list[Case] = [
    Case("standby's notice ends", _standby_after_pin_timeout, None, Phase.STANDBY,
         lambda d, out: d.state.ended is None and d.state.deadline is None),
    Case("terminal back: the 113 screen gives way", _refused_for_no_terminal,
         ev(TerminalLink(connected=True)), Phase.STANDBY,
         lambda d, out: d.state.shown == StandbyView(staff_button=True, remove_card=True)),
]
for _name, _reach in all_reachers():
    _phase = _reach().phase
    _mode = _reach().state.mode
    _session = _reach().state.session
    _refused = (_mode is Mode.UNATTENDED and _session is not None
                and not _session.card_released)
    CASES.append(Case(f"{_name}: terminal away", _reach, ev(TerminalLink(connected=False)),
                      Phase.ERROR if _refused else _phase,
                      (lambda d, out: d.state.error_code == "113") if _refused
                      else (lambda d, out: d.state.terminal_away), mode=None))
    CASES.append(Case(f"{_name}: language", _reach, ev(Pressed(Button.LANGUAGE)), _phase,
                      lambda d, out: view(d).language is Language.EN, mode=None))
    CASES.append(Case(f"{_name}: guided by voice", _reach, ev(VoiceGuided()), _phase,
                      (lambda d, out: d.state.session is None and out == []) if _session is None
                      else (lambda d, out: d.state.session is not None
                            and d.state.session.voice_guided
                            and notes(out, NoteEvent.VOICE) != []), mode=None))
    if _phase in WARNED_PHASES:
        CASES.append(Case(f"{_name}: 続ける", counting(_reach), ev(Pressed(Button.CONTINUE)),
                          _phase, lambda d, out: d.state.countdown is None
                          and view(d).countdown is None, mode=None))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case) -> None:
    case.holds()


# --- deadlines that warn -------------------------------------------------------------------

def test_the_pin_screen_counts_down_then_says_why_it_ended() -> None:
    d = pin()
    entered = d.now
    assert d.state.deadline == pytest.approx(entered + PIN_S - WARNING_S)
    out = tick_to(d, d.state.deadline)
    (first,) = shown(out)
    assert first.screen is Screen.PIN and first.countdown == Countdown(int(WARNING_S))
    assert first.countdown.continue_button is Button.CONTINUE
    assert notes(out, NoteEvent.COUNTDOWN)[0].seconds == int(WARNING_S)
    seconds = []
    while d.phase is Phase.PIN:
        out = tick_to(d, d.state.deadline)
        seconds += [v.countdown.seconds_left for v in shown(out)
                    if v.screen is Screen.PIN and v.countdown is not None]
    assert seconds == list(range(int(WARNING_S) - 1, 0, -1))  # one view a second, 14 .. 1
    assert d.now == pytest.approx(entered + PIN_S)  # the countdown is inside the 60 s
    assert d.phase is Phase.STANDBY
    ending = Ending(EndReason.TIMEOUT, Screen.PIN)
    assert rest_view(d).ended == ending
    assert notes(out, NoteEvent.TIMED_OUT) == [Note(NoteEvent.TIMED_OUT, "session-1",
                                                    Screen.PIN)]
    assert audit(AuditEvent.CONFIRMATION, "timeout")(d, out) is None
    status = [e.message for e in out if isinstance(e, SendToHost)
              and isinstance(e.message, StatusMessage)]
    assert status[-1].ended == ending
    assert status[-1].to_wire()["ended"] == {"reason": "timeout", "screen": "pin"}
    out = tick_to(d, d.state.deadline)  # the notice is read: standby as ever
    assert rest_view(d).ended is None
    assert d.now == pytest.approx(entered + PIN_S + NOTICE_S)


def test_continue_gives_the_whole_deadline_again_and_keeps_the_digits() -> None:
    d = pin()
    d.type_digits((1, 2))
    tick_to(d, d.state.deadline)
    tick_to(d, d.state.deadline)  # a second into the countdown
    out = d.press(Button.CONTINUE)
    assert d.state.countdown is None and view(d).countdown is None
    pad = view(d)
    assert isinstance(pad, PinView) and pad.digits == 2
    assert SetDeadline(d.now + PIN_S - WARNING_S) in out
    assert notes(out, NoteEvent.CONTINUED) == [Note(NoteEvent.CONTINUED, "session-1",
                                                    Screen.PIN)]


def test_continue_without_a_countdown_is_illegal() -> None:
    d = pin()
    with pytest.raises(IllegalEvent, match="no countdown"):
        d.press(Button.CONTINUE)


def test_staff_mode_warns_before_its_idle_deadline_and_says_so_after() -> None:
    d = staff_standby(SessionConfig(staff=StaffModeConfig(idle_s=120.0)))
    out = tick_to(d, d.state.deadline)
    assert shown(out)[0].countdown == Countdown(int(WARNING_S))
    assert d.state.mode is Mode.STAFF
    out = tick_to(d, d.state.ends_at)
    assert (d.phase, d.state.mode) == (Phase.STANDBY, Mode.UNATTENDED)
    assert rest_view(d).ended == Ending(EndReason.IDLE, Screen.STAFF_STANDBY)
    assert audit(AuditEvent.STAFF_EXIT, "idle")(d, out) is None


@pytest.mark.parametrize(("reach", "screen"), [
    (staff_passcode, Screen.STAFF_PASSCODE), (technician, Screen.TECHNICIAN),
    (consent, Screen.CONSENT)])
def test_every_persons_screen_warns(reach: Callable[[], Driver], screen: Screen) -> None:
    d = reach()
    out = tick_to(d, d.state.deadline)
    assert shown(out)[0].screen is screen and shown(out)[0].countdown is not None
    tick_to(d, d.state.ends_at)
    assert rest_view(d).ended == Ending(EndReason.TIMEOUT, screen)


def test_a_short_deadline_warns_for_its_last_half() -> None:
    d = staff_passcode(SessionConfig(timeouts=Timeouts(passcode_s=8.0)))
    assert d.state.ends_at - d.state.deadline == pytest.approx(4.0)  # type: ignore[operator]


def test_a_late_event_past_the_end_meets_the_next_screen_without_a_countdown() -> None:
    d = consent()
    d.strict = False
    d.feed(Tick(), dt=1000.0)
    assert d.phase is Phase.STANDBY
    assert view(d).countdown is None


def test_job_deadlines_do_not_count_down() -> None:
    d = pin()
    d.type_digits()
    d.press(Button.OK)  # verifying: a card job
    assert d.state.ends_at is None
    tick_to(d, d.state.deadline)
    assert d.state.error_code == "108"


# --- the patient's language ----------------------------------------------------------------

def test_a_patients_english_ends_with_the_session() -> None:
    d = standby()
    d.press(Button.LANGUAGE)
    assert view(d).language is Language.EN
    d.place_card()
    assert view(d).language is Language.EN  # the session goes on in English
    d2 = done()  # a whole confirmation in English, then the card leaves
    d2.press(Button.LANGUAGE)
    assert view(d2).language is Language.EN
    d2.feed(CardRemoved())
    assert d2.phase is Phase.STANDBY
    assert view(d2).language is Language.JA  # the next patient meets Japanese


@pytest.mark.parametrize("ending", ["walk away", "cancel", "reader lost", "error"])
def test_every_way_a_session_ends_brings_back_the_default(ending: str) -> None:
    d = pin()
    d.press(Button.LANGUAGE)
    if ending == "walk away":
        tick_to(d, d.state.ends_at)
    elif ending == "cancel":
        d.press(Button.CANCEL)
    elif ending == "reader lost":
        d.feed(ReaderDetached())
    else:
        d.feed(CardRemoved())  # 106, read in English; then the screen ends
        assert view(d).language is Language.EN
        tick_to(d, d.state.deadline)
    assert d.phase in (Phase.STANDBY, Phase.NO_READER)
    assert view(d).language is Language.JA


def test_a_language_chosen_on_standby_without_a_card_goes_back() -> None:
    d = standby()
    d.press(Button.LANGUAGE)
    tick_to(d, d.state.deadline)
    assert view(d).language is Language.JA


def test_the_facility_default_is_a_setting() -> None:
    d = standby(SessionConfig(language=Language.EN))
    assert view(d).language is Language.EN
    d.press(Button.LANGUAGE)
    assert view(d).language is Language.JA
    d.press(Button.LANGUAGE)
    assert d.state.language is None  # back at the default: nothing to remember


# --- the terminal's absence ----------------------------------------------------------------

def test_with_no_terminal_no_pin_is_asked_and_standby_says_so() -> None:
    d = standby()
    d.feed(TerminalLink(connected=False))
    assert d.state.shown == StandbyView(staff_button=True, terminal_away=True)
    out = d.place_card()
    assert not [e for e in out if isinstance(e, ProbeCard | ReleaseCard)]  # never powered
    assert d.state.error_code == "113"
    assert ErrorMessage("113", "session-1") in [e.message for e in out
                                                if isinstance(e, SendToHost)]
    records = [e.record for e in out if isinstance(e, WriteAudit)]
    assert [(r.outcome, r.error_code) for r in records] == [("error", "113")]
    d.feed(CardRemoved())
    out = d.feed(TerminalLink(connected=True))
    assert d.phase is Phase.STANDBY
    assert d.state.shown == StandbyView(staff_button=True)
    assert notes(out, NoteEvent.TERMINAL) == [Note(NoteEvent.TERMINAL, connected=True)]


def test_the_terminal_going_during_the_pin_ends_it_before_verify() -> None:
    d = pin()
    d.type_digits((1, 2, 3))
    out = d.feed(TerminalLink(connected=False))
    assert d.state.error_code == "113"
    assert [e for e in out if isinstance(e, ReleaseCard)]


def test_after_the_card_part_the_result_waits_for_the_terminal() -> None:
    d = consent()
    d.feed(TerminalLink(connected=False))
    assert d.phase is Phase.CONSENT
    for _ in d.config.consent_pages:
        d.press(Button.AGREE)
    assert len(d.results()) == 1  # into the outbox, delivered when the terminal is back


def test_staff_visual_checks_go_on_without_the_terminal() -> None:
    d = staff_standby()
    d.feed(TerminalLink(connected=False))
    assert rest_view(d).terminal_away
    out = d.feed(CardPlaced("v1", WALL0))
    assert [e for e in out if isinstance(e, ProbeCard)]
    d2 = staff_consent()
    d2.feed(TerminalLink(connected=False))
    assert d2.phase is Phase.CONSENT


def test_a_repeated_link_report_changes_nothing() -> None:
    d = standby()
    before = d.state
    assert d.feed(TerminalLink(connected=True)) == []
    assert d.state == before


# --- staff mode ----------------------------------------------------------------------------

def test_a_reissue_lifts_the_lock_screen_at_once() -> None:
    d = staff_locked()
    d.feed(PasscodeStatus(provisioned=True, locked_for_s=0.0))
    assert phase(d) is Phase.STANDBY
    d.press(Button.STAFF)
    assert phase(d) is Phase.STAFF_PASSCODE


# --- what the journal hears ----------------------------------------------------------------

def test_wrong_pins_passcodes_and_methods_are_noted() -> None:
    d = pin()
    assert notes(d.effects, NoteEvent.METHOD) == [Note(NoteEvent.METHOD, "session-1",
                                                       method=Method.PIN)]
    d.type_digits()
    d.press(Button.OK)
    out = d.feed(PinVerified(d.sid, PinOutcome.INCORRECT, 2))
    assert notes(out, NoteEvent.PIN_WRONG) == [Note(NoteEvent.PIN_WRONG, "session-1",
                                                    tries_left=2)]
    assert not notes(out, NoteEvent.METHOD)  # still the PIN: no second note
    s = staff_passcode()
    s.type_digits((1, 3, 5, 7))
    s.press(Button.OK)
    out = s.feed(PasscodeChecked(False, 3))
    assert notes(out, NoteEvent.PASSCODE_WRONG) == [Note(NoteEvent.PASSCODE_WRONG,
                                                         tries_left=3)]


# --- more time for a patient guided by voice (docs/accessibility.md) -----------------------

def test_voice_guidance_doubles_the_pin_screen_and_its_countdown() -> None:
    d = pin()
    d.type_digits((1, 2))
    out = d.feed(VoiceGuided())
    entered = d.now
    assert notes(out, NoteEvent.VOICE) == [Note(NoteEvent.VOICE, "session-1", Screen.PIN)]
    assert SetDeadline(entered + (PIN_S - WARNING_S) * VOICE) in out
    assert d.state.ends_at == pytest.approx(entered + PIN_S * VOICE)
    pad = view(d)
    assert isinstance(pad, PinView) and pad.digits == 2  # what was typed stays
    out = tick_to(d, d.state.deadline)
    assert shown(out)[0].countdown == Countdown(int(WARNING_S * VOICE))  # 30 s, not 15
    while d.phase is Phase.PIN:
        tick_to(d, d.state.deadline)
    assert d.now == pytest.approx(entered + PIN_S * VOICE)
    assert rest_view(d).ended == Ending(EndReason.TIMEOUT, Screen.PIN)


def test_the_rest_of_the_session_waits_longer_and_the_next_patient_does_not() -> None:
    d = method()
    d.feed(VoiceGuided())
    assert d.state.ends_at == pytest.approx(d.now + Timeouts().method_s * VOICE)
    d.press(Button.METHOD_PIN)
    assert d.state.ends_at == pytest.approx(d.now + PIN_S * VOICE)
    d.type_digits(PIN)
    d.press(Button.OK)
    d.feed(PinVerified(d.sid, PinOutcome.OK, 3))
    d.feed(ChallengeReceived(CHALLENGE))
    assert phase(d) is Phase.SIGNING  # a job's deadline is the job's: not stretched
    assert d.state.deadline == pytest.approx(d.now + Timeouts().card_job_s)
    d.feed(Signed(d.sid, b"SIGNATURE"))
    assert phase(d) is Phase.CONSENT
    assert d.state.ends_at == pytest.approx(d.now + Timeouts().consent_page_s * VOICE)
    tick_to(d, d.state.deadline)
    out = d.press(Button.CONTINUE)  # 続ける gives the stretched deadline again
    assert SetDeadline(d.now + (Timeouts().consent_page_s - WARNING_S) * VOICE) in out
    for _ in d.config.consent_pages:
        d.press(Button.AGREE)
    assert phase(d) is Phase.DONE
    assert d.state.deadline == pytest.approx(d.now + Timeouts().done_s)
    d.feed(CardRemoved())
    d.place_card()  # the next patient: a new session, the usual deadlines
    d.feed(CardProbed(d.sid, TokenKind.PLASTIC_CARD, True))
    cert_read(d)
    d.feed(PinCounterRead(d.sid, 3))
    assert phase(d) is Phase.METHOD
    assert d.state.session is not None and not d.state.session.voice_guided
    assert d.state.ends_at == pytest.approx(d.now + Timeouts().method_s)


def test_the_prescription_page_waits_as_long_as_a_consent_page() -> None:
    d = prescription()
    d.feed(VoiceGuided())
    assert d.state.ends_at == pytest.approx(d.now + Timeouts().consent_page_s * VOICE)


def test_voice_said_again_or_outside_a_session_changes_nothing() -> None:
    d = pin()
    d.feed(VoiceGuided())
    before = d.state
    assert d.feed(VoiceGuided()) == []
    assert (d.state.deadline, d.state.ends_at) == (before.deadline, before.ends_at)
    s = standby()
    assert s.feed(VoiceGuided()) == []
    assert s.state.deadline is None


def test_a_voice_factor_of_one_keeps_the_deadlines() -> None:
    d = pin(SessionConfig(timeouts=Timeouts(voice_factor=1.0)))
    d.feed(VoiceGuided())
    assert d.state.ends_at == pytest.approx(d.now + PIN_S)


def test_staff_screens_are_not_stretched() -> None:
    d = staff_consent()
    d.feed(VoiceGuided())  # the patient's consent in a staff check: theirs, stretched
    assert d.state.ends_at == pytest.approx(d.now + Timeouts().consent_page_s * VOICE)
    d = staff_passcode()
    before = d.state
    assert d.feed(VoiceGuided()) == []  # the staff's own pad: no session, nothing changes
    assert d.state == before and d.state.deadline == before.deadline


def test_voice_during_a_countdown_gives_the_longer_time_at_once() -> None:
    d = pin()
    tick_to(d, d.state.deadline)
    d.press(Button.CONTINUE)  # Enter on the USB keypad: 続ける, then the display's VoiceGuided
    d.feed(VoiceGuided())
    assert d.state.countdown is None
    assert d.state.ends_at == pytest.approx(d.now + PIN_S * VOICE)
    d = consent()
    tick_to(d, d.state.deadline)
    out = d.feed(VoiceGuided())  # say it again, while the countdown runs
    assert d.state.countdown is None and view(d).countdown is None
    assert SetDeadline(d.now + (Timeouts().consent_page_s - WARNING_S) * VOICE) in out
