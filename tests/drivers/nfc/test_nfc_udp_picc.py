"""The responder's Type A, Type B and ISO-DEP bytes, frame by frame, in the udp driver's format.

nfcpy never sends S(DESELECT), ALLB_REQ, HLTA or WUPA, so this side of the PICC is driven by hand
here: the test is the reader, writing the frames ISO/IEC 14443-3/-4 define.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from myna_reader.drivers.mynumber_ids import JPKI_AID
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.nfc_udp import CardResponder, Technology

pytestmark = pytest.mark.nfc

SENSB_REQ = bytes.fromhex("050000")
ALLB_REQ = bytes.fromhex("050008")
SILENCE_S = 0.2


class Pcd:
    """A bare reader: one UDP socket, frames in nfcpy's "<brty> <hex>" text."""

    def __init__(self, port: int, brty: bytes = b"106B") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(SILENCE_S)
        self.addr = ("127.0.0.1", port)
        self.brty = brty

    def send(self, frame: bytes) -> None:
        self.sock.sendto(self.brty + b" " + frame.hex().encode(), self.addr)

    def exchange(self, frame: bytes) -> bytes | None:
        self.send(frame)
        try:
            brty, hex_frame = self.sock.recvfrom(4096)[0].split()
        except TimeoutError:
            return None
        assert brty == self.brty
        return bytes.fromhex(hex_frame.decode())

    def field_off(self) -> None:
        self.sock.sendto(b"RFOFF", self.addr)


@pytest.fixture
def pcd(make_responder: Callable[..., CardResponder]) -> Iterator[Pcd]:
    reader = Pcd(make_responder().port)
    yield reader
    reader.sock.close()


@pytest.fixture
def pcd_a(make_responder: Callable[..., CardResponder]) -> Iterator[Pcd]:
    reader = Pcd(make_responder(technology=Technology.A).port, b"106A")
    yield reader
    reader.sock.close()


REQA, WUPA, HLTA = b"\x26", b"\x52", bytes.fromhex("5000")
UID_BCC = bytes.fromhex("084D594E") + bytes([0x08 ^ 0x4D ^ 0x59 ^ 0x4E])


def activate_a(pcd: Pcd) -> bytes | None:
    """REQA, anticollision, SELECT and RATS (FSDI 8, CID 0), as nfcpy's udp driver sends them."""
    assert pcd.exchange(REQA) == bytes.fromhex("0400")
    assert pcd.exchange(bytes.fromhex("9320")) == UID_BCC
    assert pcd.exchange(bytes.fromhex("9370") + UID_BCC) == bytes.fromhex("20")
    return pcd.exchange(bytes.fromhex("E080"))


def test_type_a_anticollision_select_and_ats(pcd_a: Pcd) -> None:
    # ATS: TL 5, T0 78 (TA TB TC, FSCI 8), TA 80 (106 kbps), TB A0 (FWI 10), TC 02 (CID)
    assert activate_a(pcd_a) == bytes.fromhex("05 78 80 A0 02")
    select = bytes.fromhex("00A4040C0A") + JPKI_AID
    assert pcd_a.exchange(b"\x02" + select) == b"\x02\x90\x00"  # ISO-DEP as on Type B


def test_type_a_wrong_uid_and_halt(pcd_a: Pcd) -> None:
    assert pcd_a.exchange(REQA) == bytes.fromhex("0400")
    assert pcd_a.exchange(bytes.fromhex("9320")) == UID_BCC
    assert pcd_a.exchange(bytes.fromhex("9370 01020304 04")) is None  # another card's UID
    assert pcd_a.exchange(bytes.fromhex("9370") + UID_BCC) == bytes.fromhex("20")
    assert pcd_a.exchange(HLTA) is None
    assert pcd_a.exchange(REQA) is None  # a halted card answers WUPA only
    assert pcd_a.exchange(WUPA) == bytes.fromhex("0400")


def test_each_type_hears_only_its_own_frames(make_responder: Callable[..., CardResponder],
                                             pcd: Pcd) -> None:
    port_a = make_responder(technology=Technology.A).port
    as_b = Pcd(port_a, b"106B")
    as_a = Pcd(pcd.addr[1], b"106A")
    try:
        assert as_b.exchange(SENSB_REQ) is None  # a phone does not answer Type B polling
        assert as_a.exchange(REQA) is None  # nor the plastic card Type A polling
    finally:
        as_b.sock.close()
        as_a.sock.close()


def activate(pcd: Pcd) -> None:
    sensb_res = pcd.exchange(SENSB_REQ)
    assert sensb_res is not None
    assert pcd.exchange(b"\x1d" + sensb_res[1:5] + bytes.fromhex("00080100")) == b"\x00"


def test_sensb_res_and_attrib(pcd: Pcd) -> None:
    assert pcd.exchange(SENSB_REQ) == bytes.fromhex("50 4D594E41 000005E0 B3 81 A1")
    assert pcd.exchange(bytes.fromhex("1D 00000000 00080100")) is None  # not its NFCID0
    assert pcd.exchange(bytes.fromhex("1D 4D594E41 00080100")) == b"\x00"
    assert pcd.exchange(SENSB_REQ) is None  # an active card ignores SENSB_REQ


def test_i_blocks_alternate_block_numbers(pcd: Pcd) -> None:
    activate(pcd)
    select = bytes.fromhex("00A4040C0A") + JPKI_AID
    assert pcd.exchange(b"\x02" + select) == b"\x02\x90\x00"
    assert pcd.exchange(b"\x03" + select) == b"\x03\x90\x00"
    assert pcd.exchange(b"\xb2") == b"\xa3"  # R(NAK) of the other number: R(ACK)
    assert pcd.exchange(b"\xb3") == b"\x03\x90\x00"  # R(NAK) of ours: our last block again


def test_deselect_halts_until_allb(pcd: Pcd) -> None:
    activate(pcd)
    assert pcd.exchange(b"\xc2") == b"\xc2"
    assert pcd.exchange(SENSB_REQ) is None
    assert pcd.exchange(ALLB_REQ) is not None


def test_rfoff_powers_the_card_down(card: SimulatedCard, pcd: Pcd) -> None:
    activate(pcd)
    assert card.powered
    pcd.field_off()
    deadline = time.monotonic() + 5
    while card.powered and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not card.powered
    assert pcd.exchange(b"\x02" + bytes.fromhex("00A4040C0A") + JPKI_AID) is None
