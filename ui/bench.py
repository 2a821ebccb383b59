"""The display loop's figures for `myna-reader bench`: touch-to-frame latency and idle CPU.

The real App runs on the real session engine, on the PIN pad: each tap is posted as a
FINGERDOWN/FINGERUP pair at a known time, and the clock stops at the `display.flip()` that
shows its result. Two latencies:
- press: FINGERDOWN -> the frame drawing the key pressed (the feedback a finger feels);
- tap: FINGERUP -> the frame of the engine's next view (the digit count changed).
Idle CPU: the loop on the standby screen with nothing happening, process CPU time over wall
time. Uses whatever SDL video driver the environment names (a real X server, or `dummy`).
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pygame

from myna_reader.daemon.engine import (
    Button,
    CardPlaced,
    CardProbed,
    CertificateRead,
    Engine,
    PinCounterRead,
    ReaderAttached,
    Show,
    TokenKind,
)
from myna_reader.ui.app import App
from myna_reader.ui.intents import EngineIntent
from myna_reader.ui.settings import UiSettings
from myna_reader.ui.widgets import Element

TAP_GAP_S = 0.2  # between taps: past the debounce, like a quick patient


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p99_ms": round(p99, 2),
            "max_ms": round(ordered[-1], 2), "n": len(ordered)}


class _Rig:
    """An App wired to a real engine, in one thread (as the daemon's main loop is)."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.engine = Engine()
        self.flips: list[float] = []
        self.app = App(UiSettings(size=size, voice=False), self._intent, on_flip=self.flips.append)
        self._feed(ReaderAttached("bench"))

    def _feed(self, event: object, now: float | None = None) -> None:
        effects = self.engine.feed(event, time.monotonic() if now is None else now)  # type: ignore[arg-type]
        for effect in effects:
            if isinstance(effect, Show):
                self.app.show(effect.view)

    def _intent(self, intent: EngineIntent) -> None:
        self._feed(intent)

    def to_pin_pad(self) -> None:
        self._feed(CardPlaced("bench-1", time.time()))
        self._feed(CardProbed("bench-1", TokenKind.PLASTIC_CARD, auth_cert=True))
        self._feed(CertificateRead("bench-1", b"cert", "00", datetime(2100, 1, 1, tzinfo=UTC)))
        self._feed(PinCounterRead("bench-1", tries=3))
        self.app.draw()

    def element(self, element_id: str) -> Element:
        assert self.app.frame is not None
        return next(e for e in self.app.frame.elements if e.id == element_id)

    def touch(self, kind: int, element: Element, delay_s: float) -> float:
        """Post a finger event from another thread after `delay_s` (so it lands while the
        loop waits, as a real touch does); run the loop until the frame that follows it.
        Returns the delay from the post to that frame's flip, in ms."""
        x, y, w, h = self.app.layout.to_panel(element.rect)
        width, height = self.app.layout.width, self.app.layout.height
        event = pygame.event.Event(kind, x=(x + w / 2) / width, y=(y + h / 2) / height,
                                   dx=0.0, dy=0.0, finger_id=1, touch_id=1, pressure=1.0)
        posted: list[float] = []

        def post() -> None:
            time.sleep(delay_s)
            posted.append(time.perf_counter())
            pygame.event.post(event)

        self.flips.clear()
        poster = threading.Thread(target=post)
        poster.start()
        deadline = time.perf_counter() + 2.0
        while time.perf_counter() < deadline:
            self.app.step()
            later = [t for t in self.flips if posted and t >= posted[0]]
            if later:
                poster.join()
                return (later[0] - posted[0]) * 1000
        raise TimeoutError("no frame after the touch")


def measure(repeat: int = 200, idle_s: float = 5.0,
            size: tuple[int, int] = (800, 480)) -> dict[str, object]:
    """Latency percentiles over `repeat` taps and the idle loop's CPU share (percent)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    rig = _Rig(size)
    rig.to_pin_pad()
    press: list[float] = []
    tap: list[float] = []
    jitter = random.Random(4)  # noqa: S311  (spreads touches over the wait; not security)
    for i in range(repeat):
        target = rig.element("digit-5" if i % 2 == 0 else Button.DELETE.value)
        press.append(rig.touch(pygame.FINGERDOWN, target, jitter.uniform(0.005, 0.05)))
        tap.append(rig.touch(pygame.FINGERUP, target, jitter.uniform(0.05, TAP_GAP_S)))
    rig._feed(ReaderAttached("bench"))  # any event: the engine stays where it is
    idle = _idle_cpu(rig.app.step, idle_s, rig)
    driver = pygame_driver()
    pygame.quit()
    return {"video_driver": driver, "size": f"{size[0]}x{size[1]}",
            "press_to_frame": _percentiles(press), "tap_to_view_frame": _percentiles(tap),
            "idle_cpu_percent": idle}


def _idle_cpu(step: Callable[[], bool], seconds: float, rig: _Rig) -> float:
    rig.app.voice.stop()
    step()  # settle: draw whatever is pending
    wall0, cpu0 = time.perf_counter(), time.process_time()
    frames = len(rig.flips)
    while time.perf_counter() - wall0 < seconds:
        step()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if len(rig.flips) != frames:
        raise AssertionError("the idle loop drew frames")
    return round(100 * cpu / wall, 3)


def pygame_driver() -> str:
    try:
        return str(pygame.display.get_driver())
    except pygame.error:
        return os.environ.get("SDL_VIDEODRIVER", "")
