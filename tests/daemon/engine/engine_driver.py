"""Helpers shared by the session tests: a driver that feeds the engine on a simulated clock,
and one function per phase that reaches it by legal events only (strict engine)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from myna_reader.daemon.engine import (
    Button,
    CardErrorKind,
    CardJobFailed,
    CardPlaced,
    CardProbed,
    CardRemoved,
    CertificateRead,
    ChallengeReceived,
    Credential,
    DigitPressed,
    Effect,
    Event,
    FaceSettings,
    PasscodeChecked,
    PasscodeStatus,
    Phase,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    Pressed,
    ReaderAttached,
    ResultMessage,
    SendToHost,
    SessionConfig,
    Signed,
    StaffModeConfig,
    StaffScope,
    State,
    Tick,
    TokenKind,
    start,
    step,
)

WALL0 = 1_760_000_000.0  # synthetic epoch seconds for card placements
PIN = (4, 7, 1, 9)  # synthetic; distinctive so a leak is easy to spot
PIN_TEXT = "4719"
CHALLENGE = b"terminal-challenge"
CERT_DER = b"SYNTHETIC-CERT-DER"
FINGERPRINT = "fp-synthetic-0001"
NOT_AFTER = datetime(2049, 6, 30, tzinfo=UTC)  # far from every notice and grace period


class Driver:
    """One engine on a simulated monotonic clock, keeping every effect it emitted."""

    def __init__(self, config: SessionConfig | None = None, *, strict: bool = True) -> None:
        self.config = config or SessionConfig()
        self.strict = strict
        self.state, self.effects = start(self.config)
        self.now = 100.0
        self.sessions = 0

    def feed(self, event: Event, dt: float = 0.1) -> list[Effect]:
        self.now += dt
        self.state, out = step(self.state, event, self.now, strict=self.strict)
        self.effects.extend(out)
        return out

    @property
    def phase(self) -> Phase:
        return self.state.phase

    @property
    def sid(self) -> str:
        assert self.state.session is not None
        return self.state.session.id

    def place_card(self) -> list[Effect]:
        self.sessions += 1
        return self.feed(CardPlaced(f"session-{self.sessions}", WALL0 + self.now))

    def press(self, button: Button) -> list[Effect]:
        return self.feed(Pressed(button))

    def type_digits(self, digits: tuple[int, ...] = PIN) -> None:
        for d in digits:
            self.feed(DigitPressed(d))

    def results(self) -> list[ResultMessage]:
        return [e.message for e in self.effects
                if isinstance(e, SendToHost) and isinstance(e.message, ResultMessage)]


def of_type(effects: list[Effect], kind: type) -> list[Effect]:
    return [e for e in effects if isinstance(e, kind)]


FACE = SessionConfig(face=FaceSettings(available=True))
UNTIL_CANCEL = SessionConfig(staff=StaffModeConfig(scope=StaffScope.UNTIL_CANCEL))
PRESCRIBING = SessionConfig(ask_prescription=True)


# --- reachers: each returns a driver whose engine is in the named phase ---------------------


def no_reader(config: SessionConfig | None = None) -> Driver:
    return Driver(config)


def standby(config: SessionConfig | None = None) -> Driver:
    d = Driver(config)
    d.feed(ReaderAttached("Virtual PCD 00 00"))
    d.feed(PasscodeStatus(provisioned=True))
    return d


def probing(config: SessionConfig | None = None) -> Driver:
    d = standby(config)
    d.place_card()
    return d


def cert_read(d: Driver, not_after: datetime = NOT_AFTER) -> list[Effect]:
    return d.feed(CertificateRead(d.sid, CERT_DER, FINGERPRINT, not_after))


def reading_cert(config: SessionConfig | None = None,
                 token: TokenKind = TokenKind.PLASTIC_CARD) -> Driver:
    """A plastic card (or an iPhone) shows its certificate before anything is asked."""
    d = probing(config)
    d.feed(CardProbed(d.sid, token, True))
    return d


def reading_counter(config: SessionConfig | None = None) -> Driver:
    d = reading_cert(config)
    cert_read(d)
    return d


def pin(config: SessionConfig | None = None, tries: int = 3) -> Driver:
    d = reading_counter(config)
    d.feed(PinCounterRead(d.sid, tries))
    return d


def android_pin(config: SessionConfig | None = None, tries: int = 3) -> Driver:
    d = probing(config)
    d.feed(CardProbed(d.sid, TokenKind.ANDROID, True))
    d.feed(PinCounterRead(d.sid, tries))
    return d


def method() -> Driver:
    return pin(FACE)


def matching_face() -> Driver:
    d = method()
    d.press(Button.METHOD_FACE)
    return d


def verifying(config: SessionConfig | None = None) -> Driver:
    d = pin(config)
    d.type_digits()
    d.press(Button.OK)
    return d


def android_reading_cert(config: SessionConfig | None = None) -> Driver:
    """An Android token releases its certificate only after VERIFY."""
    d = android_pin(config)
    d.type_digits()
    d.press(Button.OK)
    d.feed(PinVerified(d.sid, PinOutcome.OK, 3))
    return d


def awaiting_challenge() -> Driver:
    d = verifying()
    d.feed(PinVerified(d.sid, PinOutcome.OK, 3))
    return d


def signing() -> Driver:
    d = awaiting_challenge()
    d.feed(ChallengeReceived(CHALLENGE))
    return d


def consent(config: SessionConfig | None = None) -> Driver:
    d = verifying(config)
    d.feed(ChallengeReceived(CHALLENGE))
    d.feed(PinVerified(d.sid, PinOutcome.OK, 3))
    d.feed(Signed(d.sid, b"SIGNATURE"))
    return d


def done(config: SessionConfig | None = None) -> Driver:
    d = consent(config)
    for _ in d.config.consent_pages:
        d.press(Button.AGREE)
    return d


def prescription(config: SessionConfig = PRESCRIBING) -> Driver:
    d = consent(config)
    for _ in d.config.consent_pages:
        d.press(Button.AGREE)
    return d


def error() -> Driver:
    d = probing()
    d.feed(CardJobFailed(d.sid, CardErrorKind.NOT_MY_NUMBER))
    return d


def error_card_gone() -> Driver:
    d = pin()
    d.feed(CardRemoved())
    return d


def staff_passcode(config: SessionConfig | None = None) -> Driver:
    d = standby(config)
    d.press(Button.STAFF)
    return d


def checking_passcode(config: SessionConfig | None = None) -> Driver:
    d = staff_passcode(config)
    d.type_digits((2, 5, 8, 0))
    d.press(Button.OK)
    return d


def staff_locked() -> Driver:
    d = checking_passcode()
    d.feed(PasscodeChecked(False, 0, locked_for_s=1800.0, locked_until_wall=WALL0 + 1800))
    return d


def staff_standby(config: SessionConfig | None = None) -> Driver:
    d = checking_passcode(config)
    d.feed(PasscodeChecked(True, 5))
    return d


def staff_probing(config: SessionConfig | None = None) -> Driver:
    d = staff_standby(config)
    d.place_card()
    return d


def staff_reading_cert(config: SessionConfig | None = None) -> Driver:
    d = staff_probing(config)
    d.feed(CardProbed(d.sid, TokenKind.PLASTIC_CARD, True))
    return d


def staff_consent(config: SessionConfig | None = None) -> Driver:
    d = staff_reading_cert(config)
    cert_read(d)
    return d


def staff_done(config: SessionConfig | None = None) -> Driver:
    d = staff_consent(config)
    for _ in d.config.consent_pages:
        d.press(Button.AGREE)
    return d


TECHNICIAN = Credential.TECHNICIAN


def technician_unset() -> Driver:
    """The gesture on a reader without a technician code."""
    d = standby()
    d.press(Button.TECHNICIAN)
    return d


def technician_code() -> Driver:
    d = standby()
    d.feed(PasscodeStatus(provisioned=True, credential=TECHNICIAN))
    d.press(Button.TECHNICIAN)
    return d


def checking_technician() -> Driver:
    d = technician_code()
    d.type_digits((3, 6, 9, 2))
    d.press(Button.OK)
    return d


def technician_locked() -> Driver:
    d = checking_technician()
    d.feed(PasscodeChecked(False, 0, 60.0, WALL0 + 60, TECHNICIAN))
    return d


def technician() -> Driver:
    """The technician screen, behind the right technician code."""
    d = checking_technician()
    d.feed(PasscodeChecked(True, 5, credential=TECHNICIAN))
    return d


#: one reacher per phase, and a staff-mode variant where staff mode can be in that phase
REACH: dict[Phase, list[Callable[[], Driver]]] = {
    Phase.NO_READER: [no_reader],
    Phase.STANDBY: [standby],
    Phase.PROBING: [probing, staff_probing],
    Phase.METHOD: [method],
    Phase.MATCHING_FACE: [matching_face],
    Phase.PIN: [pin],
    Phase.VERIFYING: [verifying],
    Phase.READING_CERT: [reading_cert, staff_reading_cert, android_reading_cert],
    Phase.READING_COUNTER: [reading_counter],
    Phase.AWAITING_CHALLENGE: [awaiting_challenge],
    Phase.SIGNING: [signing],
    Phase.CONSENT: [consent, staff_consent],
    Phase.PRESCRIPTION: [prescription],
    Phase.DONE: [done, lambda: staff_done(UNTIL_CANCEL)],
    Phase.ERROR: [error, error_card_gone],
    Phase.STAFF_PASSCODE: [staff_passcode],
    Phase.CHECKING_PASSCODE: [checking_passcode],
    Phase.STAFF_LOCKED: [staff_locked],
    Phase.STAFF_STANDBY: [staff_standby],
    Phase.TECHNICIAN_UNSET: [technician_unset],
    Phase.TECHNICIAN_CODE: [technician_code],
    Phase.CHECKING_TECHNICIAN: [checking_technician],
    Phase.TECHNICIAN_LOCKED: [technician_locked],
    Phase.TECHNICIAN: [technician],
}


def all_reachers() -> list[tuple[str, Callable[[], Driver]]]:
    return [(f"{phase.value}#{i}", reach) for phase, reachers in REACH.items()
            for i, reach in enumerate(reachers)]


def walk_to_rest(state: State, now: float, max_steps: int = 20) -> tuple[State, float]:
    """What happens when everybody walks away: only time passes (and the reader comes back
    if it had gone). The engine must reach standby on its own."""
    for _ in range(max_steps):
        if state.phase is Phase.STANDBY:
            break
        now += 4000.0
        event: Event = ReaderAttached("back") if state.phase is Phase.NO_READER else Tick()
        state, _ = step(state, event, now, strict=True)
    return state, now
