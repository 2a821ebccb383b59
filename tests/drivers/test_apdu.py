"""Command/response encoding: byte-exact ISO 7816-4 vectors and hypothesis round trips."""

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myna_reader.drivers.apdu import Command, Response
from myna_reader.drivers.errors import ApduEncodingError, MalformedResponseError

JPKI_AID = bytes.fromhex("D392F000260100000001")


@pytest.mark.parametrize(
    ("command", "wire"),
    [
        # docs/card-protocol.md §9, the canonical PIN-mode flow
        (Command.case3(0x00, 0xA4, 0x04, 0x0C, JPKI_AID), "00A4040C0AD392F000260100000001"),
        (Command.case3(0x00, 0xA4, 0x02, 0x0C, b"\x00\x18"), "00A4020C020018"),
        (Command.case1(0x00, 0x20, 0x00, 0x80), "00200080"),
        (Command.case3(0x00, 0x20, 0x00, 0x80, b"1234"), "002000800431323334"),
        (Command.case2(0x00, 0xB0, 0x00, 0x00, 256), "00B0000000"),
        (Command.case2(0x00, 0xB0, 0x01, 0x00, 7), "00B0010007"),
        # extended Le = 65536 (docs/card-protocol.md §3.3, nfcpy-myna's one-shot read)
        (Command.case2(0x00, 0xB0, 0x00, 0x00, 65536), "00B00000000000"),
        (Command(0x00, 0xB0, 0x00, 0x00, ne=256, extended=True), "00B00000000100"),
        # case 4 short with Le 256, and extended with 300 data bytes
        (Command.case4(0x80, 0x2A, 0x00, 0x80, b"\x30" * 51, 256), "802A008033" + "30" * 51 + "00"),
        (Command.case4(0x80, 0x2A, 0x00, 0x80, b"\xAA" * 300, 256),
         "802A008000012C" + "AA" * 300 + "0100"),
        (Command.case3(0x80, 0xA2, 0x00, 0xC1, b"\x01" * 307), "80A200C1000133" + "01" * 307),
    ],
)
def test_encoding_vectors(command: Command, wire: str) -> None:
    assert command.to_bytes().hex().upper() == wire.upper()
    assert Command.parse(bytes.fromhex(wire)).to_bytes() == command.to_bytes()


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Command(0x100, 0, 0, 0),
        lambda: Command(0, 0, 0, 0, ne=0),
        lambda: Command(0, 0, 0, 0, ne=65537),
        lambda: Command(0, 0, 0, 0, data=bytes(65536)),
        lambda: Command.case3(0, 0, 0, 0, b""),
    ],
)
def test_unencodable_commands_raise_before_anything_is_sent(bad: Callable[[], Command]) -> None:
    with pytest.raises(ApduEncodingError):
        bad()


@pytest.mark.parametrize("raw", ["", "00", "00A4", "00A4040C05D392", "00A4040C0000"])
def test_unparsable_commands(raw: str) -> None:
    with pytest.raises((ApduEncodingError, MalformedResponseError)):
        Command.parse(bytes.fromhex(raw))


def test_response_needs_a_status_word() -> None:
    with pytest.raises(MalformedResponseError):
        Response.parse(b"\x90")
    r = Response.parse(bytes.fromhex("01029000"))
    assert (r.data, r.sw, r.ok) == (b"\x01\x02", 0x9000, True)


byte = st.integers(0, 255)


@st.composite
def commands(draw: st.DrawFn) -> Command:
    data = draw(st.binary(max_size=400))
    ne = draw(st.none() | st.integers(1, 65536))
    return Command(draw(byte), draw(byte), draw(byte), draw(byte), data, ne,
                   draw(st.booleans()))


@given(commands())
def test_parse_inverts_encode(command: Command) -> None:
    wire = command.to_bytes()
    parsed = Command.parse(wire)
    assert (parsed.cla, parsed.ins, parsed.p1, parsed.p2, parsed.data, parsed.ne) == (
        command.cla, command.ins, command.p1, command.p2, command.data, command.ne)
    assert parsed.to_bytes() == wire


@given(st.binary(max_size=300))
def test_parser_accepts_or_raises_typed(raw: bytes) -> None:
    with contextlib.suppress(ApduEncodingError, MalformedResponseError):
        Command.parse(raw)
    try:
        Response.parse(raw)
    except MalformedResponseError:
        assert len(raw) < 2
