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


#: the screens a patient answers, which wait `timeouts.voice_factor` times longer once the
#: patient is guided by voice (the prescription page waits as long as a consent page)
VOICE_PHASES = frozenset({Phase.METHOD, Phase.PIN, Phase.CONSENT, Phase.PRESCRIPTION})


def voice_scale(state: State, phase: Phase) -> float:
    """How many times longer `phase` waits in this state: the voice factor on a patient's
    screen of a session guided by voice, else 1."""
    session = state.session
    if phase in VOICE_PHASES and session is not None and session.voice_guided:
        return state.config.timeouts.voice_factor
    return 1.0


def deadlines(config: SessionConfig, phase: Phase, now: float, timeout: float | None,
              scale: float = 1.0) -> tuple[float | None, float | None]:
    """(deadline, ends_at) for a phase entered at `now` with `timeout` seconds. `scale`
    stretches the whole of it, the countdown included (voice_scale)."""
    if timeout is None:
        return None, None
    if phase not in WARNED_PHASES:
        return now + timeout * scale, None
    warning = min(config.timeouts.warning_s, timeout / 2) * scale
    return now + timeout * scale - warning, now + timeout * scale


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
