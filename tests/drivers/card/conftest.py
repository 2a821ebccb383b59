"""Fixtures of the card-driver tests: scripted conversations and synthetic certificates.

Byte-exact tests script the card with the project's own `replay` backend: it is the real
backend that plays transcripts, and it fails on the first command that differs from the script
(naming the byte), so it is the tool that checks the bytes on the wire. Integration tests use
the simulated card (`SimReader`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.replay import ReplayReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.transcript import CardEvent, Header, Step, Transcript

Script = Callable[..., tuple[MyNumberCard, ReplayReader]]


@pytest.fixture
def scripted() -> Script:
    """`scripted((cmd_hex, rsp), ..., extended=False)` -> a card over a replayed script.

    `rsp` is hex or raw bytes; a `ReaderEventKind` entry puts a card event in the script.
    """

    def build(*pairs: tuple[str, str | bytes] | ReaderEventKind,
              extended: bool = False) -> tuple[MyNumberCard, ReplayReader]:
        entries = tuple(
            CardEvent(pair) if isinstance(pair, ReaderEventKind)
            else Step(pair[0].replace(" ", "").upper(),
                      pair[1] if isinstance(pair[1], bytes) else bytes.fromhex(pair[1]))
            for pair in pairs
        )
        transcript = Transcript(Header("card-driver-test", supports_extended=extended),
                                (CardEvent(ReaderEventKind.CARD_INSERTED), *entries))
        reader = ReplayReader(transcript)
        reader.connect()
        return MyNumberCard(CardChannel(reader)), reader

    return build


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def make_certificate(rsa_key: rsa.RSAPrivateKey) -> Callable[..., bytes]:
    """A self-signed synthetic certificate (DER); `padding` grows it with an extension."""

    def build(*, serial: int = 0x1234ABCD, days: int = 365, padding: int = 0,
              cn: str = "Synthetic Holder",
              key: rsa.RSAPrivateKey = rsa_key) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        issuer = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Throwaway Test CA")])
        start = datetime(2024, 1, 1, tzinfo=UTC)
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(serial)
                   .not_valid_before(start).not_valid_after(start + timedelta(days=days)))
        if padding:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x00" * padding),
                critical=False)
        cert = builder.sign(key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.DER)

    return build


@pytest.fixture(scope="session")
def certificate_of_size(make_certificate: Callable[..., bytes]) -> Callable[[int], bytes]:
    """A synthetic certificate of exactly `size` DER bytes (at least ~430).

    A 1024-bit key keeps small sizes reachable and the signature length fixed.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)

    def build(size: int) -> bytes:
        padding = 0
        for _ in range(10):
            der = make_certificate(padding=padding, key=key)
            if len(der) == size:
                return der
            padding = max(0, padding + size - len(der))
        raise AssertionError(f"no certificate of exactly {size} bytes")

    return build
