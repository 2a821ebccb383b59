"""The `nfc` backend through nfcpy's real stack: activation, APDUs, chaining both ways, WTX."""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from myna_reader.drivers.apdu import Command
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.errors import CardTimeoutError
from myna_reader.drivers.mynumber_ids import JPKI_AID, JpkiEF
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.nfc_udp import (
    SIGNATURE_TIMING,
    CardResponder,
    CardTiming,
    Technology,
)
from myna_reader.drivers.sim.profile import CardProfile, load_profile
from tests.support.cards import ServedCard

pytestmark = pytest.mark.nfc

SW_OK = b"\x90\x00"
SELECT_JPKI = Command.case3(0x00, 0xA4, 0x04, 0x0C, JPKI_AID).to_bytes()
MIU_AT_FSC_256 = 253  # nfcpy: FSC minus PCB and CRC_B
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def select_ef(fid: int) -> bytes:
    return Command.case3(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")).to_bytes()


def read_binary(offset: int, ne: int) -> bytes:
    return Command.case2(0x00, 0xB0, offset >> 8, offset & 0xFF, ne).to_bytes()


def ok(reader: Any, apdu: bytes) -> bytes:
    response: bytes = reader.transmit(apdu)
    assert response[-2:] == SW_OK, f"SW {response[-2:].hex().upper()} for {apdu[:4].hex()}"
    return response[:-2]


def read_file_short(reader: Any) -> bytes:
    """The current EF in short READ BINARYs of 256 until a short chunk or end of file."""
    content = b""
    while True:
        response: bytes = reader.transmit(read_binary(len(content), 256))
        if response[-2:] == b"\x6b\x00":
            return content
        assert response[-2:] == SW_OK
        content += response[:-2]
        if len(response) - 2 < 256:
            return content


def sign_command(message: bytes) -> bytes:
    digest_info = SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()
    return Command.case4(0x80, 0x2A, 0x00, 0x80, digest_info, 256).to_bytes()


def verify_and_sign(reader: Any, profile: CardProfile, message: bytes) -> bytes:
    assert profile.jpki.auth_pin is not None
    pin = profile.jpki.auth_pin.value
    assert pin is not None
    ok(reader, SELECT_JPKI)
    ok(reader, select_ef(JpkiEF.AUTH_PIN))
    ok(reader, Command.case3(0x00, 0x20, 0x00, 0x80, pin).to_bytes())
    ok(reader, select_ef(JpkiEF.AUTH_KEY))
    return ok(reader, sign_command(message))


def assert_signed_by_auth_cert(profile: CardProfile, message: bytes, signature: bytes) -> None:
    key = x509.load_der_x509_certificate(profile.jpki.auth_cert).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())  # raises if wrong


class RecordingCard(ServedCard):
    """The simulated card, noting each APDU it receives (to see chained commands arrive whole)."""

    def __init__(self, card: SimulatedCard) -> None:
        super().__init__(card)
        self.commands: list[bytes] = []

    def process(self, apdu: bytes) -> bytes:
        self.commands.append(apdu)
        return self.card.process(apdu)


def test_activation_gives_type_b_atr_and_select_answers(
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any]
) -> None:
    reader = make_reader(make_responder(fwi=10))
    assert reader.card_present()
    assert reader.supports_extended
    atr = reader.connect()
    # PC/SC part 3 ATR of a Type B card, from the responder's ATQB (docs/card-protocol.md §11.1).
    assert atr == bytes.fromhex("3B888001 000005E0 B381A1 00 7F")
    assert ok(reader, SELECT_JPKI) == b""
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        ok(reader, SELECT_JPKI)
        timings.append(time.perf_counter() - started)
    print(f"\nnfc udp: SELECT round trip median {statistics.median(timings) * 1e3:.3f} ms, "
          f"max {max(timings) * 1e3:.3f} ms over {len(timings)}")


def test_a_phone_is_activated_as_type_a(
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any]
) -> None:
    phone = SimulatedCard(load_profile("iphone"))
    reader = make_reader(make_responder(card=phone, technology=Technology.A))
    # Type A: REQA, anticollision, SELECT, RATS/ATS by nfcpy itself, then ISO-DEP
    assert reader.connect() == bytes.fromhex("3B 80 80 01 01")
    assert ok(reader, SELECT_JPKI) == b""
    label = ok(reader, bytes.fromhex("00B0860020"))  # SFI read of EF 0006: the token label
    assert label.startswith(b"JPKIAPIOSTOKEN ")
    certificate = ok(reader, bytes.fromhex("00B08A00000000"))  # EF 000A, one extended read
    assert certificate == phone.profile.jpki.auth_cert


def test_card_placed_later_is_sensed(
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any],
    expect_event: Callable[..., Any],
) -> None:
    responder = make_responder(present=False)
    reader = make_reader(responder, wait_card=False)
    assert reader.wait_for_event(0.3) is None
    assert not reader.card_present()
    responder.insert()
    event = expect_event(reader, ReaderEventKind.CARD_INSERTED)
    assert event.atr == reader.connect()
    ok(reader, SELECT_JPKI)


def test_auth_certificate_in_short_reads(
    profile: CardProfile, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any],
) -> None:
    reader = make_reader(make_responder())
    reader.connect()
    ok(reader, SELECT_JPKI)
    ok(reader, select_ef(JpkiEF.AUTH_CERT))
    started = time.perf_counter()
    content = read_file_short(reader)
    elapsed = time.perf_counter() - started
    cert = profile.jpki.auth_cert
    assert content[: len(cert)] == cert
    x509.load_der_x509_certificate(cert)
    print(f"\nnfc udp: {len(content)}-byte auth cert in short reads: {elapsed * 1e3:.2f} ms")


def test_auth_certificate_in_one_extended_read_chains_the_response(
    profile: CardProfile, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any],
) -> None:
    reader = make_reader(make_responder(fsci=8))
    reader.connect()
    ok(reader, SELECT_JPKI)
    ok(reader, select_ef(JpkiEF.AUTH_CERT))
    extended_read = read_binary(0, 65536)
    assert extended_read == bytes.fromhex("00B00000000000")
    started = time.perf_counter()
    content = ok(reader, extended_read)
    elapsed = time.perf_counter() - started
    assert len(content) + 2 > MIU_AT_FSC_256  # so the card had to chain its answer
    assert content[: len(profile.jpki.auth_cert)] == profile.jpki.auth_cert
    print(f"\nnfc udp: {len(content)}-byte auth cert in one extended read: "
          f"{elapsed * 1e3:.2f} ms")


def test_long_command_is_chained_and_reaches_the_card_whole(
    card: SimulatedCard, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any],
) -> None:
    recording = RecordingCard(card)
    reader = make_reader(make_responder(card=recording, fsci=8))
    reader.connect()
    ok(reader, SELECT_JPKI)
    # An extended-Lc command longer than one frame (like the 307-byte terminal certificate
    # of `80 A2`, docs/card-protocol.md §3.3): whatever the card makes of it, it must arrive whole.
    long_command = Command.case3(0x80, 0xA2, 0x00, 0x00, bytes(range(256)) * 2).to_bytes()
    assert len(long_command) > 2 * MIU_AT_FSC_256
    response = reader.transmit(long_command)
    assert len(response) >= 2
    assert recording.commands[-1] == long_command
    ok(reader, SELECT_JPKI)  # the block numbers are still in step


def test_verify_and_signature_checked_with_the_certificate(
    profile: CardProfile, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any],
) -> None:
    reader = make_reader(make_responder(timing=SIGNATURE_TIMING))
    reader.connect()
    message = b"challenge from the qualification-confirmation terminal"
    started = time.perf_counter()
    signature = verify_and_sign(reader, profile, message)
    elapsed = time.perf_counter() - started
    assert len(signature) == 256
    assert_signed_by_auth_cert(profile, message, signature)
    print(f"\nnfc udp: VERIFY + signature (card modelled at "
          f"{SIGNATURE_TIMING.seconds_by_ins[0x2A]} s): {elapsed * 1e3:.1f} ms")


def test_small_frames_chain_the_signature_command(
    profile: CardProfile, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any],
) -> None:
    # FSC 32 (29 bytes per I-block): the 57-byte sign command goes out in two chained
    # blocks; a wrong reassembly would break the signature.
    reader = make_reader(make_responder(fsci=2))
    reader.connect()
    message = b"small frames"
    assert_signed_by_auth_cert(profile, message, verify_and_sign(reader, profile, message))


def test_wtx_lets_the_card_compute_past_its_frame_waiting_time(
    profile: CardProfile, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any],
) -> None:
    # FWI 6: FWT ≈ 19 ms, far below the modelled 0.3 s signature: only S(WTX) saves it.
    reader = make_reader(make_responder(fwi=6, timing=SIGNATURE_TIMING))
    reader.connect()
    message = b"needs more time"
    assert_signed_by_auth_cert(profile, message, verify_and_sign(reader, profile, message))


def test_card_slower_than_fwt_without_wtx_times_out(
    profile: CardProfile, make_responder: Callable[..., CardResponder],
    make_reader: Callable[..., Any], bounded: Callable[..., Any],
) -> None:
    slow = CardTiming(SIGNATURE_TIMING.seconds_by_ins, wtx=False)
    reader = make_reader(make_responder(fwi=6, timing=slow))
    reader.connect()
    started = time.perf_counter()
    _, error = bounded(lambda: verify_and_sign(reader, profile, b"too slow"))
    assert isinstance(error, CardTimeoutError), error
    print(f"\nnfc udp: FWI 6 card without WTX: CardTimeoutError after "
          f"{(time.perf_counter() - started) * 1e3:.0f} ms")
    assert reader.card_present()  # it timed out; it did not leave


def test_long_fwt_of_fwi_13_is_honoured(
    make_responder: Callable[..., CardResponder], make_reader: Callable[..., Any]
) -> None:
    # FWI 13 (FWT ≈ 2.47 s, the third ATQB of docs/card-protocol.md §11.1): a 1.5 s answer with
    # no WTX is still within the card's frame waiting time, so the reader must wait for it.
    slow_select = CardTiming({0xA4: 1.5}, wtx=False)
    reader = make_reader(make_responder(fwi=13, timing=slow_select))
    reader.connect()
    assert ok(reader, SELECT_JPKI) == b""
