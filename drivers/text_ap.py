"""The 券面事項入力補助AP (text AP): My Number and 基本4情報 (reference §2.5, §5.1).

Technician diagnostics only. The patient flow must never call this AP: a clinic reader has no
business with the 個人番号 (MHLW FAQ; reference §6.1.3). Nothing read here is cached.
"""

from __future__ import annotations

from myna_reader.drivers import pin, records
from myna_reader.drivers.files import CardFiles
from myna_reader.drivers.mynumber_ids import TEXT_AID, TextEF
from myna_reader.drivers.pin import PinStatus
from myna_reader.drivers.records import BasicFour


class TextAp:
    """Handle on the text AP. Every call selects the AP itself (no APDU if already selected)."""

    def __init__(self, files: CardFiles) -> None:
        self._files = files

    def pin_tries(self) -> PinStatus:
        return pin.query_status(self._files, TEXT_AID, TextEF.PIN)

    def verify_pin(self, text_pin: str) -> None:
        """One VERIFY of the 4-digit 券面事項入力補助用暗証番号 (EF 0011); never retried."""
        secret = pin.four_digit_pin(text_pin)
        pin.verify(self._files, TEXT_AID, TextEF.PIN, secret)

    def my_number(self) -> str:
        """The 12-digit 個人番号 (after `verify_pin`). Never log it."""
        return records.parse_my_number(self._files.read_object(TEXT_AID, TextEF.MY_NUMBER))

    def basic_four(self) -> BasicFour:
        """Name, address, birth date and sex (after `verify_pin`). Never log them."""
        return records.parse_basic_four(self._files.read_object(TEXT_AID, TextEF.ATTRIBUTES))
