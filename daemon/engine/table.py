"""The one transition table of the session engine, with its deadline rules and guards.

TABLE says which handler runs for which (phase, event kind), a press keyed by its button. An
event with no entry is illegal: `IllegalEvent` under strict=True (tests), an `Ignored` effect
for the runner to log otherwise. TIMEOUTS says what happens when a phase's deadline passes;
a handler's own guards (IllegalEvent raised inside it) refuse what the table lets in but the
state does not allow. A phase in countdown.WARNED_PHASES counts down before its TIMEOUTS rule
runs, and takes 続ける meanwhile. machine.py applies all this; docs/session.md explains it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from myna_reader.daemon.engine.countdown import WARNED_PHASES
from myna_reader.daemon.engine.derive import READING_PHASES
from myna_reader.daemon.engine.handlers import (
    Outcome,
    answer,
    cancel,
    card_job_timed_out,
    card_noted,
    card_placed,
    card_removed_after_reading,
    card_removed_done,
    card_removed_mid_session,
    certificate_read,
    challenge,
    challenge_timed_out,
    choose_face,
    choose_language,
    choose_pin,
    choose_prescription,
    consent_back,
    counter_read,
    delete,
    digit,
    dismiss,
    face_guided,
    face_matched,
    job_failed,
    keep_going,
    notice_read,
    passcode_checked,
    passcode_ok,
    passcode_status,
    pin_back,
    pin_ok,
    pin_verified,
    prescription_back,
    probed,
    reader_attached,
    reader_detached,
    shown_long_enough,
    signed,
    sound_setting,
    staff_button,
    staff_idle,
    staff_timed_out,
    technician,
    technician_ok,
    terminal_link,
    to_standby,
    voice_guided,
    walked_away,
)
from myna_reader.daemon.engine.model import (
    CardJobFailed,
    CardPlaced,
    CardProbed,
    CardRemoved,
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
    ReaderDetached,
    Signed,
    State,
    TerminalLink,
    VoiceGuided,
)
from myna_reader.daemon.engine.vocabulary import Button, Phase

E = TypeVar("E", bound=Event)
DeadlineHandler = Callable[[State, float], Outcome]


@dataclass(frozen=True, slots=True)
class Rule(Generic[E]):
    """One entry: the event kind it takes and its handler, typed for that kind."""

    event: type[E]
    handler: Callable[[State, E, float], Outcome]

    def __call__(self, state: State, event: Event, now: float) -> Outcome:
        if not isinstance(event, self.event):  # the table's key already says so; mypy can't
            raise IllegalEvent(state.phase, event, "not the event kind of this rule")
        return self.handler(state, event, now)


Key = tuple[Phase, type | Button]
TABLE: dict[Key, Callable[[State, Event, float], Outcome]] = {}


def on(phase: Phase, event: type[E], handler: Callable[[State, E, float], Outcome]) -> None:
    TABLE[(phase, event)] = Rule(event, handler)


def press(phase: Phase, button: Button,
          handler: Callable[[State, Pressed, float], Outcome]) -> None:
    TABLE[(phase, button)] = Rule(Pressed, handler)


SESSION_PHASES = READING_PHASES | {Phase.METHOD, Phase.PIN}
ANSWER_PHASES = frozenset({Phase.CONSENT, Phase.PRESCRIPTION})  # the card's part is done
CARD_JOB_PHASES = READING_PHASES - {Phase.AWAITING_CHALLENGE}

on(Phase.NO_READER, ReaderAttached, reader_attached)
on(Phase.STANDBY, CardPlaced, card_placed)
on(Phase.STANDBY, CardRemoved, card_noted)
press(Phase.STANDBY, Button.STAFF, staff_button)
press(Phase.STANDBY, Button.TECHNICIAN, technician)
on(Phase.PROBING, CardProbed, probed)
on(Phase.READING_COUNTER, PinCounterRead, counter_read)
press(Phase.METHOD, Button.METHOD_PIN, choose_pin)
press(Phase.METHOD, Button.METHOD_FACE, choose_face)
on(Phase.MATCHING_FACE, FaceMatched, face_matched)
on(Phase.MATCHING_FACE, FaceGuidance, face_guided)
on(Phase.PIN, DigitPressed, digit)
press(Phase.PIN, Button.DELETE, delete)
press(Phase.PIN, Button.OK, pin_ok)
press(Phase.PIN, Button.BACK, pin_back)
on(Phase.VERIFYING, PinVerified, pin_verified)
on(Phase.READING_CERT, CertificateRead, certificate_read)
on(Phase.SIGNING, Signed, signed)
press(Phase.CONSENT, Button.AGREE, answer)
press(Phase.CONSENT, Button.DISAGREE, answer)
press(Phase.CONSENT, Button.BACK, consent_back)
press(Phase.PRESCRIPTION, Button.PRESCRIPTION_ELECTRONIC, choose_prescription)
press(Phase.PRESCRIPTION, Button.PRESCRIPTION_PAPER, choose_prescription)
press(Phase.PRESCRIPTION, Button.BACK, prescription_back)
on(Phase.DONE, CardRemoved, card_removed_done)
press(Phase.DONE, Button.OK, dismiss)
on(Phase.ERROR, CardPlaced, card_placed)
on(Phase.ERROR, CardRemoved, card_noted)
press(Phase.ERROR, Button.OK, dismiss)
on(Phase.STAFF_PASSCODE, DigitPressed, digit)
press(Phase.STAFF_PASSCODE, Button.DELETE, delete)
press(Phase.STAFF_PASSCODE, Button.OK, passcode_ok)
press(Phase.STAFF_LOCKED, Button.OK, to_standby)
on(Phase.STAFF_STANDBY, CardPlaced, card_placed)
on(Phase.STAFF_STANDBY, CardRemoved, card_noted)
on(Phase.TECHNICIAN_CODE, DigitPressed, digit)
press(Phase.TECHNICIAN_CODE, Button.DELETE, delete)
press(Phase.TECHNICIAN_CODE, Button.OK, technician_ok)
press(Phase.TECHNICIAN_LOCKED, Button.OK, to_standby)
press(Phase.TECHNICIAN_UNSET, Button.OK, to_standby)
press(Phase.TECHNICIAN, Button.OK, to_standby)
for _button in (Button.VOICE, Button.VOLUME_DOWN, Button.VOLUME_UP):
    press(Phase.TECHNICIAN, _button, sound_setting)  # only behind the technician code
for _phase in Phase:
    # the terminal may speak at any time
    on(_phase, ChallengeReceived, challenge)
    on(_phase, PasscodeStatus, passcode_status)
    on(_phase, PasscodeChecked, passcode_checked)
    if _phase is not Phase.NO_READER:
        on(_phase, ReaderDetached, reader_detached)
    if _phase not in (Phase.NO_READER, Phase.STANDBY):
        press(_phase, Button.CANCEL, cancel)
for _phase in SESSION_PHASES:
    on(_phase, CardRemoved, card_removed_mid_session)
for _phase in ANSWER_PHASES:
    on(_phase, CardRemoved, card_removed_after_reading)
    on(_phase, CardPlaced, card_noted)  # a phone held again, or the next patient's card
for _phase in CARD_JOB_PHASES:
    on(_phase, CardJobFailed, job_failed)
for _phase in (Phase.STAFF_PASSCODE, Phase.CHECKING_PASSCODE, Phase.STAFF_LOCKED,
               Phase.TECHNICIAN_CODE, Phase.CHECKING_TECHNICIAN, Phase.TECHNICIAN_LOCKED,
               Phase.TECHNICIAN_UNSET, Phase.TECHNICIAN):
    on(_phase, CardPlaced, card_noted)
    on(_phase, CardRemoved, card_noted)
for _phase in Phase:
    on(_phase, TerminalLink, terminal_link)  # the runner tells of the link whenever it changes
    on(_phase, VoiceGuided, voice_guided)  # the display, whenever the patient uses voice
    press(_phase, Button.LANGUAGE, choose_language)  # every screen has 日本語 / English
for _phase in WARNED_PHASES:
    press(_phase, Button.CONTINUE, keep_going)  # legal only while the deadline counts down


TIMEOUTS: dict[Phase, DeadlineHandler] = {
    Phase.PROBING: card_job_timed_out,
    Phase.MATCHING_FACE: card_job_timed_out,
    Phase.VERIFYING: card_job_timed_out,
    Phase.READING_CERT: card_job_timed_out,
    Phase.READING_COUNTER: card_job_timed_out,
    Phase.SIGNING: card_job_timed_out,
    Phase.AWAITING_CHALLENGE: challenge_timed_out,
    Phase.METHOD: walked_away,
    Phase.PIN: walked_away,
    Phase.CONSENT: walked_away,
    Phase.PRESCRIPTION: walked_away,
    Phase.DONE: shown_long_enough,
    Phase.ERROR: shown_long_enough,
    Phase.STAFF_PASSCODE: staff_timed_out,
    Phase.CHECKING_PASSCODE: staff_timed_out,
    Phase.STAFF_LOCKED: staff_timed_out,
    Phase.TECHNICIAN_CODE: staff_timed_out,
    Phase.CHECKING_TECHNICIAN: staff_timed_out,
    Phase.TECHNICIAN_LOCKED: staff_timed_out,
    Phase.TECHNICIAN_UNSET: staff_timed_out,
    Phase.TECHNICIAN: staff_timed_out,
    Phase.STAFF_STANDBY: staff_idle,
    Phase.STANDBY: notice_read,  # only while standby tells why the last screen ended
}

