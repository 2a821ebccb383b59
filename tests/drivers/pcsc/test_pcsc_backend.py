"""The pcsc backend against a real pcscd, vpcd and the simulated card (no mocks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from myna_reader.daemon.cli import main
from myna_reader.drivers.apdu import Command
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.pcsc import PcscReader, list_readers, pcsc_error
from myna_reader.drivers.errors import (
    CardRemovedError,
    CardTimeoutError,
    NoCardError,
    ReaderBusyError,
    ReaderGoneError,
    TransportError,
)
from myna_reader.drivers.mynumber_ids import JPKI_AID, JpkiEF
from myna_reader.drivers.readers import open_reader
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.vpcd import VpcdBridge
from tests.drivers.pcsc.waits import insert_and_connect, wait_for
from tests.support.cards import ServedCard
from tests.support.pcscd import PcscdInstance

pytestmark = pytest.mark.pcscd

SW_OK = b"\x90\x00"
SW_SECURITY_STATUS = b"\x69\x82"
SELECT_JPKI = Command.case3(0x00, 0xA4, 0x04, 0x0C, JPKI_AID).to_bytes()
TEST_AUTH_PIN = b"1234"  # synthetic test PIN of every simulated profile (hw-fixtures/README.md)
DIGEST_INFO = bytes(51)  # the card signs what it is given: any short block will do


def select_ef(fid: int) -> bytes:
    return Command.case3(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")).to_bytes()


def verify(key_ef: int, pin: bytes) -> bytes:
    return Command.case3(0x00, 0x20, 0x00, 0x80 | key_ef, pin).to_bytes()


RETRY_QUERY = Command.case1(0x00, 0x20, 0x00, 0x80 | JpkiEF.AUTH_PIN).to_bytes()  # empty VERIFY
SIGN_WITH_CURRENT_KEY = Command.case4(0x80, 0x2A, 0x00, 0x80, DIGEST_INFO, 256).to_bytes()


def sign_with_auth_key(reader: PcscReader) -> bytes:
    """SELECT the auth key EF, then COMPUTE DIGITAL SIGNATURE with the current key."""
    assert reader.transmit(select_ef(JpkiEF.AUTH_KEY)) == SW_OK
    return reader.transmit(SIGN_WITH_CURRENT_KEY)


def test_list_readers_names_the_vpcd_reader(pcscd: PcscdInstance) -> None:
    assert pcscd.reader_name in list_readers()


def test_spec_strings_pick_the_reader(pcscd: PcscdInstance) -> None:
    with open_reader("pcsc:pcd 00 01") as second, open_reader("pcsc") as first:
        assert isinstance(second, PcscReader)
        assert second.name == "Virtual PCD 00 01"
        assert second.spec == "pcsc:pcd 00 01"
        assert first.name == list_readers()[0]


def test_a_missing_reader_is_reported_not_raised(pcscd: PcscdInstance) -> None:
    with PcscReader("no such reader") as absent:
        assert "no such reader" in absent.name
        assert not absent.card_present()
        assert absent.wait_for_event(0.2) is None
        with pytest.raises(ReaderGoneError):
            absent.connect()


def test_insert_and_remove_arrive_as_events(
    bridge: VpcdBridge, reader: PcscReader, card: SimulatedCard
) -> None:
    assert not reader.card_present()
    bridge.insert()
    inserted = wait_for(reader, ReaderEventKind.CARD_INSERTED)
    assert inserted.reader == reader.name
    assert inserted.atr == card.atr
    assert reader.card_present()
    bridge.remove()
    wait_for(reader, ReaderEventKind.CARD_REMOVED)
    assert not reader.card_present()
    bridge.insert()
    wait_for(reader, ReaderEventKind.CARD_INSERTED)


def test_a_card_present_before_watching_is_reported_inserted(
    bridge: VpcdBridge, make_reader: Callable[[], PcscReader]
) -> None:
    first = make_reader()
    bridge.insert()
    wait_for(first, ReaderEventKind.CARD_INSERTED)
    late = make_reader()
    assert late.wait_for_event(0).kind is ReaderEventKind.CARD_INSERTED  # type: ignore[union-attr]


def test_select_jpki_answers_9000(
    bridge: VpcdBridge, reader: PcscReader, card: SimulatedCard
) -> None:
    atr = insert_and_connect(bridge, reader)
    assert atr == card.atr
    assert reader.transmit(SELECT_JPKI) == SW_OK


def test_extended_read_binary_passes_through_vpcd(
    bridge: VpcdBridge, reader: PcscReader, card: SimulatedCard
) -> None:
    assert reader.supports_extended
    insert_and_connect(bridge, reader)
    reader.transmit(SELECT_JPKI)
    reader.transmit(select_ef(JpkiEF.AUTH_CERT))
    read_all = Command.case2(0x00, 0xB0, 0x00, 0x00, 65536)
    assert read_all.is_extended
    response = reader.transmit(read_all.to_bytes())
    auth_cert = card.profile.jpki.auth_cert
    assert len(auth_cert) > 256  # the read is one extended APDU, not a short one
    assert response == auth_cert + SW_OK


def test_exclusive_connect_keeps_another_client_out(
    bridge: VpcdBridge, make_reader: Callable[[], PcscReader]
) -> None:
    holder, other = make_reader(), make_reader()
    insert_and_connect(bridge, holder, exclusive=True)
    with pytest.raises(ReaderBusyError, match="Sharing violation"):
        other.connect()
    holder.disconnect(unpower=False)
    other.connect()
    assert other.transmit(SELECT_JPKI) == SW_OK


def test_shared_then_exclusive_keeps_the_verified_pin(
    bridge: VpcdBridge, make_reader: Callable[[], PcscReader], card: SimulatedCard
) -> None:
    holder, other = make_reader(), make_reader()
    insert_and_connect(bridge, holder)
    holder.transmit(SELECT_JPKI)
    assert holder.transmit(verify(JpkiEF.AUTH_PIN, TEST_AUTH_PIN)) == SW_OK
    holder.connect(exclusive=True)  # the switch the daemon makes once a PIN is verified
    with pytest.raises(ReaderBusyError):
        other.connect()
    assert sign_with_auth_key(holder).endswith(SW_OK)  # the VERIFY held through the switch


def test_unpower_clears_the_verified_pin_and_leave_keeps_it(
    bridge: VpcdBridge, reader: PcscReader
) -> None:
    insert_and_connect(bridge, reader)
    reader.transmit(SELECT_JPKI)
    assert reader.transmit(verify(JpkiEF.AUTH_PIN, TEST_AUTH_PIN)) == SW_OK
    assert sign_with_auth_key(reader).endswith(SW_OK)

    reader.disconnect(unpower=False)
    reader.connect()
    reader.transmit(SELECT_JPKI)
    assert sign_with_auth_key(reader).endswith(SW_OK), "LEAVE_CARD kept the session"

    reader.disconnect(unpower=True)
    reader.connect()
    reader.transmit(SELECT_JPKI)
    assert sign_with_auth_key(reader) == SW_SECURITY_STATUS
    # The empty VERIFY still reports the full counter: the PIN was not spent, only forgotten.
    assert reader.transmit(RETRY_QUERY) == b"\x63\xc3"


class _LeavesDuringRead(ServedCard):
    """The simulated card, pulled out of the reader while it answers a READ BINARY."""

    def __init__(self, card: SimulatedCard) -> None:
        super().__init__(card)
        self.bridge: VpcdBridge | None = None

    def process(self, apdu: bytes) -> bytes:
        if apdu[1] == 0xB0 and self.bridge is not None:
            self.bridge.remove()
        return self.card.process(apdu)


def test_removal_mid_exchange_raises_card_removed(
    make_bridge: Callable[..., VpcdBridge], reader: PcscReader, card: SimulatedCard
) -> None:
    leaving = _LeavesDuringRead(card)
    leaving.bridge = make_bridge(leaving)
    insert_and_connect(leaving.bridge, reader)
    reader.transmit(SELECT_JPKI)
    reader.transmit(select_ef(JpkiEF.AUTH_CERT))
    with pytest.raises(CardRemovedError):
        reader.transmit(Command.case2(0x00, 0xB0, 0x00, 0x00, 256).to_bytes())
    wait_for(reader, ReaderEventKind.CARD_REMOVED)
    reader.disconnect()  # releasing a dead handle is not an error
    with pytest.raises(NoCardError):
        reader.connect()


def test_transmit_before_connect_is_no_card(reader: PcscReader) -> None:
    with pytest.raises(NoCardError):
        reader.transmit(SELECT_JPKI)


def test_connect_with_an_empty_reader_is_no_card(reader: PcscReader) -> None:
    with pytest.raises(NoCardError):
        reader.connect()


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("SCARD_W_REMOVED_CARD", CardRemovedError),
        ("SCARD_E_NO_SMARTCARD", NoCardError),
        ("SCARD_E_READER_UNAVAILABLE", ReaderGoneError),
        ("SCARD_E_NO_SERVICE", ReaderGoneError),
        ("SCARD_E_TIMEOUT", CardTimeoutError),
        ("SCARD_E_SHARING_VIOLATION", ReaderBusyError),
        ("SCARD_F_INTERNAL_ERROR", TransportError),
    ],
)
def test_pcsc_codes_map_to_typed_errors(name: str, error: type[TransportError]) -> None:
    from smartcard import scard

    mapped = pcsc_error(getattr(scard, name), "test")
    assert type(mapped) is error
    assert isinstance(mapped, OSError)


@pytest.mark.parametrize("tcp_tuning", [True, False], ids=["quickack", "nagle"])
def test_apdu_round_trip_through_pcscd(
    make_bridge: Callable[..., VpcdBridge],
    reader: PcscReader,
    card: SimulatedCard,
    tcp_tuning: bool,
) -> None:
    """Measures (prints, never asserts) the per-APDU time with and without the QUICKACK fix."""
    bridge = make_bridge(card, tcp_tuning=tcp_tuning)
    insert_and_connect(bridge, reader)
    count = 200 if tcp_tuning else 20  # 20 x ~40 ms is enough to see the trap
    start = time.perf_counter()
    answers = {reader.transmit(SELECT_JPKI) for _ in range(count)}
    per_apdu_ms = (time.perf_counter() - start) / count * 1000
    assert answers == {SW_OK}
    print(f"\nvpcd round trip, TCP tuning {'on' if tcp_tuning else 'off'}: "
          f"{per_apdu_ms:.3f} ms per APDU over {count} APDUs")


def test_card_io_does_not_wait_behind_an_event_wait_in_another_thread(
    bridge: VpcdBridge, reader: PcscReader
) -> None:
    insert_and_connect(bridge, reader)
    waiter = threading.Thread(target=reader.wait_for_event, args=(30.0,))
    waiter.start()
    try:
        assert reader.transmit(SELECT_JPKI) == SW_OK
        assert waiter.is_alive(), "the event wait ended before the APDU came back"
    finally:
        reader.close()  # wakes the waiter
        waiter.join(timeout=10)
    assert not waiter.is_alive()


def test_close_wakes_an_event_wait(reader: PcscReader) -> None:
    results: list[object] = []
    waiter = threading.Thread(target=lambda: results.append(reader.wait_for_event(30.0)))
    waiter.start()
    reader.close()
    waiter.join(timeout=10)
    assert results == [None]


@pytest.mark.parametrize("argv", [["card", "info"], ["record", "--flow", "staff", "--out"]])
def test_an_absent_reader_fails_at_once_in_one_line(
        argv: list[str], pcscd: PcscdInstance, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    if argv[0] == "record":
        argv = [*argv, str(tmp_path / "t.jsonl")]
    assert main([*argv, "--reader", "pcsc:nosuch"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()  # no "Place the card" prompt: no wait
    assert line.startswith("myna-reader: no PC/SC reader matching 'nosuch' (readers seen: ")
    assert pcscd.reader_name in line
    assert not (tmp_path / "t.jsonl").exists()
