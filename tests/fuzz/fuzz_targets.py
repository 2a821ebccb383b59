"""Fuzz targets shared by the hypothesis suites (bounded, in CI) and the atheris harnesses.

Each target takes untrusted bytes, feeds them to one parser of the product and swallows only
that parser's own typed error. Anything else escaping a target (a KeyError, an IndexError, a
RecursionError ...) is the bug a fuzzer is looking for.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from myna_reader.daemon.engine import (
    CardJob,
    CardJobFailed,
    CardProbed,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    ProbeCard,
    ReadCertificate,
    ReadPinCounter,
    ReleaseCard,
    Secret,
    Sign,
    VerifyPin,
)
from myna_reader.daemon.link.protocol import (
    HostProtocolError,
    LineSplitter,
    deserves_reply,
    parse_terminal_line,
)
from myna_reader.daemon.runtime.card_jobs import CardJobs
from myna_reader.daemon.runtime.config import ConfigError, load_config
from myna_reader.daemon.update.bundle import BundleError, FileEntry, Manifest
from myna_reader.drivers import records, tlv
from myna_reader.drivers.apdu import Command, Response
from myna_reader.drivers.backends.base import Reader, ReaderEvent
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.channel import CardChannel, format_masked, mask_command
from myna_reader.drivers.errors import CardRemovedError, CertificateError, FormatError, MynaError
from myna_reader.drivers.sim.profile import load_profile
from myna_reader.drivers.transcript import TranscriptError, masked_hex, parse_lines
from tests.support.repo import REPO

FIXTURES = REPO / "hw-fixtures"
TRANSCRIPTS = sorted((FIXTURES / "transcripts").glob("*.jsonl"))
CONFIG_EXAMPLE = REPO / "systemd" / "config.toml.example"
TOUR_PIN = "1234"  # the synthetic profiles' auth PIN
CHALLENGE = b"a terminal challenge of 32 bytes"

Target = Callable[[bytes], None]


# --- seeds: valid inputs that mutations start from --------------------------------------------


@cache
def certificate_seeds() -> tuple[bytes, ...]:
    jpki = load_profile("standard").jpki
    return (jpki.auth_cert, jpki.auth_ca_cert)


@cache
def record_seeds() -> tuple[bytes, ...]:
    profile = load_profile("standard")
    assert profile.text is not None and profile.visual is not None
    return (profile.text.my_number_record, profile.text.attributes_record,
            profile.visual.card_face)


@cache
def transcript_seeds() -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8") for path in TRANSCRIPTS)


@cache
def config_seed() -> str:
    return CONFIG_EXAMPLE.read_text(encoding="utf-8")


HOST_LINE_SEEDS = (
    b'{"type":"pair","id":"p1","v":1,"token":"0123456789abcdef"}',
    b'{"type":"ack","id":"a1","v":1,"ref":"result-1"}',
    b'{"type":"challenge","id":"c1","v":1,"challenge":"AAECAwQFBgcICQoLDA0ODw=="}',
    b'{"type":"passcode.issue","id":"i1","v":1,"passcode":"4821"}',
    b'{"type":"config","id":"k1","v":1,"settings":{"staff_mode":{"scope":"one"}}}',
)


# --- APDUs and the card driver ---------------------------------------------------------------


def apdu_bytes(data: bytes) -> None:
    """Command and response APDU parsing, and the trace masking of any command."""
    with contextlib.suppress(MynaError):
        Response.parse(data)
    try:
        command = Command.parse(data)
    except MynaError:
        return
    assert Command.parse(command.to_bytes()) == command
    # the masks must never fail on a command the card side accepts, nor show VERIFY data
    mask_command(data)
    format_masked(data)
    masked_hex(data)


class ScriptedReader(Reader):
    """A reader whose card answers with the given responses in order, then is gone.

    No real part can produce arbitrary wire bytes on demand: this stands for a broken card."""

    supports_extended = True

    def __init__(self, responses: Sequence[bytes]) -> None:
        self._responses = list(responses)

    @property
    def name(self) -> str:
        return "scripted"

    def wait_for_event(self, timeout: float) -> ReaderEvent | None:
        return None

    def card_present(self) -> bool:
        return bool(self._responses)

    def connect(self, *, exclusive: bool = False) -> bytes:
        return b"\x3b\x00"

    def transmit(self, apdu: bytes) -> bytes:
        if not self._responses:
            raise CardRemovedError("the scripted card has no more answers")
        return self._responses.pop(0)

    def disconnect(self, *, unpower: bool = True) -> None:
        pass


class MutatingReader(SimReader):
    """The simulated card, with the answer to exchange `at` replaced by `mutate(answer)`."""

    def __init__(self, at: int, mutate: Callable[[bytes], bytes]) -> None:
        super().__init__("standard")
        self.at = at
        self.mutate = mutate
        self.count = 0

    def transmit(self, apdu: bytes) -> bytes:
        answer = super().transmit(apdu)
        self.count += 1
        return self.mutate(answer) if self.count == self.at else answer


def run_card_jobs(reader: Reader) -> list[object]:
    """The engine's job sequence of a PIN confirmation, through the daemon's card executor.

    `CardJobs.execute` is what the runner's card worker calls with no guard of its own: it
    must answer every garbled card with an event, never raise."""
    reader.connect()
    jobs = CardJobs(reader, MyNumberCard(CardChannel(reader)))
    answers: list[object] = []
    probe = jobs.execute(ProbeCard("fuzz"))
    answers.append(probe)
    if not isinstance(probe, CardProbed):
        return answers
    # the plastic card's order: its certificate, its counter, then the PIN (docs/session.md)
    for first in (ReadCertificate("fuzz"), ReadPinCounter("fuzz")):
        answer = jobs.execute(first)
        answers.append(answer)
        if isinstance(answer, CardJobFailed) or (
                isinstance(answer, PinCounterRead) and answer.tries in (None, 0)):
            return answers
    sequence: list[CardJob] = [VerifyPin("fuzz", Secret(TOUR_PIN)), Sign("fuzz", CHALLENGE)]
    for job in sequence:
        answer = jobs.execute(job)
        answers.append(answer)
        if isinstance(answer, CardJobFailed) or (
                isinstance(answer, PinVerified) and answer.outcome is not PinOutcome.OK):
            break
    jobs.execute(ReleaseCard("fuzz"))
    return answers


def split_responses(data: bytes) -> list[bytes]:
    """Cut fuzz bytes into responses: a length byte, then that many bytes, repeated."""
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        size = data[pos]
        out.append(data[pos + 1 : pos + 1 + size])
        pos += 1 + size
    return out


def card_responses(data: bytes) -> None:
    """Arbitrary responses to every command of a confirmation."""
    run_card_jobs(ScriptedReader(split_responses(data)))


def card_mutation(data: bytes) -> None:
    """The simulated card with one answer mutated: data[0] picks the exchange, data[1] the
    kind of damage, the rest is its material."""
    if len(data) < 2:
        return
    at, kind, rest = data[0] % 24 + 1, data[1] % 4, data[2:]

    def mutate(answer: bytes) -> bytes:
        if kind == 0:  # cut short
            return answer[: len(rest) % (len(answer) + 1)]
        if kind == 1:  # another status word
            return answer[:-2] + (rest + b"\x00\x00")[:2]
        if kind == 2:  # bytes overwritten
            damaged = bytearray(answer)
            for i in range(0, len(rest) - 1, 2):
                if damaged:
                    damaged[rest[i] % len(damaged)] = rest[i + 1]
            return bytes(damaged)
        return rest  # replaced

    run_card_jobs(MutatingReader(at, mutate))


# --- TLV, records, certificates ---------------------------------------------------------------


def tlv_bytes(data: bytes) -> None:
    """BER (sequence, single object, header probe) and simple-TLV decoding, and re-encoding."""
    try:
        items = tlv.decode_ber(data)
    except FormatError:
        items = None
    if items is not None:
        assert tlv.decode_ber(b"".join(item.encode() for item in items)) == items
        for item in items:
            with contextlib.suppress(FormatError):
                item.children()
    for parse in (tlv.decode_ber_object, tlv.read_header, tlv.total_length):
        with contextlib.suppress(FormatError):
            parse(data)
    try:
        simple = tlv.decode_simple(data)
    except FormatError:
        return
    assert all(len(item.value) <= 0xFFFF for item in simple)


def record_bytes(data: bytes) -> None:
    """The personal-record parsers of the text AP and the 券面AP."""
    for parse in (records.parse_my_number, records.parse_basic_four, records.parse_card_face):
        try:
            parsed = parse(data)
        except FormatError:
            continue
        assert "<personal data>" in repr(parsed) or isinstance(parsed, str)


def certificate_bytes(data: bytes) -> None:
    """DER certificates as the card hands them over; every accessor the product uses."""
    try:
        info = parse_certificate(data)
    except CertificateError:
        return
    repr(info)
    info.short_fingerprint  # noqa: B018
    info.not_before  # noqa: B018
    info.issuer  # noqa: B018
    info.verifies(b"message", b"\x00" * 256)


# --- transcripts, host link lines, config -----------------------------------------------------


def transcript_bytes(data: bytes) -> None:
    """A transcript file as `replay` reads it (UTF-8 JSON lines)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # transcript.load maps this to TranscriptError before parsing
    with contextlib.suppress(TranscriptError):
        parse_lines(text.splitlines())


def host_line(data: bytes) -> None:
    """One line from the terminal, the split of a byte stream into lines, the reply rule."""
    refusal: HostProtocolError | None = None
    try:
        parse_terminal_line(data)
    except HostProtocolError as exc:
        refusal = exc
    if refusal is not None:  # the `error` reply must itself be a valid line
        assert json.loads(json.dumps(refusal.to_wire()))["type"] == "error"
    deserves_reply(data)
    splitter = LineSplitter(max_line=64)
    for item in splitter.feed(data) + splitter.feed(b"\n"):
        assert isinstance(item, bytes | HostProtocolError)


def config_bytes(data: bytes) -> None:
    """A config.toml file as the daemon reads it at start."""
    with tempfile.TemporaryDirectory(prefix="myna-fuzz-") as tmp:
        path = Path(tmp) / "config.toml"
        path.write_bytes(data)
        with contextlib.suppress(ConfigError):
            load_config(path)


MANIFEST_SEED = Manifest(
    version="1.2.3", min_version="1.0.0", downgrade=False, built="2026-01-01T00:00:00Z",
    key_id="0123456789abcdef", platforms=("linux_aarch64", "linux_x86_64"),
    files={"myna_reader-1.2.3-py3-none-any.whl": FileEntry("00" * 32, 123456)}).to_bytes()


def manifest_bytes(data: bytes) -> None:
    """An update bundle's manifest (parsed after its signature checked out)."""
    with contextlib.suppress(BundleError):
        Manifest.from_bytes(data).project_wheel()


TARGETS: dict[str, Target] = {
    "apdu": apdu_bytes,
    "card-responses": card_responses,
    "card-mutation": card_mutation,
    "tlv": tlv_bytes,
    "records": record_bytes,
    "certificate": certificate_bytes,
    "transcript": transcript_bytes,
    "host-line": host_line,
    "config": config_bytes,
    "manifest": manifest_bytes,
}
