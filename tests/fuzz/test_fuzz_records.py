"""BER-TLV, simple-TLV, the personal records and DER certificates (hypothesis, bounded)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.errors import CertificateError
from myna_reader.drivers.records import parse_basic_four
from tests.fuzz.fuzz_strategies import FUZZ, mutated
from tests.fuzz.fuzz_targets import (
    certificate_bytes,
    certificate_seeds,
    record_bytes,
    record_seeds,
    tlv_bytes,
)


@FUZZ
@given(st.binary(max_size=200))
def test_tlv_random_bytes(data: bytes) -> None:
    tlv_bytes(data)


@FUZZ
@given(mutated(record_seeds()))
def test_tlv_and_records_damaged(data: bytes) -> None:
    tlv_bytes(data)
    record_bytes(data)


@FUZZ
@given(mutated(certificate_seeds(), max_edits=3))
def test_certificates_damaged(data: bytes) -> None:
    certificate_bytes(data)
    tlv_bytes(data)


def test_a_certificate_of_unknown_version_is_a_certificate_error() -> None:
    """Found by atheris: cryptography raises InvalidVersion, which is no ValueError."""
    v3 = b"\xa0\x03\x02\x01\x02"  # [0] EXPLICIT INTEGER 2: X.509 v3
    der = certificate_seeds()[0]
    assert v3 in der
    with pytest.raises(CertificateError):
        parse_certificate(der.replace(v3, v3[:-1] + b"\x03", 1))


def test_a_name_attribute_of_the_wrong_string_type_is_a_certificate_error() -> None:
    """Found by atheris: an OU typed BIT STRING makes cryptography raise TypeError."""
    utf8_ou = bytes.fromhex("0603 5504 0B0C")  # OID 2.5.4.11, then a UTF8String tag
    der = certificate_seeds()[1]
    assert utf8_ou in der
    with pytest.raises(CertificateError):
        parse_certificate(der.replace(utf8_ou, utf8_ou[:-1] + b"\x03", 1))


def test_the_seeds_are_valid() -> None:
    """Mutations start from inputs the parsers accept, so they reach deep into them."""
    for der in certificate_seeds():
        parse_certificate(der)
    parse_basic_four(record_seeds()[1])
