"""Parsers of the records of the text AP and the 券面AP (docs/card-protocol.md). Pure.

Most values here are personal data: the records' `repr` hides them, and nothing here logs.
The text AP vouches for its two personal files with an integrity record (EF 0003): the SHA-256
of EF 0001 as stored (all 17 bytes, the FF filler included), the SHA-256 of EF 0002's record
from DF22 on (the DF21 offset table and the filler left out), and a signature over those two
TLVs by the key that the AP's certificate (EF 0004, drivers/cvc.py) certifies.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from myna_reader.drivers import tlv
from myna_reader.drivers.errors import FormatError, TlvError

TAG_MY_NUMBER = 0xFF10
TAG_RECORD = 0xFF20
TAG_OFFSETS = 0xDF21  # the offset table that opens text AP EF 0002 and 券面AP EF 0002
# 基本4情報 (text AP EF 0002); the offset table is one a TLV walk does not need.
TAG_NAME = 0xDF22
TAG_ADDRESS = 0xDF23
TAG_BIRTH = 0xDF24
TAG_SEX = 0xDF25
# Card face (券面AP EF 0002).
TAG_FACE_BIRTH = 0xDF22
TAG_FACE_SEX = 0xDF23
TAG_FACE_PUBLIC_KEY = 0xDF24
TAG_FACE_NAME_IMAGE = 0xDF25
TAG_FACE_ADDRESS_IMAGE = 0xDF26
TAG_FACE_PHOTO = 0xDF27
TAG_FACE_SIGNATURE = 0xDF28
TAG_FACE_EXPIRY = 0xDF29
TAG_FACE_SECURITY_CODE_IMAGE = 0xDF2A
# Integrity record (text AP EF 0003).
TAG_INTEGRITY = 0xFF30
TAG_MY_NUMBER_DIGEST = 0xDF31
TAG_ATTRIBUTES_DIGEST = 0xDF32
TAG_INTEGRITY_SIGNATURE = 0xDF33
# AP basic information (text AP EF 0005).
TAG_TEXT_AP_INFO = 0xFF40
TAG_AP_IDENTIFICATION = 0xDF41
TAG_AP_KEY_ID = 0xDF42
TAG_AP_INFO_TRAILER = 0xDF43
SHA256_SIZE = 32

_MY_NUMBER = re.compile(r"[0-9]{12}")
_DATE = re.compile(r"[0-9]{8}")


class Sex(enum.Enum):
    """ISO 5218 / JIS X 0303 codes as the card stores them."""

    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    NOT_APPLICABLE = "9"


@dataclass(frozen=True, slots=True, repr=False)
class BasicFour:
    """基本4情報: name, address, birth date "YYYYMMDD" (Gregorian), sex."""

    name: str
    address: str
    birth: str
    sex: Sex

    def __repr__(self) -> str:
        return "BasicFour(<personal data>)"


@dataclass(frozen=True, slots=True, repr=False)
class CardFace:
    """The 券面AP card face. Dates are "YYYYMMDD"; images are PNG, the photo JPEG 2000.

    `public_key` is the raw DF24 (`90 03 <e> 91 82 01 00 <n>`) whose key made `signature`.
    """

    birth: str
    sex: Sex
    public_key: bytes
    name_image: bytes
    address_image: bytes
    photo: bytes
    signature: bytes
    expiry: str
    security_code_image: bytes

    def __repr__(self) -> str:
        return f"CardFace(<personal data>, photo of {len(self.photo)} bytes)"


def _record(raw: bytes, tag: int, what: str) -> tlv.Tlv:
    record = tlv.decode_ber_object(raw)
    if record.tag != tag:
        raise TlvError(f"{what}: expected tag {tag:X}, found {record.tag:X}")
    return record


def _ascii(value: bytes, pattern: re.Pattern[str], what: str) -> str:
    text = value.decode("ascii", errors="replace")
    if not pattern.fullmatch(text):
        raise FormatError(f"{what} is not in the expected digit format")
    return text


def _utf8(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{what} is not UTF-8") from exc


def _sex(value: bytes) -> Sex:
    try:
        return Sex(value.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatError("sex code is not one of 0, 1, 2, 9") from exc


def parse_my_number(raw: bytes) -> str:
    """Text AP EF 0001: `FF 10 0C` + 12 ASCII digits (+ filler)."""
    return _ascii(_record(raw, TAG_MY_NUMBER, "my number").value, _MY_NUMBER, "my number")


def parse_basic_four(raw: bytes) -> BasicFour:
    """Text AP EF 0002 (§10.3)."""
    record = _record(raw, TAG_RECORD, "basic four")
    items = record.children()
    return BasicFour(
        name=_utf8(tlv.require(items, TAG_NAME).value, "name"),
        address=_utf8(tlv.require(items, TAG_ADDRESS).value, "address"),
        birth=_ascii(tlv.require(items, TAG_BIRTH).value, _DATE, "birth date"),
        sex=_sex(tlv.require(items, TAG_SEX).value),
    )


def parse_card_face(raw: bytes) -> CardFace:
    """券面AP EF 0002 (§10.7)."""
    items = _record(raw, TAG_RECORD, "card face").children()

    def value(tag: int) -> bytes:
        return tlv.require(items, tag).value

    return CardFace(
        birth=_ascii(value(TAG_FACE_BIRTH), _DATE, "birth date"),
        sex=_sex(value(TAG_FACE_SEX)),
        public_key=value(TAG_FACE_PUBLIC_KEY),
        name_image=value(TAG_FACE_NAME_IMAGE),
        address_image=value(TAG_FACE_ADDRESS_IMAGE),
        photo=value(TAG_FACE_PHOTO),
        signature=value(TAG_FACE_SIGNATURE),
        expiry=_ascii(value(TAG_FACE_EXPIRY), _DATE, "expiry date"),
        security_code_image=value(TAG_FACE_SECURITY_CODE_IMAGE),
    )


@dataclass(frozen=True, slots=True)
class IntegrityRecord:
    """Text AP EF 0003. `signed` is exactly what `signature` covers: DF31 and DF32 as written."""

    my_number_digest: bytes
    attributes_digest: bytes
    signed: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class TextApInfo:
    """Text AP EF 0005: the AP's identification (version, extended Lc/Le, vendor, option) and
    a key ID that is not the one its certificate certifies; DF43 is of unknown purpose."""

    identification: bytes
    key_id: bytes
    trailer: bytes


def _signed_prefix(record: tlv.Tlv, signature_tag: int) -> bytes:
    """The record's TLVs before `signature_tag`, as written: what a record signature covers."""
    objects = tlv.raw_objects(record.value)
    tags = [item.tag for item in record.children()]
    if signature_tag not in tags:
        raise TlvError(f"tag {signature_tag:X} is missing")
    return b"".join(objects[: tags.index(signature_tag)])


def parse_integrity_record(raw: bytes) -> IntegrityRecord:
    """Text AP EF 0003: `FF30 { DF31 <32>, DF32 <32>, DF33 <256> }`, 336 bytes."""
    record = _record(raw, TAG_INTEGRITY, "integrity record")
    items = record.children()
    digests = [tlv.require(items, tag).value
               for tag in (TAG_MY_NUMBER_DIGEST, TAG_ATTRIBUTES_DIGEST)]
    if any(len(digest) != SHA256_SIZE for digest in digests):
        raise FormatError("the integrity record's digests are not SHA-256 sized")
    return IntegrityRecord(digests[0], digests[1],
                           _signed_prefix(record, TAG_INTEGRITY_SIGNATURE),
                           tlv.require(items, TAG_INTEGRITY_SIGNATURE).value)


def attributes_digest_source(raw: bytes) -> bytes:
    """What DF32 of EF 0003 is the SHA-256 of: EF 0002's record value from DF22 on."""
    record = _record(raw, TAG_RECORD, "basic four")
    objects = tlv.raw_objects(record.value)
    if not objects or record.children()[0].tag != TAG_OFFSETS:
        raise TlvError("basic four: the offset table DF21 does not come first")
    return b"".join(objects[1:])


def parse_text_ap_info(raw: bytes) -> TextApInfo:
    """Text AP EF 0005: `FF40 { DF41 <4>, DF42 <16>, DF43 <128> }` and FF filler."""
    items = _record(raw, TAG_TEXT_AP_INFO, "text AP information").children()
    return TextApInfo(*(tlv.require(items, tag).value for tag in
                        (TAG_AP_IDENTIFICATION, TAG_AP_KEY_ID, TAG_AP_INFO_TRAILER)))
