"""Card-verifiable certificates (CVC, tag 7F21) of the text AP and the 券面AP, and the RSA keys
and signatures of their records (docs/card-protocol.md, "Signed records").

    7F 21 82 02 33                  568 bytes in all
      5F 4E 82 01 29                the body, 297 bytes:
        16 bytes                      issuer key ID (証明者鍵ID): the CA key that signed it
        16 bytes                      subject key ID (被証明者鍵ID): the key it certifies
        90 03 01 00 01 91 82 01 00 n  that key: exponent and 2048-bit modulus
      5F 37 82 01 00                a signature over the body (PKCS#1 v1.5, SHA-256)

The CA key that signs a CVC is not on the card; the key it certifies signs the AP's records
(text AP EF 0003; 券面AP EF 0001, 0002, 0005). Pure apart from the RSA check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from myna_reader.drivers import tlv
from myna_reader.drivers.errors import FormatError, TlvError

TAG_CVC = 0x7F21
TAG_CVC_BODY = 0x5F4E
TAG_CVC_SIGNATURE = 0x5F37
TAG_KEY_EXPONENT = 0x90
TAG_KEY_MODULUS = 0x91
KEY_ID_SIZE = 16
CVC_BODY_SIZE = 297  # two key IDs and a 265-byte RSA-2048 public key
_KEY_ID_DIGITS = re.compile(rb"[0-9]{7}")
_KEY_ID_GROUP = re.compile(rb"[0-9]{3}")


@dataclass(frozen=True, slots=True)
class KeyId:
    """A 16-byte key identifier: 7 ASCII digits, 2 bytes, 3 ASCII digits, 4 bytes of padding.

    Shown as `number/group` ("5000033/001"); the first digit tells the hierarchy (5
    production, 6 the JPKI test cards, 9 this project's synthetic cards)."""

    raw: bytes

    @classmethod
    def parse(cls, raw: bytes) -> KeyId:
        if (len(raw) != KEY_ID_SIZE or not _KEY_ID_DIGITS.fullmatch(raw[:7])
                or not _KEY_ID_GROUP.fullmatch(raw[9:12])):
            raise FormatError("a key ID is 7 digits, 2 bytes, 3 digits and 4 bytes")
        return cls(bytes(raw))

    def __str__(self) -> str:
        return f"{self.raw[:7].decode()}/{self.raw[9:12].decode()}"


def parse_public_key(value: bytes) -> rsa.RSAPublicKey:
    """An RSA public key in the card's form: `90 <exponent> 91 <modulus>`."""
    items = tlv.decode_ber(value)
    exponent = int.from_bytes(tlv.require(items, TAG_KEY_EXPONENT).value, "big")
    modulus = int.from_bytes(tlv.require(items, TAG_KEY_MODULUS).value, "big")
    try:
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except ValueError as exc:
        raise FormatError(f"not a usable RSA public key: {exc}") from exc


def verifies(key: rsa.RSAPublicKey, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is `key`'s PKCS#1 v1.5 signature over SHA-256(`message`)."""
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class CardVerifiableCertificate:
    issuer: KeyId
    subject: KeyId
    public_key: rsa.RSAPublicKey
    body: bytes  # exactly what `signature` covers
    signature: bytes  # by the CA key `issuer` names, which is not on the card


def parse_cvc(raw: bytes) -> CardVerifiableCertificate:
    """EF 0004 of the text AP or the 券面AP (trailing filler allowed)."""
    outer = tlv.decode_ber_object(raw)
    if outer.tag != TAG_CVC:
        raise TlvError(f"a card-verifiable certificate is tag 7F21, found {outer.tag:X}")
    items = outer.children()
    body = tlv.require(items, TAG_CVC_BODY).value
    if len(body) != CVC_BODY_SIZE:
        raise FormatError(f"a CVC body is {CVC_BODY_SIZE} bytes, found {len(body)}")
    return CardVerifiableCertificate(
        issuer=KeyId.parse(body[:KEY_ID_SIZE]),
        subject=KeyId.parse(body[KEY_ID_SIZE : 2 * KEY_ID_SIZE]),
        public_key=parse_public_key(body[2 * KEY_ID_SIZE :]),
        body=body,
        signature=tlv.require(items, TAG_CVC_SIGNATURE).value,
    )
