"""Make the synthetic card profiles in hw-fixtures/profiles/ from a throwaway test CA.

    python -m myna_reader.fixtures.generate [--out DIR]
    python hw-fixtures/generate.py [--out DIR]

Every key, certificate, My Number, name, address and picture made here is synthetic. The keys
are fresh on each run; names, numbers, validity dates and file layouts are fixed, so a rerun
changes only key material and what is signed with it. Layouts follow
reference/mynumber-card-protocol.md (§2.4-2.6, §3.3, §5.1, §5.2).
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

from myna_reader.drivers.mynumber_ids import CERT_PRESENT, TOKEN_LABEL_ANDROID, TOKEN_LABEL_CARD
from myna_reader.drivers.sim.card import sign_pkcs1_type1
from myna_reader.drivers.tlv import Tlv

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

# Reader-synthesised contactless ATRs (PC/SC part 3) of docs/card-protocol.md §11.1
ATR_CONTACTLESS = bytes.fromhex("3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F").hex().upper()  # FWI 10
ATR_CONTACTLESS_FWI13 = bytes.fromhex("3B 88 80 01 00 4B 51 FF B3 81 D1 00 0F").hex().upper()

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
        atr=ATR_CONTACTLESS_FWI13, token_label=TOKEN_LABEL_ANDROID,
        auth_cert_needs_pin=True, card_aps=False),
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
    return tlv(0x0C, text.encode("utf-8"))  # UTF8String


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


def text_attributes_record(holder: Holder) -> bytes:
    """Text AP EF 0002 (§10.3) padded with FF filler to its physical size."""
    fields = [(0xDF22, holder.name.encode()), (0xDF23, holder.address.encode()),
              (0xDF24, f"{holder.birth:%Y%m%d}".encode()), (0xDF25, holder.sex.encode())]
    record = _with_offsets(fields, 1)
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


# --- 券面AP EF 0002 ----------------------------------------------------------------------------


def card_face_signature(groups: Sequence[Sequence[tuple[int, bytes]]],
                        card_key: rsa.RSAPrivateKey) -> bytes:
    """DF28: the card key's signature over the SHA-256 of each signed group's TLVs (§5.2)."""
    digests = b"".join(
        hashlib.sha256(b"".join(tlv(tag, value) for tag, value in group)).digest()
        for group in groups)
    return sign_pkcs1_type1(card_key, FACE_DIGEST_INFO_HEADER + tlv(0x04, digests))


def card_face_record(holder: Holder, card_key: rsa.RSAPrivateKey) -> bytes:
    """券面AP EF 0002 (§5.2), signed with the AP's card key over three digest groups."""
    modulus = card_key.public_key().public_numbers().n.to_bytes(256, "big")
    group1 = [(0xDF22, f"{holder.birth:%Y%m%d}".encode()), (0xDF23, holder.sex.encode()),
              (0xDF24, tlv(0x90, b"\x01\x00\x01") + tlv(0x91, modulus))]
    group2 = [(0xDF25, placeholder_text_png(holder.name, 160)),
              (0xDF26, placeholder_text_png(holder.address, 220))]
    group3 = [(0xDF27, cartoon_photo_jp2(holder.name))]
    signature = card_face_signature((group1, group2, group3), card_key)
    unsigned = [(0xDF29, f"{holder.card_expiry:%Y%m%d}".encode()),
                (0xDF2A, security_code_png(holder.security_code))]
    return _with_offsets([*group1, *group2, *group3, (0xDF28, signature), *unsigned], 3)


# --- profiles ------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _credential(value: str | None, max_tries: int, tries_left: int | None = None,
                ) -> dict[str, Any]:
    if value is None:  # never set: the key answers as blocked
        return {"value": None, "max_tries": max_tries, "tries_left": 0}
    left = max_tries if tries_left is None else tries_left
    return {"value": value, "max_tries": max_tries, "tries_left": left}


def make_profile(name: str, cas: dict[str, TestCa], serial: int) -> dict[str, Any]:
    holder, variant = HOLDERS[name], VARIANTS[name]
    auth_key = new_key()
    validity = EXPIRED_VALIDITY if variant.expired else USER_VALIDITY
    sign_key = new_key() if variant.has_sign_cert else None
    pin = AUTH_PIN if variant.pins_set else None
    password = SIGN_PASSWORD if variant.pins_set and variant.has_sign_cert else None
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
        "auth_pin": _credential(pin, AUTH_PIN_TRIES, variant.auth_tries_left),
        "sign_password": _credential(password, SIGN_PASSWORD_TRIES),
    }
    doc: dict[str, Any] = {
        "name": name,
        "description": variant.description,
        "synthetic": True,
        "atr": variant.atr,
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
            "pin": _credential(text_pin, TEXT_PIN_TRIES),
            "verify_a": _credential(holder.my_number, VERIFY_NUMBER_TRIES),
            "verify_b": _credential(holder.verify_b, VERIFY_NUMBER_TRIES),
        }
        card_key = new_key()
        doc["visual"] = {
            "card_face": _b64(card_face_record(holder, card_key)),
            "card_key_pem": pem(card_key),
            "birth_key": _credential(era_yymmdd(holder.birth), VERIFY_NUMBER_TRIES),
            "verify_b": _credential(holder.verify_b, VERIFY_NUMBER_TRIES),
            "verify_a": _credential(holder.my_number, VERIFY_NUMBER_TRIES),
        }
    return doc


def generate(out_dir: Path) -> list[Path]:
    """Write every profile into `out_dir`; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cas = {kind: make_ca(kind) for kind in ("auth", "sign")}
    written = []
    for index, name in enumerate(VARIANTS):
        path = out_dir / f"{name}.json"
        doc = make_profile(name, cas, serial=0x5000 + 0x10 * index)
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
