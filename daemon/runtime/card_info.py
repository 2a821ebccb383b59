"""What `card info` tells a technician about a card (docs/card-protocol.md).

Without `--text`: no VERIFY and no personal data. The token kind, certificate availability,
the auth PIN counter (read without spending a try; an iPhone has no PIN key on the reader)
and the auth certificate where it is free (an Android token releases it only after the PIN).

With `--text`: the 券面事項入力補助AP's own files, read and checked as an independent client
of a real card does: its basic information (EF 0005) and certificate (EF 0004) freely, then,
after one VERIFY of the text-AP PIN, EF 0001, 0002 and the integrity record EF 0003, whose two
digests and signature must match. The 個人番号 and 基本4情報 are printed only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from myna_reader.daemon.errors import DaemonError
from myna_reader.drivers.card import (
    CertificateAvailability,
    MyNumberCard,
    PinStatus,
    TokenKind,
)
from myna_reader.drivers.certificate import CertificateInfo, parse_certificate
from myna_reader.drivers.cvc import CardVerifiableCertificate
from myna_reader.drivers.errors import CardFileNotFoundError
from myna_reader.drivers.records import TextApInfo
from myna_reader.drivers.text_ap import IntegrityCheck


class NotMyNumberCardError(DaemonError):
    """The card on the reader answers no JPKI AP."""


class NoTextApError(DaemonError):
    """The token has no 券面事項入力補助AP (a phone carries only the JPKI AP)."""


@dataclass(frozen=True, slots=True)
class CardSummary:
    token: TokenKind
    availability: CertificateAvailability
    auth_pin: PinStatus | None  # None on an iPhone: its holder authenticates on the phone
    certificate: CertificateInfo | None  # None where the token wants the PIN first


@dataclass(frozen=True, slots=True)
class TextApSummary:
    info: TextApInfo
    certificate: CardVerifiableCertificate
    pin: PinStatus  # as read before the VERIFY
    integrity: IntegrityCheck | None  # None when the PIN is blocked (nothing was verified)


def summarize(card: MyNumberCard) -> CardSummary:
    if not card.is_my_number_card():
        raise NotMyNumberCardError("the card on the reader is not a My Number card "
                                   "(it has no JPKI application)")
    jpki = card.jpki()
    token = jpki.token_kind()
    certificate = (None if token.certificate_needs_pin
                   else parse_certificate(jpki.read_auth_certificate()))
    return CardSummary(token, jpki.certificate_availability(),
                       jpki.auth_pin_tries() if token.pin_on_reader else None, certificate)


def read_text_ap(card: MyNumberCard, text_pin: str) -> TextApSummary:
    """The text AP's files and their check; one VERIFY of `text_pin` unless it is blocked."""
    try:
        text = card.text()
    except CardFileNotFoundError:
        raise NoTextApError("this token has no 券面事項入力補助AP (a phone carries only the "
                            "JPKI application)") from None
    info, certificate, tries = text.info(), text.certificate(), text.pin_tries()
    if tries.blocked:
        return TextApSummary(info, certificate, tries, None)
    text.verify_pin(text_pin)
    return TextApSummary(info, certificate, tries, text.check_integrity())
