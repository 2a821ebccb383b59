"""The contract every reader backend keeps: bytes in, bytes out, card and reader events.

A backend knows nothing of APDU semantics: 61xx/6Cxx, tracing, timing and status words live
in `drivers/channel.py`, once, for every backend.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from typing import Self


class ReaderEventKind(enum.Enum):
    READER_ATTACHED = "reader-attached"
    READER_DETACHED = "reader-detached"
    CARD_INSERTED = "card-inserted"
    CARD_REMOVED = "card-removed"


@dataclass(frozen=True, slots=True)
class ReaderEvent:
    kind: ReaderEventKind
    reader: str
    atr: bytes = b""


class Reader(abc.ABC):
    """One reader slot (a PC/SC reader, an NFC front end, a simulated or recorded card).

    Lifecycle: `wait_for_event` reports presence; `connect` powers the card and returns its
    ATR; `transmit` moves one APDU; `disconnect(unpower=True)` powers the card down so that a
    verified PIN never outlives the patient; `close` releases the reader.
    """

    #: The spec string this reader was opened with (docs/architecture.md, reader spec strings).
    spec: str = ""
    #: Whether extended-length APDUs pass end to end through this reader.
    supports_extended: bool = False

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """A human-readable reader name (for `myna-reader readers` and the technician)."""

    @abc.abstractmethod
    def wait_for_event(self, timeout: float) -> ReaderEvent | None:
        """Block up to `timeout` seconds for the next card or reader event."""

    def check_attached(self) -> None:  # noqa: B027 - optional hook, as `close`
        """Raise ReaderGoneError at once if the reader the spec names is not there now: a
        command fails fast; the daemon instead waits for READER_ATTACHED. Only a backend
        whose reader can be absent (pcsc) has anything to check."""

    @abc.abstractmethod
    def card_present(self) -> bool:
        """Whether a card is in the reader now."""

    @abc.abstractmethod
    def connect(self, *, exclusive: bool = False) -> bytes:
        """Power the card and return its ATR. `exclusive` keeps other clients out."""

    @abc.abstractmethod
    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU, return the response (data + SW1 SW2)."""

    @abc.abstractmethod
    def disconnect(self, *, unpower: bool = True) -> None:
        """End the card session; `unpower` clears every verified state on the card."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing more
        """Release the reader itself."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
