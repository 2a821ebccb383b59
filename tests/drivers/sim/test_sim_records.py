"""The data records of the synthetic profiles have the layouts of docs/card-protocol.md §10."""

import hashlib
import io

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
from PIL import Image

from myna_reader.drivers.sim.profile import (
    CardProfile,
    TextApData,
    VisualApData,
    load_profile,
    profile_names,
)

CARD_PROFILES = [name for name in profile_names() if load_profile(name).text is not None]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JP2_MAGIC = bytes.fromhex("0000000C6A5020200D0A870A")


def text_of(profile: CardProfile) -> TextApData:
    """The text AP of a plastic-card profile (a phone token has none)."""
    assert profile.text is not None
    return profile.text


def visual_of(profile: CardProfile) -> VisualApData:
    """The visual AP of a plastic-card profile (a phone token has none)."""
    assert profile.visual is not None
    return profile.visual


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
def test_my_number_is_synthetic_with_a_valid_check_digit(name: str) -> None:
    number = load_profile(name).holder.my_number
    assert len(number) == 12
    assert number.isdigit()
    assert int(number[-1]) == check_digit(number[:11])


def test_check_digit_against_the_known_example() -> None:
    assert check_digit("12345678901") == 8  # 123456789018, the usual published test number


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_text_my_number_record_is_17_physical_bytes(name: str) -> None:
    profile = load_profile(name)
    record = text_of(profile).my_number_record
    assert record == b"\xff\x10\x0c" + profile.holder.my_number.encode() + b"\xff\xff"
    assert text_of(profile).verify_a.value == profile.holder.my_number.encode()


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_text_attributes_layout(name: str) -> None:
    profile = load_profile(name)
    record = text_of(profile).attributes_record
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
def test_card_face_layout(name: str) -> None:
    profile = load_profile(name)
    face = visual_of(profile).card_face
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


def children(record: bytes) -> dict[int, bytes]:
    """Each TLV inside the record, as written (header included), by tag."""
    _, body, end = read_tlv(record, 0)
    tlvs: dict[int, bytes] = {}
    at = end - len(body)
    while at < end:
        start = at
        tag, _, at = read_tlv(record, at)
        tlvs[tag] = record[start:at]
    return tlvs


def card_key(value: bytes) -> RSAPublicNumbers:
    """`90 <e> 91 <n>` as public numbers."""
    tag, exponent, at = read_tlv(value, 0)
    assert tag == 0x90
    tag, modulus, _ = read_tlv(value, at)
    assert tag == 0x91 and len(modulus) == 256
    return RSAPublicNumbers(int.from_bytes(exponent, "big"), int.from_bytes(modulus, "big"))


def pkcs1_payload(key: RSAPublicNumbers, signature: bytes) -> bytes:
    """What an RSA PKCS#1 v1.5 type-1 signature carries (the padding checked in full)."""
    block = pow(int.from_bytes(signature, "big"), key.e, key.n).to_bytes(256, "big")
    assert block[:2] == b"\x00\x01"
    separator = block.index(b"\x00", 2)
    assert set(block[2:separator]) == {0xFF} and separator >= 10
    return block[separator + 1 :]


def sha256_info(data: bytes) -> bytes:
    return bytes.fromhex("3031300D060960864801650304020105000420") + hashlib.sha256(data).digest()


def cvc(certificate: bytes) -> tuple[bytes, bytes, RSAPublicNumbers, bytes, bytes]:
    """(issuer key ID, subject key ID, certified key, body, signature) of a 7F21 CVC."""
    assert certificate[:5] == bytes.fromhex("7F21820233") and len(certificate) == 568
    tag, body, at = read_tlv(certificate, 5)
    assert tag == 0x5F4E and len(body) == 297
    tag, signature, _ = read_tlv(certificate, at)
    assert tag == 0x5F37 and len(signature) == 256
    return body[:16], body[16:32], card_key(body[32:]), body, signature


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_text_ap_integrity_record_verifies_with_its_certificate(name: str) -> None:
    text = text_of(load_profile(name))
    record = text.integrity_record
    assert len(record) == 336 and record[:5] == bytes.fromhex("FF3082014B")
    fields = children(record)
    assert list(fields) == [0xDF31, 0xDF32, 0xDF33]
    # DF31: SHA-256 of EF 0001 as stored, the two FF of filler included
    assert len(text.my_number_record) == 17
    assert fields[0xDF31][3:] == hashlib.sha256(text.my_number_record).digest()
    # DF32: SHA-256 of EF 0002's record from DF22 on: no DF21 table, no filler
    _, body, _ = read_tlv(text.attributes_record, 0)
    _, _, after_table = read_tlv(body, 0)
    assert fields[0xDF32][3:] == hashlib.sha256(body[after_table:]).digest()
    issuer, subject, key, cvc_body, cvc_signature = cvc(text.certificate)
    assert issuer[:7] == b"9000033" and subject[:7] == b"9100033"
    signature = fields[0xDF33][5:]
    assert pkcs1_payload(key, signature) == sha256_info(fields[0xDF31] + fields[0xDF32])
    # the certificate itself: signed by the synthetic CV CA the profile names
    assert text.cv_ca.key_id == issuer
    assert pkcs1_payload(card_key(text.cv_ca.public_key), cvc_signature) == sha256_info(cvc_body)


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_text_ap_info_has_the_real_shape(name: str) -> None:
    info = text_of(load_profile(name)).ap_info
    assert len(info) == 256 and info[:5] == bytes.fromhex("FF4082009F")
    fields = children(info)
    assert fields[0xDF41] == bytes.fromhex("DF4104") + bytes.fromhex("01030E01")
    assert len(fields[0xDF42]) == 3 + 16 and fields[0xDF42][3:10] == b"9000034"
    assert fields[0xDF43][:5] == bytes.fromhex("DF43820080")
    assert fields[0xDF43][5 + 32 :] == b"\xff" * 96
    assert set(info[164:]) == {0xFF}


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_visual_ap_records_verify_with_its_certificate(name: str) -> None:
    visual = visual_of(load_profile(name))
    issuer, subject, key, cvc_body, cvc_signature = cvc(visual.certificate)
    assert issuer[:7] == b"9000023" and subject[:7] == b"9100023"
    assert pkcs1_payload(card_key(visual.cv_ca.public_key), cvc_signature) == sha256_info(cvc_body)
    face_key = value_at(visual.card_face, 0xDF24)
    age = visual.age_record
    assert len(age) == 547 and age[:5] == bytes.fromhex("FF1082021E")
    for record, signature_tag, key_tag in ((age, 0xDF13, 0xDF12),
                                           (visual.my_number_image, 0xDF43, 0xDF42)):
        fields = children(record)
        signed = b"".join(raw for tag, raw in fields.items() if tag != signature_tag)
        assert list(fields)[-1] == signature_tag
        assert pkcs1_payload(key, fields[signature_tag][5:]) == sha256_info(signed)
        assert value_at(record, key_tag) == face_key  # the card's own key, as in DF24
    assert value_at(age, 0xDF11) == load_profile(name).holder.birth_date.encode()
    assert value_at(visual.my_number_image, 0xDF41).startswith(PNG_MAGIC)


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_visual_ap_basic_info_has_the_real_shape(name: str) -> None:
    info = visual_of(load_profile(name)).basic_info
    assert len(info) == 320 and info[:5] == bytes.fromhex("FF3082013B")
    fields = children(info)
    assert list(fields) == [0xDF31, 0xDF32, 0xDF33, 0xDF34, 0xDF35]
    assert fields[0xDF31][3:] == bytes.fromhex("06030E01")
    assert fields[0xDF34][3:] == b"99000"
    assert fields[0xDF35][:5] == bytes.fromhex("DF35820110")


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_card_face_signature_covers_three_digest_groups(name: str) -> None:
    visual = visual_of(load_profile(name))
    face = visual.card_face
    _, body, end = read_tlv(face, 0)
    tlvs: dict[int, bytes] = {}
    at = end - len(body)
    while at < end:
        start = at
        tag, _, at = read_tlv(face, at)
        tlvs[tag] = face[start:at]
    groups = ((0xDF22, 0xDF23, 0xDF24), (0xDF25, 0xDF26), (0xDF27,))
    digests = b"".join(hashlib.sha256(b"".join(tlvs[t] for t in g)).digest() for g in groups)
    assert value_at(face, 0xDF24)[:5] == bytes.fromhex("9003010001")
    # signed by the key the AP's certificate (EF 0004) certifies, not by the card's own key
    _, _, key, _, _ = cvc(visual.certificate)
    expected_info = bytes.fromhex("3071300D060960864801650304020105000460") + digests
    assert pkcs1_payload(key, value_at(face, 0xDF28)) == expected_info


@pytest.mark.parametrize(("name", "verify_b"), [
    ("standard", "02040120342285"),  # 1990-04-01 = 平成2年, expiry 2034, code 2285
    ("face-card", "23021720355520"),  # 1948-02-17 = 昭和23年
    ("under-15", "27061520300614"),  # 2015-06-15 = 平成27年
])
def test_verification_number_b_is_era_birth_expiry_year_and_code(name: str,
                                                                 verify_b: str) -> None:
    profile = load_profile(name)
    assert text_of(profile).verify_b.value == verify_b.encode()
    assert visual_of(profile).verify_b.value == verify_b.encode()
    assert visual_of(profile).birth_key.value == verify_b[:6].encode()
