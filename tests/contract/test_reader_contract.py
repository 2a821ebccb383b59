"""One contract, four backends: sim, replay, pcsc (real pcscd + vpcd) and nfc (nfcpy's udp stack).

Every backend must report card placement and removal, move APDUs both ways, let the card driver
run a whole PIN-mode confirmation, raise a typed transport error once the card is gone, and
clear the card's verified state when the session ends with `unpower=True`. Phones go through
every backend too: an Android token (PIN on the reader, certificate after VERIFY) and an
iPhone (no PIN; the signature refused until the holder authenticated on the phone), which the
nfc backend meets as a Type A card.

The replay backend runs each contract body twice: recorded on the simulated card, then replayed
from that recording (masked PIN and all), which is how field transcripts are used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from myna_reader.drivers.backends.base import Reader, ReaderEvent, ReaderEventKind
from myna_reader.drivers.backends.replay import ReplayReader
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard, TokenKind
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.errors import SecurityStatusError, TransportError
from myna_reader.drivers.jpki import PhoneNotAuthenticatedError
from myna_reader.drivers.mynumber_ids import JPKI_AID
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import CardProfile, load_profile
from myna_reader.drivers.transcript import CardEvent, Entry, Header, Step, Transcript, masked_hex
from tests.support.pcscd import PcscdInstance

EVENT_TIMEOUT_S = 5.0  # bounds a wait so that a lost event fails instead of hanging
SELECT_JPKI = bytes.fromhex("00A4040C0A") + JPKI_AID
CHALLENGE = b"contract challenge"


@dataclass
class Bench:
    reader: Reader
    place: Callable[[], None]
    remove: Callable[[], None]
    profile: CardProfile = field(default_factory=lambda: load_profile("standard"))
    #: the holder authenticates on the phone (iPhone); a replay has it in its recording
    authenticate: Callable[[], None] = lambda: None

    def expect(self, kind: ReaderEventKind) -> ReaderEvent:
        seen = []
        while (event := self.reader.wait_for_event(EVENT_TIMEOUT_S)) is not None:
            if event.kind is kind:
                return event
            seen.append(event)
        pytest.fail(f"no {kind.value} event within {EVENT_TIMEOUT_S} s (saw {seen})")


class RecordingReader(Reader):
    """A reader that keeps what passes through it as transcript entries (for the replay run)."""

    def __init__(self, inner: Reader) -> None:
        self.inner = inner
        self.supports_extended = inner.supports_extended
        self.entries: list[Entry] = []

    @property
    def name(self) -> str:
        return self.inner.name

    def wait_for_event(self, timeout: float) -> ReaderEvent | None:
        event = self.inner.wait_for_event(timeout)
        if event is not None:
            self.entries.append(CardEvent(event.kind))
        return event

    def card_present(self) -> bool:
        return self.inner.card_present()

    def connect(self, *, exclusive: bool = False) -> bytes:
        self.atr = self.inner.connect(exclusive=exclusive)
        return self.atr

    def transmit(self, apdu: bytes) -> bytes:
        try:
            response = self.inner.transmit(apdu)
        except TransportError:
            self.entries.append(CardEvent(ReaderEventKind.CARD_REMOVED))
            raise
        self.entries.append(Step(masked_hex(apdu), response))
        return response

    def disconnect(self, *, unpower: bool = True) -> None:
        self.inner.disconnect(unpower=unpower)


Body = Callable[[Bench], None]
Run = Callable[..., None]  # run(body, profile="standard")


def _sim_bench(profile: CardProfile) -> Bench:
    reader = SimReader(profile, present=False, supports_extended=False)
    return Bench(reader, reader.insert, reader.remove, profile, reader.card.authenticate_holder)


@pytest.fixture(params=["sim", "replay", "pcsc", "nfc"])
def run_contract(request: pytest.FixtureRequest) -> Iterator[Callable[[Body], None]]:
    backend = request.param
    cleanups: list[Callable[[], None]] = []

    def run(body: Body, profile_name: str = "standard") -> None:
        profile = load_profile(profile_name)
        if backend == "sim":
            body(_sim_bench(profile))
        elif backend == "replay":
            sim = _sim_bench(profile)
            recording = RecordingReader(sim.reader)
            body(Bench(recording, sim.place, sim.remove, profile, sim.authenticate))
            header = Header("contract", supports_extended=recording.supports_extended,
                            atr=getattr(recording, "atr", b""))
            replay = ReplayReader(Transcript(header, tuple(recording.entries)))
            body(Bench(replay, lambda: None, lambda: None, profile))
            assert replay.finished, "the replayed body stopped before the recording did"
        elif backend == "pcsc":
            from myna_reader.drivers.backends.pcsc import PcscReader
            from myna_reader.drivers.sim.vpcd import VpcdBridge

            pcscd: PcscdInstance = request.getfixturevalue("pcscd")
            card = SimulatedCard(profile)
            bridge = VpcdBridge(card, pcscd.host, pcscd.port)
            reader = PcscReader(pcscd.reader_name)
            bench = Bench(reader, bridge.insert, bridge.remove, profile, card.authenticate_holder)

            def settle() -> None:  # leave pcscd with no card for the next test
                bridge.remove()
                if reader.card_present():
                    bench.expect(ReaderEventKind.CARD_REMOVED)
                reader.close()

            cleanups.append(settle)
            body(bench)
        else:
            from myna_reader.drivers.backends.nfc import NfcReader
            from myna_reader.drivers.sim.nfc_udp import CardResponder, Technology

            card = SimulatedCard(profile)
            responder = CardResponder(card, technology=Technology[profile.rf],
                                      present=False).start()
            cleanups.append(responder.close)
            nfc_reader = NfcReader(f"udp:127.0.0.1:{responder.port}", poll_interval=0.05,
                                   presence_interval=0.1)
            cleanups.append(nfc_reader.close)
            body(Bench(nfc_reader, responder.insert, responder.remove, profile,
                       card.authenticate_holder))

    yield run
    for cleanup in reversed(cleanups):
        cleanup()


def _placed(bench: Bench) -> bytes:
    bench.place()
    event = bench.expect(ReaderEventKind.CARD_INSERTED)
    atr = bench.reader.connect()
    assert atr, "connect returns the card's ATR"
    assert event.kind is ReaderEventKind.CARD_INSERTED
    return atr


def test_placement_exchange_and_removal(run_contract: Run) -> None:
    def body(bench: Bench) -> None:
        _placed(bench)
        assert bench.reader.card_present()
        assert bench.reader.transmit(SELECT_JPKI)[-2:] == b"\x90\x00"
        bench.reader.disconnect(unpower=True)
        bench.remove()
        bench.expect(ReaderEventKind.CARD_REMOVED)
        assert not bench.reader.card_present()

    run_contract(body)


def test_a_whole_pin_confirmation_through_the_driver(run_contract: Run) -> None:
    def body(bench: Bench) -> None:
        _placed(bench)
        channel = CardChannel(bench.reader)
        jpki = MyNumberCard(channel).jpki()
        assert jpki.auth_pin_tries().tries_left == 3
        jpki.verify_auth_pin("1234")
        certificate = jpki.read_auth_certificate()
        signature = jpki.sign_with_auth_key(CHALLENGE)
        assert certificate == bench.profile.jpki.auth_cert
        assert parse_certificate(certificate).verifies(CHALLENGE, signature)
        # SELECT AP, SELECT 0018, empty VERIFY, VERIFY, SELECT 000A, READs, SELECT 0017, sign
        reads = 1 if bench.reader.supports_extended else -(-len(certificate) // 256)
        assert channel.apdu_count == 7 + reads
        bench.reader.disconnect(unpower=True)

    run_contract(body)


def test_a_removed_card_is_a_transport_error(run_contract: Run) -> None:
    def body(bench: Bench) -> None:
        _placed(bench)
        bench.reader.transmit(SELECT_JPKI)
        bench.remove()
        bench.expect(ReaderEventKind.CARD_REMOVED)
        with pytest.raises(TransportError):
            bench.reader.transmit(SELECT_JPKI)

    run_contract(body)


def test_unpower_clears_the_verified_pin(run_contract: Run) -> None:
    def body(bench: Bench) -> None:
        _placed(bench)
        card = MyNumberCard(CardChannel(bench.reader))
        jpki = card.jpki()
        jpki.auth_pin_tries()
        jpki.verify_auth_pin("1234")
        bench.reader.disconnect(unpower=True)
        bench.reader.connect()
        card.reset()
        with pytest.raises(SecurityStatusError):
            card.jpki().sign_with_auth_key(CHALLENGE)
        bench.reader.disconnect(unpower=True)

    run_contract(body)


def _certificate_reads(bench: Bench, certificate: bytes) -> int:
    return 1 if bench.reader.supports_extended else -(-len(certificate) // 256)


def test_an_android_phone_pin_confirmation(run_contract: Run) -> None:
    def body(bench: Bench) -> None:
        atr = _placed(bench)
        assert atr == bench.profile.atr  # the Type A ATR on every backend
        channel = CardChannel(bench.reader)
        jpki = MyNumberCard(channel).jpki()
        assert jpki.token_kind() is TokenKind.ANDROID
        with pytest.raises(SecurityStatusError):  # EF 000A is closed before the PIN
            jpki.read_auth_certificate()
        before = channel.apdu_count
        assert jpki.auth_pin_tries().tries_left == 3  # the phone's own counter
        jpki.verify_auth_pin("1234")
        certificate = jpki.read_auth_certificate()
        signature = jpki.sign_with_auth_key(CHALLENGE)
        assert parse_certificate(certificate).verifies(CHALLENGE, signature)
        # SELECT 0018, empty VERIFY, VERIFY, SELECT 000A, READs, SELECT 0017, sign
        assert channel.apdu_count - before == 6 + _certificate_reads(bench, certificate)
        bench.reader.disconnect(unpower=True)

    run_contract(body, "android-phone")


def test_an_iphone_signs_after_its_holder_authenticated(run_contract: Run) -> None:
    def body(bench: Bench) -> None:
        _placed(bench)
        channel = CardChannel(bench.reader)
        jpki = MyNumberCard(channel).jpki()
        assert jpki.token_kind() is TokenKind.IPHONE
        certificate = jpki.read_auth_certificate()  # free: no PIN on the reader
        with pytest.raises(PhoneNotAuthenticatedError):
            jpki.sign_with_auth_key(CHALLENGE)
        # SELECT AP, SELECT 0006 + READ, SELECT 000A + READs, SELECT 0017, sign refused
        assert channel.apdu_count == 6 + _certificate_reads(bench, certificate)
        bench.reader.disconnect(unpower=True)
        bench.remove()
        bench.expect(ReaderEventKind.CARD_REMOVED)
        bench.authenticate()  # Face ID on the phone, then the phone is held again
        _placed(bench)
        channel = CardChannel(bench.reader)
        jpki = MyNumberCard(channel).jpki()
        assert jpki.token_kind() is TokenKind.IPHONE
        assert jpki.read_auth_certificate() == certificate
        signature = jpki.sign_with_auth_key(CHALLENGE)
        assert parse_certificate(certificate).verifies(CHALLENGE, signature)
        assert channel.apdu_count == 6 + _certificate_reads(bench, certificate)  # the floor
        bench.reader.disconnect(unpower=True)

    run_contract(body, "iphone")
