"""The data records of the synthetic profiles have the layouts of docs/card-protocol.md §10."""

import hashlib
import io

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
from PIL import Image

from myna_reader.drivers.sim.profile import load_profile, profile_names

CARD_PROFILES = [name for name in profile_names() if load_profile(name).text is not None]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JP2_MAGIC = bytes.fromhex("0000000C6A5020200D0A870A")


def read_tlv(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, value, next offset) of the TLV with a 1- or 2-byte tag at `at`."""
    tag_len = 2 if data[at] & 0x1F == 0x1F else 1
    tag = int.from_bytes(data[at : at + tag_len], "big")
    pos = at + tag_len
    first = data[pos]
    if first < 0x80:
        length, pos = first, pos + 1
    else:
        n = first & 0x7F
        length, pos = int.from_bytes(data[pos + 1 : pos + 1 + n], "big"), pos + 1 + n
    return tag, data[pos : pos + length], pos + length


def offsets_point_at(record: bytes, first_tag: int) -> list[int]:
    """Check DF21's offsets name consecutive tags from `first_tag`; return the tags found."""
    tag, body, end = read_tlv(record, 0)
    assert tag == 0xFF20
    table_tag, table, _ = read_tlv(record, end - len(body))
    assert table_tag == 0xDF21
    offsets = [int.from_bytes(table[i : i + 2], "big") for i in range(0, len(table), 2)]
    tags = [read_tlv(record, offset)[0] for offset in offsets]
    assert tags == list(range(first_tag, first_tag + len(offsets)))
    return tags


def value_at(record: bytes, wanted: int) -> bytes:
    _, body, end = read_tlv(record, 0)
    at = end - len(body)
    while at < end:
        tag, value, at = read_tlv(record, at)
        if tag == wanted:
            return value
    raise AssertionError(f"tag {wanted:04X} not found")


def check_digit(body: str) -> int:
    total = sum(int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(body), 1))
    return 0 if total % 11 <= 1 else 11 - total % 11


@pytest.mark.parametrize("name", profile_names())
def test_my_number_is_synthetic_with_a_valid_check_digit(name) -> None:
    number = load_profile(name).holder.my_number
    assert len(number) == 12
    assert number.isdigit()
    assert int(number[-1]) == check_digit(number[:11])


def test_check_digit_against_the_known_example() -> None:
    assert check_digit("12345678901") == 8  # 123456789018, the usual published test number


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_text_my_number_record_is_17_physical_bytes(name) -> None:
    profile = load_profile(name)
    record = profile.text.my_number_record
    assert record == b"\xff\x10\x0c" + profile.holder.my_number.encode() + b"\xff\xff"
    assert profile.text.verify_a.value == profile.holder.my_number.encode()


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_text_attributes_layout(name) -> None:
    profile = load_profile(name)
    record = profile.text.attributes_record
    assert offsets_point_at(record, 0xDF22) == [0xDF22, 0xDF23, 0xDF24, 0xDF25]
    assert record[:2] == b"\xff\x20"
    assert value_at(record, 0xDF21)[:2] == b"\x00\x0e"  # short outer length: DF22 at 14
    assert value_at(record, 0xDF22).decode() == profile.holder.name
    assert "\u3000" in profile.holder.name
    assert value_at(record, 0xDF23).decode() == profile.holder.address
    assert value_at(record, 0xDF24) == profile.holder.birth_date.encode()
    assert value_at(record, 0xDF25) == profile.holder.sex.encode()
    _, _, end = read_tlv(record, 0)
    assert set(record[end:]) == {0xFF}  # filler


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_card_face_layout(name) -> None:
    profile = load_profile(name)
    face = profile.visual.card_face
    assert face[:3] == b"\xff\x20\x82"
    assert offsets_point_at(face, 0xDF22) == list(range(0xDF22, 0xDF2B))
    assert value_at(face, 0xDF22) == profile.holder.birth_date.encode()
    assert value_at(face, 0xDF29) == profile.holder.card_expiry.encode()
    for tag in (0xDF25, 0xDF26, 0xDF2A):
        png = value_at(face, tag)
        assert png.startswith(PNG_MAGIC)
        assert Image.open(io.BytesIO(png)).mode == "1"
    photo = value_at(face, 0xDF27)
    assert photo.startswith(JP2_MAGIC)
    image = Image.open(io.BytesIO(photo))
    assert image.mode == "L"
    assert image.size == (90, 112)


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_card_face_signature_covers_three_digest_groups(name) -> None:
    face = load_profile(name).visual.card_face
    _, body, end = read_tlv(face, 0)
    tlvs: dict[int, bytes] = {}
    at = end - len(body)
    while at < end:
        start = at
        tag, _, at = read_tlv(face, at)
        tlvs[tag] = face[start:at]
    groups = ((0xDF22, 0xDF23, 0xDF24), (0xDF25, 0xDF26), (0xDF27,))
    digests = b"".join(hashlib.sha256(b"".join(tlvs[t] for t in g)).digest() for g in groups)
    public = value_at(face, 0xDF24)
    assert public[:5] == bytes.fromhex("9003010001")
    modulus = int.from_bytes(public[9:], "big")
    signature = int.from_bytes(value_at(face, 0xDF28), "big")
    key = RSAPublicNumbers(65537, modulus)
    block = pow(signature, key.e, key.n).to_bytes(256, "big")
    expected_info = bytes.fromhex("3071300D060960864801650304020105000460") + digests
    assert block == b"\x00\x01" + b"\xff" * (256 - 3 - len(expected_info)) + b"\x00" + expected_info


@pytest.mark.parametrize(("name", "verify_b"), [
    ("standard", "02040120342285"),  # 1990-04-01 = 平成2年, expiry 2034, code 2285
    ("face-card", "23021720355520"),  # 1948-02-17 = 昭和23年
    ("under-15", "27061520300614"),  # 2015-06-15 = 平成27年
])
def test_verification_number_b_is_era_birth_expiry_year_and_code(name, verify_b) -> None:
    profile = load_profile(name)
    assert profile.text.verify_b.value == verify_b.encode()
    assert profile.visual.verify_b.value == verify_b.encode()
    assert profile.visual.birth_key.value == verify_b[:6].encode()
