"""BER-TLV and JICSAP simple-TLV: parse and encode, pure, no I/O.

Two encodings live on the My Number card (docs/card-protocol.md §10.1): transparent EFs hold BER-TLV
(X.509 certificates, the private-class `FFxx`/`DFxx` records of the text AP and the 券面AP),
record EFs hold JICSAP simple-TLV (1-byte tag, 1-byte length, `FF` escaping a 2-byte length).

A tag is kept as the integer of its raw bytes (`0x30`, `0xDF22`, `0xFF20`, `0x7F21`), as every
anchor implementation writes it. Children of a constructed TLV are parsed on demand
(`Tlv.children()`): the card marks some primitive contents with a constructed tag (`FF10` holds
12 ASCII digits in text AP EF 0001), so the tag bit alone cannot decide whether to recurse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from myna_reader.drivers.errors import TlvError

_CONSTRUCTED_BIT = 0x20
_MULTI_BYTE_TAG = 0x1F
_MAX_TAG_BYTES = 4
_MAX_LENGTH_OCTETS = 4
#: The longest BER header this module reads: a 4-byte tag and a 5-byte length field.
MAX_HEADER_SIZE = _MAX_TAG_BYTES + 1 + _MAX_LENGTH_OCTETS
#: Bytes that pad a file after its object (docs/card-protocol.md §3.2).
FILLER_BYTES = frozenset({0x00, 0xFF})

_SIMPLE_LONG_LENGTH = 0xFF
_SIMPLE_MAX_LENGTH = 0xFFFF


# --- BER-TLV ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    """A BER header: the tag, the header's own size and the value's length."""

    tag: int
    header_size: int
    length: int

    @property
    def total_size(self) -> int:
        return self.header_size + self.length


@dataclass(frozen=True, slots=True)
class Tlv:
    """One BER-TLV object. `value` is always the raw content bytes."""

    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def children(self) -> tuple[Tlv, ...]:
        """The TLVs inside the value; TlvError if the value is not a TLV sequence."""
        return decode_ber(self.value)

    def find(self, tag: int) -> Tlv | None:
        """The first child with `tag`, or None."""
        return find(self.children(), tag)

    def require(self, tag: int) -> Tlv:
        """The first child with `tag`; TlvError names the tag when it is missing."""
        return require(self.children(), tag)

    def encode(self, *, card_lengths: bool = False) -> bytes:
        """The TLV's bytes; `card_lengths` writes every long length as the card does."""
        return encode_tag(self.tag) + encode_length(len(self.value), card_lengths) + self.value

    @classmethod
    def of(cls, tag: int, children: Iterable[Tlv], *, card_lengths: bool = False) -> Tlv:
        """A constructed TLV holding `children`, in order."""
        return cls(tag, b"".join(child.encode(card_lengths=card_lengths) for child in children))


def is_constructed(tag: int) -> bool:
    """Whether the constructed bit is set in the first byte of `tag` (kept as an integer)."""
    first = tag >> (8 * ((tag.bit_length() - 1) // 8)) if tag else 0
    return bool(first & _CONSTRUCTED_BIT)


def _read_tag(data: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(data):
        raise TlvError(f"truncated TLV: no tag at offset {offset}")
    first = data[offset]
    tag, pos = first, offset + 1
    if first & _MULTI_BYTE_TAG == _MULTI_BYTE_TAG:
        while True:
            if pos >= len(data):
                raise TlvError(f"truncated TLV: multi-byte tag at offset {offset} is cut off")
            byte = data[pos]
            tag, pos = (tag << 8) | byte, pos + 1
            if not byte & 0x80:
                break
            if pos - offset >= _MAX_TAG_BYTES:
                raise TlvError(f"tag at offset {offset} is longer than {_MAX_TAG_BYTES} bytes")
    return tag, pos


def _read_length(data: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(data):
        raise TlvError(f"truncated TLV: no length at offset {offset}")
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    octets = first & 0x7F
    if octets == 0:
        raise TlvError(f"indefinite length at offset {offset} is not allowed here")
    if octets > _MAX_LENGTH_OCTETS:
        raise TlvError(f"length field at offset {offset} has {octets} octets")
    end = offset + 1 + octets
    if end > len(data):
        raise TlvError(f"truncated TLV: long-form length at offset {offset} is cut off")
    return int.from_bytes(data[offset + 1 : end], "big"), end


def read_header(data: bytes, offset: int = 0) -> Header:
    """The header at `offset`; TlvError if `data` ends inside it."""
    tag, pos = _read_tag(data, offset)
    length, pos = _read_length(data, pos)
    return Header(tag, pos - offset, length)


def total_length(prefix: bytes) -> int:
    """Size of the whole object whose header starts `prefix` (the READ BINARY length probe).

    `30 82 05 23 …` -> 1319. Only the header has to be present.
    """
    return read_header(prefix).total_size


def decode_ber(data: bytes) -> tuple[Tlv, ...]:
    """Every TLV in `data`, which must hold whole objects and nothing else."""
    items: list[Tlv] = []
    offset = 0
    while offset < len(data):
        header = read_header(data, offset)
        start = offset + header.header_size
        end = start + header.length
        if end > len(data):
            raise TlvError(
                f"tag {header.tag:X} at offset {offset} claims {header.length} bytes, "
                f"only {len(data) - start} follow"
            )
        items.append(Tlv(header.tag, bytes(data[start:end])))
        offset = end
    return tuple(items)


def raw_objects(data: bytes) -> tuple[bytes, ...]:
    """Each TLV in `data` as written (header included), for signatures over the card's bytes:
    re-encoding a decoded TLV may choose another length form than the card did."""
    objects: list[bytes] = []
    offset = 0
    for item in decode_ber(data):
        size = read_header(data, offset).header_size + len(item.value)
        objects.append(bytes(data[offset : offset + size]))
        offset += size
    return tuple(objects)


def decode_ber_object(data: bytes) -> Tlv:
    """The one object a file holds; trailing `FF`/`00` filler is allowed, anything else is not."""
    header = read_header(data)
    end = header.total_size
    if end > len(data):
        raise TlvError(f"tag {header.tag:X} claims {header.length} bytes, "
                       f"only {len(data) - header.header_size} follow")
    if any(byte not in FILLER_BYTES for byte in data[end:]):
        raise TlvError(f"unexpected bytes after the object at offset {end}")
    return Tlv(header.tag, bytes(data[header.header_size : end]))


def find(items: Iterable[Tlv], tag: int) -> Tlv | None:
    return next((item for item in items if item.tag == tag), None)


def require(items: Iterable[Tlv], tag: int) -> Tlv:
    found = find(items, tag)
    if found is None:
        raise TlvError(f"tag {tag:X} is missing")
    return found


def encode_tag(tag: int) -> bytes:
    if tag < 0:
        raise TlvError(f"tag {tag} is negative")
    raw = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    if len(raw) > _MAX_TAG_BYTES:
        raise TlvError(f"tag {tag:X} is longer than {_MAX_TAG_BYTES} bytes")
    try:
        parsed = _read_tag(raw, 0)
    except TlvError:
        parsed = None
    if parsed != (tag, len(raw)):
        raise TlvError(f"{tag:X} is not a well-formed BER tag")
    return raw


def encode_length(length: int, card_lengths: bool = False) -> bytes:
    """The shortest (DER) length field; with `card_lengths`, a length of 128 or more takes two
    octets, `82 hh ll`, even below 256, as the card writes its records (`FF 40 82 00 9F` in
    text AP EF 0005, docs/card-protocol.md)."""
    if length < 0:
        raise TlvError(f"length {length} is negative")
    if length < 0x80:
        return bytes((length,))
    octets = (length.bit_length() + 7) // 8
    raw = length.to_bytes(max(octets, 2) if card_lengths else octets, "big")
    if len(raw) > _MAX_LENGTH_OCTETS:
        raise TlvError(f"length {length} needs more than {_MAX_LENGTH_OCTETS} octets")
    return bytes((0x80 | len(raw),)) + raw


# --- JICSAP simple-TLV --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimpleTlv:
    """One simple-TLV record: a 1-byte tag and its value."""

    tag: int
    value: bytes

    def encode(self) -> bytes:
        if not 0 <= self.tag <= 0xFF:
            raise TlvError(f"simple-TLV tag {self.tag} is not a byte")
        size = len(self.value)
        if size < _SIMPLE_LONG_LENGTH:
            return bytes((self.tag, size)) + self.value
        if size > _SIMPLE_MAX_LENGTH:
            raise TlvError(f"simple-TLV value of {size} bytes exceeds {_SIMPLE_MAX_LENGTH}")
        return bytes((self.tag, _SIMPLE_LONG_LENGTH)) + size.to_bytes(2, "big") + self.value


def decode_simple(data: bytes) -> tuple[SimpleTlv, ...]:
    """Every simple-TLV in `data`, which must hold whole records and nothing else."""
    items: list[SimpleTlv] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise TlvError(f"truncated simple-TLV header at offset {offset}")
        tag, length = data[offset], data[offset + 1]
        start = offset + 2
        if length == _SIMPLE_LONG_LENGTH:
            if start + 2 > len(data):
                raise TlvError(f"truncated simple-TLV 3-byte length at offset {offset}")
            length = int.from_bytes(data[start : start + 2], "big")
            start += 2
        end = start + length
        if end > len(data):
            raise TlvError(f"simple-TLV tag {tag:02X} at offset {offset} claims {length} bytes, "
                           f"only {len(data) - start} follow")
        items.append(SimpleTlv(tag, bytes(data[start:end])))
        offset = end
    return tuple(items)
