"""The `replay` backend: plays an APDU transcript back as if the recorded card were present.

Strict about the sequence: each command must be the next recorded one (masked VERIFY data
matches any bytes of the same length), or `TranscriptDivergenceError` says where and how it differs.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from myna_reader.drivers.backends.base import Reader, ReaderEvent, ReaderEventKind
from myna_reader.drivers.errors import CardRemovedError, MynaError, NoCardError
from myna_reader.drivers.transcript import CardEvent, Step, Transcript, load, masked_hex


class TranscriptDivergenceError(MynaError):
    """The live conversation left the recorded one."""


def _spaced(hexstr: str) -> str:
    return " ".join(hexstr[i : i + 2] for i in range(0, len(hexstr), 2))


def describe_divergence(index: int, step: Step | None, apdu: bytes) -> str:
    # masked: this message may be logged, and the live command may be a VERIFY with a real PIN
    got = _spaced(masked_hex(apdu))
    if step is None:
        return f"exchange {index}: the transcript has ended, but the reader sent {got}"
    expected = _spaced(step.command)
    marks = "".join(
        " " if a in (b, "X") else "^" for a, b in zip(expected, got, strict=False)
    ) + "^" * abs(len(expected) - len(got))
    note = f" ({step.note})" if step.note else ""
    return (f"exchange {index}{note} differs from the transcript:\n"
            f"  expected {expected}\n  got      {got}\n           {marks.rstrip()}")


class ReplayReader(Reader):
    def __init__(self, transcript: Transcript | Path, *, realtime: bool = False) -> None:
        self.transcript = transcript if isinstance(transcript, Transcript) else load(transcript)
        self.spec = f"replay:{transcript}" if isinstance(transcript, Path) else "replay"
        self.supports_extended = self.transcript.header.supports_extended
        self._realtime = realtime
        self._cursor = 0
        self._exchanges = 0
        self._present = False
        self._lock = threading.Lock()
        #: The first divergence, kept: a caller above may turn the error into an outcome.
        self.divergence: TranscriptDivergenceError | None = None

    @property
    def name(self) -> str:
        return f"Replay of {self.transcript.header.scenario or 'a transcript'}"

    @property
    def finished(self) -> bool:
        """Whether every recorded exchange has been played."""
        return not any(isinstance(e, Step) for e in self.transcript.entries[self._cursor :])

    def _take_event(self) -> ReaderEvent | None:
        entries = self.transcript.entries
        if self._cursor < len(entries) and isinstance(entries[self._cursor], CardEvent):
            event = entries[self._cursor]
            assert isinstance(event, CardEvent)
            self._cursor += 1
            self._present = event.kind is ReaderEventKind.CARD_INSERTED
            return ReaderEvent(event.kind, self.name, self.transcript.header.atr)
        return None

    def wait_for_event(self, timeout: float) -> ReaderEvent | None:
        with self._lock:
            event = self._take_event()
        if event is None and timeout > 0:
            time.sleep(timeout)  # a recording has no more events: behave like a quiet reader
        return event

    def card_present(self) -> bool:
        return self._present

    def connect(self, *, exclusive: bool = False) -> bytes:
        with self._lock:
            while not self._present and self._take_event() is not None:
                pass
            if not self._present:
                raise NoCardError("the transcript has no card in the reader here")
        return self.transcript.header.atr

    def transmit(self, apdu: bytes) -> bytes:
        with self._lock:
            entries = self.transcript.entries
            while self._cursor < len(entries) and isinstance(entries[self._cursor], CardEvent):
                event = self._take_event()
                if event is not None and event.kind is ReaderEventKind.CARD_REMOVED:
                    raise CardRemovedError("the recorded card was removed here")
            if not self._present:
                raise NoCardError("no card in the reader")
            step = entries[self._cursor] if self._cursor < len(entries) else None
            assert step is None or isinstance(step, Step)
            index = self._exchanges + 1
            if step is None or not step.matches(apdu):
                error = TranscriptDivergenceError(describe_divergence(index, step, apdu))
                self.divergence = self.divergence or error
                raise error
            self._cursor += 1
            self._exchanges += 1
        if self._realtime and step.ms:
            time.sleep(step.ms / 1000)
        return step.response

    def disconnect(self, *, unpower: bool = True) -> None:
        """A recording cannot be powered down; the sequence simply continues."""
