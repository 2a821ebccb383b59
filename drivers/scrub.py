"""Scrub personal data out of card files before a recording is written.

Every value that could identify the holder is replaced by a synthetic value of the same
length and structure, so a scrubbed transcript still drives the same reads (lengths, BER
headers and file sizes do not change). What counts as personal, per file:

- JPKI 000A / 0001 (auth / sign certificates): every string in the subject and in the
  subjectAltName (the sign certificate carries the 4 basic attributes there);
- text AP 0001 (個人番号), 0002 (name, address, birth date, sex), 0003 (their digests);
- 券面AP 0001 (birth record), 0002 (birth date, sex, name/address/photo/security-code
  images), 0005 (個人番号 image).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping

from myna_reader.drivers import records, tlv
from myna_reader.drivers.errors import TlvError
from myna_reader.drivers.mynumber_ids import (
    JPKI_AID,
    TEXT_AID,
    VISUAL_AID,
    JpkiEF,
    TextEF,
    VisualEF,
)

SYNTHETIC_MY_NUMBER = "000000000000"  # 12 digits, check digit valid, obviously not real
SYNTHETIC_DATE = b"19700101"
_SAN_OID = bytes.fromhex("551D11")  # 2.5.29.17 subjectAltName
_OID = 0x06
_BMP_STRING = 0x1E
_JP2_MAGIC = bytes.fromhex("0000000C6A5020200D0A870A")
_PNG_MAGIC = bytes.fromhex("89504E470D0A1A0A")


def _is_filler(data: bytes, pos: int, end: int) -> bool:
    """FF FF ... or 00 after the records; a lone FF that starts a tag (FF10, FF20) is not."""
    return data[pos] == 0x00 or (data[pos] == 0xFF and (pos + 1 >= end or data[pos + 1] == 0xFF))


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(tag, value start, value end) of each TLV laid out between start and end."""
    pos = start
    while pos < end and not _is_filler(data, pos, end):
        header = tlv.read_header(data, pos)
        value = pos + header.header_size
        if value + header.length > end:
            raise TlvError(f"TLV at offset {pos} runs past its parent")
        yield header.tag, value, value + header.length
        pos = value + header.length


def _leaves(data: bytes, start: int, end: int,
            stop: Collection[int] = ()) -> Iterator[tuple[int, int, int]]:
    """Every primitive TLV under [start, end), depth first; tags in `stop` count as leaves
    (FF10 has the constructed bit but holds the 12 digits themselves)."""
    for tag, vstart, vend in _children(data, start, end):
        if tlv.is_constructed(tag) and tag not in stop:
            yield from _leaves(data, vstart, vend, stop)
        else:
            yield tag, vstart, vend


def _fill_strings(out: bytearray, start: int, end: int) -> None:
    """Overwrite every string leaf (not OIDs) with 'X' of the same byte length."""
    for tag, vstart, vend in _leaves(bytes(out), start, end):
        if tag == _OID:
            continue
        if tag == _BMP_STRING:
            out[vstart:vend] = b"\x00X" * ((vend - vstart) // 2) + b"X" * ((vend - vstart) % 2)
        else:
            out[vstart:vend] = b"X" * (vend - vstart)


def _certificate(data: bytes) -> bytes:
    out = bytearray(data)
    (_, cstart, cend), *_ = _children(data, 0, len(data))
    (_, tstart, tend), *_ = _children(data, cstart, cend)
    fields = list(_children(data, tstart, tend))
    offset = 1 if fields and fields[0][0] == 0xA0 else 0  # explicit version [0]
    _, sstart, send = fields[offset + 4]  # serial, signature, issuer, validity, subject
    _fill_strings(out, sstart, send)
    for tag, estart, eend in fields[offset + 6 :]:
        if tag != 0xA3:  # extensions [3]
            continue
        (_, lstart, lend), *_ = _children(data, estart, eend)
        for _, xstart, xend in _children(data, lstart, lend):
            parts = list(_children(data, xstart, xend))
            if data[parts[0][1] : parts[0][2]] == _SAN_OID:
                _, vstart, vend = parts[-1]
                _fill_strings(out, vstart, vend)
    return bytes(out)


def _replace_values(data: bytes, fills: Mapping[int, Callable[[int], bytes]]) -> bytes:
    """Replace the values of the given tags inside the file's outer record(s)."""
    out = bytearray(data)
    for tag, vstart, vend in _leaves(data, 0, len(data), fills.keys()):
        fill = fills.get(tag)
        if fill is not None:
            out[vstart:vend] = fill(vend - vstart)
    return bytes(out)


def _text(n: int) -> bytes:
    # name / address: a same-length UTF-8 string of full-width Ｘ (3 bytes) and ASCII X
    return "Ｘ".encode() * (n // 3) + b"X" * (n % 3)


def _date(n: int) -> bytes:
    return SYNTHETIC_DATE[:n].ljust(n, b"0")


def _sex(n: int) -> bytes:
    return b"9" * n


def _zeros(n: int) -> bytes:
    return bytes(n)


def _image(magic: bytes) -> Callable[[int], bytes]:
    return lambda n: (magic + bytes(n))[:n]


def _my_number(n: int) -> bytes:
    return SYNTHETIC_MY_NUMBER.encode("ascii")[:n].ljust(n, b"0")


_TEXT_RECORD = {records.TAG_NAME: _text, records.TAG_ADDRESS: _text,
                records.TAG_BIRTH: _date, records.TAG_SEX: _sex}
_FACE_RECORD = {records.TAG_FACE_BIRTH: _date, records.TAG_FACE_SEX: _sex,
                records.TAG_FACE_NAME_IMAGE: _image(_PNG_MAGIC),
                records.TAG_FACE_ADDRESS_IMAGE: _image(_PNG_MAGIC),
                records.TAG_FACE_PHOTO: _image(_JP2_MAGIC),
                records.TAG_FACE_SECURITY_CODE_IMAGE: _image(_PNG_MAGIC)}

_SCRUBBERS: dict[tuple[bytes, int], Callable[[bytes], bytes]] = {
    (JPKI_AID, JpkiEF.AUTH_CERT): _certificate,
    (JPKI_AID, JpkiEF.SIGN_CERT): _certificate,
    (TEXT_AID, TextEF.MY_NUMBER): lambda d: _replace_values(d, {records.TAG_MY_NUMBER: _my_number}),
    (TEXT_AID, TextEF.ATTRIBUTES): lambda d: _replace_values(d, _TEXT_RECORD),
    (TEXT_AID, TextEF.INTEGRITY): lambda d: _replace_values(
        d, {records.TAG_MY_NUMBER_DIGEST: _zeros, records.TAG_ATTRIBUTES_DIGEST: _zeros}),
    (VISUAL_AID, VisualEF.BIRTH_RECORD): lambda d: _replace_values(d, {0xDF11: _date}),
    (VISUAL_AID, VisualEF.CARD_FACE): lambda d: _replace_values(d, _FACE_RECORD),
    (VISUAL_AID, VisualEF.MY_NUMBER_IMAGE): lambda d: _replace_values(
        d, {0xDF41: _image(_PNG_MAGIC)}),
}


def is_personal(aid: bytes, fid: int) -> bool:
    return (aid, fid) in _SCRUBBERS


def scrub_file(aid: bytes, fid: int, data: bytes) -> bytes:
    """The file's bytes with personal values replaced; unchanged for files that hold none.

    A personal file that does not parse is blanked whole: never let unknown bytes through.
    """
    scrubber = _SCRUBBERS.get((aid, fid))
    if scrubber is None:
        return data
    try:
        scrubbed = scrubber(data)
    except (TlvError, IndexError, ValueError):
        return b"\xff" * len(data)
    assert len(scrubbed) == len(data)
    return scrubbed
