"""The JPKI AP (公的個人認証AP): token kind, certificates, PIN, signatures.

Its files and the signature: docs/card-protocol.md §4 and §9. The certificates and token
info are cached for the power session: a card's are immutable. Certificates are checked to be
X.509 DER (CertificateError otherwise) and named in the log by their short fingerprint only.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from dataclasses import dataclass

from myna_reader.drivers import pin
from myna_reader.drivers.apdu import SHORT_NE_MAX, Command
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.errors import FormatError, MalformedResponseError, SecurityStatusError
from myna_reader.drivers.files import CardFiles
from myna_reader.drivers.mynumber_ids import (
    CERT_PRESENT,
    JPKI_AID,
    TOKEN_LABEL_ANDROID,
    TOKEN_LABEL_CARD,
    TOKEN_LABEL_IOS,
    JpkiEF,
)
from myna_reader.drivers.pin import PinStatus

log = logging.getLogger(__name__)

TOKEN_LABEL_SIZE = 32  # CK_TOKEN_INFO.label, space padded; the other 128 bytes are not needed
CERT_AVAILABILITY_SIZE = 3
CLA_PROPRIETARY = 0x80
INS_COMPUTE_DIGITAL_SIGNATURE = 0x2A
P1_PKCS1_OF_DATA = 0x00  # the card pads the given DigestInfo with PKCS#1 v1.5 type 1
P2_KEY_OF_CURRENT_EF = 0x80
#: DER DigestInfo header for SHA-256; the 32-byte hash follows (51 bytes in all).
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300D060960864801650304020105000420")


class TokenKind(enum.Enum):
    """What carries the JPKI AP, from the label in EF 0006 (docs/card-protocol.md §4)."""

    PLASTIC_CARD = TOKEN_LABEL_CARD
    ANDROID = TOKEN_LABEL_ANDROID  # スマホ用電子証明書 on the phone's secure element
    IPHONE = TOKEN_LABEL_IOS
    UNKNOWN = "unknown"

    @classmethod
    def from_label(cls, label: bytes) -> TokenKind:
        text = label.decode("ascii", errors="replace").rstrip(" \x00")
        known = {kind.value: kind for kind in cls if kind is not cls.UNKNOWN}
        return known.get(text, cls.UNKNOWN)

    @property
    def pin_on_reader(self) -> bool:
        """Whether the auth PIN is typed on the reader: the card and Android, not an iPhone
        (its holder authenticates on the phone, and it answers no PIN key on the reader)."""
        return self in (TokenKind.PLASTIC_CARD, TokenKind.ANDROID)

    @property
    def certificate_needs_pin(self) -> bool:
        """Whether EF 000A reads only after VERIFY of the auth PIN (Android)."""
        return self is TokenKind.ANDROID


class PhoneNotAuthenticatedError(SecurityStatusError):
    """An iPhone refused the signature: its holder has not authenticated on the phone (Face ID
    / Touch ID) yet. The patient authenticates on the iPhone and holds it to the reader again."""


@dataclass(frozen=True, slots=True)
class CertificateAvailability:
    """Which certificates the card holds (EF 0008; no signing one under 15 or on a face card)."""

    sign: bool
    auth: bool

    @classmethod
    def from_bytes(cls, raw: bytes) -> CertificateAvailability:
        if len(raw) < 2:
            raise FormatError(f"certificate availability needs 2 bytes, got {len(raw)}")
        return cls(sign=raw[0] == CERT_PRESENT, auth=raw[1] == CERT_PRESENT)


def sha256_digest_info(message: bytes) -> bytes:
    """The 51-byte DigestInfo the card signs for `message`."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()


def sign_command(digest_info: bytes) -> Command:
    return Command.case4(CLA_PROPRIETARY, INS_COMPUTE_DIGITAL_SIGNATURE, P1_PKCS1_OF_DATA,
                         P2_KEY_OF_CURRENT_EF, digest_info, SHORT_NE_MAX)


class JpkiAp:
    """Handle on the JPKI AP. Every call selects the AP itself (no APDU if already selected)."""

    def __init__(self, files: CardFiles) -> None:
        self._files = files

    # --- free files -------------------------------------------------------------------------

    def token_kind(self) -> TokenKind:
        label = self._files.read_prefix(JPKI_AID, JpkiEF.TOKEN_INFO, TOKEN_LABEL_SIZE, cache=True)
        return TokenKind.from_label(label)

    def certificate_availability(self) -> CertificateAvailability:
        raw = self._files.read_prefix(JPKI_AID, JpkiEF.CERT_AVAILABILITY,
                                      CERT_AVAILABILITY_SIZE, cache=True)
        return CertificateAvailability.from_bytes(raw)

    def read_auth_certificate(self) -> bytes:
        """利用者証明用電子証明書 (DER). Free on a plastic card and an iPhone; an Android token
        releases it only after `verify_auth_pin` (6982, SecurityStatusError, before)."""
        return self._certificate(JpkiEF.AUTH_CERT)

    def read_auth_ca_certificate(self) -> bytes:
        return self._certificate(JpkiEF.AUTH_CA_CERT)

    # --- user authentication key (the patient's PIN mode) -----------------------------------

    def auth_pin_tries(self) -> PinStatus:
        return pin.query_status(self._files, JPKI_AID, JpkiEF.AUTH_PIN)

    def verify_auth_pin(self, auth_pin: str) -> None:
        """One VERIFY of the 4-digit auth PIN. Query `auth_pin_tries()` first; never retried."""
        secret = pin.four_digit_pin(auth_pin)
        pin.verify(self._files, JPKI_AID, JpkiEF.AUTH_PIN, secret)

    def sign_with_auth_key(self, message: bytes) -> bytes:
        """RSA PKCS#1 v1.5 signature over SHA-256(`message`) with the auth key: after
        `verify_auth_pin` on a card or Android; on an iPhone after its holder authenticated
        on the phone, else PhoneNotAuthenticatedError (the phone's 6982)."""
        try:
            return self._sign(JpkiEF.AUTH_KEY, message)
        except SecurityStatusError as exc:
            if self.token_kind() is TokenKind.IPHONE:
                raise PhoneNotAuthenticatedError(exc.sw, "the iPhone refused the signature: "
                                                 "authenticate on the iPhone first") from exc
            raise

    def _certificate(self, fid: JpkiEF) -> bytes:
        der = self._files.read_object(JPKI_AID, fid, cache=True)
        info = parse_certificate(der)
        log.debug("JPKI %s: certificate %s (%d bytes)", fid.name, info.short_fingerprint, len(der))
        return der

    def _sign(self, key_fid: int, message: bytes) -> bytes:
        self._files.select(JPKI_AID, key_fid)
        signature = self._files.exchange(sign_command(sha256_digest_info(message))).data
        if not signature:
            raise MalformedResponseError("the card answered 9000 to a signature with no data")
        return signature
