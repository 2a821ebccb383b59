"""Certificate facts: fingerprint, serial, validity, issuer; personal subject kept out of repr."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from myna_reader.drivers.certificate import CertificateInfo, parse_certificate, to_pem
from myna_reader.drivers.errors import CertificateError, FormatError


def test_parse_facts(make_certificate: Callable[..., bytes]) -> None:
    der = make_certificate(serial=0x0ABCDEF123, days=10)
    info = parse_certificate(der)
    assert info.der == der
    assert info.fingerprint == hashlib.sha256(der).hexdigest()
    assert info.short_fingerprint == info.fingerprint[:16]
    assert info.serial_hex == "ABCDEF123"
    assert info.not_before == datetime(2024, 1, 1, tzinfo=UTC)
    assert info.not_after == datetime(2024, 1, 11, tzinfo=UTC)
    assert info.not_after.tzinfo is not None
    assert info.issuer == "O=Throwaway Test CA"


def test_expiry(make_certificate: Callable[..., bytes]) -> None:
    info = parse_certificate(make_certificate(days=10))
    assert not info.is_expired(datetime(2024, 1, 5, tzinfo=UTC))
    assert info.is_expired(datetime(2024, 1, 11, 0, 0, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        info.is_expired(datetime(2024, 1, 5))


def test_subject_only_behind_the_accessor(make_certificate: Callable[..., bytes]) -> None:
    info = parse_certificate(make_certificate(cn="Yamada Hanako"))
    assert info.personal_subject() == "CN=Yamada Hanako"
    assert "Yamada" not in repr(info)
    assert info.short_fingerprint in repr(info)
    assert "Yamada" not in str(info)


def test_signature_check(make_certificate: Callable[..., bytes],
                         rsa_key: rsa.RSAPrivateKey) -> None:
    info = parse_certificate(make_certificate())
    signature = rsa_key.sign(b"challenge", padding.PKCS1v15(), hashes.SHA256())
    assert info.verifies(b"challenge", signature)
    assert not info.verifies(b"other", signature)


def test_equality_is_by_der(make_certificate: Callable[..., bytes]) -> None:
    der = make_certificate()
    assert parse_certificate(der) == parse_certificate(bytes(der))
    assert parse_certificate(der) != parse_certificate(make_certificate(serial=7))
    assert len({parse_certificate(der), parse_certificate(der)}) == 1
    assert isinstance(parse_certificate(der), CertificateInfo)


@pytest.mark.parametrize("der", [b"", b"\x30\x03\x02\x01\x01", b"\xff" * 40])
def test_malformed_der(der: bytes) -> None:
    with pytest.raises(CertificateError):
        parse_certificate(der)
    with pytest.raises(CertificateError):
        to_pem(der)
    assert issubclass(CertificateError, FormatError)


def test_truncated_der(make_certificate: Callable[..., bytes]) -> None:
    der = make_certificate()
    with pytest.raises(CertificateError):
        parse_certificate(der[:-10])


def test_pem(make_certificate: Callable[..., bytes]) -> None:
    der = make_certificate()
    pem = to_pem(der)
    assert pem.startswith("-----BEGIN CERTIFICATE-----\n")
    assert pem.rstrip().endswith("-----END CERTIFICATE-----")
