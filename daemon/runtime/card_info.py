"""What `card info` tells a technician about a card: no VERIFY, no personal data.

Token kind, certificate availability, the auth PIN counter (read without spending a try) and
the auth certificate where it is free (a phone token releases it only after the PIN).
"""

from __future__ import annotations

from dataclasses import dataclass

from myna_reader.drivers.card import (
    CertificateAvailability,
    MyNumberCard,
    PinStatus,
    TokenKind,
)
from myna_reader.drivers.certificate import CertificateInfo, parse_certificate
from myna_reader.drivers.errors import SecurityStatusError


@dataclass(frozen=True, slots=True)
class CardSummary:
    token: TokenKind
    availability: CertificateAvailability
    auth_pin: PinStatus
    certificate: CertificateInfo | None  # None where the token wants the PIN first


def summarize(card: MyNumberCard) -> CardSummary:
    jpki = card.jpki()
    certificate: CertificateInfo | None
    try:
        certificate = parse_certificate(jpki.read_auth_certificate())
    except SecurityStatusError:
        certificate = None
    return CardSummary(jpki.token_kind(), jpki.certificate_availability(),
                       jpki.auth_pin_tries(), certificate)
