"""The card conversations the reader holds, composed from the card driver.

One definition each, used by `record`, `replay`, `bench` and the walkthrough, so that what is
measured and recorded is exactly what the reader does:

- `visual`: the staff visual-check mode reads the auth certificate, no PIN
  (SELECT JPKI AP, SELECT 000A, READ BINARY until the certificate's BER length).
- `pin`: the unattended PIN mode: retry counter first (never a blind VERIFY), one VERIFY,
  the auth certificate, a signature over the terminal's challenge. The PIN comes before the
  certificate because an Android token only releases its certificate after the PIN.
- `info`: the technician's `card info`: token kind, certificate availability, PIN counter and
  the auth certificate where it is free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from myna_reader.drivers.card import (
    CertificateAvailability,
    MyNumberCard,
    PinStatus,
    TokenKind,
)
from myna_reader.drivers.certificate import CertificateInfo, parse_certificate
from myna_reader.drivers.errors import PinBlockedError, SecurityStatusError
from myna_reader.drivers.pin import four_digit_pin

FLOWS = ("visual", "pin", "info")


@dataclass(frozen=True, slots=True)
class CardSummary:
    token: TokenKind
    availability: CertificateAvailability
    auth_pin: PinStatus
    certificate: CertificateInfo | None  # None where the token wants the PIN first


@dataclass(frozen=True, slots=True)
class PinConfirmation:
    certificate: bytes
    signature: bytes


def visual_check(card: MyNumberCard) -> bytes:
    return card.jpki().read_auth_certificate()


def pin_confirmation(card: MyNumberCard, pin: str, challenge: bytes) -> PinConfirmation:
    four_digit_pin(pin)  # a malformed PIN is refused before any APDU
    jpki = card.jpki()
    status = jpki.auth_pin_tries()
    if status.blocked:
        raise PinBlockedError(0x63C0, "the auth PIN is blocked; no VERIFY was sent")
    if not status.verified:
        jpki.verify_auth_pin(pin)
    certificate = jpki.read_auth_certificate()
    return PinConfirmation(certificate, jpki.sign_with_auth_key(challenge))


def summarize(card: MyNumberCard) -> CardSummary:
    jpki = card.jpki()
    certificate: CertificateInfo | None
    try:
        certificate = parse_certificate(jpki.read_auth_certificate())
    except SecurityStatusError:
        certificate = None
    return CardSummary(jpki.token_kind(), jpki.certificate_availability(),
                       jpki.auth_pin_tries(), certificate)


def run_flow(flow: str, card: MyNumberCard, *, pin: Callable[[], str],
             challenge: bytes = b"myna-reader challenge") -> object:
    """Run one of FLOWS; `pin` is asked only by the pin flow, and only once."""
    if flow == "visual":
        return visual_check(card)
    if flow == "pin":
        return pin_confirmation(card, pin(), challenge)
    if flow == "info":
        return summarize(card)
    raise ValueError(f"unknown flow {flow!r}; known: {', '.join(FLOWS)}")
