"""Random event sequences against the engine, with a small model of the world around it: a
reader that comes and goes, a card placed and taken at any moment, a patient and staff that
press anything, a card and a passcode store that answer jobs (late, wrongly or never), a
terminal that sends challenges and passcodes, and time that jumps. After every event the
invariants of issue 3 are checked."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from myna_reader.daemon.engine import (
    SECRET_EFFECTS,
    Button,
    CardErrorKind,
    CardJob,
    CardJobFailed,
    CardPlaced,
    CardProbed,
    CardRemoved,
    CertificateRead,
    ChallengeReceived,
    CheckPasscode,
    DigitPressed,
    Effect,
    Event,
    FaceMatched,
    FaceSettings,
    Ignored,
    MatchFace,
    Mode,
    PasscodeChecked,
    PasscodeStatus,
    Phase,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    Pressed,
    ProbeCard,
    ReadCertificate,
    ReaderAttached,
    ReaderDetached,
    ReadPinCounter,
    ReleaseCard,
    ResultMessage,
    Secret,
    SendToHost,
    SessionConfig,
    Sign,
    Signed,
    StaffModeConfig,
    StaffScope,
    TerminalLink,
    Tick,
    TokenKind,
    VerifyPin,
    VoiceGuided,
    WriteAudit,
    asked_pages,
)
from tests.daemon.engine.engine_driver import NOT_AFTER, WALL0, Driver, walk_to_rest

STAFF_ONLY_PHASES = {Phase.STAFF_PASSCODE, Phase.CHECKING_PASSCODE, Phase.STAFF_LOCKED}
INTENTS = (Pressed, DigitPressed)


def _secrets_in(value: Any) -> int:
    """How many Secret objects a value holds, however deep."""
    if isinstance(value, Secret):
        return 1
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_secrets_in(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple | list):
        return sum(_secrets_in(v) for v in value)
    return 0


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.d = Driver()
        self.reader = False
        self.card = False
        self.placements = 0
        self.pending: list[CardJob] = []
        self.checks = 0  # passcode checks asked and not yet answered
        self.result_ids: list[str] = []
        self.probed_ids: list[str] = []
        self.last: tuple[Event, Phase, Mode, list[Effect], float | None] | None = None

    @initialize(face=st.booleans(), scope=st.sampled_from(StaffScope),
                pages=st.integers(0, 3), prescription=st.booleans())
    def setup(self, face: bool, scope: StaffScope, pages: int, prescription: bool) -> None:
        base = SessionConfig()
        config = SessionConfig(face=FaceSettings(available=face),
                               staff=StaffModeConfig(scope=scope),
                               consent_pages=base.consent_pages[:pages],
                               ask_prescription=prescription)
        self.d = Driver(config, strict=False)
        self.attach_reader()
        self.feed(PasscodeStatus(provisioned=True))

    # --- feeding -----------------------------------------------------------------------------

    def feed(self, event: Event, dt: float = 0.05) -> None:
        before = self.d.state
        out = self.d.feed(event, dt)
        # a person's screen counts down first: its deadline proper is where it ends
        end = before.ends_at if before.ends_at is not None else before.deadline
        self.last = (event, before.phase, before.mode, out, end)
        for effect in out:
            if isinstance(effect, ReleaseCard):
                self.pending = [j for j in self.pending if j.session_id != effect.session_id]
            elif isinstance(effect, CardJob):
                self.pending.append(effect)
            elif isinstance(effect, CheckPasscode):
                self.checks += 1
            if isinstance(effect, ProbeCard):
                assert effect.session_id not in self.probed_ids, "a session started twice"
                self.probed_ids.append(effect.session_id)
            if isinstance(effect, SendToHost) and isinstance(effect.message, ResultMessage):
                self.result_ids.append(effect.message.id)
        if not self.reader:
            self.pending.clear()
        self.check_after_event()

    def check_after_event(self) -> None:
        self.world_and_engine_agree()
        self.only_intents_can_be_illegal()
        self.at_most_one_session()
        self.staff_mode_ends_as_it_must()
        self.deadlines_lie_ahead()
        self.result_only_after_every_page_and_once()
        self.no_secret_outside_its_job()
        self.no_pin_while_the_terminal_is_away()

    # --- the world ---------------------------------------------------------------------------

    @precondition(lambda self: not self.reader)
    @rule()
    def attach_reader(self) -> None:
        self.reader = True
        self.feed(ReaderAttached("Virtual PCD 00 00"))

    @precondition(lambda self: self.reader)
    @rule(chance=st.integers(0, 9))
    def detach_reader(self, chance: int) -> None:
        if chance:  # a reader loss is rarer than the rest, or little else would be explored
            return
        self.reader = False
        self.card = False
        self.feed(ReaderDetached())

    @precondition(lambda self: self.reader and not self.card)
    @rule()
    def place_card(self) -> None:
        self.card = True
        self.placements += 1
        self.feed(CardPlaced(f"p{self.placements}", WALL0 + self.d.now))

    @precondition(lambda self: self.card)
    @rule()
    def remove_card(self) -> None:
        self.card = False
        self.feed(CardRemoved())

    @rule(button=st.sampled_from(Button))
    def press(self, button: Button) -> None:
        self.feed(Pressed(button))

    @rule(data=st.data())
    def do_what_the_screen_asks(self, data: st.DataObject) -> None:
        """A person who follows the screen (random presses alone rarely get far)."""
        phase = self.d.state.phase
        if phase in (Phase.PIN, Phase.STAFF_PASSCODE):
            for digit in data.draw(st.lists(st.integers(0, 9), min_size=4, max_size=4)):
                self.feed(DigitPressed(digit))
            self.feed(Pressed(Button.OK))
        elif phase is Phase.CONSENT:
            self.feed(Pressed(data.draw(st.sampled_from([Button.AGREE, Button.AGREE,
                                                         Button.DISAGREE, Button.BACK]))))
        elif phase is Phase.PRESCRIPTION:
            self.feed(Pressed(data.draw(st.sampled_from([
                Button.PRESCRIPTION_ELECTRONIC, Button.PRESCRIPTION_PAPER, Button.BACK]))))
        elif phase is Phase.METHOD:
            view = self.d.state.shown
            choices = [b for b, shown in ((Button.METHOD_FACE, getattr(view, "face", False)),
                                          (Button.METHOD_PIN, getattr(view, "pin", False)))
                       if shown]
            self.feed(Pressed(data.draw(st.sampled_from(choices))))
        elif phase is Phase.STANDBY and self.d.state.staff_provisioned:
            self.feed(Pressed(Button.STAFF))
        elif phase in (Phase.DONE, Phase.ERROR, Phase.STAFF_LOCKED):
            self.feed(Pressed(Button.OK))

    @rule(data=st.data(), steps=st.integers(5, 40))
    def a_patient_or_staff_goes_through(self, data: st.DataObject, steps: int) -> None:
        """Many coordinated steps (jobs answered, pads filled, pages answered, cards placed
        and taken) so whole confirmations happen, with random disruptions on the way."""
        for _ in range(steps):
            state = self.d.state
            if not self.reader:
                self.attach_reader()
            elif data.draw(st.integers(0, 14), label="disrupt") == 0:
                disruption = data.draw(st.sampled_from(["cancel", "time", "take card"]))
                if disruption == "take card" and self.card:
                    self.remove_card()
                elif disruption == "cancel":
                    self.feed(Pressed(Button.CANCEL))
                else:
                    self.feed(Tick(), dt=data.draw(st.sampled_from([10.0, 50.0, 500.0])))
            elif self.pending:
                self.answer_job(data)
            elif self.checks:
                self.store_answers(data.draw(st.sampled_from(["ok", "ok", "wrong", "locked"])))
            elif state.phase is Phase.AWAITING_CHALLENGE:
                self.feed(ChallengeReceived(b"challenge"))
            elif state.phase in (Phase.STANDBY, Phase.STAFF_STANDBY, Phase.ERROR) \
                    and not self.card:
                if state.phase is Phase.STANDBY and state.staff_provisioned \
                        and data.draw(st.booleans(), label="staff?"):
                    self.feed(Pressed(Button.STAFF))
                else:
                    self.place_card()
            elif state.phase in (Phase.DONE, Phase.ERROR, Phase.STANDBY,
                                 Phase.STAFF_STANDBY) and self.card:
                self.remove_card()
            else:
                self.do_what_the_screen_asks(data)

    @rule(digit=st.integers(0, 9))
    def digit(self, digit: int) -> None:
        self.feed(DigitPressed(digit))

    @rule(dt=st.one_of(st.floats(0.0, 5.0), st.floats(0.0, 5.0), st.floats(0.0, 5.0),
                       st.floats(5.0, 4000.0)))
    def time_passes(self, dt: float) -> None:
        self.feed(Tick(), dt)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def card_answers(self, data: st.DataObject) -> None:
        self.answer_job(data)

    def answer_job(self, data: st.DataObject) -> None:
        job = self.pending.pop(0)
        sid = job.session_id
        if data.draw(st.integers(0, 9), label="fails?") == 0:
            self.feed(CardJobFailed(sid, data.draw(st.sampled_from(CardErrorKind))))
            return
        answer: Event
        usual = st.integers(0, 4)  # mostly the ordinary card, sometimes an odd one
        if isinstance(job, ProbeCard):
            plain = data.draw(usual) > 0
            answer = CardProbed(
                sid,
                TokenKind.PLASTIC_CARD if plain else data.draw(st.sampled_from(TokenKind)),
                plain or data.draw(st.booleans()))
        elif isinstance(job, ReadPinCounter):
            answer = PinCounterRead(sid, data.draw(st.integers(1, 3)) if data.draw(usual) > 0
                                    else data.draw(st.one_of(st.none(), st.integers(0, 3))))
        elif isinstance(job, VerifyPin):
            outcome = (PinOutcome.OK if data.draw(usual) > 1
                       else data.draw(st.sampled_from(PinOutcome)))
            answer = PinVerified(sid, outcome, 0 if outcome is PinOutcome.BLOCKED
                                 else data.draw(st.integers(1, 3)))
        elif isinstance(job, ReadCertificate):
            # valid, or around the session's day: in the notice, in the grace, long expired
            session = self.d.state.session
            placed = datetime.fromtimestamp(
                WALL0 if session is None else session.started_wall, UTC)
            answer = CertificateRead(sid, b"CERT", "fp", NOT_AFTER if data.draw(usual) else
                                     placed + timedelta(days=data.draw(st.sampled_from(
                                         [30, -30, -400]))))
        elif isinstance(job, Sign):
            answer = Signed(sid, b"SIG")
        elif isinstance(job, MatchFace):
            answer = FaceMatched(sid, data.draw(st.booleans()))
        else:
            raise AssertionError(job)
        self.feed(answer)

    @precondition(lambda self: self.checks > 0)
    @rule(answer=st.sampled_from(["ok", "ok", "wrong", "locked"]))
    def store_answers(self, answer: str) -> None:
        self.checks -= 1
        self.feed({"ok": PasscodeChecked(True, 5), "wrong": PasscodeChecked(False, 3),
                   "locked": PasscodeChecked(False, 0, 1800.0, WALL0 + 1800)}[answer])

    @rule(challenge=st.binary(min_size=8, max_size=32))
    def terminal_challenge(self, challenge: bytes) -> None:
        self.feed(ChallengeReceived(challenge))

    @rule(provisioned=st.sampled_from([True, True, True, False]))
    def store_status(self, provisioned: bool) -> None:
        self.feed(PasscodeStatus(provisioned))

    @rule(connected=st.booleans())
    def terminal_link(self, connected: bool) -> None:
        self.feed(TerminalLink(connected))

    @rule()
    def guided_by_voice(self) -> None:  # the repeat key or the USB keypad, at any time
        self.feed(VoiceGuided())

    @rule()
    def stale_answer(self) -> None:
        self.feed(CardJobFailed("long-gone", CardErrorKind.IO_ERROR))

    # --- invariants ------------------------------------------------------------------------

    def world_and_engine_agree(self) -> None:
        state = self.d.state
        assert (state.reader is not None) == self.reader
        if self.reader:
            assert state.card_present == self.card

    def only_intents_can_be_illegal(self) -> None:
        if self.last is None:
            return
        event, _, _, out, _ = self.last
        if any(isinstance(e, Ignored) for e in out):
            assert isinstance(event, INTENTS), (event, out)

    def at_most_one_session(self) -> None:
        state = self.d.state
        session = state.session
        if session is None:
            return
        if session.card_released and session.token is not None and session.token.phone:
            return  # a phone read may leave, and the next card come, before the last page
        assert session.id == f"p{self.placements}"
        assert state.card_present

    def staff_mode_ends_as_it_must(self) -> None:
        if self.last is None:
            return
        event, phase_before, mode_before, out, deadline_before = self.last
        state = self.d.state
        if isinstance(event, Pressed) and event.button is Button.CANCEL and \
                mode_before is Mode.STAFF:
            assert state.mode is Mode.UNATTENDED
            assert not any(isinstance(e, SendToHost) and isinstance(e.message, ResultMessage)
                           for e in out)
        if state.config.staff.scope is StaffScope.ONE and any(
                isinstance(e, SendToHost) and isinstance(e.message, ResultMessage)
                for e in out):
            assert state.mode is Mode.UNATTENDED
        if phase_before is Phase.STAFF_STANDBY and deadline_before is not None \
                and self.d.now >= deadline_before:
            assert state.mode is Mode.UNATTENDED
        if state.mode is Mode.STAFF:
            assert state.phase not in STAFF_ONLY_PHASES | {Phase.STANDBY, Phase.NO_READER,
                                                           Phase.TECHNICIAN}
        if state.phase is Phase.STAFF_STANDBY:
            assert state.mode is Mode.STAFF
            assert state.deadline is not None
            assert state.deadline <= self.d.now + state.config.staff.idle_s

    def deadlines_lie_ahead(self) -> None:
        deadline = self.d.state.deadline
        assert deadline is None or deadline > self.d.now

    def result_only_after_every_page_and_once(self) -> None:
        assert len(self.result_ids) == len(set(self.result_ids))
        if self.last is None:
            return
        event, phase_before, _, out, _ = self.last
        results = [e.message for e in out
                   if isinstance(e, SendToHost) and isinstance(e.message, ResultMessage)]
        if not results:
            return
        assert len(results) == 1
        pages = asked_pages(self.d.config.consent_pages, results[0].qualification_only)
        asked = sorted(item for page in pages for item in page.items)
        assert sorted(a.item for a in results[0].consents) == asked
        assert not (results[0].qualification_only
                    and any(a.item.viewing for a in results[0].consents))
        assert (results[0].prescription is not None) == self.d.config.ask_prescription
        if self.d.config.ask_prescription:
            assert isinstance(event, Pressed)
            assert phase_before is Phase.PRESCRIPTION
        elif pages:
            assert isinstance(event, Pressed)
            assert event.button in (Button.AGREE, Button.DISAGREE)
            assert phase_before is Phase.CONSENT
        else:  # no pages: the result follows the card work at once
            assert isinstance(event, Signed | CertificateRead | FaceMatched)
        assert any(isinstance(e, WriteAudit) and e.record.outcome == "confirmed" for e in out)

    def no_secret_outside_its_job(self) -> None:
        if self.last is None:
            return
        state = self.d.state
        assert _secrets_in(state.shown) == 0
        assert _secrets_in(state.status) == 0
        assert _secrets_in(state.session) == 0
        for effect in self.last[3]:
            if isinstance(effect, SECRET_EFFECTS):
                assert _secrets_in(effect) == 1
                assert "*" in repr(effect)
            else:
                assert _secrets_in(effect) == 0, effect

    def no_pin_while_the_terminal_is_away(self) -> None:
        state = self.d.state
        if state.terminal_away and state.mode is Mode.UNATTENDED:
            assert state.phase is not Phase.PIN
            assert self.last is None or not any(isinstance(e, VerifyPin) for e in self.last[3])

    @invariant()
    def walking_away_always_ends_in_standby(self) -> None:
        state, _ = walk_to_rest(self.d.state, self.d.now)
        assert state.phase is Phase.STANDBY
        assert state.mode is Mode.UNATTENDED
        assert state.session is None


SessionMachine.TestCase.settings = settings(
    max_examples=500, stateful_step_count=80, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestSessionMachine = SessionMachine.TestCase
