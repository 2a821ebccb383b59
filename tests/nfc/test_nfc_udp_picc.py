"""The responder's Type B / ISO-DEP bytes, frame by frame, in the udp driver's datagram format.

nfcpy never sends S(DESELECT) or ALLB_REQ, so this side of the PICC is driven by hand here:
the test is the reader, writing the frames ISO/IEC 14443-3/-4 define.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from myna_reader.drivers.mynumber_ids import JPKI_AID
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.nfc_udp import CardResponder

pytestmark = pytest.mark.nfc

SENSB_REQ = bytes.fromhex("050000")
ALLB_REQ = bytes.fromhex("050008")
SILENCE_S = 0.2


class Pcd:
    """A bare reader: one UDP socket, frames in nfcpy's "<brty> <hex>" text."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(SILENCE_S)
        self.addr = ("127.0.0.1", port)

    def send(self, frame: bytes) -> None:
        self.sock.sendto(b"106B " + frame.hex().encode(), self.addr)

    def exchange(self, frame: bytes) -> bytes | None:
        self.send(frame)
        try:
            brty, hex_frame = self.sock.recvfrom(4096)[0].split()
        except TimeoutError:
            return None
        assert brty == b"106B"
        return bytes.fromhex(hex_frame.decode())

    def field_off(self) -> None:
        self.sock.sendto(b"RFOFF", self.addr)


@pytest.fixture
def pcd(make_responder: Callable[..., CardResponder]) -> Iterator[Pcd]:
    reader = Pcd(make_responder().port)
    yield reader
    reader.sock.close()


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
