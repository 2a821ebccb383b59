"""A simulated My Number card: files, PIN counters and signatures behind an APDU interface.

Behaviour follows docs/card-protocol.md §12 (what the simulated card models), §3-§6 (files,
SELECT, READ BINARY), §7-§8 (PINs, counters, status words) and §9 (signature). The bridges to
pcscd/vpcd and nfcpy's udp driver wrap `atr`, `power_on`, `power_off` and `process`.
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from myna_reader.drivers.apdu import Command
from myna_reader.drivers.channel import INS_VERIFY
from myna_reader.drivers.errors import FormatError, TransportError
from myna_reader.drivers.mynumber_ids import (
    JPKI_AID,
    TEXT_AID,
    VISUAL_AID,
    JpkiEF,
    TextEF,
    VisualEF,
)
from myna_reader.drivers.sim.profile import CardProfile, Credential

log = logging.getLogger(__name__)


class Sw(enum.IntEnum):
    OK = 0x9000
    BLOCKED = 0x6984
    SECURITY_STATUS = 0x6982
    INCOMPATIBLE_FILE = 0x6981
    CONDITIONS = 0x6985
    NOT_FOUND = 0x6A82
    WRONG_P1P2 = 0x6A86
    DATA_NOT_FOUND = 0x6A88
    WRONG_LENGTH = 0x6700
    END_OF_FILE = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


SW_NO_PRECISE_DIAGNOSIS = b"\x6f\x00"


def retries_sw(tries_left: int) -> int:
    """63Cx: x tries left (63C0 = blocked)."""
    return 0x63C0 | tries_left


class CardNotPoweredError(TransportError):
    """An APDU was given to a card that is not powered (no power_on since power_off)."""


# ISO 7816-4 instructions the card answers, with the one CLA each is accepted with.
INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_SIGN = 0x2A  # COMPUTE DIGITAL SIGNATURE, proprietary CLA 80
INS_GET_CHALLENGE = 0x84
_CLA_OF = {INS_SELECT: 0x00, INS_READ_BINARY: 0x00, INS_VERIFY: 0x00,
           INS_GET_CHALLENGE: 0x00, INS_SIGN: 0x80}

SELECT_BY_DF_NAME = 0x04
SELECT_EF_UNDER_DF = 0x02
SELECT_MF = 0x00
SELECT_NO_FCI = 0x0C
SFI_FLAG = 0x80  # P1 of READ BINARY / P2 of VERIFY and SIGN: 0x80|SFI names the EF directly
P2_CURRENT_KEY = 0x80
P2_AP_KEY = 0x00  # 券面AP: sign with the AP's own card key
SIGN_SCHEME_PKCS1 = 0x00  # P1 00: PKCS#1 v1.5 type 1 of the data as given (§9)
PKCS1_OVERHEAD = 11

Reply = tuple[bytes, int]
AccessRule = frozenset[int]  # any one of these verified key EFs opens the file
#: Not an EF: the holder's authentication on an iPhone (Face ID / Touch ID), which stands in
#: for a PIN there. The card answers 6982 while it is missing, as for a key used before its
#: VERIFY (docs/card-protocol.md: no public source says what an iPhone answers).
HOLDER_ON_PHONE = 0x10000


@dataclass(frozen=True)
class _SigningKey:
    key: RSAPrivateKey
    needs: int | None  # the key EF that must be verified first, or HOLDER_ON_PHONE


@dataclass
class _Application:
    """One DF: its files, credentials (with live counters) and signing keys."""

    name: str
    files: dict[int, bytes]
    credentials: dict[int, Credential]
    read_rules: dict[int, AccessRule]
    signing_keys: dict[int, _SigningKey]
    ap_key: RSAPrivateKey | None = None
    tries: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tries = {ef: cred.tries_left for ef, cred in self.credentials.items()}

    def has_ef(self, fid: int) -> bool:
        return fid in self.files or fid in self.credentials or fid in self.signing_keys


def sign_pkcs1_type1(key: RSAPrivateKey, data: bytes) -> bytes:
    """RSA with PKCS#1 v1.5 type-1 padding of `data` as given (the card adds no DigestInfo)."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    size = (n.bit_length() + 7) // 8
    if len(data) > size - PKCS1_OVERHEAD:
        raise ValueError(f"{len(data)} bytes do not fit a {size}-byte PKCS#1 block")
    block = b"\x00\x01" + b"\xff" * (size - 3 - len(data)) + b"\x00" + data
    m = int.from_bytes(block, "big")
    # CRT: three times faster than pow(m, d, n)
    m1 = pow(m, numbers.dmp1, numbers.p)
    m2 = pow(m, numbers.dmq1, numbers.q)
    h = numbers.iqmp * (m1 - m2) % numbers.p
    return (m2 + h * numbers.q).to_bytes(size, "big")


def _load_key(pem: bytes) -> RSAPrivateKey:
    # The fixtures' own synthetic keys: skipping the slow validation keeps card creation fast.
    key = load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, RSAPrivateKey):
        raise FormatError("profile key is not an RSA private key")
    return key


def _token_info(label: str) -> bytes:
    """EF 0006: a 160-byte CK_TOKEN_INFO whose first 32 bytes are the space-padded label."""
    return label.encode("ascii").ljust(32, b" ") + bytes(128)


def _jpki(profile: CardProfile) -> _Application:
    data = profile.jpki
    auth_needs = HOLDER_ON_PHONE if data.holder_auth_on_phone else JpkiEF.AUTH_PIN
    sign_needs = HOLDER_ON_PHONE if data.holder_auth_on_phone else JpkiEF.SIGN_PIN
    files: dict[int, bytes] = {
        JpkiEF.SIGN_CA_CERT: data.sign_ca_cert,
        JpkiEF.TOKEN_INFO: _token_info(data.token_label),
        JpkiEF.CERT_AVAILABILITY: data.cert_availability,
        JpkiEF.AUTH_CERT: data.auth_cert,
        JpkiEF.AUTH_CA_CERT: data.auth_ca_cert,
    }
    keys: dict[int, _SigningKey] = {
        JpkiEF.AUTH_KEY: _SigningKey(_load_key(data.auth_key_pem), auth_needs),
    }
    if data.sign_cert is not None:
        files[JpkiEF.SIGN_CERT] = data.sign_cert
    if data.sign_key_pem is not None:
        keys[JpkiEF.SIGN_KEY] = _SigningKey(_load_key(data.sign_key_pem), sign_needs)
    rules: dict[int, AccessRule] = {JpkiEF.SIGN_CERT: frozenset({sign_needs})}
    if data.auth_cert_needs_pin:
        rules[JpkiEF.AUTH_CERT] = frozenset({JpkiEF.AUTH_PIN})
    credentials: dict[int, Credential] = {ef: credential for ef, credential in
                   ((JpkiEF.AUTH_PIN, data.auth_pin), (JpkiEF.SIGN_PIN, data.sign_password))
                   if credential is not None}
    return _Application(
        name="jpki",
        files=files,
        credentials=credentials,
        read_rules=rules,
        signing_keys=keys,
    )


def _applications(profile: CardProfile) -> dict[bytes, _Application]:
    apps = {JPKI_AID: _jpki(profile)}
    if profile.text is not None:
        text = profile.text
        apps[TEXT_AID] = _Application(
            name="text",
            files={TextEF.MY_NUMBER: text.my_number_record,
                   TextEF.ATTRIBUTES: text.attributes_record,
                   TextEF.INTEGRITY: text.integrity_record,
                   TextEF.CERTIFICATE: text.certificate,
                   TextEF.AP_INFO: text.ap_info},
            credentials={TextEF.PIN: text.pin, TextEF.VERIFY_A: text.verify_a,
                         TextEF.VERIFY_B: text.verify_b},
            read_rules={TextEF.MY_NUMBER: frozenset({TextEF.PIN, TextEF.VERIFY_A}),
                        TextEF.ATTRIBUTES: frozenset({TextEF.PIN, TextEF.VERIFY_B}),
                        TextEF.INTEGRITY: frozenset({TextEF.PIN, TextEF.VERIFY_A,
                                                     TextEF.VERIFY_B})},
            signing_keys={},
        )
    if profile.visual is not None:
        visual = profile.visual
        apps[VISUAL_AID] = _Application(
            name="visual",
            files={VisualEF.BIRTH_RECORD: visual.age_record,
                   VisualEF.CARD_FACE: visual.card_face,
                   VisualEF.BASIC_INFO: visual.basic_info,
                   VisualEF.CERTIFICATE: visual.certificate,
                   VisualEF.MY_NUMBER_IMAGE: visual.my_number_image},
            credentials={VisualEF.BIRTH_KEY: visual.birth_key,
                         VisualEF.VERIFY_B: visual.verify_b,
                         VisualEF.VERIFY_A: visual.verify_a},
            read_rules={VisualEF.BIRTH_RECORD: frozenset({VisualEF.BIRTH_KEY}),
                        VisualEF.CARD_FACE: frozenset({VisualEF.VERIFY_A, VisualEF.VERIFY_B}),
                        VisualEF.MY_NUMBER_IMAGE: frozenset({VisualEF.VERIFY_A})},
            signing_keys={},
            ap_key=_load_key(visual.card_key_pem),
        )
    return apps


class CardModel(Protocol):
    """What a bridge (vpcd, nfc-udp) needs of a card; SimulatedCard is the one we have."""

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> bytes: ...

    def power_off(self) -> None: ...

    def process(self, apdu: bytes) -> bytes: ...


def answer_apdu(card: CardModel, apdu: bytes) -> bytes:
    """`card.process(apdu)` for a bridge: a card that crashes answers 6F00 (no precise
    diagnosis), as a chip does, rather than taking the bridge down."""
    try:
        return card.process(apdu)
    except Exception:
        log.exception("simulated card failed on INS %02X; answering 6F00",
                      apdu[1] if len(apdu) > 1 else 0)
        return SW_NO_PRECISE_DIAGNOSIS


class SimulatedCard:
    """One card. Retry counters live as long as the object; verified states until power-off.

    On an iPhone profile the holder's authentication on the phone (`authenticate_holder`)
    stands in for the PINs: it is made away from the reader, so it outlasts a power-off, and
    it is spent once a signature used it and the phone has left the field.
    """

    def __init__(self, profile: CardProfile, *, clear_on_df_change: bool = False) -> None:
        self.profile = profile
        self.clear_on_df_change = clear_on_df_change
        self._apps = _applications(profile)
        self._powered = False
        self._current_df: bytes | None = None
        self._current_ef: dict[bytes, int | None] = {}
        self._verified: set[tuple[bytes, int]] = set()
        self._holder_authenticated = False
        self._holder_authentication_used = False
        self._handlers: dict[int, Callable[[Command], Reply]] = {
            INS_SELECT: self._select,
            INS_READ_BINARY: self._read_binary,
            INS_VERIFY: self._verify,
            INS_SIGN: self._sign,
            INS_GET_CHALLENGE: self._get_challenge,
        }

    # --- the interface the backends and bridges use ------------------------------------------

    @property
    def atr(self) -> bytes:
        return self.profile.atr

    @property
    def powered(self) -> bool:
        return self._powered

    def power_on(self) -> bytes:
        """Power (or re-power) the card: a fresh session. Returns the ATR."""
        self._reset_session()
        self._powered = True
        return self.atr

    def power_off(self) -> None:
        """Leave the field: every verified state and selection is gone, counters stay."""
        self._reset_session()
        self._powered = False

    def authenticate_holder(self) -> None:
        """The holder authenticates on the phone (Face ID / Touch ID): an iPhone's keys and
        signing certificate open until the phone leaves the reader after a signature."""
        self._holder_authenticated = True
        self._holder_authentication_used = False

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU with response data + SW1 SW2."""
        if not self._powered:
            raise CardNotPoweredError("the simulated card is not powered")
        try:
            command = Command.parse(apdu)
        except FormatError:
            return Sw.WRONG_LENGTH.to_bytes(2, "big")
        data, sw = self._dispatch(command)
        return data + sw.to_bytes(2, "big")

    def tries_left(self, ap: str, key_ef: int) -> int:
        """The live retry counter of key EF `key_ef` in AP "jpki", "text" or "visual"."""
        for app in self._apps.values():
            if app.name == ap:
                return app.tries[key_ef]
        raise KeyError(f"the card has no AP named {ap!r}")

    # --- dispatch ------------------------------------------------------------------------------

    def _reset_session(self) -> None:
        self._current_df = None
        self._current_ef = {}
        self._verified.clear()
        if self._holder_authentication_used:
            self._holder_authenticated = self._holder_authentication_used = False

    def _dispatch(self, command: Command) -> Reply:
        if command.cla not in (0x00, 0x80):
            return b"", Sw.CLA_NOT_SUPPORTED
        handler = self._handlers.get(command.ins)
        if handler is None:
            return b"", Sw.INS_NOT_SUPPORTED
        if command.cla != _CLA_OF[command.ins]:
            return b"", Sw.CLA_NOT_SUPPORTED
        return handler(command)

    def _app(self) -> _Application | None:
        return None if self._current_df is None else self._apps[self._current_df]

    def _ef_by_sfi(self, app: _Application, sfi: int) -> int | None:
        """The EF a short EF id names (every EF of this card is 0001-001E, so SFI == FID)."""
        return sfi if app.has_ef(sfi) else None

    # --- SELECT --------------------------------------------------------------------------------

    def _select(self, command: Command) -> Reply:
        if command.ne is not None:
            return b"", Sw.WRONG_LENGTH  # P2 0C: no FCI, so no Le either
        if command.p1 == SELECT_MF:
            # No usable MF: refused right after reset, a no-op with an AP selected (§2).
            return b"", (Sw.WRONG_P1P2 if self._current_df is None else Sw.OK)
        if command.p2 != SELECT_NO_FCI:
            return b"", Sw.WRONG_P1P2
        if command.p1 == SELECT_BY_DF_NAME:
            return self._select_df(command.data)
        if command.p1 == SELECT_EF_UNDER_DF:
            return self._select_ef(command.data)
        return b"", Sw.WRONG_P1P2

    def _select_df(self, aid: bytes) -> Reply:
        if not aid:
            return b"", Sw.WRONG_LENGTH
        if aid not in self._apps:
            return b"", Sw.NOT_FOUND
        if self.clear_on_df_change and aid != self._current_df:
            self._verified.clear()
        self._current_df = aid
        self._current_ef[aid] = None
        return b"", Sw.OK

    def _select_ef(self, fid_bytes: bytes) -> Reply:
        if len(fid_bytes) != 2:
            return b"", Sw.WRONG_LENGTH
        app = self._app()
        fid = int.from_bytes(fid_bytes, "big")
        if app is None or not app.has_ef(fid):
            return b"", Sw.NOT_FOUND
        assert self._current_df is not None
        self._current_ef[self._current_df] = fid
        return b"", Sw.OK

    # --- READ BINARY ---------------------------------------------------------------------------

    def _read_binary(self, command: Command) -> Reply:
        if command.data or command.ne is None:
            return b"", Sw.WRONG_LENGTH
        app = self._app()
        if app is None:
            return b"", Sw.NOT_FOUND
        assert self._current_df is not None
        if command.p1 & SFI_FLAG:
            if command.p1 & 0x60:
                return b"", Sw.WRONG_P1P2
            fid = self._ef_by_sfi(app, command.p1 & 0x1F)
            if fid is None:
                return b"", Sw.NOT_FOUND
            self._current_ef[self._current_df] = fid
            offset = command.p2
        else:
            current = self._current_ef.get(self._current_df)
            if current is None:
                return b"", Sw.NOT_FOUND
            fid = current
            offset = (command.p1 << 8) | command.p2
        if fid not in app.files:
            return b"", Sw.INCOMPATIBLE_FILE  # a key or PIN EF is never readable
        if not self._opens(app, fid):
            return b"", Sw.SECURITY_STATUS
        content = app.files[fid]
        if offset >= len(content):
            return b"", Sw.END_OF_FILE
        return content[offset : offset + command.ne], Sw.OK

    def _opens(self, app: _Application, fid: int) -> bool:
        rule = app.read_rules.get(fid)
        return rule is None or any(self._satisfied(key) for key in rule)

    def _satisfied(self, key: int) -> bool:
        """Whether key EF `key` of the current AP is verified (or the holder authenticated)."""
        if key == HOLDER_ON_PHONE:
            return self._holder_authenticated
        assert self._current_df is not None
        return (self._current_df, key) in self._verified

    # --- VERIFY --------------------------------------------------------------------------------

    def _verify(self, command: Command) -> Reply:
        if command.ne is not None:
            return b"", Sw.WRONG_LENGTH
        if command.p1 != 0x00 or not command.p2 & SFI_FLAG:
            return b"", Sw.WRONG_P1P2
        app = self._app()
        if app is None:
            return b"", Sw.DATA_NOT_FOUND
        assert self._current_df is not None
        key_ef: int | None
        if command.p2 == P2_CURRENT_KEY:
            key_ef = self._current_ef.get(self._current_df)
        else:
            key_ef = self._ef_by_sfi(app, command.p2 & 0x1F)
        if key_ef is None or key_ef not in app.credentials:
            return b"", Sw.DATA_NOT_FOUND
        return b"", self._check_credential(app, key_ef, command.data)

    def _check_credential(self, app: _Application, key_ef: int, offered: bytes) -> int:
        credential = app.credentials[key_ef]
        assert self._current_df is not None
        ref = (self._current_df, key_ef)
        left = app.tries[key_ef]
        if not offered:  # the retry query of §7.2: never spends a try
            return retries_sw(left)
        if left == 0 or credential.value is None:
            return Sw.BLOCKED
        if secrets.compare_digest(offered, credential.value):
            app.tries[key_ef] = credential.max_tries
            self._verified.add(ref)
            return Sw.OK
        app.tries[key_ef] = left - 1
        self._verified.discard(ref)
        return retries_sw(left - 1)

    # --- COMPUTE DIGITAL SIGNATURE -------------------------------------------------------------

    def _sign(self, command: Command) -> Reply:
        if not command.data or command.ne is None:
            return b"", Sw.WRONG_LENGTH
        if command.p1 != SIGN_SCHEME_PKCS1:
            return b"", Sw.WRONG_P1P2
        app = self._app()
        if app is None:
            return b"", Sw.DATA_NOT_FOUND
        assert self._current_df is not None
        if command.p2 == P2_AP_KEY:
            if app.ap_key is None:
                return b"", Sw.DATA_NOT_FOUND
            return self._signature(app.ap_key, command)
        if not command.p2 & SFI_FLAG:
            return b"", Sw.WRONG_P1P2
        key_ef: int | None
        if command.p2 == P2_CURRENT_KEY:
            key_ef = self._current_ef.get(self._current_df)
        else:
            key_ef = self._ef_by_sfi(app, command.p2 & 0x1F)
            if key_ef is None:
                return b"", Sw.NOT_FOUND
        signing_key = app.signing_keys.get(key_ef) if key_ef is not None else None
        if signing_key is None:
            return b"", Sw.DATA_NOT_FOUND
        if signing_key.needs is not None and not self._satisfied(signing_key.needs):
            return b"", Sw.SECURITY_STATUS
        reply = self._signature(signing_key.key, command)
        if signing_key.needs == HOLDER_ON_PHONE and reply[1] == Sw.OK:
            self._holder_authentication_used = True
        return reply

    @staticmethod
    def _signature(key: RSAPrivateKey, command: Command) -> Reply:
        size = key.key_size // 8
        assert command.ne is not None
        if len(command.data) > size - PKCS1_OVERHEAD:
            return b"", Sw.CONDITIONS
        if command.ne < size:
            return b"", Sw.WRONG_LENGTH
        return sign_pkcs1_type1(key, command.data), Sw.OK

    # --- GET CHALLENGE -------------------------------------------------------------------------

    @staticmethod
    def _get_challenge(command: Command) -> Reply:
        if command.data or command.ne is None:
            return b"", Sw.WRONG_LENGTH
        if command.p1 or command.p2:
            return b"", Sw.WRONG_P1P2
        if command.is_extended:
            return b"", Sw.CONDITIONS  # observed answer to an extended Le (§3.6)
        return secrets.token_bytes(command.ne), Sw.OK
