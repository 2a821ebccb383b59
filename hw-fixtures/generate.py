"""Make the synthetic card profiles in hw-fixtures/profiles/ from a throwaway test CA.

    python -m myna_reader.fixtures.generate [--out DIR]
    python hw-fixtures/generate.py [--out DIR]

Every key, certificate, My Number, name, address and picture made here is synthetic. The keys
are fresh on each run; names, numbers, validity dates and file layouts are fixed, so a rerun
changes only key material and what is signed with it. Layouts, sizes and the signatures that
tie them together follow docs/card-protocol.md: the JPKI AP's files; the text AP's EF 0001-0005
(the integrity record EF 0003 carries the SHA-256 of EF 0001 and 0002 and a signature by the key
that the AP's card-verifiable certificate EF 0004 certifies); the 券面AP's EF 0001-0005 (age
record, card face, basic information, certificate, 個人番号 image), whose records are signed by
the key its EF 0004 certifies. Each AP kind has a throwaway CV CA (key IDs 9…, a hierarchy no
real card uses) whose public key the profile carries for verifiers; a card never holds it.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image, ImageDraw, ImageFont

from myna_reader.drivers.atr import TYPE_A_ATR
from myna_reader.drivers.jpki import sha256_digest_info
from myna_reader.drivers.mynumber_ids import (
    CERT_PRESENT,
    TOKEN_LABEL_ANDROID,
    TOKEN_LABEL_CARD,
    TOKEN_LABEL_IOS,
)
from myna_reader.drivers.sim.card import sign_pkcs1_type1
from myna_reader.drivers.tlv import Tlv

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

# Reader-synthesised contactless ATRs (PC/SC part 3) of docs/card-protocol.md §11.1
ATR_CONTACTLESS = bytes.fromhex("3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F").hex().upper()  # FWI 10
ATR_PHONE = TYPE_A_ATR.hex().upper()  # a phone emulates a Type A card (drivers/atr.py)

AUTH_PIN = "1234"
SIGN_PASSWORD = "ABC123"  # noqa: S105 - the documented synthetic test password
TEXT_PIN = "1234"
AUTH_PIN_TRIES, SIGN_PASSWORD_TRIES, TEXT_PIN_TRIES = 3, 5, 3
VERIFY_NUMBER_TRIES = 10  # 照合番号A/B and the birth-date key: the real count is unknown (§7.1)

CA_TARGET_SIZES = {"auth": 1319, "sign": 1311}  # real JPKI CAs: 1301-1319 bytes
USER_TARGET_SIZES = {"auth": 1580, "sign": 1720}  # within 1.5-1.8 KB
CA_VALIDITY = (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2049, 12, 31, tzinfo=dt.UTC))
USER_VALIDITY = (dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2049, 6, 30, tzinfo=dt.UTC))
EXPIRED_VALIDITY = (dt.datetime(2015, 4, 1, tzinfo=dt.UTC), dt.datetime(2020, 3, 31, tzinfo=dt.UTC))

# JPKI object identifiers: the four basic attributes in the signing certificate's SAN
OID_JPKI_ATTR = "1.2.392.200149.8.5.5"
OID_POLICY_AUTH = x509.ObjectIdentifier("1.2.392.200149.8.5.1.3.30")
OID_POLICY_SIGN = x509.ObjectIdentifier("1.2.392.200149.8.5.1.1.10")
#: DigestInfo (SHA-256) header of the 券面AP signature; an OCTET STRING of 3 digests follows
FACE_DIGEST_INFO_HEADER = bytes.fromhex("3071300d06096086480165030402010500")
JP2_MAGIC = bytes.fromhex("0000000c6a5020200d0a870a")
SYNTHETIC_NOTICE = ("This certificate is synthetic test data made by myna-reader hw-fixtures; "
                    "it certifies nobody and must never be trusted. ")
TEXT_ATTRIBUTES_SIZE = 256  # physical EF size of the text AP 0002, rest is FF filler
TEXT_AP_INFO_SIZE = 256  # physical EF size of the text AP 0005 (jpki/myna 0.5.1 reads 256)
# AP identifications as seen on a test card (DF41 of text 0005, DF31 of 券面 0003)
TEXT_AP_IDENTIFICATION = bytes.fromhex("01030E01")
VISUAL_AP_IDENTIFICATION = bytes.fromhex("06030E01")
VISUAL_AP_VERSION = b"\x01"
SYNTHETIC_MUNICIPALITY = b"99000"  # no prefecture has code 99: a municipality of no one
KEY_ID_MIDDLE = bytes.fromhex("0805")  # the two bytes between the digit groups, as seen


# --- synthetic holders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    family: str
    given: str
    address: str
    birth: dt.date
    sex: str
    card_expiry: dt.date
    security_code: str
    number_body: str  # 11 digits; the check digit is computed

    @property
    def name(self) -> str:
        return f"{self.family}\u3000{self.given}"

    @property
    def my_number(self) -> str:
        return self.number_body + str(my_number_check_digit(self.number_body))

    @property
    def verify_b(self) -> str:
        """照合番号B: era YYMMDD + expiry year + security code (§7.3)."""
        return era_yymmdd(self.birth) + f"{self.card_expiry.year:04d}" + self.security_code


def my_number_check_digit(body: str) -> int:
    """The 個人番号 check digit (総務省令 第五条) of the first 11 digits."""
    if len(body) != 11 or not body.isdigit():
        raise ValueError("a My Number body is 11 digits")
    total = 0
    for n, digit in enumerate(reversed(body), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digit) * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


_ERAS = ((dt.date(2019, 5, 1), 2018), (dt.date(1989, 1, 8), 1988), (dt.date(1926, 12, 25), 1925))


def era_yymmdd(day: dt.date) -> str:
    """The Japanese-era date printed on the card face (令和/平成/昭和), as YYMMDD."""
    for start, offset in _ERAS:
        if day >= start:
            return f"{day.year - offset:02d}{day:%m%d}"
    raise ValueError("birth dates before 昭和 are out of scope")


ADDRESS = "試験県見本市架空町１丁目２番３号"
HOLDERS = {
    "standard": Holder("試験", "花子", ADDRESS, dt.date(1990, 4, 1), "2",
                       dt.date(2034, 4, 1), "2285", "12345678901"),
    "one-try-left": Holder("試験", "太郎", "試験県見本市架空町４丁目５番６号",
                           dt.date(1985, 11, 23), "1",
                           dt.date(2033, 11, 23), "4712", "23456789012"),
    "pin-blocked": Holder("見本", "一郎", "試験県見本市仮名町７番地", dt.date(1962, 7, 7), "1",
                          dt.date(2032, 7, 7), "9031", "34567890123"),
    "face-card": Holder("見本", "和子", "試験県見本市仮名町８番地", dt.date(1948, 2, 17), "2",
                        dt.date(2035, 2, 17), "5520", "45678901234"),
    "under-15": Holder("試験", "さくら", ADDRESS, dt.date(2015, 6, 15), "2",
                       dt.date(2030, 6, 15), "0614", "56789012345"),
    "android-phone": Holder("試験", "次郎", "試験県見本市架空町９丁目１番",
                            dt.date(2000, 1, 31), "1",
                            dt.date(2035, 1, 31), "7777", "67890123456"),
    "expired": Holder("見本", "花", "試験県見本市仮名町１０番地", dt.date(1975, 9, 9), "9",
                      dt.date(2030, 9, 9), "3141", "78901234567"),
    "iphone": Holder("試験", "三郎", "試験県見本市架空町１１丁目２番", dt.date(1995, 8, 20), "1",
                     dt.date(2036, 8, 20), "8642", "89012345678"),
}


@dataclass(frozen=True)
class Variant:
    description: str
    atr: str = ATR_CONTACTLESS
    token_label: str = TOKEN_LABEL_CARD
    has_sign_cert: bool = True
    pins_set: bool = True  # False: 顔認証マイナンバーカード, no PIN was ever set
    auth_tries_left: int = AUTH_PIN_TRIES
    auth_cert_needs_pin: bool = False
    card_aps: bool = True  # a smartphone token carries only the JPKI AP
    expired: bool = False
    rf: str = "B"  # ISO/IEC 14443 type: the plastic card is B, phones commonly answer as A
    holder_auth_on_phone: bool = False  # iPhone: no PIN key on the reader; Face ID on the phone


VARIANTS = {
    "standard": Variant("A plastic My Number card with every PIN set and full tries."),
    "one-try-left": Variant("Auth PIN has 1 try left (two wrong PINs already entered).",
                            auth_tries_left=1),
    "pin-blocked": Variant("Auth PIN blocked: empty VERIFY answers 63C0, VERIFY 6984.",
                           auth_tries_left=0),
    "face-card": Variant(
        "顔認証マイナンバーカード: no PIN is set (every PIN key reports blocked), no signing "
        "certificate (EF 0008 00 8F 00); face photo readable with 照合番号B.",
        has_sign_cert=False, pins_set=False),
    "under-15": Variant("Holder under 15: no signing certificate, EF 0008 00 8F 00.",
                        has_sign_cert=False),
    "android-phone": Variant(
        "Android スマホ用電子証明書 (JPKIAPGPSETOKEN): JPKI AP only; reading the auth "
        "certificate EF 000A needs the auth PIN first.",
        atr=ATR_PHONE, token_label=TOKEN_LABEL_ANDROID, auth_cert_needs_pin=True,
        card_aps=False, rf="A"),
    "iphone": Variant(
        "iPhone スマホ用電子証明書 (JPKIAPIOSTOKEN): JPKI AP only; no PIN key answers on the "
        "reader (EF 0018 and 001B are absent); the auth certificate reads freely; the "
        "signature answers 6982 until the holder has authenticated on the phone (Face ID / "
        "Touch ID), which lasts until the phone leaves the reader after a signature. "
        "The behaviour before Face ID is not confirmed by any public source.",
        atr=ATR_PHONE, token_label=TOKEN_LABEL_IOS, card_aps=False, rf="A",
        holder_auth_on_phone=True),
    "expired": Variant("The auth certificate has expired (valid 2015-04-01 to 2020-03-31).",
                       expired=True),
}


# --- keys and certificates -----------------------------------------------------------------------


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def _notices(length: int) -> list[x509.UserNotice]:
    """`length` characters of the synthetic notice, in user notices of at most 200 (RFC 5280)."""
    text = (SYNTHETIC_NOTICE * (length // len(SYNTHETIC_NOTICE) + 1))[:length]
    return [x509.UserNotice(None, text[i : i + 200]) for i in range(0, length, 200)]


def _sized(build: Callable[[int], bytes], target: int) -> bytes:
    """Grow the padding notice until the DER is `target` bytes (or the nearest below)."""
    padding = 0
    der = build(padding)
    for _ in range(12):
        if len(der) == target:
            break
        padding = max(0, padding + target - len(der))
        der = build(padding)
    while len(der) > target and padding > 0:  # a length-of-length step overshot
        padding -= 1
        der = build(padding)
    return der


@dataclass(frozen=True)
class TestCa:
    kind: str  # "auth" / "sign"
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    der: bytes


def _ca_name(kind: str) -> x509.Name:
    purpose = "user authentication" if kind == "auth" else "digital signature"
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI SYNTHETIC TEST"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"JPKI for {purpose}"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                           "myna-reader hw-fixtures throwaway test CA (not for production)"),
    ])


def make_ca(kind: str) -> TestCa:
    key = new_key()
    name = _ca_name(kind)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())

    def build(padding: int) -> bytes:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(0x1000 + len(kind))
            .not_valid_before(CA_VALIDITY[0]).not_valid_after(CA_VALIDITY[1])
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                key.public_key()), critical=False)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
                x509.ObjectIdentifier("2.5.29.32.0"),
                ["https://jpki.invalid/cps/synthetic-test-ca.html", *_notices(padding)])]),
                critical=False)
            .add_extension(x509.IssuerAlternativeName([x509.DirectoryName(x509.Name([
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "公的個人認証サービス（合成試験用）"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "試験用認証局"),
            ]))]), critical=False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(f"http://jpki.invalid/crl/{kind}-arl.crl")],
                None, None, None)]), critical=False)
        )
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    der = _sized(build, CA_TARGET_SIZES[kind])
    return TestCa(kind, key, x509.load_der_x509_certificate(der), der)


def _der_utf8(text: str) -> bytes:
    return der_tlv(0x0C, text.encode("utf-8"))  # UTF8String


def _holder_alt_names(holder: Holder) -> list[x509.GeneralName]:
    """The basic four attributes under OIDs 1.2.392.200149.8.5.5.1-6 (signing cert only)."""
    values = (holder.name, holder.name, holder.sex, f"{holder.birth:%Y%m%d}",
              holder.address, holder.address)
    return [x509.OtherName(x509.ObjectIdentifier(f"{OID_JPKI_ATTR}.{i}"), _der_utf8(v))
            for i, v in enumerate(values, start=1)]


def make_user_cert(ca: TestCa, key: rsa.RSAPrivateKey, holder: Holder, serial: int,
                   validity: tuple[dt.datetime, dt.datetime]) -> bytes:
    is_sign = ca.kind == "sign"
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "試験県"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "見本市"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"SYNTHETIC{serial:016X}"),
    ])
    usage = x509.KeyUsage(not is_sign, is_sign, False, False, False, False, False, False, False)

    def build(padding: int) -> bytes:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(ca.cert.subject).public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(validity[0]).not_valid_after(validity[1])
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca.key.public_key()), critical=False)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
                OID_POLICY_SIGN if is_sign else OID_POLICY_AUTH,
                [f"https://jpki.invalid/cps/{ca.kind}.html", *_notices(padding)])]),
                critical=True)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(f"http://jpki.invalid/crl/{ca.kind}.crl")],
                None, None, None)]), critical=False)
            .add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.OCSP,
                                       x509.UniformResourceIdentifier("http://ocsp.jpki.invalid/")),
                x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                                       x509.UniformResourceIdentifier(
                                           f"http://jpki.invalid/ca/{ca.kind}.cer")),
            ]), critical=False)
            .add_extension(x509.IssuerAlternativeName([x509.DirectoryName(x509.Name([
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "公的個人認証サービス（合成試験用）"),
            ]))]), critical=False)
        )
        if is_sign:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(_holder_alt_names(holder)), critical=False)
        else:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    return _sized(build, USER_TARGET_SIZES[ca.kind])


# --- TLV records ---------------------------------------------------------------------------------


def tlv(tag: int, value: bytes) -> bytes:
    """A record TLV as the card writes it: long lengths as `82 hh ll` (drivers/tlv.py)."""
    return Tlv(tag, value).encode(card_lengths=True)


def der_tlv(tag: int, value: bytes) -> bytes:
    """A DER TLV, for what lives inside X.509 and DigestInfo structures."""
    return Tlv(tag, value).encode()


def _with_offsets(tags_values: list[tuple[int, bytes]], outer_len_form: int) -> bytes:
    """FF20 { DF21 offsets, ... }: DF21 lists each TLV's offset from the start of the file."""
    body = [tlv(tag, value) for tag, value in tags_values]
    offset_table_len = 2 + 1 + 2 * len(body)
    header_len = 2 + outer_len_form
    offsets, position = [], header_len + offset_table_len
    for item in body:
        offsets.append(position)
        position += len(item)
    table = tlv(0xDF21, b"".join(o.to_bytes(2, "big") for o in offsets))
    record = tlv(0xFF20, table + b"".join(body))
    if len(record) - position != 0:
        raise ValueError(f"outer length form {outer_len_form} does not fit this record")
    return record


def text_my_number_record(holder: Holder) -> bytes:
    """Text AP EF 0001: FF 10 0C + 12 ASCII digits + FF FF (17 physical bytes, §10.2)."""
    return tlv(0xFF10, holder.my_number.encode("ascii")) + b"\xff\xff"


def text_attribute_fields(holder: Holder) -> list[tuple[int, bytes]]:
    """The 基本4情報 of text AP EF 0002 in their order: name, address, birth date, sex."""
    return [(0xDF22, holder.name.encode()), (0xDF23, holder.address.encode()),
            (0xDF24, f"{holder.birth:%Y%m%d}".encode()), (0xDF25, holder.sex.encode())]


def text_attributes_record(holder: Holder) -> bytes:
    """Text AP EF 0002 (§10.3) padded with FF filler to its physical size."""
    record = _with_offsets(text_attribute_fields(holder), 1)
    return record.ljust(TEXT_ATTRIBUTES_SIZE, b"\xff")


# --- pictures ------------------------------------------------------------------------------------


def _png_1bit(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("1").save(out, "PNG", optimize=True)
    return out.getvalue()


def placeholder_text_png(text: str, width: int) -> bytes:
    """A 1-bit strip of 'handwriting' strokes seeded by the text: no readable personal data."""
    image = Image.new("1", (width, 24), 1)
    draw = ImageDraw.Draw(image)
    seed = hashlib.sha256(text.encode()).digest()
    x = 2
    for byte in seed * 4:
        glyph = 8 + byte % 9
        if x + glyph > width - 2:
            break
        draw.rectangle((x, 4 + byte % 5, x + glyph - 3, 19 - byte % 4), outline=0)
        draw.line((x, 12, x + glyph - 3, 4 + byte % 15), fill=0)
        x += glyph
    return _png_1bit(image)


def security_code_png(code: str) -> bytes:
    image = Image.new("1", (48, 14), 1)
    ImageDraw.Draw(image).text((2, 1), code, fill=0, font=ImageFont.load_default())
    return _png_1bit(image)


def cartoon_photo_jp2(seed: str) -> bytes:
    """A small greyscale JPEG 2000 of a drawn cartoon figure: not a face of anybody."""
    shade = hashlib.sha256(seed.encode()).digest()
    image = Image.new("L", (90, 112), 200)
    draw = ImageDraw.Draw(image)
    for y in range(112):  # background gradient
        draw.line((0, y, 89, y), fill=230 - y // 2)
    draw.ellipse((20, 14, 70, 72), fill=150 + shade[0] % 60, outline=40, width=2)  # head
    draw.ellipse((32, 34, 40, 42), fill=30)  # eyes
    draw.ellipse((50, 34, 58, 42), fill=30)
    draw.arc((34, 44, 56, 62), start=20, end=160, fill=30, width=2)  # smile
    draw.rectangle((15, 80, 75, 112), fill=90 + shade[1] % 80)  # shoulders
    out = io.BytesIO()
    image.save(out, "JPEG2000", quality_mode="rates", quality_layers=[5], irreversible=True)
    data = out.getvalue()
    if not data.startswith(JP2_MAGIC):
        raise RuntimeError("Pillow did not write a JP2 container")
    return data


# --- card-verifiable certificates and signed records ----------------------------------------------


def card_public_key(key: rsa.RSAPrivateKey) -> bytes:
    """An RSA public key as the card stores it: `90 <exponent> 91 82 01 00 <modulus>`."""
    numbers = key.public_key().public_numbers()
    return tlv(0x90, numbers.e.to_bytes(3, "big")) + tlv(0x91, numbers.n.to_bytes(256, "big"))


def key_id(number: str, group: str = "001") -> bytes:
    """A 16-byte key ID: 7 digits, 2 bytes, 3 digits, 4 bytes of padding (drivers/cvc.py)."""
    return number.encode("ascii") + KEY_ID_MIDDLE + group.encode("ascii") + bytes(4)


def record_signature(key: rsa.RSAPrivateKey, signed: bytes) -> bytes:
    """PKCS#1 v1.5 over SHA-256 of `signed`: how the records of both APs are signed."""
    return sign_pkcs1_type1(key, sha256_digest_info(signed))


@dataclass(frozen=True)
class CvAuthority:
    """One AP kind's synthetic certificate chain: a CV CA and the record-signing key it
    certifies (on real cards: a J-LIS CA, and the key the municipality's records are signed
    with)."""

    ca_key: rsa.RSAPrivateKey
    ca_key_id: bytes
    record_key: rsa.RSAPrivateKey
    record_key_id: bytes

    def certificate(self) -> bytes:
        """EF 0004: `7F21 { 5F4E <issuer ID, subject ID, key>, 5F37 <signature> }`, 568 bytes."""
        body = self.ca_key_id + self.record_key_id + card_public_key(self.record_key)
        return tlv(0x7F21, tlv(0x5F4E, body) + tlv(0x5F37, record_signature(self.ca_key, body)))


def make_cv_authority(ca_number: str, record_number: str) -> CvAuthority:
    return CvAuthority(new_key(), key_id(ca_number), new_key(), key_id(record_number))


def signed_record(tag: int, fields: Sequence[tuple[int, bytes]], signature_tag: int,
                  signer: rsa.RSAPrivateKey) -> bytes:
    """`tag { fields…, signature_tag <signature over the fields' TLVs as written> }`."""
    signed = b"".join(tlv(field_tag, value) for field_tag, value in fields)
    return tlv(tag, signed + tlv(signature_tag, record_signature(signer, signed)))


def _filler_bytes(seed: str, size: int) -> bytes:
    """Deterministic opaque bytes for fields whose meaning no public source gives."""
    out = b""
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{len(out)}".encode()).digest()
    return out[:size]


# --- text AP EF 0003-0005 ------------------------------------------------------------------------


def text_integrity_record(holder: Holder, signer: rsa.RSAPrivateKey) -> bytes:
    """Text AP EF 0003 (336 bytes): SHA-256 of EF 0001 as stored (filler included), SHA-256 of
    EF 0002's record from DF22 on (no offset table, no filler), and the signature over both."""
    attributes = b"".join(tlv(tag, value) for tag, value in text_attribute_fields(holder))
    return signed_record(0xFF30, [(0xDF31, hashlib.sha256(text_my_number_record(holder)).digest()),
                                  (0xDF32, hashlib.sha256(attributes).digest())],
                         0xDF33, signer)


def text_ap_info(profile_name: str) -> bytes:
    """Text AP EF 0005: FF40 { DF41 identification, DF42 key ID, DF43 32 bytes + 96 FF },
    FF filler to 256 bytes."""
    trailer = _filler_bytes(f"{profile_name}:text-DF43", 32) + b"\xff" * 96
    record = tlv(0xFF40, tlv(0xDF41, TEXT_AP_IDENTIFICATION) + tlv(0xDF42, key_id("9000034"))
                 + tlv(0xDF43, trailer))
    return record.ljust(TEXT_AP_INFO_SIZE, b"\xff")


# --- 券面AP EF 0001-0005 -------------------------------------------------------------------------


def card_face_signature(groups: Sequence[Sequence[tuple[int, bytes]]],
                        signer: rsa.RSAPrivateKey) -> bytes:
    """DF28: one signature over the SHA-256 of each signed group's TLVs, the three digests in
    one DigestInfo; the signer is the key EF 0004 certifies."""
    digests = b"".join(
        hashlib.sha256(b"".join(tlv(tag, value) for tag, value in group)).digest()
        for group in groups)
    return sign_pkcs1_type1(signer, FACE_DIGEST_INFO_HEADER + der_tlv(0x04, digests))


def card_face_record(holder: Holder, card_key: rsa.RSAPrivateKey,
                     signer: rsa.RSAPrivateKey) -> bytes:
    """券面AP EF 0002: DF24 holds the card's own key (the one `80 2A 00 00` signs with); the
    signature is the record key's, over three digest groups. 有効期限 and the security-code
    image follow the signature, uncovered."""
    group1 = [(0xDF22, f"{holder.birth:%Y%m%d}".encode()), (0xDF23, holder.sex.encode()),
              (0xDF24, card_public_key(card_key))]
    group2 = [(0xDF25, placeholder_text_png(holder.name, 160)),
              (0xDF26, placeholder_text_png(holder.address, 220))]
    group3 = [(0xDF27, cartoon_photo_jp2(holder.name))]
    signature = card_face_signature((group1, group2, group3), signer)
    unsigned = [(0xDF29, f"{holder.card_expiry:%Y%m%d}".encode()),
                (0xDF2A, security_code_png(holder.security_code))]
    return _with_offsets([*group1, *group2, *group3, (0xDF28, signature), *unsigned], 3)


def visual_age_record(holder: Holder, card_key: rsa.RSAPrivateKey,
                      signer: rsa.RSAPrivateKey) -> bytes:
    """券面AP EF 0001 (547 bytes): FF10 { DF11 生年月日, DF12 the card's key, DF13 signature }."""
    return signed_record(0xFF10, [(0xDF11, f"{holder.birth:%Y%m%d}".encode()),
                                  (0xDF12, card_public_key(card_key))], 0xDF13, signer)


def visual_basic_info(profile_name: str) -> bytes:
    """券面AP EF 0003 (320 bytes): FF30 { DF31 identification, DF32 key ID, DF33 version,
    DF34 municipality code, DF35 a key ID and 256 opaque bytes }."""
    opaque = key_id("9000025") + _filler_bytes(f"{profile_name}:visual-DF35", 256)
    return tlv(0xFF30, tlv(0xDF31, VISUAL_AP_IDENTIFICATION) + tlv(0xDF32, key_id("9000024"))
               + tlv(0xDF33, VISUAL_AP_VERSION) + tlv(0xDF34, SYNTHETIC_MUNICIPALITY)
               + tlv(0xDF35, opaque))


def visual_my_number_image(holder: Holder, card_key: rsa.RSAPrivateKey,
                           signer: rsa.RSAPrivateKey) -> bytes:
    """券面AP EF 0005: FF40 { DF41 the 個人番号 as a 1-bit image (placeholder strokes), DF42 the
    card's key, DF43 signature }."""
    return signed_record(0xFF40, [(0xDF41, placeholder_text_png(holder.my_number, 72)),
                                  (0xDF42, card_public_key(card_key))], 0xDF43, signer)


# --- profiles ------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _credential(value: str | None, max_tries: int, tries_left: int | None = None,
                ) -> dict[str, Any]:
    if value is None:  # never set: the key answers as blocked
        return {"value": None, "max_tries": max_tries, "tries_left": 0}
    left = max_tries if tries_left is None else tries_left
    return {"value": value, "max_tries": max_tries, "tries_left": left}


def _cv_ca(authority: CvAuthority) -> dict[str, str]:
    return {"key_id": authority.ca_key_id.hex(),
            "public_key": card_public_key(authority.ca_key).hex()}


def make_cv_authorities() -> dict[str, CvAuthority]:
    """The 券面AP's CA / record key as 9000023 / 9100023, the text AP's as 9000033 / 9100033:
    the numbers of the real hierarchy (5000023, 5000033) under a first digit no card uses."""
    return {"visual": make_cv_authority("9000023", "9100023"),
            "text": make_cv_authority("9000033", "9100033")}


def make_profile(name: str, cas: dict[str, TestCa], serial: int,
                 cv: dict[str, CvAuthority] | None = None) -> dict[str, Any]:
    """One profile's JSON document; `cv` shares CV CAs between profiles (fresh ones if None)."""
    holder, variant = HOLDERS[name], VARIANTS[name]
    cv = cv or make_cv_authorities()
    auth_key = new_key()
    validity = EXPIRED_VALIDITY if variant.expired else USER_VALIDITY
    sign_key = new_key() if variant.has_sign_cert else None
    pin = AUTH_PIN if variant.pins_set else None
    password = SIGN_PASSWORD if variant.pins_set and variant.has_sign_cert else None
    no_pin_keys = variant.holder_auth_on_phone
    availability = bytes((CERT_PRESENT if variant.has_sign_cert else 0x00, CERT_PRESENT, 0x00))
    jpki: dict[str, Any] = {
        "token_label": variant.token_label,
        "cert_availability": availability.hex(),
        "auth_cert": _b64(make_user_cert(cas["auth"], auth_key, holder, serial, validity)),
        "auth_ca_cert": _b64(cas["auth"].der),
        "sign_cert": None if sign_key is None else _b64(
            make_user_cert(cas["sign"], sign_key, holder, serial + 1, USER_VALIDITY)),
        "sign_ca_cert": _b64(cas["sign"].der),
        "auth_key_pem": pem(auth_key),
        "sign_key_pem": None if sign_key is None else pem(sign_key),
        "auth_cert_needs_pin": variant.auth_cert_needs_pin,
        "holder_auth_on_phone": variant.holder_auth_on_phone,
        "auth_pin": None if no_pin_keys else _credential(pin, AUTH_PIN_TRIES,
                                                         variant.auth_tries_left),
        "sign_password": None if no_pin_keys else _credential(password, SIGN_PASSWORD_TRIES),
    }
    doc: dict[str, Any] = {
        "name": name,
        "description": variant.description,
        "synthetic": True,
        "atr": variant.atr,
        "rf": variant.rf,
        "holder": {
            "my_number": holder.my_number, "name": holder.name, "address": holder.address,
            "birth_date": f"{holder.birth:%Y%m%d}", "sex": holder.sex,
            "card_expiry": f"{holder.card_expiry:%Y%m%d}", "security_code": holder.security_code,
        },
        "jpki": jpki,
        "text": None,
        "visual": None,
    }
    if variant.card_aps:
        text_pin = TEXT_PIN if variant.pins_set else None
        doc["text"] = {
            "my_number_record": text_my_number_record(holder).hex(),
            "attributes_record": text_attributes_record(holder).hex(),
            "integrity_record": text_integrity_record(holder, cv["text"].record_key).hex(),
            "certificate": cv["text"].certificate().hex(),
            "ap_info": text_ap_info(name).hex(),
            "cv_ca": _cv_ca(cv["text"]),
            "pin": _credential(text_pin, TEXT_PIN_TRIES),
            "verify_a": _credential(holder.my_number, VERIFY_NUMBER_TRIES),
            "verify_b": _credential(holder.verify_b, VERIFY_NUMBER_TRIES),
        }
        card_key = new_key()
        signer = cv["visual"].record_key
        doc["visual"] = {
            "age_record": _b64(visual_age_record(holder, card_key, signer)),
            "card_face": _b64(card_face_record(holder, card_key, signer)),
            "basic_info": visual_basic_info(name).hex(),
            "certificate": cv["visual"].certificate().hex(),
            "my_number_image": _b64(visual_my_number_image(holder, card_key, signer)),
            "cv_ca": _cv_ca(cv["visual"]),
            "card_key_pem": pem(card_key),
            # Not on any card: the key EF 0004 certifies, kept so that test tools can sign a
            # changed record (daemon/harness/face_samples.py swaps the photo).
            "record_key_pem": pem(signer),
            "birth_key": _credential(era_yymmdd(holder.birth), VERIFY_NUMBER_TRIES),
            "verify_b": _credential(holder.verify_b, VERIFY_NUMBER_TRIES),
            "verify_a": _credential(holder.my_number, VERIFY_NUMBER_TRIES),
        }
    return doc


def generate(out_dir: Path) -> list[Path]:
    """Write every profile into `out_dir`; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cas = {kind: make_ca(kind) for kind in ("auth", "sign")}
    cv = make_cv_authorities()
    written = []
    for index, name in enumerate(VARIANTS):
        path = out_dir / f"{name}.json"
        doc = make_profile(name, cas, serial=0x5000 + 0x10 * index, cv=cv)
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=PROFILES_DIR,
                        help="output folder (default: the profiles/ folder next to this script)")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(f"{path.name}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
