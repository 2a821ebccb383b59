"""The `nfc` backend: nfcpy drives an ISO/IEC 14443-4 card, Type B (the plastic card) or Type A
(phones, which commonly emulate one), as a Type 4 tag.

Readers (nfcpy device paths, checked by drivers/readers.py): an RC-S380 on USB (`usb`,
`usb:054c:06c1`), a PN532 on a UART (`tty:AMA0:pn532`), or nfcpy's own `udp` driver facing the
simulated card (`udp:<host>:<port>`, drivers/sim/nfc_udp.py). APDUs go through the raw
`tag.transceive`, so extended lengths pass (`Type4Tag.send_apdu` refuses them); nfcpy does
the activation (ATTRIB for Type B, RATS/ATS for Type A), the ISO-DEP chaining, R(NAK)
retries, S(WTX) and the frame waiting time the card announces.

One thread watches presence: it senses 106A and 106B while no card is known (the kind found
last is asked first: on nfcpy's udp driver every kind that does not answer costs its 1 s
timeout) and sends nfcpy's presence check (an R(NAK)) while one is. A lock keeps checks and
exchanges apart. When an exchange fails, the field is switched off and the card sensed again:
that tells a card that left (CardRemovedError) from one that stopped answering
(CardTimeoutError), and either way resets the card, so the session is over and `connect` must
run again.

nfcpy is imported here only: the reader registry imports this module lazily.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

import nfc
import nfc.clf
import nfc.tag

from myna_reader.drivers.atr import TYPE_A_ATR, type_b_atr
from myna_reader.drivers.backends.base import Reader, ReaderEvent, ReaderEventKind
from myna_reader.drivers.errors import (
    CardRemovedError,
    CardTimeoutError,
    MalformedResponseError,
    MynaError,
    NoCardError,
    ReaderGoneError,
    TransportError,
)

log = logging.getLogger(__name__)

#: The bit rates polled: nfcpy activates Type 4 tags at 106 kbps (docs/card-protocol.md).
TYPE_A_106 = "106A"
TYPE_B_106 = "106B"
_CONNECT_SENSE_TRIES = 3
_ACTIVATION_TRIES = 3
_PRESENCE_TRIES = 3
_SENSE_INTERVAL_S = 0.1
_JOIN_TIMEOUT_S = 5.0


def target_atr(target: nfc.clf.RemoteTarget) -> bytes:
    """The ATR a PC/SC reader would report for a sensed target (drivers/atr.py): from the
    ATQB of a Type B card; the bare Type A one for a Type A card, as nfcpy keeps no ATS."""
    if str(target.brty).endswith("B"):
        return type_b_atr(bytes(target.sensb_res))
    return TYPE_A_ATR


def _failure_kind(exc: Exception) -> type[TransportError]:
    """The error for an exchange that failed while the card stayed in the field."""
    timed_out = isinstance(exc, nfc.clf.TimeoutError) or (
        isinstance(exc, nfc.tag.TagCommandError) and exc.errno == nfc.tag.TIMEOUT_ERROR
    )
    return CardTimeoutError if timed_out else TransportError


class NfcReader(Reader):
    """An nfcpy contactless front end holding at most one Type A or Type B card.

    `path` is an nfcpy device path (`usb`, `tty:AMA0:pn532`, `udp:host:port`)."""

    supports_extended = True

    def __init__(
        self, path: str, *, poll_interval: float = 0.25, presence_interval: float = 0.5
    ) -> None:
        self._path = path
        self.spec = f"nfc:{path}"
        self._poll_interval = poll_interval
        self._presence_interval = presence_interval
        try:
            self._clf = nfc.ContactlessFrontend(self._path)
        except (OSError, ValueError) as exc:
            raise ReaderGoneError(f"no NFC reader at {self.spec}: {exc}") from exc
        self._name = f"nfcpy {self._clf.device}"
        self._io = threading.Lock()  # one user of the front end at a time
        self._events: queue.Queue[ReaderEvent] = queue.Queue()
        self._tag: Any = None  # the activated nfc.tag.tt4.Type4BTag, None when not active
        self._atr = b""
        self._present = False
        self._connected = False
        self._session_lost = False  # the connected card was reset or left since connect()
        self._technologies = [TYPE_B_106, TYPE_A_106]  # the kind found last goes first
        self._gone = False
        self._stop = threading.Event()
        self._watcher = threading.Thread(
            target=self._watch, name=f"nfc-presence:{self._path}", daemon=True
        )
        self._watcher.start()

    @property
    def name(self) -> str:
        return self._name

    def wait_for_event(self, timeout: float) -> ReaderEvent | None:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def card_present(self) -> bool:
        return self._present

    def connect(self, *, exclusive: bool = False) -> bytes:
        # `exclusive` needs nothing here: the front end has no other client.
        with self._front_end():
            if self._tag is None and self._present:
                self._set_present(self._find_card(_CONNECT_SENSE_TRIES))
            if self._tag is None:
                raise NoCardError(f"no card on {self._name}")
            self._connected, self._session_lost = True, False
            return self._atr

    def transmit(self, apdu: bytes) -> bytes:
        with self._front_end():
            if not self._connected:
                raise NoCardError("transmit before connect")
            if self._tag is None or self._session_lost:
                raise CardRemovedError("the card left or was reset since connect()")
            try:
                response = self._tag.transceive(bytearray(apdu))
            except (nfc.tag.TagCommandError, nfc.clf.CommunicationError) as exc:
                raise self._after_failed_exchange(exc) from exc
        if response is None or len(response) < 2:
            raise MalformedResponseError(f"response of {len(response or b'')} bytes, no SW")
        return bytes(response)

    def disconnect(self, *, unpower: bool = True) -> None:
        with self._front_end():
            self._connected = self._session_lost = False
            if unpower:
                self._field_off()

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not threading.current_thread():
            self._watcher.join(timeout=_JOIN_TIMEOUT_S)
        with self._io:
            try:
                self._field_off()
            except OSError:
                log.debug("field off failed while closing %s", self._name)
            self._clf.close()

    @contextlib.contextmanager
    def _front_end(self) -> Iterator[None]:
        """Hold the front end; an OS error from it (USB unplugged) means the reader is gone."""
        with self._io:
            try:
                yield
            except MynaError:
                raise
            except OSError as exc:
                raise self._reader_gone(exc) from exc

    # --- under self._io ------------------------------------------------------------------

    def _field_off(self) -> None:
        """Switch the RF field off: the card loses power and every verified state with it."""
        self._tag = None
        self._clf.sense()  # nfcpy's sense first mutes the field; with no targets, only that

    def _find_card(self, senses: int = 1) -> bool:
        """Sense and activate a Type A or Type B card; True when one is active."""
        target = self._sense(senses)
        for _ in range(_ACTIVATION_TRIES):
            if target is None:
                return False
            tag = nfc.tag.activate(self._clf, target)
            if tag is not None:
                self._tag, self._atr = tag, target_atr(target)
                found = str(target.brty)
                self._technologies.sort(key=lambda brty: brty != found)
                return True
            target = self._sense(1)  # ATTRIB has 30 ms: a busy host may miss it; sense anew
        return False

    def _sense(self, iterations: int) -> nfc.clf.RemoteTarget | None:
        targets = [nfc.clf.RemoteTarget(brty) for brty in self._technologies]
        return self._clf.sense(*targets, iterations=iterations, interval=_SENSE_INTERVAL_S)

    def _after_failed_exchange(self, exc: Exception) -> TransportError:
        log.info("exchange with the card failed: %s", exc)
        self._session_lost = True
        self._field_off()
        present = self._find_card()
        self._set_present(present)
        if not present:
            return CardRemovedError("the card left the field during an exchange")
        return _failure_kind(exc)(f"the card did not complete the exchange ({exc}); it was "
                                  "reset, connect again")

    def _set_present(self, present: bool) -> None:
        if present == self._present:
            return
        self._present = present
        if present:
            self._post(ReaderEventKind.CARD_INSERTED, self._atr)
        else:
            self._tag = None
            self._post(ReaderEventKind.CARD_REMOVED)

    def _reader_gone(self, exc: OSError) -> ReaderGoneError:
        self._tag, self._present = None, False
        if not self._gone:  # the watcher and a caller may both run into it: report it once
            self._gone = True
            self._stop.set()
            self._post(ReaderEventKind.READER_DETACHED)
        return ReaderGoneError(f"{self._name} is gone: {exc}")

    def _post(self, kind: ReaderEventKind, atr: bytes = b"") -> None:
        self._events.put(ReaderEvent(kind, self._name, atr))

    # --- the presence thread -------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                with self._front_end():
                    if self._stop.is_set():
                        return
                    wait = self._check_presence()
            except ReaderGoneError as exc:
                log.warning("%s", exc)
                return
            self._stop.wait(wait)

    def _check_presence(self) -> float:
        """One look at the field; returns how long to wait before the next."""
        if self._tag is None:
            self._set_present(self._find_card())
            return self._poll_interval
        # One lost frame is not a lost card: ask again before acting on a silence.
        if not any(self._tag.is_present for _ in range(_PRESENCE_TRIES)):
            # Gone, or not answering: a field reset and a fresh sense settle which.
            self._session_lost = self._connected
            self._field_off()
            self._set_present(self._find_card())
        return self._presence_interval
