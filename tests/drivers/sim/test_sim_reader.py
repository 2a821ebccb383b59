"""The `sim` backend: the Reader contract, scripted placement, errors, the timing model."""

import threading
import time

import pytest

from myna_reader.drivers.apdu import Command
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.errors import CardRemovedError, NoCardError, TransportError
from myna_reader.drivers.mynumber_ids import JPKI_AID, JpkiEF
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import load_profile
from myna_reader.drivers.sim.timing import TimingModel

SELECT_JPKI = bytes.fromhex("00A4040C0A") + JPKI_AID
SELECT_AUTH_PIN = bytes.fromhex("00A4020C020018")
VERIFY_1234 = bytes.fromhex("002000800431323334")
EMPTY_VERIFY = bytes.fromhex("00200080")


def test_name_spec_and_initial_insert_event() -> None:
    reader = SimReader("one-try-left")
    assert reader.name == "Simulated reader (one-try-left)"
    assert reader.spec == "sim:one-try-left"
    event = reader.wait_for_event(0)
    assert event is not None
    assert event.kind is ReaderEventKind.CARD_INSERTED
    assert event.atr == reader.profile.atr
    assert reader.wait_for_event(0) is None


def test_connect_returns_the_atr_and_transmit_moves_bytes() -> None:
    reader = SimReader(load_profile("standard"))
    assert reader.connect() == reader.profile.atr
    assert reader.transmit(SELECT_JPKI) == b"\x90\x00"


def test_absent_card() -> None:
    reader = SimReader(present=False)
    assert not reader.card_present()
    assert reader.wait_for_event(0) is None
    with pytest.raises(NoCardError):
        reader.connect()
    with pytest.raises(NoCardError):
        reader.transmit(SELECT_JPKI)


def test_removal_breaks_the_session_then_reinsertion_keeps_counters() -> None:
    reader = SimReader()
    reader.connect()
    reader.transmit(SELECT_JPKI)
    reader.transmit(SELECT_AUTH_PIN)
    reader.transmit(bytes.fromhex("002000800430303030"))
    reader.remove()
    with pytest.raises(CardRemovedError):
        reader.transmit(SELECT_JPKI)
    with pytest.raises(NoCardError):
        reader.connect()
    reader.insert()
    reader.connect()
    reader.transmit(SELECT_JPKI)
    reader.transmit(SELECT_AUTH_PIN)
    assert reader.transmit(EMPTY_VERIFY) == b"\x63\xc2"
    events = [reader.wait_for_event(0) for _ in range(3)]
    kinds = [event.kind for event in events if event is not None]
    assert kinds == [ReaderEventKind.CARD_INSERTED, ReaderEventKind.CARD_REMOVED,
                     ReaderEventKind.CARD_INSERTED]


def test_insert_places_a_given_card() -> None:
    reader = SimReader(present=False)
    card = SimulatedCard(load_profile("pin-blocked"))
    reader.insert(card)
    assert reader.card is card
    reader.connect()
    reader.transmit(SELECT_JPKI)
    reader.transmit(SELECT_AUTH_PIN)
    assert reader.transmit(EMPTY_VERIFY) == b"\x63\xc0"
    with pytest.raises(TransportError, match="already"):
        reader.insert()


def test_events_from_another_thread_reach_wait_for_event() -> None:
    reader = SimReader(present=False)
    placer = threading.Thread(target=reader.insert)
    placer.start()
    event = reader.wait_for_event(5.0)
    placer.join()
    assert event is not None
    assert event.kind is ReaderEventKind.CARD_INSERTED


@pytest.mark.parametrize(("unpower", "sign_sw"), [(True, b"\x69\x82"), (False, b"\x90\x00")])
def test_disconnect_unpower_clears_verified_state(unpower: bool, sign_sw: bytes) -> None:
    reader = SimReader()
    reader.connect()
    reader.transmit(SELECT_JPKI)
    reader.transmit(bytes.fromhex("002000980431323334"))
    reader.disconnect(unpower=unpower)
    reader.connect()
    if unpower:
        reader.transmit(SELECT_JPKI)
    sign = bytes.fromhex("802A00970301020300")
    assert reader.transmit(sign)[-2:] == sign_sw


def test_transmit_before_connect_is_refused() -> None:
    reader = SimReader()
    with pytest.raises(TransportError, match="before connect"):
        reader.transmit(SELECT_JPKI)


def test_reader_without_extended_length_refuses_extended_apdus() -> None:
    reader = SimReader(supports_extended=False)
    assert not reader.supports_extended
    reader.connect()
    reader.transmit(SELECT_JPKI)
    reader.transmit(bytes.fromhex("00A4020C02000A"))
    with pytest.raises(TransportError, match="extended"):
        reader.transmit(bytes.fromhex("00B0000000 0000".replace(" ", "")))
    assert len(reader.transmit(bytes.fromhex("00B0000000"))) == 258


def test_timing_model_sum_is_accumulated() -> None:
    model = TimingModel(processing_s=0.0005, rsa_sign_s=0.001)
    reader = SimReader(timing=model)
    reader.connect()
    exchanges = [SELECT_JPKI, SELECT_AUTH_PIN, EMPTY_VERIFY]
    responses = [reader.transmit(apdu) for apdu in exchanges]
    expected = sum(model.seconds(c, r) for c, r in zip(exchanges, responses, strict=True))
    assert reader.modelled_seconds == pytest.approx(expected)


class _SlowCard(SimulatedCard):
    """A card whose own computing takes `compute_s` of the modelled card work."""

    compute_s = 0.04

    def process(self, apdu: bytes) -> bytes:
        end = time.perf_counter() + self.compute_s
        while time.perf_counter() < end:
            pass
        return super().process(apdu)


def test_the_card_computing_is_inside_the_modelled_time_not_added_to_it() -> None:
    """The model's card work is what the simulated card computes: an exchange lasts the
    modelled time, not the model plus the simulator's own Python time."""
    model = TimingModel(processing_s=0.06)
    reader = SimReader(present=False, timing=model)
    reader.insert(_SlowCard(load_profile("standard")))
    reader.connect()
    start = time.perf_counter()
    reader.transmit(SELECT_JPKI)
    took = time.perf_counter() - start
    assert reader.modelled_seconds <= took < reader.modelled_seconds + _SlowCard.compute_s * 0.75


def test_channel_reads_the_auth_certificate_through_the_sim_backend() -> None:
    reader = SimReader()
    reader.connect()
    channel = CardChannel(reader)
    channel.exchange(Command.case3(0x00, 0xA4, 0x04, 0x0C, JPKI_AID))
    channel.exchange(Command.case3(0x00, 0xA4, 0x02, 0x0C, JpkiEF.AUTH_CERT.to_bytes(2, "big")))
    response = channel.exchange(Command.case2(0x00, 0xB0, 0x00, 0x00, 65536))
    assert response.data == reader.profile.jpki.auth_cert
