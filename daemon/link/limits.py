"""Rate limits for what comes in from outside: terminal commands, connections, log lines.

`TokenBucket` is the classic shape: a burst of `burst` at once, then `rate` per second.
`WarningThrottle` keeps a flood of refused input from flooding the journal: the first
`burst` warnings of a window are logged, the rest only counted, and the count is logged once
when the window closes ("... and 312 more in the last 60 s").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and room for one")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._at = clock()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def wait_s(self) -> float:
        """How long until `take` can succeed: what a refused sender is told to wait."""
        missing = 1 - min(self.burst, self._tokens + (self._clock() - self._at) * self.rate)
        return max(0.0, missing / self.rate)


class WarningThrottle:
    """Thread-safe. `warn` logs at most `burst` lines per `window_s`; the rest are counted."""

    def __init__(self, logger: logging.Logger, *, burst: int = 5, window_s: float = 60.0,
                 clock: Clock = time.monotonic) -> None:
        self.logger = logger
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._logged = 0
        self.suppressed = 0  # in the current window

    def warn(self, message: str, *args: object) -> None:
        with self._lock:
            self._roll()
            if self._logged >= self.burst:
                self.suppressed += 1
                return
            self._logged += 1
        self.logger.warning(message, *args)

    def flush(self) -> None:
        """Close the window now if it is over (the housekeeping's tick)."""
        with self._lock:
            self._roll()

    def _roll(self) -> None:
        now = self._clock()
        if now - self._started < self.window_s:
            return
        if self.suppressed:
            self.logger.warning("... and %d more like it in the last %.0f s", self.suppressed,
                                now - self._started)
        self._started, self._logged, self.suppressed = now, 0, 0
