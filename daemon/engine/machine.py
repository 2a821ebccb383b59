"""The reader session as a pure engine: `step(state, event, now) -> (state, effects)`.

No I/O, no clock, no threads, no randomness: `now` is monotonic seconds passed in, wall-clock
times come in events (CardPlaced anchors a session's wall clock). Every rule of the flow is in
TABLE below, keyed by (phase, event kind), where a press is keyed by its button; the deadline
rules are in TIMEOUTS. An event with no entry is illegal: `IllegalEvent` under strict=True
(tests), an `Ignored` effect for the runner to log otherwise.

Rules that hold everywhere (see docs/session.md):
- a deadline that has passed fires before the event that arrives after it, so a late touch
  never acts on a screen that should have gone;
- card-job results carry their session id; a result for a session that has ended is stale and
  dropped silently (the runner cannot take back a job in flight);
- 中止 in staff mode ends staff mode, whatever the screen; nothing is sent to the terminal;
- staff mode also ends after one confirmation (scope "one"), its idle deadline, a reader loss
  or the passcode being cleared;
- the card is unpowered (ReleaseCard) as soon as the card work is done and when a session ends.
"""

from __future__ import annotations

from myna_reader.daemon.engine.effects import Effect, Ignored, SendToHost, SetDeadline, Show
from myna_reader.daemon.engine.handlers import (
    TIMEOUTS,
    Handler,
    Outcome,
    answer,
    cancel,
    card_noted,
    card_placed,
    card_removed_done,
    card_removed_mid_session,
    certificate_read,
    challenge,
    choose_face,
    choose_pin,
    consent_back,
    delete,
    digit,
    dismiss,
    face_guided,
    face_matched,
    job_failed,
    passcode_checked,
    passcode_issued,
    passcode_ok,
    passcode_status,
    pin_back,
    pin_ok,
    pin_verified,
    probed,
    reader_attached,
    reader_detached,
    signed,
    staff_button,
    technician,
    to_standby,
)
from myna_reader.daemon.engine.model import (
    JOB_RESULTS,
    Button,
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
    JobResult,
    PasscodeChecked,
    PasscodeIssued,
    PasscodeStatus,
    Phase,
    PinVerified,
    Pressed,
    ReaderAttached,
    ReaderDetached,
    Signed,
    State,
    Tick,
    evolve,
)
from myna_reader.daemon.engine.settings import SessionConfig
from myna_reader.daemon.engine.views import READING_PHASES, status_of, view_of

# --- the table -----------------------------------------------------------------------------

SESSION_PHASES = READING_PHASES | {Phase.METHOD, Phase.PIN, Phase.CONSENT}
CARD_JOB_PHASES = READING_PHASES - {Phase.AWAITING_CHALLENGE}
Key = tuple[Phase, type | Button]
TABLE: dict[Key, Handler] = {
    (Phase.NO_READER, ReaderAttached): reader_attached,
    (Phase.STANDBY, CardPlaced): card_placed,
    (Phase.STANDBY, CardRemoved): card_noted,
    (Phase.STANDBY, Button.STAFF): staff_button,
    (Phase.STANDBY, Button.TECHNICIAN): technician,
    (Phase.PROBING, CardProbed): probed,
    (Phase.METHOD, Button.METHOD_PIN): choose_pin,
    (Phase.METHOD, Button.METHOD_FACE): choose_face,
    (Phase.MATCHING_FACE, FaceMatched): face_matched,
    (Phase.MATCHING_FACE, FaceGuidance): face_guided,
    (Phase.PIN, DigitPressed): digit,
    (Phase.PIN, Button.DELETE): delete,
    (Phase.PIN, Button.OK): pin_ok,
    (Phase.PIN, Button.BACK): pin_back,
    (Phase.VERIFYING, PinVerified): pin_verified,
    (Phase.READING_CERT, CertificateRead): certificate_read,
    (Phase.SIGNING, Signed): signed,
    (Phase.CONSENT, Button.AGREE): answer,
    (Phase.CONSENT, Button.DISAGREE): answer,
    (Phase.CONSENT, Button.BACK): consent_back,
    (Phase.DONE, CardRemoved): card_removed_done,
    (Phase.DONE, Button.OK): dismiss,
    (Phase.ERROR, CardPlaced): card_placed,
    (Phase.ERROR, CardRemoved): card_noted,
    (Phase.ERROR, Button.OK): dismiss,
    (Phase.STAFF_PASSCODE, DigitPressed): digit,
    (Phase.STAFF_PASSCODE, Button.DELETE): delete,
    (Phase.STAFF_PASSCODE, Button.OK): passcode_ok,
    (Phase.STAFF_LOCKED, Button.OK): to_standby,
    (Phase.STAFF_STANDBY, CardPlaced): card_placed,
    (Phase.STAFF_STANDBY, CardRemoved): card_noted,
    (Phase.TECHNICIAN, Button.OK): to_standby,
}
for _phase in Phase:
    # the terminal may speak at any time
    TABLE[(_phase, ChallengeReceived)] = challenge
    TABLE[(_phase, PasscodeIssued)] = passcode_issued
    TABLE[(_phase, PasscodeStatus)] = passcode_status
    TABLE[(_phase, PasscodeChecked)] = passcode_checked
    if _phase is not Phase.NO_READER:
        TABLE[(_phase, ReaderDetached)] = reader_detached
    if _phase not in (Phase.NO_READER, Phase.STANDBY):
        TABLE[(_phase, Button.CANCEL)] = cancel
for _phase in SESSION_PHASES:
    TABLE[(_phase, CardRemoved)] = card_removed_mid_session
for _phase in CARD_JOB_PHASES:
    TABLE[(_phase, CardJobFailed)] = job_failed
for _phase in (Phase.STAFF_PASSCODE, Phase.CHECKING_PASSCODE, Phase.STAFF_LOCKED,
               Phase.TECHNICIAN):
    TABLE[(_phase, CardPlaced)] = card_noted
    TABLE[(_phase, CardRemoved)] = card_noted


# --- the engine ----------------------------------------------------------------------------


def _settle(before: State, after: State, effects: list[Effect]) -> Outcome:
    """Add the effects every change implies: the screen, the terminal's status, the deadline."""
    view = view_of(after)
    status = status_of(after, view)
    changes: dict[str, object] = {}
    if view != after.shown:
        effects.append(Show(view))
        changes["shown"] = view
    if status != after.status:
        effects.append(SendToHost(status))
        changes["status"] = status
    if changes:
        after = evolve(after, **changes)
    if after.deadline != before.deadline:
        effects.append(SetDeadline(after.deadline))
    return after, effects


def _dispatch(state: State, event: Event, now: float) -> Outcome:
    if isinstance(event, Tick):
        return state, []
    if isinstance(event, JOB_RESULTS):
        result: JobResult = event
        if state.session is None or result.session_id != state.session.id:
            return state, []  # stale: the session it belonged to has ended
    key: type | Button = event.button if isinstance(event, Pressed) else type(event)
    handler = TABLE.get((state.phase, key))
    if handler is None:
        raise IllegalEvent(state.phase, event)
    return handler(state, event, now)


def step(state: State, event: Event, now: float, *, strict: bool = False) -> Outcome:
    """One event in, the next state and the effects to execute out. Pure."""
    effects: list[Effect] = []
    current = state
    if state.deadline is not None and now >= state.deadline:
        current, effects = TIMEOUTS[state.phase](evolve(state, deadline=None), now)
    try:
        current, more = _dispatch(current, event, now)
    except IllegalEvent as exc:
        if strict:
            raise
        more = [Ignored(exc.phase, exc.event_kind, exc.reason)]
    return _settle(state, current, effects + more)


def start(config: SessionConfig) -> Outcome:
    """The engine's first state (no reader yet) and the effects that announce it."""
    state = State(config)
    return _settle(state, state, [])


class Engine:
    """A holder for the current state, for the runner and tests; `step` does the work."""

    def __init__(self, config: SessionConfig | None = None, *, strict: bool = False) -> None:
        self.strict = strict
        self.state, self.started = start(config or SessionConfig())

    def feed(self, event: Event, now: float) -> list[Effect]:
        self.state, effects = step(self.state, event, now, strict=self.strict)
        return effects
