"""Immutable command and response APDUs (ISO/IEC 7816-4 cases 1-4, short and extended).

`Command.ne` is the number of expected response bytes (Ne), not the encoded Le byte:
`None` means no Le field, 256 is short Le `00`, 65536 is extended Le `00 00`.
"""

from __future__ import annotations

from dataclasses import dataclass

from myna_reader.drivers.errors import ApduEncodingError, MalformedResponseError

SHORT_NC_MAX = 255
SHORT_NE_MAX = 256
EXTENDED_NC_MAX = 65535
EXTENDED_NE_MAX = 65536


@dataclass(frozen=True, slots=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None
    extended: bool = False  # force extended length even where short would do

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ApduEncodingError(f"{name} {value} is not a byte")
        if len(self.data) > EXTENDED_NC_MAX:
            raise ApduEncodingError(f"command data of {len(self.data)} bytes exceeds 65535")
        if self.ne is not None and not 1 <= self.ne <= EXTENDED_NE_MAX:
            raise ApduEncodingError(f"Ne {self.ne} is outside 1..65536")

    # --- ISO cases ---------------------------------------------------------------------------

    @classmethod
    def case1(cls, cla: int, ins: int, p1: int, p2: int) -> Command:
        return cls(cla, ins, p1, p2)

    @classmethod
    def case2(cls, cla: int, ins: int, p1: int, p2: int, ne: int) -> Command:
        return cls(cla, ins, p1, p2, ne=ne)

    @classmethod
    def case3(cls, cla: int, ins: int, p1: int, p2: int, data: bytes) -> Command:
        if not data:
            raise ApduEncodingError("case 3 needs command data")
        return cls(cla, ins, p1, p2, data=bytes(data))

    @classmethod
    def case4(cls, cla: int, ins: int, p1: int, p2: int, data: bytes, ne: int) -> Command:
        if not data:
            raise ApduEncodingError("case 4 needs command data")
        return cls(cla, ins, p1, p2, data=bytes(data), ne=ne)

    @property
    def is_extended(self) -> bool:
        return (
            self.extended
            or len(self.data) > SHORT_NC_MAX
            or (self.ne is not None and self.ne > SHORT_NE_MAX)
        )

    def with_ne(self, ne: int) -> Command:
        """The same command asking for `ne` bytes (the 6Cxx re-send)."""
        return Command(self.cla, self.ins, self.p1, self.p2, self.data, ne, self.extended)

    def to_bytes(self) -> bytes:
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        ext = self.is_extended
        if self.data:
            nc = len(self.data)
            out += (b"\x00" + nc.to_bytes(2, "big")) if ext else bytes((nc,))
            out += self.data
        if self.ne is not None:
            if ext:
                le = self.ne & 0xFFFF  # 65536 encodes as 0000
                out += le.to_bytes(2, "big") if self.data else b"\x00" + le.to_bytes(2, "big")
            else:
                out.append(self.ne & 0xFF)  # 256 encodes as 00
        return bytes(out)

    @classmethod
    def parse(cls, raw: bytes) -> Command:
        """Decode a command APDU (the card side of the conversation)."""
        if len(raw) < 4:
            raise ApduEncodingError(f"command APDU of {len(raw)} bytes has no full header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, ne=body[0] or 256)
        if body[0] != 0:  # short with Lc
            nc = body[0]
            if len(body) == 1 + nc:
                return cls(cla, ins, p1, p2, data=bytes(body[1:]))
            if len(body) == 2 + nc:
                return cls(cla, ins, p1, p2, data=bytes(body[1 : 1 + nc]), ne=body[-1] or 256)
            raise ApduEncodingError(f"short Lc {nc} does not match a body of {len(body)} bytes")
        if len(body) == 3:  # case 2E
            return cls(cla, ins, p1, p2, ne=int.from_bytes(body[1:3], "big") or 65536,
                       extended=True)
        nc = int.from_bytes(body[1:3], "big")
        if nc == 0:
            raise ApduEncodingError("extended Lc of 0")
        rest = body[3:]
        if len(rest) == nc:
            return cls(cla, ins, p1, p2, data=bytes(rest), extended=True)
        if len(rest) == nc + 2:
            return cls(cla, ins, p1, p2, data=bytes(rest[:nc]),
                       ne=int.from_bytes(rest[nc:], "big") or 65536, extended=True)
        raise ApduEncodingError(f"extended Lc {nc} does not match a body of {len(body)} bytes")

    def __str__(self) -> str:
        return self.to_bytes().hex(" ").upper()


@dataclass(frozen=True, slots=True)
class Response:
    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise MalformedResponseError(
                f"response of {len(raw)} byte(s) has no status word: {raw.hex()}")
        return cls(bytes(raw[:-2]), raw[-2], raw[-1])

    def to_bytes(self) -> bytes:
        return self.data + bytes((self.sw1, self.sw2))
