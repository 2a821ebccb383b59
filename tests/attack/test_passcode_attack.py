"""The staff passcode under attack through the real UI path.

The touchscreen (ui/app.py on SDL's dummy driver) receives FINGERDOWN/FINGERUP events at the
keypad's own rects; the real runner and engine act on the intents; the real PasscodeStore
(real scrypt) checks each guess. One clock, injected into the runner and the store, stands
for the passing of the 30-minute locks. An attacker enumerating 0000, 0001, ... gets exactly
5 guesses per lock window, no keypad at all while locked, and the right code refused while
locked. The figures (guess rate through the UI, time to exhaust the space, expected time to
hit a random code) are printed for docs/reliability.md.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pygame
import pytest

from myna_reader.daemon.engine import (
    Event,
    LockoutPolicy,
    Screen,
    SessionConfig,
    StaffPasscodeView,
    View,
)
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import Clocks, PasscodeStore
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.ui.app import App
from myna_reader.ui.input import DEBOUNCE_S
from myna_reader.ui.settings import UiSettings

SECRET_CODE = "0012"  # the attacker enumerates from 0000: it falls in the third window
CODES = 10_000
WAIT_S = 20.0


@dataclass
class FakeClock:
    """Seconds that pass only when the test says so (monotonic, wall and boot time)."""

    t: float = 0.0

    def monotonic(self) -> float:
        return 1_000.0 + self.t

    def wall(self) -> float:
        return 1.8e9 + self.t


class Touchscreen:
    """Taps the elements the app has drawn, as a finger would, and steps the display loop."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.taps = 0
        self._last: dict[str, float] = {}

    def tap(self, element_id: str) -> None:
        frame = self.app.frame
        assert frame is not None
        element = next((e for e in frame.elements if e.id == element_id), None)
        assert element is not None, (element_id, self.app.view, [e.id for e in frame.elements])
        # a finger cannot bounce-tap the same key faster than the debounce lets through
        wait = self._last.get(element_id, -1.0) + DEBOUNCE_S - time.monotonic()
        if wait > 0:
            time.sleep(wait + 0.005)
        x, y, w, h = element.rect
        width, height = self.app.layout.width, self.app.layout.height
        for kind in (pygame.FINGERDOWN, pygame.FINGERUP):
            pygame.event.post(pygame.event.Event(
                kind, x=(x + w / 2) / width, y=(y + h / 2) / height, dx=0.0, dy=0.0,
                finger_id=0, touch_id=1, pressure=1.0))
        self.app.step()
        self._last[element_id] = time.monotonic()
        self.taps += 1

    def until(self, what: str, ready: Callable[[View], bool]) -> View:
        deadline = time.monotonic() + WAIT_S
        while not (self.app.view is not None and ready(self.app.view)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not come; the screen is {self.app.view}")
            self.app.step()
        return self.app.view

    def screen(self, screen: Screen) -> View:
        return self.until(f"screen {screen.value}", lambda v: v.screen is screen)

    def enter_code(self, code: str) -> View:
        """Enter one code on a code pad (the staff or the technician one); what answers it."""
        for digit in code:
            self.tap(f"digit-{digit}")
        self.until("the digits", lambda v: isinstance(v, StaffPasscodeView) and v.digits == 4)
        self.tap("ok")
        return self.until("the verdict", lambda v: not (
            isinstance(v, StaffPasscodeView) and (v.digits == 4 or v.checking)))


Counter = tuple[Touchscreen, FakeClock, PasscodeStore, AuditLog]


@pytest.fixture
def reader_at_the_counter(tmp_path: Path) -> Iterator[Counter]:
    clock = FakeClock()
    store = PasscodeStore(tmp_path, clocks=Clocks(wall=clock.wall, boottime=clock.monotonic,
                                                   boot_id=lambda: "boot-1"))
    store.set(SECRET_CODE)
    audit = AuditLog(tmp_path, clock=clock.wall)
    events: queue.Queue[Event] = queue.Queue()
    app = App(UiSettings(voice=False), events.put)
    runner = Runner(config=SessionConfig(), open_reader=lambda: SimReader(present=False),
                    store=store, audit=audit, display=app, link=None, events=events,
                    clock=clock.monotonic, wall=clock.wall)
    engine = threading.Thread(target=runner.run, name="engine", daemon=True)
    engine.start()
    try:
        yield Touchscreen(app), clock, store, audit
    finally:
        runner.stop()
        engine.join(timeout=10)
        pygame.display.quit()


def test_five_guesses_per_lock_window_through_the_touchscreen(
        reader_at_the_counter: Counter) -> None:
    screen, clock, store, audit = reader_at_the_counter
    policy = LockoutPolicy()
    windows: list[list[str]] = []
    guess_seconds: list[float] = []
    refused_while_locked = 0
    candidates = (f"{n:04d}" for n in range(CODES))
    found = None
    screen.until("the 職員用 button", lambda v: v.screen is Screen.STANDBY
                 and getattr(v, "staff_button", False))
    while found is None:
        screen.tap("staff")
        view = screen.until("a keypad or the lock", lambda v: v.screen is Screen.STAFF_LOCKED
                            or (isinstance(v, StaffPasscodeView) and not v.checking))
        if view.screen is Screen.STAFF_LOCKED:
            # locked: no keypad is offered at all, and nothing reaches the store
            failures = store.status().failures
            refused_while_locked += 1
            screen.tap("ok")
            screen.screen(Screen.STANDBY)
            assert store.status().failures == failures
            clock.t += policy.duration_s  # the lock's 30 minutes pass
            continue
        windows.append([])
        while view.screen is Screen.STAFF_PASSCODE:
            code = next(candidates)
            started = time.perf_counter()
            view = screen.enter_code(code)
            guess_seconds.append(time.perf_counter() - started)
            windows[-1].append(code)
            if view.screen is Screen.STAFF_STANDBY:
                found = code
        if view.screen is Screen.STAFF_LOCKED:
            screen.tap("ok")
            screen.screen(Screen.STANDBY)

    assert found == SECRET_CODE
    assert [len(w) for w in windows] == [5, 5, 3]  # 0000-0004 | 0005-0009 | 0010-0012
    assert refused_while_locked == 2
    lockouts = [line for line in audit.read() if line["event"] == "staff-lockout"]
    assert len(lockouts) == 2

    per_guess = sum(guess_seconds) / len(guess_seconds)
    figures = attack_figures(policy, per_guess)
    print(f"\npasscode attack through the UI: {len(guess_seconds)} guesses, "
          f"{screen.taps} taps, {per_guess:.3f} s per guess "
          f"({1 / per_guess:.1f} guesses/s with real scrypt); "
          f"guesses per window {[len(w) for w in windows]}")
    for name, value in figures.items():
        print(f"  {name}: {value}")


def attack_figures(policy: LockoutPolicy, per_guess_s: float) -> dict[str, str]:
    """Exhausting 10,000 codes at max_failures per lock: the windows in between are locked.

    The k-th guess (1-based) comes after ceil(k / max_failures) - 1 full locks, so the last
    code costs ceil(10000 / 5) - 1 = 1999 locks (LockoutPolicy.search_s: the locks grow from
    1 minute to 30), and a uniformly random code costs on average the mean over k of the
    locks before it."""
    per_window = policy.max_failures
    locks_all = math.ceil(CODES / per_window) - 1
    before = [0.0]  # seconds of locks before the n-th window
    for level in range(1, locks_all + 1):
        before.append(before[-1] + policy.lock_s(level))
    typing_all = CODES * per_guess_s
    exhaust = policy.search_s(CODES) + typing_all
    mean = sum(before[math.ceil(k / per_window) - 1] for k in range(1, CODES + 1)) / CODES \
        + typing_all / 2
    return {
        "lock rate": f"{per_window} guesses per lock of {policy.first_s / 60:.0f} to "
                     f"{policy.duration_s / 60:.0f} min",
        "exhaust the 4-digit space": f"{exhaust / 3600:.1f} h = {exhaust / 86400:.1f} days "
                                     f"({locks_all} locks)",
        "expected to hit a random code": f"{mean / 3600:.1f} h = {mean / 86400:.1f} days",
        "without the lock, at the UI rate": f"{typing_all / 3600:.2f} h",
    }
