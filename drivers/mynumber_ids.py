"""Protocol identifiers of the My Number card: application AIDs and EF ids per AP.

One place for the numbers that both the card driver and the simulated card use
(docs/card-protocol.md). Note the trap of §6: 照合番号A/B are 0014/0015 in the text AP
but 0013/0012 in the 券面AP.
"""

from __future__ import annotations

import enum

#: 公的個人認証AP (JPKI).
JPKI_AID = bytes.fromhex("D392F000260100000001")
#: 券面事項入力補助AP (text AP).
TEXT_AID = bytes.fromhex("D3921000310001010408")
#: 券面事項確認AP (券面AP, visual).
VISUAL_AID = bytes.fromhex("D3921000310001010402")

#: Token labels (EF 0006 bytes 0-31, space padded).
TOKEN_LABEL_CARD = "JPKIAPICCTOKEN2"  # noqa: S105 - a label, not a secret
TOKEN_LABEL_ANDROID = "JPKIAPGPSETOKEN"  # noqa: S105
TOKEN_LABEL_IOS = "JPKIAPIOSTOKEN"  # noqa: S105

#: EF 0008 byte 0 when the signing certificate is present.
CERT_PRESENT = 0x8F


class JpkiEF(enum.IntEnum):
    SIGN_CERT = 0x0001  # 署名用電子証明書 (needs SIGN_PIN)
    SIGN_CA_CERT = 0x0002
    TOKEN_INFO = 0x0006
    CERT_AVAILABILITY = 0x0008
    AUTH_CERT = 0x000A  # 利用者証明用電子証明書
    AUTH_CA_CERT = 0x000B
    AUTH_KEY = 0x0017
    AUTH_PIN = 0x0018  # 4 digits, 3 tries
    SIGN_KEY = 0x001A
    SIGN_PIN = 0x001B  # 6-16 A-Z0-9, 5 tries


class TextEF(enum.IntEnum):
    MY_NUMBER = 0x0001
    ATTRIBUTES = 0x0002  # 基本4情報
    INTEGRITY = 0x0003  # SHA-256 of 0001 and 0002, and a signature
    CERTIFICATE = 0x0004  # the AP's card-verifiable certificate (free)
    AP_INFO = 0x0005  # AP basic information (free)
    PIN = 0x0011
    VERIFY_A = 0x0014  # 照合番号A
    VERIFY_B = 0x0015  # 照合番号B


class VisualEF(enum.IntEnum):
    BIRTH_RECORD = 0x0001
    CARD_FACE = 0x0002  # incl. face photo
    BASIC_INFO = 0x0003  # free
    CERTIFICATE = 0x0004  # the AP's card-verifiable certificate (free)
    MY_NUMBER_IMAGE = 0x0005  # 照合番号A only
    BIRTH_KEY = 0x0011
    VERIFY_B = 0x0012  # 照合番号B
    VERIFY_A = 0x0013  # 照合番号A
