"""Run the engine without the daemon: over a script of events, executing its jobs in line.

`run_events` is what `myna-reader replay` drives: the CLI builds the events (reader, card,
the PIN or staff answers given by flags or a script) and a job executor backed by the card
driver over a transcript; every job result is fed back at once, before the next scripted
event. `bench_engine` gives `myna-reader bench` the engine's median time per event.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from myna_reader.daemon.engine import (
    Button,
    CardJob,
    CardPlaced,
    CardProbed,
    CardRemoved,
    CertificateRead,
    ChallengeReceived,
    CheckPasscode,
    DigitPressed,
    Effect,
    ErrorMessage,
    Event,
    Ignored,
    PasscodeChecked,
    PasscodeStatus,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    Pressed,
    ReaderAttached,
    ReleaseCard,
    ResultMessage,
    Screen,
    SendToHost,
    SessionConfig,
    Show,
    Signed,
    State,
    Tick,
    TokenKind,
    WriteAudit,
    start,
    step,
)

Job = CardJob | CheckPasscode
#: Executes one job and returns the event that answers it (None: the job has no answer,
#: like ReleaseCard).
JobExecutor = Callable[[Job], Event | None]


@dataclass(slots=True)
class EngineRun:
    state: State
    steps: list[tuple[float, Event, list[Effect]]] = field(default_factory=list)

    @property
    def effects(self) -> list[Effect]:
        return [effect for _, _, effects in self.steps for effect in effects]

    @property
    def results(self) -> list[ResultMessage]:
        return [e.message for e in self.effects
                if isinstance(e, SendToHost) and isinstance(e.message, ResultMessage)]

    @property
    def error_codes(self) -> list[str]:
        return [e.message.code for e in self.effects
                if isinstance(e, SendToHost) and isinstance(e.message, ErrorMessage)]

    @property
    def screens(self) -> list[Screen]:
        return [e.view.screen for e in self.effects if isinstance(e, Show)]

    @property
    def ignored(self) -> list[Ignored]:
        return [e for e in self.effects if isinstance(e, Ignored)]

    def summary(self) -> dict[str, object]:
        """The outcome as plain data (for the CLI to print): no certificate, no secret."""
        return {
            "final_screen": self.screens[-1].value if self.screens else None,
            "screens": [s.value for s in self.screens],
            "results": [{"id": r.id, "method": r.method.value, "token": r.token.value,
                         "certificate": r.certificate_fingerprint,
                         "certificate_life": r.certificate_life.value,
                         "signed": r.signature is not None,
                         "consents": {a.item.value: a.agreed for a in r.consents}}
                        for r in self.results],
            "errors": self.error_codes,
            "audit": [e.record.outcome for e in self.effects if isinstance(e, WriteAudit)],
            "ignored": [f"{i.event} in {i.phase.value}: {i.reason}" for i in self.ignored],
        }


def run_events(config: SessionConfig, timed_events: Iterable[tuple[float, Event]], *,
               executor: JobExecutor | None = None, strict: bool = False) -> EngineRun:
    """Feed `(now, event)` pairs (now: monotonic seconds, non-decreasing) to a fresh engine.
    Jobs the engine asks for go to `executor`; their answers are fed at the same `now`."""
    state, first = start(config)
    run = EngineRun(state, [(0.0, Tick(), first)])
    for now, event in timed_events:
        pending: deque[Event] = deque([event])
        while pending:
            current = pending.popleft()
            run.state, effects = step(run.state, current, now, strict=strict)
            run.steps.append((now, current, effects))
            if executor is not None:
                for effect in effects:
                    if isinstance(effect, CardJob | CheckPasscode):
                        answer = executor(effect)
                        if answer is not None:
                            pending.append(answer)
    return run


# --- the benchmark -------------------------------------------------------------------------


BENCH_NOT_AFTER = datetime(2049, 6, 30, tzinfo=UTC)  # far from every notice and grace period


def _bench_executor(job: Job) -> Event | None:
    """A card and store that always agree: the engine's own cost, nothing else."""
    if isinstance(job, CardJob) and not isinstance(job, ReleaseCard):
        answers: dict[str, Event] = {
            "ProbeCard": CardProbed(job.session_id, TokenKind.PLASTIC_CARD, True),
            "ReadPinCounter": PinCounterRead(job.session_id, 3),
            "VerifyPin": PinVerified(job.session_id, PinOutcome.OK, 3),
            "ReadCertificate": CertificateRead(job.session_id, b"\x30\x82", "0" * 16,
                                               BENCH_NOT_AFTER),
            "Sign": Signed(job.session_id, b"\x00" * 256),
        }
        return answers.get(type(job).__name__)
    if isinstance(job, CheckPasscode):
        return PasscodeChecked(True, 5)
    return None


def bench_script(sessions: int) -> list[Event]:
    """Alternating PIN and staff confirmations, each from card placement to removal."""
    events: list[Event] = [ReaderAttached("bench"), PasscodeStatus(True)]
    for i in range(sessions):
        if i % 2:
            events += [Pressed(Button.STAFF), *[DigitPressed(d) for d in (1, 2, 3, 4)],
                       Pressed(Button.OK)]
        events.append(CardPlaced(f"bench-{i}", 1.7e9 + i))
        if not i % 2:  # the challenge goes to the PIN session that waits for it
            events += [*[DigitPressed(d) for d in (1, 2, 3, 4)], Pressed(Button.OK),
                       ChallengeReceived(b"bench-challenge-%06d" % i)]
        events += [Pressed(Button.AGREE), Pressed(Button.DISAGREE), Pressed(Button.AGREE),
                   CardRemoved()]
    return events


def bench_engine(sessions: int = 2000) -> float:
    """Median seconds per engine step over `sessions` full confirmations (job answers
    included as events; the executor's own time is not counted)."""
    state, _ = start(SessionConfig())
    samples: list[float] = []
    now = 0.0
    clock = time.perf_counter
    for event in bench_script(sessions):
        pending: deque[Event] = deque([event])
        while pending:
            current = pending.popleft()
            now += 0.5
            t0 = clock()
            state, effects = step(state, current, now, strict=True)
            samples.append(clock() - t0)
            for effect in effects:
                if isinstance(effect, CardJob | CheckPasscode):
                    answer = _bench_executor(effect)
                    if answer is not None:
                        pending.append(answer)
    return statistics.median(samples)

