"""Scripted confirmations: what a patient and a staff member do, fed to the real engine, whose
card jobs run on a real reader backend through `CardJobs`.

One script per kind of confirmation, used by `record`, `replay` and `bench` (`run --simulate`
and the soak drive the whole daemon instead: daemon/harness/visitor.py):

- `staff`: 職員用, the passcode, the card placed, every consent page answered, card removed;
- `pin`: the card placed, the PIN, the terminal's challenge, every consent page, card removed;
- `phone`: an iPhone placed (its holder authenticated on the phone), the terminal's challenge,
  every consent page, the phone taken away.

The script is fixed; the engine decides. Where the card says otherwise (a wrong or blocked
PIN, a phone token in staff mode), the engine goes its own way and the presses it no longer
expects are ignored and listed, exactly as on the touchscreen.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from myna_reader.daemon.engine import (
    PASSCODE_LENGTH,
    PIN_LENGTH,
    Button,
    CardJob,
    CardPlaced,
    CardRemoved,
    ChallengeReceived,
    DigitPressed,
    Event,
    PasscodeStatus,
    Pressed,
    ReaderAttached,
    SessionConfig,
)
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.harness.replay import EngineRun, Job, run_events
from myna_reader.daemon.runtime.card_jobs import CardJobs
from myna_reader.daemon.store.passcode import PasscodeStore
from myna_reader.drivers.backends.base import Reader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.channel import CardChannel, Observer

KINDS = ("staff", "pin", "phone")
STEP_SECONDS = 0.5  # simulated time between two touches: well inside every deadline
SCRIPT_WALL_START = 1.8e9  # wall-clock seconds the scripted session says it started at


class ScenarioError(DaemonError, ValueError):
    """A scenario that cannot be scripted as asked (unknown kind, malformed answer)."""


@dataclass(frozen=True, slots=True)
class Answers:
    pin: str = ""  # the patient's PIN (pin)
    passcode: str = ""  # the staff member's passcode (staff); empty: a fresh random one
    agree: tuple[bool, ...] = ()  # one answer per consent page; missing pages agree
    challenge: bytes = b"qualification-confirmation challenge"


def _digits(code: str, what: str, length: int) -> list[Event]:
    if len(code) != length or not code.isdigit():
        raise ScenarioError(f"the {what} is {length} digits")
    return [DigitPressed(int(d)) for d in code]


def script(kind: str, answers: Answers, config: SessionConfig, session_id: str) -> list[Event]:
    if kind not in KINDS:
        raise ScenarioError(f"unknown scenario kind {kind!r} (one of {', '.join(KINDS)})")
    events: list[Event] = [ReaderAttached("scenario")]
    if kind == "staff":
        events += [Pressed(Button.STAFF), *_digits(answers.passcode, "passcode", PASSCODE_LENGTH),
                   Pressed(Button.OK)]
    events.append(CardPlaced(session_id, SCRIPT_WALL_START))
    if kind == "pin":  # the terminal's challenge goes to the PIN session that waits for it
        events += [*_digits(answers.pin, "PIN", PIN_LENGTH), Pressed(Button.OK),
                   ChallengeReceived(answers.challenge)]
    if kind == "phone":  # no PIN pad: the phone's signature is what waits for the challenge
        events.append(ChallengeReceived(answers.challenge))
    pages = len(config.consent_pages)
    agree = answers.agree + (True,) * (pages - len(answers.agree))
    events += [Pressed(Button.AGREE if a else Button.DISAGREE) for a in agree[:pages]]
    events.append(CardRemoved())
    return events


@contextmanager
def _staff_store(passcode: str) -> Iterator[PasscodeStore | None]:
    """A throwaway store provisioned with `passcode` (never the device's own); none without."""
    if not passcode:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="myna-scenario-") as tmp:
        store = PasscodeStore(Path(tmp))
        store.set(passcode)
        yield store


def run(kind: str, reader: Reader, answers: Answers, *,
        config: SessionConfig | None = None, observers: tuple[Observer, ...] = (),
        session_id: str = "scenario-1") -> tuple[EngineRun, CardChannel]:
    """Run one scripted confirmation on `reader` (a card must be present)."""
    config = config or SessionConfig()
    if kind == "staff" and not answers.passcode:
        answers = Answers(answers.pin, f"{secrets.randbelow(10_000):04d}", answers.agree,
                          answers.challenge)
    events = script(kind, answers, config, session_id)
    reader.connect()
    channel = CardChannel(reader, observers)
    jobs = CardJobs(reader, MyNumberCard(channel))
    with _staff_store(answers.passcode if kind == "staff" else "") as store:
        executor: Callable[[Job], Event | None] = _executor(jobs, store)
        status = store.status().as_event() if store else PasscodeStatus(provisioned=False)
        timed = [(i * STEP_SECONDS, e) for i, e in enumerate([status, *events], 1)]
        outcome = run_events(config, timed, executor=executor)
    return outcome, channel


def _executor(jobs: CardJobs, store: PasscodeStore | None) -> Callable[[Job], Event | None]:
    def execute(job: Job) -> Event | None:
        if isinstance(job, CardJob):
            return jobs.execute(job)
        if store is None:
            return None  # no staff passcode in a PIN scenario: the engine never asks
        return store.answer(job)
    return execute
