"""X.509 certificates read from the card: the facts logs and the host link may use.

A certificate is named in logs by its short SHA-256 fingerprint only. The subject (and the
subjectAltName of the signing certificate) carries the holder's name and address, so it sits
behind an explicit accessor and never appears in `repr`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from myna_reader.drivers.errors import CertificateError

SHORT_FINGERPRINT_CHARS = 16


class CertificateInfo:
    """A parsed certificate. Build it with `parse_certificate`."""

    __slots__ = ("_cert", "der", "fingerprint")

    def __init__(self, der: bytes, cert: x509.Certificate) -> None:
        self.der = der
        self._cert = cert
        #: SHA-256 over the DER, lower-case hex (64 characters).
        self.fingerprint = hashlib.sha256(der).hexdigest()

    @property
    def short_fingerprint(self) -> str:
        """The first 16 hex characters of the fingerprint: the name used in logs."""
        return self.fingerprint[:SHORT_FINGERPRINT_CHARS]

    @property
    def serial_hex(self) -> str:
        return format(self._cert.serial_number, "X")

    @property
    def not_before(self) -> datetime:
        return self._cert.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self._cert.not_valid_after_utc

    @property
    def issuer(self) -> str:
        return self._cert.issuer.rfc4514_string()

    def is_expired(self, now: datetime) -> bool:
        """Whether `now` (timezone-aware) is past notAfter."""
        if now.tzinfo is None:
            raise ValueError("is_expired needs a timezone-aware datetime")
        return now > self.not_after

    def personal_subject(self) -> str:
        """The subject DN. Personal data: never log it."""
        return self._cert.subject.rfc4514_string()

    def verifies(self, message: bytes, signature: bytes) -> bool:
        """Whether `signature` is by this certificate's key: RSA PKCS#1 v1.5 over SHA-256."""
        key = self._cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CertificateInfo) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return (f"CertificateInfo(fingerprint={self.short_fingerprint}, serial={self.serial_hex}, "
                f"not_after={self.not_after.isoformat()})")


def _load(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion) as exc:  # InvalidVersion is no ValueError
        raise CertificateError(f"not a DER X.509 certificate ({len(der)} bytes)") from exc


def parse_certificate(der: bytes) -> CertificateInfo:
    """Parse DER; CertificateError if it is not a certificate."""
    der = bytes(der)
    cert = _load(der)
    try:  # cryptography parses some fields lazily: touch them now so errors surface here
        cert.serial_number  # noqa: B018
        cert.not_valid_before_utc  # noqa: B018
        cert.not_valid_after_utc  # noqa: B018
        cert.issuer.rfc4514_string()
        cert.subject  # noqa: B018
        cert.public_key()  # `verifies` needs it: an unknown key algorithm is refused here
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:  # TypeError: a bad name type
        raise CertificateError(f"malformed certificate field: {exc}") from exc
    return CertificateInfo(der, cert)


def to_pem(der: bytes) -> str:
    """The certificate as PEM text; CertificateError if `der` is not a certificate."""
    return _load(bytes(der)).public_bytes(serialization.Encoding.PEM).decode("ascii")
