"""The `sim` backend: a reader slot holding an in-process simulated My Number card.

Tests and `--simulate` script the card's placement with `insert()` / `remove()`; the events
reach `wait_for_event` in order. With a `TimingModel` every exchange takes the modelled time,
and `modelled_seconds` sums it, so a benchmark can compare wall time with the model.
"""

from __future__ import annotations

import queue
import threading
import time

from myna_reader.drivers.apdu import Command
from myna_reader.drivers.backends.base import Reader, ReaderEvent, ReaderEventKind
from myna_reader.drivers.errors import (
    CardRemovedError,
    FormatError,
    NoCardError,
    TransportError,
)
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import CardProfile, load_profile
from myna_reader.drivers.sim.timing import TimingModel


class SimReader(Reader):
    """One reader slot with a simulated card. Thread-safe: placement may come from any thread."""

    def __init__(
        self,
        profile: CardProfile | str = "standard",
        *,
        present: bool = True,
        timing: TimingModel | None = None,
        supports_extended: bool = True,
    ) -> None:
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self.spec = f"sim:{self.profile.name}"
        self.supports_extended = supports_extended
        self.timing = timing
        self.modelled_seconds = 0.0
        self._lock = threading.Lock()
        self._events: queue.Queue[ReaderEvent] = queue.Queue()
        self._card = SimulatedCard(self.profile)
        self._present = False
        self._connected = False
        self._lost = False  # the card left while a session was open
        if present:
            self.insert()

    @property
    def name(self) -> str:
        return f"Simulated reader ({self.profile.name})"

    @property
    def card(self) -> SimulatedCard:
        """The card this slot holds (or last held), for tests to inspect."""
        return self._card

    # --- scripted placement --------------------------------------------------------------------

    def insert(self, card: SimulatedCard | None = None) -> None:
        """Place `card`, or put the last card back (its retry counters unchanged)."""
        with self._lock:
            if self._present:
                raise TransportError("a card is already in the simulated reader")
            if card is not None:
                self._card = card
            self._present = True
            self._lost = False
            self._events.put(ReaderEvent(ReaderEventKind.CARD_INSERTED, self.name,
                                         self._card.atr))

    def remove(self) -> None:
        """Take the card out of the field: it loses power, an open session is broken."""
        with self._lock:
            if not self._present:
                return
            self._card.power_off()
            self._present = False
            self._lost = self._connected
            self._connected = False
            self._events.put(ReaderEvent(ReaderEventKind.CARD_REMOVED, self.name))

    # --- the Reader contract -------------------------------------------------------------------

    def wait_for_event(self, timeout: float) -> ReaderEvent | None:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def card_present(self) -> bool:
        with self._lock:
            return self._present

    def connect(self, *, exclusive: bool = False) -> bytes:
        # `exclusive` changes nothing here: no other client can reach an in-process card.
        with self._lock:
            card = self._present_card()
            self._connected = True
            self._lost = False
            return card.atr if card.powered else card.power_on()

    def transmit(self, apdu: bytes) -> bytes:
        with self._lock:
            if self._lost:
                raise CardRemovedError("the card was removed during the session")
            card = self._present_card()
            if not self._connected:
                raise TransportError("transmit before connect")
            if not self.supports_extended and _is_extended(apdu):
                raise TransportError("this reader does not pass extended-length APDUs")
            start = time.perf_counter()
            response = card.process(apdu)
            if self.timing is not None:
                modelled = self.timing.seconds(apdu, response)
                self.modelled_seconds += modelled
                # the model's card work includes what the simulated card just computed (its
                # Python RSA stands in for the chip's): the exchange lasts the modelled time
                time.sleep(max(0.0, start + modelled - time.perf_counter()))
            return response

    def disconnect(self, *, unpower: bool = True) -> None:
        with self._lock:
            if unpower:
                self._card.power_off()
            self._connected = False
            self._lost = False

    def close(self) -> None:
        self.disconnect(unpower=True)

    def _present_card(self) -> SimulatedCard:
        if not self._present:
            raise NoCardError("no card in the simulated reader")
        return self._card


def _is_extended(apdu: bytes) -> bool:
    try:
        return Command.parse(apdu).is_extended
    except FormatError:
        return False  # let the card answer 6700, as it would
