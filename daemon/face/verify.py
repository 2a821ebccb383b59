"""The face decision: chip photo against live frames, decided only when several consecutive
frames agree. A single frame never decides, either way: a blink, motion blur or a bad angle
changes one frame's distance, not N in a row."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    MATCH = "match"
    NO_MATCH = "no-match"


class FrameAgreement:
    """Counts consecutive frames on the same side of the threshold; latches the first verdict."""

    def __init__(self, threshold: float, needed: int) -> None:
        self._threshold = threshold
        self._needed = needed
        self._run: Verdict | None = None
        self._length = 0
        self.verdict: Verdict | None = None
        self.last: Verdict | None = None  # the latest frame's side

    def feed(self, distance: float) -> Verdict | None:
        side = Verdict.MATCH if distance <= self._threshold else Verdict.NO_MATCH
        self.last = side
        self._length = self._length + 1 if side is self._run else 1
        self._run = side
        if self.verdict is None and self._length >= self._needed:
            self.verdict = side
        return self.verdict
