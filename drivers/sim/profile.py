"""Synthetic card profiles: what one simulated My Number card holds, loaded from JSON.

The JSON files are made by hw-fixtures/generate.py from a throwaway test CA; every value in
them (keys, certificates, My Number, name, PINs) is synthetic. Byte fields are hex when short
and base64 when long (certificates, the card face); keys are PEM.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from myna_reader.drivers.errors import FormatError

_PACKAGE = "myna_reader.fixtures"
_FOLDER = "profiles"


class ProfileError(FormatError):
    """A card profile that does not exist or does not parse."""


@dataclass(frozen=True)
class Credential:
    """A PIN, password or 照合番号 held by a key EF, with its retry counter at issue."""

    value: bytes | None  # ASCII as sent in VERIFY; None = never set (the key reports blocked)
    max_tries: int
    tries_left: int


@dataclass(frozen=True)
class CvCa:
    """A synthetic CV CA's key ID and public key (`90 … 91 …`), for verifiers of EF 0004: a
    card never holds it."""

    key_id: bytes
    public_key: bytes


@dataclass(frozen=True)
class JpkiData:
    token_label: str
    cert_availability: bytes  # EF 0008
    auth_cert: bytes  # EF 000A, DER
    auth_ca_cert: bytes  # EF 000B
    sign_cert: bytes | None  # EF 0001; None on under-15 and face-authentication cards
    sign_ca_cert: bytes  # EF 0002
    auth_key_pem: bytes  # EF 0017
    sign_key_pem: bytes | None  # EF 001A
    auth_cert_needs_pin: bool  # true on an Android (GPSE) token
    # iPhone: the holder authenticates on the phone; the keys and the signing certificate
    # need that instead of a PIN, and there is no PIN key EF (auth_pin / sign_password None).
    holder_auth_on_phone: bool
    auth_pin: Credential | None  # EF 0018
    sign_password: Credential | None  # EF 001B


@dataclass(frozen=True)
class TextApData:
    """券面事項入力補助AP."""

    my_number_record: bytes  # EF 0001, physical 17 bytes
    attributes_record: bytes  # EF 0002, 基本4情報 with filler
    integrity_record: bytes  # EF 0003
    certificate: bytes  # EF 0004, CVC
    ap_info: bytes  # EF 0005, with filler
    cv_ca: CvCa
    pin: Credential  # EF 0011
    verify_a: Credential  # EF 0014
    verify_b: Credential  # EF 0015


@dataclass(frozen=True)
class VisualApData:
    """券面事項確認AP."""

    age_record: bytes  # EF 0001
    card_face: bytes  # EF 0002
    basic_info: bytes  # EF 0003
    certificate: bytes  # EF 0004, CVC
    my_number_image: bytes  # EF 0005
    cv_ca: CvCa
    card_key_pem: bytes  # the AP's own key (its public half in the records; `80 2A 00 00`)
    birth_key: Credential  # EF 0011
    verify_b: Credential  # EF 0012
    verify_a: Credential  # EF 0013


@dataclass(frozen=True)
class SyntheticHolder:
    """The fictional card holder, for tests that check what the driver decodes."""

    my_number: str
    name: str
    address: str
    birth_date: str  # YYYYMMDD
    sex: str  # "1" / "2" / "9"
    card_expiry: str  # YYYYMMDD
    security_code: str


@dataclass(frozen=True)
class CardProfile:
    name: str
    description: str
    atr: bytes
    rf: str  # ISO/IEC 14443 type: "B" for the plastic card, "A" for a phone
    holder: SyntheticHolder
    jpki: JpkiData
    text: TextApData | None  # None: a smartphone token carries only the JPKI AP
    visual: VisualApData | None


def profile_names() -> list[str]:
    """The names of the bundled profiles, sorted."""
    folder = resources.files(_PACKAGE) / _FOLDER
    return sorted(
        entry.name.removesuffix(".json") for entry in folder.iterdir()
        if entry.name.endswith(".json")
    )


def load_profile(name: str) -> CardProfile:
    """A bundled profile by name, or a profile JSON file by path."""
    if name.endswith(".json"):
        path = Path(name)
        if not path.is_file():
            raise ProfileError(f"profile file {name} does not exist")
        text = path.read_text(encoding="utf-8")
    else:
        resource = resources.files(_PACKAGE) / _FOLDER / f"{name}.json"
        if not resource.is_file():
            known = ", ".join(profile_names())
            raise ProfileError(f"unknown card profile {name!r}; known profiles: {known}")
        text = resource.read_text(encoding="utf-8")
    try:
        return parse_profile(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ProfileError(f"profile {name!r} is not valid JSON: {exc}") from exc


def parse_profile(doc: object) -> CardProfile:
    """Build a profile from its decoded JSON document."""
    root = _Fields(doc, "profile")
    jpki = root.section("jpki")
    text = root.optional_section("text")
    visual = root.optional_section("visual")
    holder = root.section("holder")
    return CardProfile(
        name=root.text("name"),
        description=root.text("description"),
        atr=root.hex("atr"),
        rf=root.choice("rf", ("A", "B")),
        holder=SyntheticHolder(
            my_number=holder.text("my_number"),
            name=holder.text("name"),
            address=holder.text("address"),
            birth_date=holder.text("birth_date"),
            sex=holder.text("sex"),
            card_expiry=holder.text("card_expiry"),
            security_code=holder.text("security_code"),
        ),
        jpki=JpkiData(
            token_label=jpki.text("token_label"),
            cert_availability=jpki.hex("cert_availability"),
            auth_cert=jpki.b64("auth_cert"),
            auth_ca_cert=jpki.b64("auth_ca_cert"),
            sign_cert=jpki.b64("sign_cert") if jpki.present("sign_cert") else None,
            sign_ca_cert=jpki.b64("sign_ca_cert"),
            auth_key_pem=jpki.text("auth_key_pem").encode(),
            sign_key_pem=(jpki.text("sign_key_pem").encode()
                          if jpki.present("sign_key_pem") else None),
            auth_cert_needs_pin=jpki.flag("auth_cert_needs_pin"),
            holder_auth_on_phone=jpki.flag("holder_auth_on_phone"),
            auth_pin=jpki.optional_credential("auth_pin"),
            sign_password=jpki.optional_credential("sign_password"),
        ),
        text=None if text is None else TextApData(
            my_number_record=text.hex("my_number_record"),
            attributes_record=text.hex("attributes_record"),
            integrity_record=text.hex("integrity_record"),
            certificate=text.hex("certificate"),
            ap_info=text.hex("ap_info"),
            cv_ca=text.cv_ca("cv_ca"),
            pin=text.credential("pin"),
            verify_a=text.credential("verify_a"),
            verify_b=text.credential("verify_b"),
        ),
        visual=None if visual is None else VisualApData(
            age_record=visual.b64("age_record"),
            card_face=visual.b64("card_face"),
            basic_info=visual.hex("basic_info"),
            certificate=visual.hex("certificate"),
            my_number_image=visual.b64("my_number_image"),
            cv_ca=visual.cv_ca("cv_ca"),
            card_key_pem=visual.text("card_key_pem").encode(),
            birth_key=visual.credential("birth_key"),
            verify_b=visual.credential("verify_b"),
            verify_a=visual.credential("verify_a"),
        ),
    )


class _Fields:
    """Typed access to one JSON object; every failure names the field's path."""

    def __init__(self, doc: object, where: str) -> None:
        if not isinstance(doc, dict):
            raise ProfileError(f"{where} must be a JSON object")
        self._doc: dict[str, Any] = doc
        self._where = where

    def _get(self, key: str) -> object:
        if key not in self._doc:
            raise ProfileError(f"{self._where}.{key} is missing")
        return self._doc[key]

    def present(self, key: str) -> bool:
        return self._doc.get(key) is not None

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise ProfileError(f"{self._where}.{key} must be a string")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.text(key)
        if value not in allowed:
            raise ProfileError(f"{self._where}.{key} must be one of {', '.join(allowed)}")
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise ProfileError(f"{self._where}.{key} must be true or false")
        return value

    def number(self, key: str) -> int:
        value = self._get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 15:
            raise ProfileError(f"{self._where}.{key} must be an integer 0..15")
        return value

    def hex(self, key: str) -> bytes:
        try:
            return bytes.fromhex(self.text(key))
        except ValueError as exc:
            raise ProfileError(f"{self._where}.{key} is not hex") from exc

    def b64(self, key: str) -> bytes:
        try:
            return base64.b64decode(self.text(key), validate=True)
        except binascii.Error as exc:
            raise ProfileError(f"{self._where}.{key} is not base64") from exc

    def section(self, key: str) -> _Fields:
        return _Fields(self._get(key), f"{self._where}.{key}")

    def optional_section(self, key: str) -> _Fields | None:
        return self.section(key) if self.present(key) else None

    def cv_ca(self, key: str) -> CvCa:
        fields = self.section(key)
        return CvCa(key_id=fields.hex("key_id"), public_key=fields.hex("public_key"))

    def optional_credential(self, key: str) -> Credential | None:
        return self.credential(key) if self.present(key) else None

    def credential(self, key: str) -> Credential:
        fields = self.section(key)
        max_tries = fields.number("max_tries")
        tries_left = fields.number("tries_left")
        if tries_left > max_tries:
            raise ProfileError(f"{self._where}.{key}.tries_left exceeds max_tries")
        value = fields.text("value") if fields.present("value") else None
        if value is not None and not value.isascii():
            raise ProfileError(f"{self._where}.{key}.value must be ASCII")
        return Credential(value=None if value is None else value.encode("ascii"),
                          max_tries=max_tries, tries_left=tries_left)
