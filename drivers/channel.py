"""The template method around a backend's `transmit`: observers, timing, 61xx/6Cxx, status words.

Every backend only moves bytes; everything every backend would otherwise repeat lives here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from myna_reader.drivers.apdu import Command, Response
from myna_reader.drivers.backends.base import Reader
from myna_reader.drivers.errors import MalformedResponseError
from myna_reader.drivers.status import check

log = logging.getLogger(__name__)

INS_VERIFY = 0x20
INS_CHANGE_REFERENCE_DATA = 0x24
INS_CHANGE_KEY = 0x32  # JICSAP CHANGE KEY, CLA 80 (共通AP / 住基AP)
INS_GET_RESPONSE = 0xC0
_SECRET_INS = frozenset({INS_VERIFY, INS_CHANGE_REFERENCE_DATA, INS_CHANGE_KEY})
_MAX_GET_RESPONSE = 64  # a card that keeps answering 61xx forever is broken, not slow


@dataclass(frozen=True, slots=True)
class Exchange:
    """One APDU on the wire, as observers see it."""

    command: bytes
    response: bytes
    seconds: float


Observer = Callable[[Exchange], None]


def carries_secret(apdu: bytes) -> bool:
    """Whether the command's data field is a PIN or password (VERIFY, CHANGE)."""
    return len(apdu) > 5 and apdu[1] in _SECRET_INS


def split_secret(apdu: bytes) -> tuple[bytes, int, bytes] | None:
    """(header up to Lc, secret length, what follows) of a VERIFY/CHANGE; None for others."""
    if not carries_secret(apdu):
        return None
    lc = apdu[4]
    return apdu[:5], lc, apdu[5 + lc :]


def mask_command(apdu: bytes) -> bytes:
    """The command with a secret data field replaced by 'X' bytes of the same length."""
    parts = split_secret(apdu)
    if parts is None:
        return apdu
    head, secret_length, tail = parts
    return head + b"X" * secret_length + tail


def format_masked(apdu: bytes) -> str:
    """Hex of a command with VERIFY/CHANGE data shown as XX (as jpki/myna's trace does)."""
    parts = split_secret(apdu)
    if parts is None:
        return apdu.hex(" ").upper()
    head, secret_length, tail = parts
    return " ".join([head.hex(" ").upper(), *(["XX"] * secret_length), tail.hex(" ").upper()]
                    ).strip()


def trace_to_log(exchange: Exchange) -> None:
    """An observer that logs every APDU at DEBUG: commands with secrets masked, responses as
    length and status word only (their data may be a name, an address or a photo; the
    recorder keeps whole responses, scrubbed)."""
    if not log.isEnabledFor(logging.DEBUG):
        return  # the daemon runs at info: no hex to format for every APDU
    response = exchange.response
    log.debug("> %s", format_masked(exchange.command))
    log.debug("< %d bytes, SW %s (%.1f ms)", max(len(response) - 2, 0),
              response[-2:].hex().upper(), exchange.seconds * 1e3)


class CardChannel:
    """APDU-level access to the card in one reader."""

    def __init__(self, reader: Reader, observers: tuple[Observer, ...] = ()) -> None:
        self.reader = reader
        self._observers = observers  # fixed for the channel's life
        self.apdu_count = 0

    def _wire(self, raw: bytes) -> Response:
        start = time.perf_counter()
        answer = self.reader.transmit(raw)
        seconds = time.perf_counter() - start
        self.apdu_count += 1
        for observer in self._observers:
            observer(Exchange(raw, answer, seconds))
        return Response.parse(answer)

    def send(self, command: Command) -> Response:
        """Transmit, following 6Cxx (re-send with the right Le) and 61xx (GET RESPONSE).

        The returned response may carry any final status word; `exchange` checks it.
        """
        response = self._wire(command.to_bytes())
        if response.sw1 == 0x6C and command.ne is not None:
            response = self._wire(command.with_ne(response.sw2 or 256).to_bytes())
        data = bytearray()
        for _ in range(_MAX_GET_RESPONSE):
            if response.sw1 != 0x61:
                return Response(bytes(data) + response.data, response.sw1, response.sw2)
            data += response.data
            get = Command.case2(0x00, INS_GET_RESPONSE, 0x00, 0x00, response.sw2 or 256)
            response = self._wire(get.to_bytes())
        raise MalformedResponseError("card kept answering 61xx after 64 GET RESPONSE commands")

    def exchange(self, command: Command) -> Response:
        """Transmit and raise the typed error of any status word other than 9000."""
        return check(self.send(command))
