"""BER-TLV and JICSAP simple-TLV: known vectors, round-trip properties, garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myna_reader.drivers import tlv
from myna_reader.drivers.errors import FormatError, TlvError

# --- known vectors ------------------------------------------------------------------------------


def test_total_length_of_a_certificate_header() -> None:
    # auth_ca_2023 begins 30 82 05 23 (docs/card-protocol.md §4): 1319 bytes in all
    assert tlv.total_length(bytes.fromhex("30820523")) == 1319
    assert tlv.total_length(bytes.fromhex("30820511") + b"\x00" * 10) == 1301


def test_header_forms() -> None:
    assert tlv.read_header(bytes.fromhex("DF2208")) == tlv.Header(0xDF22, 3, 8)
    assert tlv.read_header(bytes.fromhex("FF2065")) == tlv.Header(0xFF20, 3, 0x65)
    assert tlv.read_header(bytes.fromhex("FF4082009F")) == tlv.Header(0xFF40, 5, 0x9F)
    assert tlv.read_header(bytes.fromhex("7F21820233")) == tlv.Header(0x7F21, 5, 0x233)
    assert tlv.read_header(bytes.fromhex("048101")) == tlv.Header(0x04, 3, 1)


def test_private_class_tags_constructed_bit() -> None:
    assert tlv.Tlv(0xFF20, b"").constructed
    assert not tlv.Tlv(0xDF22, b"").constructed
    assert tlv.Tlv(0x30, b"").constructed
    assert tlv.Tlv(0x7F21, b"").constructed
    assert not tlv.Tlv(0x5F4E, b"").constructed


def test_basic_four_record_walk() -> None:
    # docs/card-protocol.md §10.3:
    # FF20 { DF21 offsets, DF22 name, DF23 address, DF24 birth, DF25 sex } + filler
    inner = bytes.fromhex("DF2108000E002000590064")
    inner += b"\xdf\x22\x06" + "試験".encode()
    inner += b"\xdf\x24\x0819800217" + b"\xdf\x25\x011"
    raw = bytes.fromhex("FF20") + bytes((len(inner),)) + inner + b"\xff" * 7
    record = tlv.decode_ber_object(raw)
    assert record.tag == 0xFF20
    assert [c.tag for c in record.children()] == [0xDF21, 0xDF22, 0xDF24, 0xDF25]
    assert record.require(0xDF24).value == b"19800217"
    assert record.find(0xDF23) is None
    with pytest.raises(TlvError, match="DF23 is missing"):
        record.require(0xDF23)


def test_my_number_record_with_constructed_tag_holding_digits() -> None:
    raw = bytes.fromhex("FF100C") + b"123456789012" + b"\xff\xff"
    record = tlv.decode_ber_object(raw)
    assert (record.tag, record.value) == (0xFF10, b"123456789012")


def test_encode_is_der_minimal() -> None:
    assert tlv.Tlv(0xDF22, b"ab").encode() == bytes.fromhex("DF22026162")
    assert tlv.encode_length(0x7F) == b"\x7f"
    assert tlv.encode_length(0x80) == b"\x81\x80"
    assert tlv.encode_length(0x523) == b"\x82\x05\x23"
    nested = tlv.Tlv.of(0xFF20, [tlv.Tlv(0xDF22, b"x"), tlv.Tlv(0xDF23, b"")])
    assert nested.encode() == bytes.fromhex("FF2007DF220178DF2300")


def test_simple_tlv_vectors() -> None:
    # 共通AP record 1 (docs/card-protocol.md §10.10): 01 1C + 28 ASCII digits
    digits = b"4000000127198431322120350217"
    assert tlv.decode_simple(b"\x01\x1c" + digits) == (tlv.SimpleTlv(1, digits),)
    long_value = bytes(300)
    encoded = tlv.SimpleTlv(0x42, long_value).encode()
    assert encoded[:4] == bytes.fromhex("42FF012C")
    assert tlv.decode_simple(encoded + b"\x05\x00") == (tlv.SimpleTlv(0x42, long_value),
                                                          tlv.SimpleTlv(5, b""))


# --- garbage ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "no tag"),
        ("30", "no length"),
        ("DF", "multi-byte tag"),
        ("3082", "long-form length"),
        ("308205", "long-form length"),
        ("3080", "indefinite length"),
        ("3085FFFFFFFFFF", "5 octets"),
        ("DFFFFFFFFF01", "longer than 4 bytes"),
    ],
)
def test_bad_headers_raise_tlv_error(raw: str, message: str) -> None:
    with pytest.raises(TlvError, match=message):
        tlv.read_header(bytes.fromhex(raw))


def test_value_shorter_than_its_length() -> None:
    with pytest.raises(TlvError, match="claims 5 bytes, only 2 follow"):
        tlv.decode_ber(bytes.fromhex("DF22050102"))
    with pytest.raises(TlvError, match="claims 1315 bytes, only 256 follow"):
        tlv.decode_ber_object(bytes.fromhex("30820523") + bytes(256))


def test_object_followed_by_non_filler() -> None:
    with pytest.raises(TlvError, match="unexpected bytes after the object"):
        tlv.decode_ber_object(bytes.fromhex("DF220101FFFF41"))


def test_children_of_a_garbage_value() -> None:
    with pytest.raises(TlvError):
        tlv.Tlv(0xFF20, bytes.fromhex("DF2205")).children()


def test_tlv_error_is_a_format_error() -> None:
    assert issubclass(TlvError, FormatError)


@pytest.mark.parametrize("tag", [0x1F, 0xDF80, 0x30DF, -1, 0x1F1F1F1F1F])
def test_malformed_tags_do_not_encode(tag: int) -> None:
    with pytest.raises(TlvError):
        tlv.encode_tag(tag)


def test_simple_tlv_truncations() -> None:
    for raw in ("01", "01FF00", "0105010203"):
        with pytest.raises(TlvError):
            tlv.decode_simple(bytes.fromhex(raw))
    with pytest.raises(TlvError):
        tlv.SimpleTlv(0x100, b"").encode()
    with pytest.raises(TlvError):
        tlv.SimpleTlv(1, bytes(0x10000)).encode()


# --- properties -----------------------------------------------------------------------------


def _tag_strategy() -> st.SearchStrategy[int]:
    one_byte = st.integers(0, 0xFF).filter(lambda b: b & 0x1F != 0x1F)
    two_byte = st.builds(lambda first, second: (first << 8) | second,
                         st.integers(0, 0xFF).map(lambda b: b | 0x1F),
                         st.integers(0, 0x7F))
    three_byte = st.builds(lambda first, mid, last: (first << 16) | (mid << 8) | last,
                           st.integers(0, 0xFF).map(lambda b: b | 0x1F),
                           st.integers(0x80, 0xFF), st.integers(0, 0x7F))
    return st.one_of(one_byte, two_byte, three_byte)


primitive = st.builds(tlv.Tlv, _tag_strategy(), st.binary(max_size=300))
trees = st.recursive(
    primitive,
    lambda children: st.builds(tlv.Tlv.of, _tag_strategy(), st.lists(children, max_size=4)),
    max_leaves=12,
)


@given(st.lists(trees, max_size=5))
def test_ber_round_trip(items: list[tlv.Tlv]) -> None:
    encoded = b"".join(item.encode() for item in items)
    assert tlv.decode_ber(encoded) == tuple(items)


@given(trees, st.lists(st.sampled_from([0x00, 0xFF]), max_size=40).map(bytes))
def test_object_round_trip_with_filler(item: tlv.Tlv, filler: bytes) -> None:
    assert tlv.decode_ber_object(item.encode() + filler) == item


@given(trees)
def test_total_length_probe_matches_encoding(item: tlv.Tlv) -> None:
    encoded = item.encode()
    assert tlv.total_length(encoded[: tlv.MAX_HEADER_SIZE]) == len(encoded)


@given(st.lists(trees.map(tlv.Tlv.encode), min_size=1, max_size=3), st.data())
def test_truncated_encodings_raise(chunks: list[bytes], data: st.DataObject) -> None:
    encoded = b"".join(chunks)
    cut = data.draw(st.integers(1, len(encoded)))
    truncated = encoded[: len(encoded) - cut]
    # every proper prefix either fails or is a whole prefix sequence of the objects
    try:
        decoded = tlv.decode_ber(truncated)
    except TlvError:
        return
    assert b"".join(item.encode() for item in decoded) == truncated


@given(st.binary(max_size=200))
def test_garbage_raises_tlv_error_or_decodes_consistently(raw: bytes) -> None:
    # no other exception type may escape; whatever decodes re-encodes to an equal structure
    try:
        items = tlv.decode_ber(raw)
    except TlvError:
        items = ()
    assert tlv.decode_ber(b"".join(item.encode() for item in items)) == items
    try:
        records = tlv.decode_simple(raw)
    except TlvError:
        records = ()
    assert tlv.decode_simple(b"".join(record.encode() for record in records)) == records


@given(st.lists(st.builds(tlv.SimpleTlv, st.integers(0, 0xFF), st.binary(max_size=600)),
                max_size=5))
def test_simple_round_trip(items: list[tlv.SimpleTlv]) -> None:
    assert tlv.decode_simple(b"".join(item.encode() for item in items)) == tuple(items)
