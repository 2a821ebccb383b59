"""The driver against the simulated card: flows, round-trip counts, profiles, power sessions."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myna_reader.drivers import errors, pin, tlv
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard, PinStatus, Sex, TokenKind
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.files import CardFiles, select_ef_command
from myna_reader.drivers.jpki import PhoneNotAuthenticatedError
from myna_reader.drivers.mynumber_ids import TEXT_AID, JpkiEF, TextEF
from myna_reader.drivers.records import parse_basic_four
from myna_reader.drivers.sim.profile import CardProfile, load_profile
from myna_reader.drivers.text_ap import IntegrityCheck

AUTH_PIN = "1234"
JP2_MAGIC = bytes.fromhex("0000000C6A5020200D0A870A")
NOW = datetime(2026, 6, 1, tzinfo=UTC)


class Session:
    def __init__(self, profile: str, *, extended: bool) -> None:
        self.reader = SimReader(profile, supports_extended=extended)
        self.reader.connect()
        self.channel = CardChannel(self.reader)
        self.card = MyNumberCard(self.channel)

    def count(self) -> int:
        return self.channel.apdu_count

    def power_cycle(self) -> None:
        self.reader.disconnect(unpower=True)
        self.reader.connect()
        self.card.reset()


@pytest.mark.parametrize("extended", [False, True])
def test_auth_certificate_round_trips(extended: bool) -> None:
    session = Session("standard", extended=extended)
    der = session.card.jpki().read_auth_certificate()
    assert der == session.reader.profile.jpki.auth_cert
    reads = 1 if extended else math.ceil(len(der) / 256)
    assert session.count() == 2 + reads  # SELECT AP + SELECT EF + READs
    assert parse_certificate(der).not_after > NOW


@pytest.mark.parametrize("extended", [False, True])
def test_pin_mode_adds_exactly_five_apdus_and_the_signature_verifies(extended: bool) -> None:
    session = Session("standard", extended=extended)
    jpki = session.card.jpki()
    cert = parse_certificate(jpki.read_auth_certificate())
    before = session.count()
    assert jpki.auth_pin_tries() == PinStatus(tries_left=3)
    jpki.verify_auth_pin(AUTH_PIN)
    challenge = b"challenge from the terminal"
    signature = jpki.sign_with_auth_key(challenge)
    # SELECT 0018 + empty VERIFY (the tries query), VERIFY, SELECT 0017, COMPUTE SIGNATURE
    assert session.count() - before == 5
    assert len(signature) == 256
    assert cert.verifies(challenge, signature)
    assert not cert.verifies(b"another challenge", signature)


def test_signing_without_the_pin_is_refused() -> None:
    session = Session("standard", extended=False)
    with pytest.raises(errors.SecurityStatusError):
        session.card.jpki().sign_with_auth_key(b"x")


def test_the_auth_ca_certificate_reads_freely() -> None:
    session = Session("standard", extended=False)
    jpki = session.card.jpki()
    assert jpki.read_auth_ca_certificate() == session.reader.profile.jpki.auth_ca_cert


def test_free_files_and_cache_per_power_session() -> None:
    session = Session("standard", extended=False)
    jpki = session.card.jpki()
    assert jpki.token_kind() is TokenKind.PLASTIC_CARD
    availability = jpki.certificate_availability()
    assert (availability.sign, availability.auth) == (True, True)
    der = jpki.read_auth_certificate()
    count = session.count()
    assert jpki.token_kind() is TokenKind.PLASTIC_CARD
    assert jpki.read_auth_certificate() == der
    assert session.count() == count  # cached: no APDU
    session.power_cycle()
    assert session.card.jpki().read_auth_certificate() == der
    assert session.count() > count


def test_a_power_cycle_clears_the_verified_pin() -> None:
    session = Session("standard", extended=False)
    jpki = session.card.jpki()
    jpki.auth_pin_tries()
    jpki.verify_auth_pin(AUTH_PIN)
    assert len(jpki.sign_with_auth_key(b"x")) == 256
    session.power_cycle()
    assert jpki.auth_pin_tries() == PinStatus(tries_left=3)
    with pytest.raises(errors.SecurityStatusError):
        jpki.sign_with_auth_key(b"x")


def test_wrong_pin_then_the_last_try() -> None:
    session = Session("one-try-left", extended=False)
    jpki = session.card.jpki()
    assert jpki.auth_pin_tries() == PinStatus(tries_left=1)
    with pytest.raises(errors.PinBlockedError):
        jpki.verify_auth_pin("9999")
    assert jpki.auth_pin_tries().blocked
    assert session.reader.card is not None
    assert session.reader.card.tries_left("jpki", JpkiEF.AUTH_PIN) == 0


def test_wrong_pin_reports_tries_left() -> None:
    session = Session("standard", extended=False)
    jpki = session.card.jpki()
    jpki.auth_pin_tries()
    with pytest.raises(errors.PinIncorrectError) as caught:
        jpki.verify_auth_pin("0000")
    assert caught.value.tries_left == 2
    jpki.verify_auth_pin(AUTH_PIN)  # a success resets the counter
    assert jpki.auth_pin_tries() == PinStatus(tries_left=3)


def test_blocked_pin_refuses_even_the_right_one() -> None:
    session = Session("pin-blocked", extended=False)
    jpki = session.card.jpki()
    assert jpki.auth_pin_tries().blocked
    with pytest.raises(errors.PinBlockedError):
        jpki.verify_auth_pin(AUTH_PIN)


def test_under_15_has_no_signing_certificate() -> None:
    session = Session("under-15", extended=False)
    jpki = session.card.jpki()
    availability = jpki.certificate_availability()
    assert (availability.sign, availability.auth) == (False, True)
    with pytest.raises(errors.CardFileNotFoundError):
        session.channel.exchange(select_ef_command(JpkiEF.SIGN_CERT))


def test_face_card_has_no_usable_pin() -> None:
    session = Session("face-card", extended=False)
    jpki = session.card.jpki()
    assert jpki.auth_pin_tries().blocked
    assert not jpki.certificate_availability().sign
    assert parse_certificate(jpki.read_auth_certificate()).not_after > NOW


def test_android_token_wants_the_pin_before_the_auth_certificate() -> None:
    session = Session("android-phone", extended=True)
    assert session.card.is_my_number_card()
    jpki = session.card.jpki()
    assert jpki.token_kind() is TokenKind.ANDROID
    with pytest.raises(errors.SecurityStatusError):
        jpki.read_auth_certificate()
    jpki.auth_pin_tries()
    jpki.verify_auth_pin(AUTH_PIN)
    assert jpki.read_auth_certificate() == session.reader.profile.jpki.auth_cert
    with pytest.raises(errors.CardFileNotFoundError):
        session.card.text()  # a phone carries only the JPKI AP


def test_expired_certificate() -> None:
    session = Session("expired", extended=False)
    assert parse_certificate(session.card.jpki().read_auth_certificate()).is_expired(NOW)


def test_text_ap_records_and_their_integrity() -> None:
    session = Session("standard", extended=False)
    holder = session.reader.profile.holder
    text = session.card.text()
    assert text.info().identification == bytes.fromhex("01030E01")
    certificate = text.certificate()
    assert (str(certificate.issuer), str(certificate.subject)) == ("9000033/001", "9100033/001")
    with pytest.raises(errors.SecurityStatusError):
        text.check_integrity()  # EF 0001 wants the PIN
    assert text.pin_tries().tries_left == 3
    text.verify_pin(AUTH_PIN)
    check = text.check_integrity()
    assert (check.my_number_digest_ok, check.attributes_digest_ok, check.signature_ok) == (
        True, True, True)
    assert check.my_number == holder.my_number
    four = check.basic_four
    assert (four.name, four.address, four.birth, four.sex) == (
        holder.name, holder.address, holder.birth_date, Sex(holder.sex))
    assert holder.name not in repr(check)
    assert holder.my_number not in repr(check)


def _integrity_of(profile: CardProfile) -> IntegrityCheck:
    """The text AP's own check of a card made from `profile`, after its PIN."""
    reader = SimReader(profile)
    reader.connect()
    text = MyNumberCard(CardChannel(reader)).text()
    text.pin_tries()
    text.verify_pin(AUTH_PIN)
    return text.check_integrity()


def test_a_changed_attribute_fails_its_digest_and_nothing_else() -> None:
    text_data = STANDARD.text
    assert text_data is not None
    record = bytearray(text_data.attributes_record)
    record[record.index(b"\xdf\x25\x01") + 3] ^= 0x03  # 性別 "2" -> "1"
    check = _integrity_of(replace(STANDARD, text=replace(text_data,
                                                          attributes_record=bytes(record))))
    assert (check.my_number_digest_ok, check.attributes_digest_ok, check.signature_ok) == (
        True, False, True)


def test_a_changed_my_number_filler_fails_its_digest() -> None:
    text_data = STANDARD.text
    assert text_data is not None
    physical = text_data.my_number_record[:-1] + b"\x00"  # the filler the digest covers
    check = _integrity_of(replace(STANDARD, text=replace(text_data, my_number_record=physical)))
    assert (check.my_number_digest_ok, check.attributes_digest_ok, check.signature_ok) == (
        False, True, True)
    assert not check.ok


@pytest.mark.parametrize("extended", [False, True])
def test_iphone_signs_only_after_the_holder_authenticated_on_the_phone(extended: bool) -> None:
    session = Session("iphone", extended=extended)
    jpki = session.card.jpki()
    assert jpki.token_kind() is TokenKind.IPHONE
    assert not jpki.token_kind().pin_on_reader
    cert = parse_certificate(jpki.read_auth_certificate())  # free: no PIN on an iPhone
    with pytest.raises(errors.CardFileNotFoundError):
        jpki.auth_pin_tries()  # no PIN key EF on the reader side
    with pytest.raises(PhoneNotAuthenticatedError):
        jpki.sign_with_auth_key(b"nonce")
    session.reader.card.authenticate_holder()  # Face ID, away from the reader
    session.power_cycle()  # held to the reader again
    jpki = session.card.jpki()
    before = session.count()
    signature = jpki.sign_with_auth_key(b"nonce")
    assert session.count() - before == 2  # SELECT 0017, COMPUTE DIGITAL SIGNATURE
    assert cert.verifies(b"nonce", signature)
    assert jpki.sign_with_auth_key(b"again")  # the authentication holds while the phone stays
    session.power_cycle()  # the phone left after a signature: the authentication is spent
    with pytest.raises(PhoneNotAuthenticatedError):
        session.card.jpki().sign_with_auth_key(b"nonce")


def test_card_face_with_collation_b() -> None:
    session = Session("standard", extended=False)
    holder = session.reader.profile.holder
    visual = session.card.visual()
    with pytest.raises(errors.SecurityStatusError):
        visual.read_card_face()
    assert visual.collation_b_tries().tries_left == 10
    number_b = session.reader.profile.visual.verify_b.value.decode()  # type: ignore[union-attr]
    visual.verify_collation_b(number_b)
    face = visual.read_card_face()
    assert (face.birth, face.expiry, face.sex) == (holder.birth_date, holder.card_expiry,
                                                   Sex(holder.sex))
    assert face.photo.startswith(JP2_MAGIC)
    assert len(face.signature) == 256
    assert face.public_key.startswith(bytes.fromhex("9003010001"))
    assert visual.face_photo() == face.photo
    assert "photo" in repr(face)
    assert holder.birth_date not in repr(face)


def test_wrong_collation_b_counts_down() -> None:
    session = Session("standard", extended=False)
    visual = session.card.visual()
    visual.collation_b_tries()
    with pytest.raises(errors.PinIncorrectError) as caught:
        visual.verify_collation_b("00000000000000")
    assert caught.value.tries_left == 9


def test_card_removed_then_back() -> None:
    session = Session("standard", extended=False)
    jpki = session.card.jpki()
    jpki.auth_pin_tries()
    session.reader.remove()
    with pytest.raises(errors.CardRemovedError):
        jpki.read_auth_certificate()
    session.reader.insert()
    session.reader.connect()
    session.card.reset()
    assert jpki.read_auth_certificate() == session.reader.profile.jpki.auth_cert


# --- the read strategy over any record size, against the simulated card ------------------------

STANDARD = load_profile("standard")
names = st.text(st.characters(codec="utf-8", categories=("L", "N", "Zs")), max_size=700)


@settings(max_examples=40, deadline=None)
@given(name=names, address=names, filler=st.integers(0, 300), extended=st.booleans(),
       birth=st.from_regex(r"[0-9]{8}", fullmatch=True), sex=st.sampled_from(list(Sex)))
def test_records_of_any_size_read_in_the_fewest_apdus(name: str, address: str, filler: int,
                                                      extended: bool, birth: str,
                                                      sex: Sex) -> None:
    record = tlv.Tlv.of(0xFF20, [
        tlv.Tlv(0xDF21, bytes(8)), tlv.Tlv(0xDF22, name.encode()),
        tlv.Tlv(0xDF23, address.encode()), tlv.Tlv(0xDF24, birth.encode()),
        tlv.Tlv(0xDF25, sex.value.encode()),
    ]).encode()
    assert STANDARD.text is not None
    profile = replace(STANDARD, text=replace(STANDARD.text,
                                             attributes_record=record + b"\xff" * filler))
    reader = SimReader(profile, supports_extended=extended)
    reader.connect()
    channel = CardChannel(reader)
    files = CardFiles(channel)
    pin.query_status(files, TEXT_AID, TextEF.PIN)
    pin.verify(files, TEXT_AID, TextEF.PIN, AUTH_PIN.encode())
    before = channel.apdu_count
    four = parse_basic_four(files.read_object(TEXT_AID, TextEF.ATTRIBUTES))
    reads = 1 if extended else math.ceil(len(record) / 256)
    assert channel.apdu_count - before == 1 + reads  # SELECT EF 0002 + READs
    assert (four.name, four.address, four.birth, four.sex) == (name, address, birth, sex)
