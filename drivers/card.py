"""The My Number card driver: one handle per application over one `CardChannel`.

    card = MyNumberCard(channel)
    jpki = card.jpki()                     # SELECT JPKI AP (also: is this a My Number card?)
    der = jpki.read_auth_certificate()     # SELECT 000A + ceil(L/256) READs (1 if extended)
    status = jpki.auth_pin_tries()         # SELECT 0018 + empty VERIFY (required before VERIFY)
    jpki.verify_auth_pin("1234")           # VERIFY (never retried)
    signature = jpki.sign_with_auth_key(challenge)   # SELECT 0017 + 80 2A

The driver remembers the selected AP/EF and caches certificates and token info for the power
session; call `reset()` whenever the card is powered again (connect, reconnect, a new card).
All traffic to the card must go through this object for that memory to hold. No UI text
here, and nothing personal is logged: certificates are named by short fingerprint only.
"""

from __future__ import annotations

from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.errors import CardStatusError
from myna_reader.drivers.files import CardFiles
from myna_reader.drivers.jpki import CertificateAvailability, JpkiAp, TokenKind
from myna_reader.drivers.mynumber_ids import JPKI_AID, TEXT_AID, VISUAL_AID
from myna_reader.drivers.pin import PinFormatError, PinStatus, RetryCounterUnreadError
from myna_reader.drivers.records import BasicFour, CardFace, Sex
from myna_reader.drivers.text_ap import TextAp
from myna_reader.drivers.visual_ap import VisualAp

__all__ = [
    "BasicFour",
    "CardFace",
    "CertificateAvailability",
    "JpkiAp",
    "MyNumberCard",
    "PinFormatError",
    "PinStatus",
    "RetryCounterUnreadError",
    "Sex",
    "TextAp",
    "TokenKind",
    "VisualAp",
]


class MyNumberCard:
    """A My Number card (or a phone's JPKI token) behind a channel."""

    def __init__(self, channel: CardChannel) -> None:
        self._files = CardFiles(channel)
        self._jpki = JpkiAp(self._files)
        self._text = TextAp(self._files)
        self._visual = VisualAp(self._files)

    @property
    def channel(self) -> CardChannel:
        return self._files.channel

    def reset(self) -> None:
        """Forget selection and cached files: the card was powered again, or replaced."""
        self._files.forget()

    def is_my_number_card(self) -> bool:
        """Whether the card answers SELECT of the JPKI AP (how OpenSC detects it; not the ATR)."""
        try:
            self._files.select_application(JPKI_AID)
        except CardStatusError:
            return False
        return True

    def jpki(self) -> JpkiAp:
        """Select the JPKI AP (CardFileNotFoundError: not a My Number card) and return it."""
        self._files.select_application(JPKI_AID)
        return self._jpki

    def text(self) -> TextAp:
        """Select the 券面事項入力補助AP: technician diagnostics only, never the patient flow."""
        self._files.select_application(TEXT_AID)
        return self._text

    def visual(self) -> VisualAp:
        """Select the 券面AP (card face and photo, opened by 照合番号B)."""
        self._files.select_application(VISUAL_AID)
        return self._visual
