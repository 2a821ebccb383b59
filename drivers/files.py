"""Selection state and READ BINARY for one power session: the fewest round trips.

`CardFiles` remembers which AP and EF the card has selected, so a repeated SELECT of the same
thing is not sent, caches immutable files (certificates, token info) and remembers which retry
counters were read, until `forget()`.
All card traffic must go through it for that memory to be true; a power cycle, a reset, or
any transport error forgets everything, because the card's own state is then unknown.

Reading a BER object (docs/card-protocol.md §3.2):
- short APDUs: the first READ BINARY asks for 256 bytes (Le `00`) and doubles as the length
  probe (`30 82 LL LL`); the rest follows in chunks of at most 256 bytes at offset P1P2, so a
  certificate of L bytes costs ceil(L / 256) READs;
- a reader with `supports_extended`: one READ with Ne = 65536 (`00 B0 00 00 00 00 00`), trimmed
  to the BER length. A card that answers 6700 to it drops this session back to short reads.
Either way a short read (fewer bytes than asked) continues from the new offset, `6282` and
`6B00` mark the end of the file, and filler after the object is not kept.
"""

from __future__ import annotations

from collections.abc import Callable

from myna_reader.drivers import tlv
from myna_reader.drivers.apdu import EXTENDED_NE_MAX, SHORT_NE_MAX, Command, Response
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.errors import TlvError, TransportError
from myna_reader.drivers.status import check

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
P1_SELECT_DF_NAME = 0x04
P1_SELECT_EF_UNDER_DF = 0x02
P2_NO_RESPONSE_DATA = 0x0C
SW_END_OF_FILE_WARNING = 0x6282  # data returned, but the file ended before Le bytes
SW_OFFSET_BEYOND_FILE = 0x6B00
SW_WRONG_LENGTH = 0x6700
MAX_OFFSET = 0x7FFF  # READ BINARY P1P2 is a 15-bit offset when bit 8 of P1 is clear

CacheKey = tuple[bytes, int, int | None]
FileRead = Callable[[], bytes]


def select_aid_command(aid: bytes) -> Command:
    return Command.case3(0x00, INS_SELECT, P1_SELECT_DF_NAME, P2_NO_RESPONSE_DATA, aid)


def select_ef_command(fid: int) -> Command:
    return Command.case3(0x00, INS_SELECT, P1_SELECT_EF_UNDER_DF, P2_NO_RESPONSE_DATA,
                         fid.to_bytes(2, "big"))


def read_binary_command(offset: int, ne: int) -> Command:
    if not 0 <= offset <= MAX_OFFSET:
        raise TlvError(f"offset {offset} is beyond READ BINARY's 15-bit range")
    return Command.case2(0x00, INS_READ_BINARY, offset >> 8, offset & 0xFF, ne)


class CardFiles:
    """The selected AP/EF, file reads and the per-session cache, over one channel."""

    def __init__(self, channel: CardChannel) -> None:
        self.channel = channel
        self._aid: bytes | None = None
        self._fid: int | None = None
        self._extended = channel.reader.supports_extended
        self._cache: dict[CacheKey, bytes] = {}
        #: (AID, key EF) whose retry counter was read this power session (see pin.py).
        self.counters_read: set[tuple[bytes, int]] = set()

    def forget(self) -> None:
        """Forget the selection and the cache (power cycle, reset, another card)."""
        self._aid = None
        self._fid = None
        self._extended = self.channel.reader.supports_extended
        self._cache.clear()
        self.counters_read.clear()

    # --- exchanges ------------------------------------------------------------------------------

    def send(self, command: Command) -> Response:
        """Transmit (status word not checked); a transport error forgets the session."""
        try:
            return self.channel.send(command)
        except TransportError:
            self.forget()
            raise

    def exchange(self, command: Command) -> Response:
        """Transmit and raise the typed error of any status word but 9000."""
        return check(self.send(command))

    # --- selection ------------------------------------------------------------------------------

    def select_application(self, aid: bytes) -> None:
        if self._aid == aid:
            return
        self._aid = None  # unknown until the card says 9000
        self._fid = None
        self.exchange(select_aid_command(aid))
        self._aid = aid

    def select_file(self, fid: int) -> None:
        """Select an EF under the current AP (select the AP first)."""
        if self._aid is None:
            raise RuntimeError("select an application before an EF")
        if self._fid == fid:
            return
        self._fid = None
        self.exchange(select_ef_command(fid))
        self._fid = fid

    def select(self, aid: bytes, fid: int) -> None:
        """Select AP `aid`, then its EF `fid` (each only if not already selected)."""
        self.select_application(aid)
        self.select_file(fid)

    # --- reads ----------------------------------------------------------------------------------

    def read_object(self, aid: bytes, fid: int, *, cache: bool = False) -> bytes:
        """The BER object EF `fid` of AP `aid` holds, trimmed to its length (filler dropped)."""
        return self._cached(aid, fid, None, cache, self._read_object)

    def read_file(self, aid: bytes, fid: int) -> bytes:
        """Everything EF `fid` of AP `aid` holds, filler included, up to the end of the file
        (what the text AP's integrity record takes the digest of EF 0001 over)."""
        return self._cached(aid, fid, None, False, self._read_to_end)

    def read_prefix(self, aid: bytes, fid: int, size: int, *, cache: bool = False) -> bytes:
        """The first `size` bytes of EF `fid` of AP `aid` (fewer only if the file is shorter)."""
        return self._cached(aid, fid, size, cache, lambda: self._read_up_to(size))

    def _cached(self, aid: bytes, fid: int, size: int | None, cache: bool,
                read: FileRead) -> bytes:
        key = (aid, fid, size)
        if cache and key in self._cache:
            return self._cache[key]  # no SELECT either: the card's selection is left as it is
        self.select(aid, fid)
        data = read()
        if cache:
            self._cache[key] = data
        return data

    def _read_chunk(self, offset: int, ne: int) -> tuple[bytes, bool]:
        """Up to `ne` bytes at `offset`, and whether the card signalled the end of the file."""
        response = self.send(read_binary_command(offset, ne))
        if response.sw == SW_WRONG_LENGTH and ne > SHORT_NE_MAX:
            self._extended = False  # the reader passes extended APDUs, this card refuses them
            return self._read_chunk(offset, SHORT_NE_MAX)
        if response.sw == SW_END_OF_FILE_WARNING:
            return response.data, True
        if response.sw == SW_OFFSET_BEYOND_FILE:
            return b"", True
        check(response)
        return response.data, not response.data

    def _max_ne(self) -> int:
        return EXTENDED_NE_MAX if self._extended else SHORT_NE_MAX

    def _read_up_to(self, size: int) -> bytes:
        data = bytearray()
        end_of_file = False
        while len(data) < size and not end_of_file:
            chunk, end_of_file = self._read_chunk(len(data), min(self._max_ne(), size - len(data)))
            data += chunk
        return bytes(data[:size])

    def _read_to_end(self) -> bytes:
        data = bytearray()
        end_of_file = False
        while not end_of_file and len(data) <= MAX_OFFSET:
            chunk, end_of_file = self._read_chunk(len(data), self._max_ne())
            data += chunk
        return bytes(data)

    def _read_object(self) -> bytes:
        data = bytearray()
        end_of_file = False
        total: int | None = None
        while total is None or len(data) < total:
            if end_of_file:
                if total is None:
                    raise TlvError(f"the file ends inside the BER header ({len(data)} bytes)")
                raise TlvError(f"BER length {total} runs beyond the end of the file "
                               f"({len(data)} bytes)")
            want = self._max_ne() if total is None else min(self._max_ne(), total - len(data))
            chunk, end_of_file = self._read_chunk(len(data), want)
            data += chunk
            if total is None:
                total = self._probe_length(bytes(data), end_of_file)
        return bytes(data[:total])

    @staticmethod
    def _probe_length(prefix: bytes, end_of_file: bool) -> int | None:
        """The object's total length, or None if the header is not all here yet."""
        try:
            return tlv.total_length(prefix)
        except TlvError:
            if end_of_file or len(prefix) >= tlv.MAX_HEADER_SIZE:
                raise
            return None
