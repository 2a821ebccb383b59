"""The `pcsc` backend: one PC/SC reader slot through pcsc-lite, with pyscard's `smartcard.scard`.

Spec strings (parsed in drivers/readers.py): `pcsc` (the first reader) and
`pcsc:<name substring>` (case-insensitive).

Two PC/SC contexts: pcsc-lite holds a context's lock for the whole of SCardGetStatusChange, so
card I/O on the same context would stall behind an event wait in another thread. Reader
attach/detach comes from the special "\\\\?PnP?\\Notification" reader, whose state carries the
reader count in its high word; card events come from the reader's own state, whose high word
counts insertions, so a removal and re-insertion between two waits is still reported.
"""

from __future__ import annotations

import collections
import threading
import time

from smartcard import scard

from myna_reader.drivers.backends.base import Reader, ReaderEvent, ReaderEventKind
from myna_reader.drivers.errors import (
    CardRemovedError,
    CardTimeoutError,
    NoCardError,
    ReaderBusyError,
    ReaderGoneError,
    TransportError,
)

#: pyscard hands PC/SC contexts and card handles out as plain integers.
Handle = int

SPEC_PREFIX = "pcsc"
PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
#: Reader names (substrings) known to pass extended-length APDUs end to end. vpcd forwards
#: APDUs unchanged; real CCID readers stay short-only until checked against a card
#: (docs/card-protocol.md §3.3).
EXTENDED_APDU_READERS = ("Virtual PCD",)

_PROTOCOLS = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
_COUNTER_SHIFT = 16  # high word of a reader state: event counter (readers) / reader count (PnP)
_REMOVAL_SETTLE_S = 1.0  # pcscd polls card presence every 400 ms (vpcd, many CCID readers)

# A reset by another client ends the session as a removal does: the verified state is gone.
_REMOVED = frozenset({scard.SCARD_W_REMOVED_CARD, scard.SCARD_W_RESET_CARD})
_NO_CARD = frozenset({scard.SCARD_E_NO_SMARTCARD})
_READER_GONE = frozenset(
    {
        scard.SCARD_E_READER_UNAVAILABLE,
        scard.SCARD_E_UNKNOWN_READER,
        scard.SCARD_E_NO_READERS_AVAILABLE,
        scard.SCARD_E_NO_SERVICE,
        scard.SCARD_E_SERVICE_STOPPED,
    }
)
_TIMEOUT = frozenset({scard.SCARD_E_TIMEOUT, scard.SCARD_W_UNRESPONSIVE_CARD})
_SHARING = frozenset({scard.SCARD_E_SHARING_VIOLATION})
#: Failures that mean "the exchange broke": the card's presence tells removal from a fault.
_EXCHANGE_BROKEN = frozenset(
    {scard.SCARD_E_NOT_TRANSACTED, scard.SCARD_F_COMM_ERROR, scard.SCARD_W_UNPOWERED_CARD}
)


def _describe(hresult: int, action: str) -> str:
    return f"{action}: {scard.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"


def pcsc_error(hresult: int, action: str) -> TransportError:
    """The typed error for a failed PC/SC call."""
    message = _describe(hresult, action)
    for codes, error in (
        (_REMOVED, CardRemovedError),
        (_NO_CARD, NoCardError),
        (_READER_GONE, ReaderGoneError),
        (_TIMEOUT, CardTimeoutError),
        (_SHARING, ReaderBusyError),
    ):
        if hresult in codes:
            return error(message)
    return TransportError(message)


def _establish_context() -> Handle:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise pcsc_error(hresult, "cannot reach pcscd")
    return int(context)


def _list(context: Handle) -> list[str]:
    hresult, readers = scard.SCardListReaders(context, [])
    if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
        return []
    if hresult != scard.SCARD_S_SUCCESS:
        raise pcsc_error(hresult, "cannot list readers")
    return list(readers)


def list_readers() -> list[str]:
    """The names of every PC/SC reader pcscd knows now (`myna-reader readers`)."""
    context = _establish_context()
    try:
        return _list(context)
    finally:
        scard.SCardReleaseContext(context)


class PcscReader(Reader):
    """One PC/SC reader: the first one, or the first whose name contains `name_filter`.

    The reader need not exist yet: it is reported by READER_ATTACHED when it appears. A card
    already in the reader when events are first awaited is reported as CARD_INSERTED.
    `extended` overrides whether extended APDUs are assumed to pass (default: only for
    readers named in EXTENDED_APDU_READERS).
    """

    def __init__(self, name_filter: str | None = None, *, extended: bool | None = None) -> None:
        self.spec = f"{SPEC_PREFIX}:{name_filter}" if name_filter else SPEC_PREFIX
        self._filter = name_filter or ""
        self._extended = extended
        self._card_ctx = _establish_context()
        self._event_ctx = _establish_context()
        self._card: Handle | None = None
        self._protocol = 0
        self._pending: collections.deque[ReaderEvent] = collections.deque()
        self._reader: str | None = None
        self._state = scard.SCARD_STATE_UNAWARE
        self._card_known_present = False
        self._closed = False
        self._event_lock = threading.Lock()  # held by wait_for_event; close waits for it
        readers = _list(self._card_ctx)
        self._reader_count = len(readers)
        self._adopt(self._match(readers))

    @property
    def name(self) -> str:
        return self._reader or f"(no PC/SC reader matching {self._filter or 'any'!r})"

    # --- events ----------------------------------------------------------------------------

    def wait_for_event(self, timeout: float) -> ReaderEvent | None:
        deadline = time.monotonic() + timeout
        # A state change need not be an event (a first look at an empty reader): wait on.
        with self._event_lock:
            while not self._pending and not self._closed:
                if not self._poll(max(0.0, deadline - time.monotonic())):
                    break
                if time.monotonic() >= deadline:
                    break
            return self._pending.popleft() if self._pending else None

    def _poll(self, timeout: float) -> bool:
        """One status-change wait; False when it timed out or was cancelled."""
        states = [(PNP_NOTIFICATION, self._reader_count << _COUNTER_SHIFT)]
        if self._reader is not None:
            states.append((self._reader, self._state))
        hresult, changed = scard.SCardGetStatusChange(
            self._event_ctx, max(0, int(timeout * 1000)), states
        )
        if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
            return False
        if hresult != scard.SCARD_S_SUCCESS:
            raise pcsc_error(hresult, "waiting for reader events failed")
        for reader, event_state, atr in changed:
            if not event_state & scard.SCARD_STATE_CHANGED:
                continue
            if reader == PNP_NOTIFICATION:
                self._reader_count = event_state >> _COUNTER_SHIFT
                self._on_reader_list(_list(self._event_ctx))
            elif reader == self._reader:
                self._on_reader_state(event_state, bytes(atr))
        return True

    def _on_reader_list(self, readers: list[str]) -> None:
        if self._reader is not None and self._reader not in readers:
            self._detach()
        if self._reader is None:
            found = self._match(readers)
            if found is not None:
                self._adopt(found)
                self._pending.append(ReaderEvent(ReaderEventKind.READER_ATTACHED, found))

    def _on_reader_state(self, event_state: int, atr: bytes) -> None:
        if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_IGNORE):
            self._detach()
            return
        assert self._reader is not None
        present = bool(event_state & scard.SCARD_STATE_PRESENT)
        counter_moved = (
            self._state != scard.SCARD_STATE_UNAWARE
            and (event_state >> _COUNTER_SHIFT) != (self._state >> _COUNTER_SHIFT)
        )
        if self._card_known_present and (not present or counter_moved):
            self._pending.append(ReaderEvent(ReaderEventKind.CARD_REMOVED, self._reader))
            self._card_known_present = False
        if present and not self._card_known_present:
            self._pending.append(ReaderEvent(ReaderEventKind.CARD_INSERTED, self._reader, atr))
            self._card_known_present = True
        self._state = event_state & ~scard.SCARD_STATE_CHANGED

    def _detach(self) -> None:
        gone = self._reader
        assert gone is not None
        if self._card_known_present:
            self._pending.append(ReaderEvent(ReaderEventKind.CARD_REMOVED, gone))
        self._pending.append(ReaderEvent(ReaderEventKind.READER_DETACHED, gone))
        self._card = None  # the handle died with the reader
        self._adopt(None)

    def _match(self, readers: list[str]) -> str | None:
        wanted = self._filter.casefold()
        return next((r for r in readers if wanted in r.casefold()), None)

    def _adopt(self, reader: str | None) -> None:
        self._reader = reader
        self._state = scard.SCARD_STATE_UNAWARE
        self._card_known_present = False
        derived = reader is not None and any(m in reader for m in EXTENDED_APDU_READERS)
        self.supports_extended = derived if self._extended is None else self._extended

    def check_attached(self) -> None:
        if self._reader is None:
            seen = ", ".join(_list(self._card_ctx)) or "none"
            raise ReaderGoneError(f"no PC/SC reader matching {self._filter or 'any'!r} "
                                  f"(readers seen: {seen})")

    def card_present(self) -> bool:
        if self._reader is None:
            return False
        hresult, states = scard.SCardGetStatusChange(
            self._card_ctx, 0, [(self._reader, scard.SCARD_STATE_UNAWARE)]
        )
        if hresult != scard.SCARD_S_SUCCESS:
            raise pcsc_error(hresult, f"cannot read the state of {self._reader}")
        event_state = states[0][1]
        if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_IGNORE):
            return False
        return bool(event_state & scard.SCARD_STATE_PRESENT)

    # --- card session ----------------------------------------------------------------------

    def connect(self, *, exclusive: bool = False) -> bytes:
        """Power the card; on an open session, change the share mode keeping the card's state."""
        if self._reader is None:
            raise ReaderGoneError(f"no PC/SC reader matching {self._filter or 'any'!r}")
        share = scard.SCARD_SHARE_EXCLUSIVE if exclusive else scard.SCARD_SHARE_SHARED
        if self._card is None:
            hresult, card, protocol = scard.SCardConnect(
                self._card_ctx, self._reader, share, _PROTOCOLS
            )
            if hresult != scard.SCARD_S_SUCCESS:
                raise self._exchange_error(hresult, f"cannot connect to the card in {self._reader}")
            self._card = card
        else:
            # SCardReconnect with LEAVE_CARD switches share mode without a reset: a verified
            # PIN survives the switch to exclusive.
            hresult, protocol = scard.SCardReconnect(
                self._card, share, _PROTOCOLS, scard.SCARD_LEAVE_CARD
            )
            if hresult != scard.SCARD_S_SUCCESS:
                raise self._exchange_error(hresult, "cannot change the card's share mode")
        self._protocol = protocol
        hresult, _reader, _state, _protocol, atr = scard.SCardStatus(self._card)
        if hresult != scard.SCARD_S_SUCCESS:
            raise self._exchange_error(hresult, "cannot read the card's ATR")
        return bytes(atr)

    def transmit(self, apdu: bytes) -> bytes:
        if self._card is None:
            raise NoCardError("no card session: connect() first")
        hresult, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        if hresult == scard.SCARD_S_SUCCESS and len(response) < 2:
            # vpcd reports a card that left mid-exchange as success with no bytes at all
            hresult = scard.SCARD_E_NOT_TRANSACTED
        if hresult != scard.SCARD_S_SUCCESS:
            raise self._exchange_error(hresult, "APDU exchange failed")
        return bytes(response)

    def disconnect(self, *, unpower: bool = True) -> None:
        card, self._card = self._card, None
        if card is None:
            return
        disposition = scard.SCARD_UNPOWER_CARD if unpower else scard.SCARD_LEAVE_CARD
        hresult = scard.SCardDisconnect(card, disposition)
        # A card that already left is unpowered: nothing more to release.
        if hresult not in (scard.SCARD_S_SUCCESS, *_REMOVED, *_NO_CARD, *_READER_GONE):
            raise pcsc_error(hresult, "cannot end the card session")

    def close(self) -> None:
        """Release everything; an event wait in another thread returns None."""
        if self._closed:
            return
        self._closed = True
        try:
            self.disconnect(unpower=True)
        finally:
            # Cancel until the waiter is out: a cancel that lands just before its next
            # SCardGetStatusChange would otherwise be lost.
            while not self._event_lock.acquire(timeout=0.05):
                scard.SCardCancel(self._event_ctx)
            try:
                scard.SCardReleaseContext(self._event_ctx)
            finally:
                self._event_lock.release()
            scard.SCardReleaseContext(self._card_ctx)

    def _exchange_error(self, hresult: int, action: str) -> TransportError:
        """Like `pcsc_error`, but a broken exchange with the card gone is a removal."""
        if hresult in _EXCHANGE_BROKEN and self._card_left():
            return CardRemovedError(f"{action}: the card left the reader")
        return pcsc_error(hresult, action)

    def _card_left(self) -> bool:
        """After a broken exchange: whether the card left the reader.

        pcscd learns of a removal on its next presence poll, so this waits up to
        _REMOVAL_SETTLE_S for the reader's state to say so (on the error path only).
        """
        if self._reader is None:
            return True
        deadline = time.monotonic() + _REMOVAL_SETTLE_S
        known = scard.SCARD_STATE_UNAWARE
        counter: int | None = None
        while True:
            remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
            hresult, states = scard.SCardGetStatusChange(
                self._card_ctx, 0 if counter is None else remaining_ms, [(self._reader, known)]
            )
            if hresult == scard.SCARD_E_TIMEOUT:
                return False
            if hresult != scard.SCARD_S_SUCCESS:
                return True  # the reader itself went: so did the card
            state = states[0][1]
            if counter is None:
                counter = state >> _COUNTER_SHIFT
            if not state & scard.SCARD_STATE_PRESENT or state >> _COUNTER_SHIFT != counter:
                return True
            if remaining_ms == 0:
                return False
            known = state & ~scard.SCARD_STATE_CHANGED
