"""Faults through nfcpy's real stack: removal, a silent card, lost frames, field off."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from myna_reader.drivers.apdu import Command
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.errors import CardRemovedError, CardTimeoutError, NoCardError
from myna_reader.drivers.mynumber_ids import JPKI_AID, JpkiEF
from myna_reader.drivers.sim.nfc_udp import CardResponder
from myna_reader.drivers.sim.profile import CardProfile

pytestmark = pytest.mark.nfc

SW_OK = b"\x90\x00"
SW_SECURITY_STATUS = b"\x69\x82"
SELECT_JPKI = Command.case3(0x00, 0xA4, 0x04, 0x0C, JPKI_AID).to_bytes()
SELECT_AUTH_CERT, SELECT_AUTH_KEY, SELECT_AUTH_PIN = (
    Command.case3(0x00, 0xA4, 0x02, 0x0C, ef.to_bytes(2, "big")).to_bytes()
    for ef in (JpkiEF.AUTH_CERT, JpkiEF.AUTH_KEY, JpkiEF.AUTH_PIN)
)
EXTENDED_READ = Command.case2(0x00, 0xB0, 0x00, 0x00, 65536).to_bytes()
SIGN = Command.case4(0x80, 0x2A, 0x00, 0x80, bytes(51), 256).to_bytes()
# A scripted fault must meet the exchange under test, not the reader's presence check:
# these tests open the reader with its presence checks far apart.
QUIET_MONITOR_S = 60.0


def short_read(offset: int) -> bytes:
    return Command.case2(0x00, 0xB0, offset >> 8, offset & 0xFF, 256).to_bytes()


def verify_auth_pin(reader: Any, profile: CardProfile) -> None:
    assert profile.jpki.auth_pin is not None
    pin = profile.jpki.auth_pin.value
    assert pin is not None
    assert reader.transmit(SELECT_JPKI) == SW_OK
    assert reader.transmit(SELECT_AUTH_PIN) == SW_OK
    assert reader.transmit(Command.case3(0x00, 0x20, 0x00, 0x80, pin).to_bytes()) == SW_OK


def sign_status(reader: Any) -> bytes:
    assert reader.transmit(SELECT_JPKI) == SW_OK
    assert reader.transmit(SELECT_AUTH_KEY) == SW_OK
    response: bytes = reader.transmit(SIGN)
    return response[-2:]


def wait_until(condition: Callable[[], bool]) -> None:
    while not condition():
        time.sleep(0.01)


def timed(bounded: Callable[..., Any], action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    _, error = bounded(action)
    return error, time.perf_counter() - started


def test_removal_between_short_reads(
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any],
    expect_event: Callable[..., Any], bounded: Callable[..., Any],
) -> None:
    responder = make_responder()
    reader = make_reader(responder)
    reader.connect()
    assert reader.transmit(SELECT_JPKI) == SW_OK
    assert reader.transmit(SELECT_AUTH_CERT) == SW_OK
    assert reader.transmit(short_read(0))[-2:] == SW_OK
    responder.remove()
    error, seconds = timed(bounded, lambda: reader.transmit(short_read(256)))
    assert isinstance(error, CardRemovedError), error
    print(f"\nnfc udp: removal between reads -> CardRemovedError after {seconds * 1e3:.0f} ms")
    expect_event(reader, ReaderEventKind.CARD_REMOVED)
    assert not reader.card_present()
    with pytest.raises(CardRemovedError):
        reader.transmit(SELECT_JPKI)
    reader.disconnect()
    with pytest.raises(NoCardError):
        reader.connect()


def test_removal_in_the_middle_of_a_chained_answer(
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any],
    expect_event: Callable[..., Any], bounded: Callable[..., Any],
) -> None:
    responder = make_responder()
    reader = make_reader(responder, presence_interval=QUIET_MONITOR_S)
    reader.connect()
    assert reader.transmit(SELECT_JPKI) == SW_OK
    assert reader.transmit(SELECT_AUTH_CERT) == SW_OK
    responder.remove(after_frames=2)  # two chained blocks of the certificate, then gone
    error, seconds = timed(bounded, lambda: reader.transmit(EXTENDED_READ))
    assert isinstance(error, CardRemovedError), error
    print(f"\nnfc udp: removal mid-chain -> CardRemovedError after {seconds * 1e3:.0f} ms")
    expect_event(reader, ReaderEventKind.CARD_REMOVED)


def test_presence_check_notices_removal_and_a_new_card_starts_fresh(
    profile: CardProfile, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any], expect_event: Callable[..., Any],
) -> None:
    responder = make_responder()
    reader = make_reader(responder)
    reader.connect()
    verify_auth_pin(reader, profile)
    responder.remove()  # while no exchange runs: only the presence check can see it
    expect_event(reader, ReaderEventKind.CARD_REMOVED)
    with pytest.raises(CardRemovedError):
        reader.transmit(SELECT_JPKI)
    reader.disconnect()
    responder.insert()
    expect_event(reader, ReaderEventKind.CARD_INSERTED)
    reader.connect()
    assert sign_status(reader) == SW_SECURITY_STATUS  # leaving the field ended the VERIFY


def test_card_that_stops_answering_times_out_and_recovers_on_field_reset(
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any],
    bounded: Callable[..., Any],
) -> None:
    responder = make_responder(fwi=10)
    reader = make_reader(responder, presence_interval=QUIET_MONITOR_S)
    reader.connect()
    assert reader.transmit(SELECT_JPKI) == SW_OK
    responder.hang()
    error, seconds = timed(bounded, lambda: reader.transmit(SELECT_AUTH_CERT))
    assert isinstance(error, CardTimeoutError), error
    print(f"\nnfc udp: silent card (FWI 10) -> CardTimeoutError after {seconds * 1e3:.0f} ms")
    assert reader.card_present()
    with pytest.raises(CardRemovedError):  # the field reset ended that session
        reader.transmit(SELECT_JPKI)
    reader.connect()
    assert reader.transmit(SELECT_JPKI) == SW_OK
    assert reader.wait_for_event(0.2) is None  # it never left the reader


def test_card_that_hangs_mid_chain_times_out(
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any],
    bounded: Callable[..., Any],
) -> None:
    responder = make_responder(fwi=13)  # FWT ≈ 2.47 s and no retries in nfcpy
    reader = make_reader(responder, presence_interval=QUIET_MONITOR_S)
    reader.connect()
    assert reader.transmit(SELECT_JPKI) == SW_OK
    assert reader.transmit(SELECT_AUTH_CERT) == SW_OK
    responder.hang(after_frames=1)
    error, seconds = timed(bounded, lambda: reader.transmit(EXTENDED_READ))
    assert isinstance(error, CardTimeoutError), error
    print(f"\nnfc udp: card hung mid-chain (FWI 13) -> CardTimeoutError after "
          f"{seconds * 1e3:.0f} ms")


LONG_COMMAND = Command.case3(0x80, 0xA2, 0x00, 0x00, bytes(512)).to_bytes()


@pytest.mark.parametrize("command", [SELECT_JPKI, EXTENDED_READ, LONG_COMMAND],
                         ids=["i-block", "chained-answer", "chained-command"])
def test_lost_card_frames_are_recovered_by_iso_dep(
    command: bytes, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any],
) -> None:
    responder = make_responder()
    reader = make_reader(responder, presence_interval=QUIET_MONITOR_S)
    reader.connect()
    assert reader.transmit(SELECT_JPKI) == SW_OK
    assert reader.transmit(SELECT_AUTH_CERT) == SW_OK
    expected = reader.transmit(command)
    responder.lose_answers(1)  # the reader's R(NAK) makes the card send it again
    assert reader.transmit(command) == expected
    assert reader.transmit(SELECT_JPKI) == SW_OK


def test_a_lost_presence_check_answer_does_not_end_the_session(
    profile: CardProfile, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any], bounded: Callable[..., Any],
) -> None:
    responder = make_responder()
    reader = make_reader(responder, presence_interval=0.02)
    reader.connect()
    verify_auth_pin(reader, profile)
    responder.lose_answers(1)  # no exchange runs: the presence check meets the loss
    _, error = bounded(lambda: wait_until(lambda: not responder.faults_pending))
    assert error is None
    assert sign_status(reader) == SW_OK  # same session: the VERIFY still holds
    assert reader.wait_for_event(0.1) is None


@pytest.mark.parametrize(("unpower", "after"), [(True, SW_SECURITY_STATUS), (False, SW_OK)])
def test_field_off_clears_the_verified_state(
    unpower: bool, after: bytes, profile: CardProfile,
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any],
) -> None:
    reader = make_reader(make_responder())
    reader.connect()
    verify_auth_pin(reader, profile)
    assert sign_status(reader) == SW_OK
    reader.disconnect(unpower=unpower)
    reader.connect()
    assert sign_status(reader) == after
    assert reader.card_present()


def test_presence_checks_never_interleave_with_exchanges(
    profile: CardProfile, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any],
) -> None:
    reader = make_reader(make_responder(), presence_interval=0.001)
    reader.connect()
    verify_auth_pin(reader, profile)
    for _ in range(300):
        assert reader.transmit(SELECT_JPKI) == SW_OK
    assert sign_status(reader) == SW_OK  # the card was never reset under the session
    assert reader.wait_for_event(0.1) is None


def test_no_card_and_no_connect_are_told_apart(
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any],
) -> None:
    reader = make_reader(make_responder(present=False), wait_card=False)
    with pytest.raises(NoCardError):
        reader.connect()
    with pytest.raises(NoCardError):
        reader.transmit(SELECT_JPKI)
