"""The reader session as a pure engine: `step(state, event, now) -> (state, effects)`.

No I/O, no clock, no threads, no randomness: `now` is monotonic seconds passed in, wall-clock
times come in events (CardPlaced anchors a session's wall clock). Every rule of the flow is in
table.py: TABLE, keyed by (phase, event kind), where a press is keyed by its button, and the
deadline rules in TIMEOUTS. An event with no entry is illegal: `IllegalEvent` under strict=True
(tests), an `Ignored` effect for the runner to log otherwise.

Rules that hold everywhere (see docs/session.md):
- a deadline that has passed fires before the event that arrives after it, so a late touch
  never acts on a screen that should have gone;
- a person's screen warns before its deadline ends it: a countdown with 続ける (countdown.py);
- card-job results carry their session id; a result for a session that has ended is stale and
  dropped silently (the runner cannot take back a job in flight);
- 中止 in staff mode ends staff mode, whatever the screen; nothing is sent to the terminal;
- staff mode also ends after one confirmation (scope "one"), its idle deadline, a reader loss
  or the passcode being cleared;
- the card is unpowered (ReleaseCard) as soon as the card work is done and when a session ends.
"""

from __future__ import annotations

from myna_reader.daemon.engine.countdown import count_down, counting_down
from myna_reader.daemon.engine.derive import status_of, view_of
from myna_reader.daemon.engine.effects import Effect, Ignored, SendToHost, SetDeadline, Show
from myna_reader.daemon.engine.handlers import Outcome
from myna_reader.daemon.engine.model import (
    JOB_RESULTS,
    Event,
    IllegalEvent,
    JobResult,
    Pressed,
    State,
    Tick,
    evolve,
)
from myna_reader.daemon.engine.settings import SessionConfig
from myna_reader.daemon.engine.table import TABLE, TIMEOUTS
from myna_reader.daemon.engine.views import DEFAULT_SOUND, Sound
from myna_reader.daemon.engine.vocabulary import Button

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


def _deadline_passed(state: State, now: float) -> Outcome:
    """A person's screen counts down first (countdown.py); then the phase's deadline rule."""
    if counting_down(state, now):
        return count_down(state, now)
    return TIMEOUTS[state.phase](evolve(state, deadline=None, ends_at=None, countdown=None), now)


def step(state: State, event: Event, now: float, *, strict: bool = False) -> Outcome:
    """One event in, the next state and the effects to execute out. Pure."""
    effects: list[Effect] = []
    current = state
    if state.deadline is not None and now >= state.deadline:
        current, effects = _deadline_passed(state, now)
    try:
        current, more = _dispatch(current, event, now)
    except IllegalEvent as exc:
        if strict:
            raise
        more = [Ignored(exc.phase, exc.event_kind, exc.reason)]
    return _settle(state, current, effects + more)


def start(config: SessionConfig, sound: Sound = DEFAULT_SOUND) -> Outcome:
    """The engine's first state (no reader yet) and the effects that announce it; `sound`:
    the technician's settings as the runner found them kept."""
    state = State(config, sound=sound)
    return _settle(state, state, [])


class Engine:
    """A holder for the current state, for the runner and tests; `step` does the work."""

    def __init__(self, config: SessionConfig | None = None, *, strict: bool = False) -> None:
        self.strict = strict
        self.state, self.started = start(config or SessionConfig())

    def feed(self, event: Event, now: float) -> list[Effect]:
        self.state, effects = step(self.state, event, now, strict=self.strict)
        return effects
