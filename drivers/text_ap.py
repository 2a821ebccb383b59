"""The 券面事項入力補助AP (text AP): My Number, 基本4情報 and the records that vouch for them
(docs/card-protocol.md).

Technician diagnostics only (`myna-reader card info --text`). The patient flow must never
call this AP: a clinic reader has no business with the 個人番号 (MHLW FAQ, see
docs/card-protocol.md). Nothing read here is cached.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from myna_reader.drivers import pin, records
from myna_reader.drivers.cvc import CardVerifiableCertificate, parse_cvc, verifies
from myna_reader.drivers.files import CardFiles
from myna_reader.drivers.mynumber_ids import TEXT_AID, TextEF
from myna_reader.drivers.pin import PinStatus
from myna_reader.drivers.records import BasicFour, TextApInfo


@dataclass(frozen=True, slots=True, repr=False)
class IntegrityCheck:
    """What the text AP's integrity record (EF 0003) says of EF 0001 and 0002, checked with
    the key its certificate (EF 0004) certifies. The files themselves are personal data."""

    my_number_digest_ok: bool
    attributes_digest_ok: bool
    signature_ok: bool
    my_number: str
    basic_four: BasicFour

    @property
    def ok(self) -> bool:
        return self.my_number_digest_ok and self.attributes_digest_ok and self.signature_ok

    def __repr__(self) -> str:
        return (f"IntegrityCheck(my_number_digest_ok={self.my_number_digest_ok}, "
                f"attributes_digest_ok={self.attributes_digest_ok}, "
                f"signature_ok={self.signature_ok}, <personal data>)")


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

    # --- free files ------------------------------------------------------------------------

    def info(self) -> TextApInfo:
        """EF 0005, the AP's basic information."""
        return records.parse_text_ap_info(self._files.read_object(TEXT_AID, TextEF.AP_INFO))

    def certificate(self) -> CardVerifiableCertificate:
        """EF 0004, the CVC of the key that signs the integrity record."""
        return parse_cvc(self._files.read_object(TEXT_AID, TextEF.CERTIFICATE))

    # --- after `verify_pin` ----------------------------------------------------------------

    def check_integrity(self) -> IntegrityCheck:
        """Read EF 0001 (all of it), 0002, 0003 and 0004 and check the two digests and the
        signature. The result holds the 個人番号 and 基本4情報: never log them."""
        my_number_file = self._files.read_file(TEXT_AID, TextEF.MY_NUMBER)
        attributes = self._files.read_object(TEXT_AID, TextEF.ATTRIBUTES)
        record = records.parse_integrity_record(
            self._files.read_object(TEXT_AID, TextEF.INTEGRITY))
        certificate = self.certificate()
        return IntegrityCheck(
            my_number_digest_ok=(hashlib.sha256(my_number_file).digest()
                                 == record.my_number_digest),
            attributes_digest_ok=(
                hashlib.sha256(records.attributes_digest_source(attributes)).digest()
                == record.attributes_digest),
            signature_ok=verifies(certificate.public_key, record.signed, record.signature),
            my_number=records.parse_my_number(my_number_file),
            basic_four=records.parse_basic_four(attributes),
        )
