"""Deadlines that warn: the last seconds of a person's screen count down before it ends.

A phase in WARNED_PHASES gets two times when it is entered: `ends_at`, when its deadline ends
what the person is doing, and an earlier `deadline`, `timeouts.warning_s` before it (half the
timeout when that is shorter). From that deadline on the engine counts down: each whole second
left is a new view (a `Countdown` with the 続ける button) and a Tick at the next second, until
`ends_at` runs the phase's deadline rule in table.py's TIMEOUTS. 続ける (Button.CONTINUE)
enters the phase again, with its whole deadline. The total time on a screen stays its timeout.
"""

from __future__ import annotations

import math

from myna_reader.daemon.engine.effects import Effect, Note
from myna_reader.daemon.engine.model import State, evolve
from myna_reader.daemon.engine.settings import SessionConfig
from myna_reader.daemon.engine.vocabulary import NoteEvent, Phase, Screen

#: the screens where a person is doing something a deadline ends (their screen ids match)
WARNED_PHASES = frozenset({
    Phase.METHOD, Phase.PIN, Phase.CONSENT, Phase.PRESCRIPTION, Phase.STAFF_PASSCODE,
    Phase.STAFF_STANDBY, Phase.TECHNICIAN, Phase.TECHNICIAN_CODE,
})


def deadlines(config: SessionConfig, phase: Phase, now: float,
              timeout: float | None) -> tuple[float | None, float | None]:
    """(deadline, ends_at) for a phase entered at `now` with `timeout` seconds."""
    if timeout is None:
        return None, None
    if phase not in WARNED_PHASES:
        return now + timeout, None
    warning = min(config.timeouts.warning_s, timeout / 2)
    return now + timeout - warning, now + timeout


def counting_down(state: State, now: float) -> bool:
    """The deadline that passed is a warning, not yet the end."""
    return state.ends_at is not None and now < state.ends_at


def count_down(state: State, now: float) -> tuple[State, list[Effect]]:
    """A second of the countdown: the seconds left shown, a Tick at the next whole second."""
    assert state.ends_at is not None
    left = max(math.ceil(state.ends_at - now), 1)
    effects: list[Effect] = []
    if state.countdown is None:
        session = state.session
        effects.append(Note(NoteEvent.COUNTDOWN, None if session is None else session.id,
                            Screen(state.phase.value), seconds=left))
    return evolve(state, countdown=left, deadline=state.ends_at - (left - 1)), effects


def standby_deadline(config: SessionConfig, now: float) -> float:
    """Standby with a reason shown or a language chosen there: when that goes back."""
    return now + config.timeouts.standby_notice_s
