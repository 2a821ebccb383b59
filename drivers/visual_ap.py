"""The 券面事項確認AP (券面AP): the card face and its photo (docs/card-protocol.md §6, §10.7).

Opened with 照合番号B (14 digits OCR'd or typed from the card front) on EF 0012, which is
`0015` in the text AP: the EF numbering trap of §6. Nothing read here is cached: it is
personal data, the photo included.
"""

from __future__ import annotations

from myna_reader.drivers import pin, records
from myna_reader.drivers.files import CardFiles
from myna_reader.drivers.mynumber_ids import VISUAL_AID, VisualEF
from myna_reader.drivers.pin import PinStatus
from myna_reader.drivers.records import CardFace


class VisualAp:
    """Handle on the 券面AP. Every call selects the AP itself (no APDU if already selected)."""

    def __init__(self, files: CardFiles) -> None:
        self._files = files

    def collation_b_tries(self) -> PinStatus:
        return pin.query_status(self._files, VISUAL_AID, VisualEF.VERIFY_B)

    def verify_collation_b(self, number: str) -> None:
        """One VERIFY of 照合番号B (14 digits, checked before any APDU); never retried."""
        secret = pin.collation_number_b(number)
        pin.verify(self._files, VISUAL_AID, VisualEF.VERIFY_B, secret)

    def read_card_face(self) -> CardFace:
        """The whole card-face record (after `verify_collation_b`)."""
        return records.parse_card_face(self._files.read_object(VISUAL_AID, VisualEF.CARD_FACE))

    def face_photo(self) -> bytes:
        """The face photo (DF27, JPEG 2000, greyscale). It must never leave the reader."""
        return self.read_card_face().photo
