"""The simulated card against the byte-exact vectors of docs/card-protocol.md (§2-§9)."""

import hashlib
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from myna_reader.drivers.sim.card import CardNotPoweredError, SimulatedCard
from tests.drivers.sim.conftest import Send

SELECT_JPKI = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
SELECT_TEXT = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08"
SELECT_VISUAL = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 02"
VERIFY_1234 = "00 20 00 80 04 31 32 33 34"
VERIFY_ABC123 = "00 20 00 80 06 41 42 43 31 32 33"
SHA256_DIGEST_INFO = bytes.fromhex("3031300D060960864801650304020105000420")


def digest_info(message: bytes) -> bytes:
    return SHA256_DIGEST_INFO + hashlib.sha256(message).digest()


def sign_apdu(p2: int, data: bytes) -> str:
    return f"80 2A 00 {p2:02X} {len(data):02X} {data.hex()} 00"


def verify_signature(cert_der: bytes, signature: bytes, message: bytes) -> None:
    key = x509.load_der_x509_certificate(cert_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


# --- §9 canonical signature flow -------------------------------------------------------------


def test_canonical_auth_signature_flow(card: SimulatedCard, send: Send) -> None:
    message = b"nonce from the qualification-confirmation terminal"
    assert send(SELECT_JPKI) == (b"", 0x9000)
    assert send("00 A4 02 0C 02 00 18") == (b"", 0x9000)
    assert send("00 20 00 80") == (b"", 0x63C3)
    assert send(VERIFY_1234) == (b"", 0x9000)
    assert send("00 A4 02 0C 02 00 17") == (b"", 0x9000)
    signature, sw = send(sign_apdu(0x80, digest_info(message)))
    assert sw == 0x9000
    assert len(signature) == 256
    verify_signature(card.profile.jpki.auth_cert, signature, message)


def test_signing_key_signs_after_signing_password(card: SimulatedCard, send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 1B")
    assert send(VERIFY_ABC123)[1] == 0x9000
    send("00 A4 02 0C 02 00 1A")
    signature, sw = send(sign_apdu(0x80, digest_info(b"contract")))
    assert sw == 0x9000
    assert card.profile.jpki.sign_cert is not None
    verify_signature(card.profile.jpki.sign_cert, signature, b"contract")


def test_sign_by_short_ef_id_without_select(card: SimulatedCard, send: Send) -> None:
    send(SELECT_JPKI)
    assert send("00 20 00 98 04 31 32 33 34") == (b"", 0x9000)  # VERIFY with P2 = 80|SFI 18
    signature, sw = send(sign_apdu(0x97, digest_info(b"x")))
    assert sw == 0x9000
    verify_signature(card.profile.jpki.auth_cert, signature, b"x")


def test_sign_without_verify_is_refused(send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 17")
    assert send(sign_apdu(0x80, digest_info(b"x"))) == (b"", 0x6982)


def test_auth_pin_does_not_unlock_signing_key(send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 18")
    send(VERIFY_1234)
    send("00 A4 02 0C 02 00 1A")
    assert send(sign_apdu(0x80, digest_info(b"x"))) == (b"", 0x6982)


@pytest.mark.parametrize(("apdu", "sw"), [
    ("80 2A 01 80 03 AA BB CC 00", 0x6A86),  # only scheme P1 00 is implemented
    ("80 2A 00 80 " + "F6 " + "AB " * 246 + "00", 0x6985),  # 246 > 245 bytes
    ("80 2A 00 80 03 AA BB CC", 0x6700),  # no Le
])
def test_signature_parameter_errors(send: Send, apdu: str, sw: int) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 18")
    send(VERIFY_1234)
    send("00 A4 02 0C 02 00 17")
    assert send(apdu) == (b"", sw)


def test_245_bytes_is_the_largest_signature_input(card: SimulatedCard, send: Send) -> None:
    send(SELECT_JPKI)
    send("00 20 00 98 04 31 32 33 34")
    signature, sw = send(sign_apdu(0x97, bytes(range(245))))
    assert sw == 0x9000
    key = x509.load_der_x509_certificate(card.profile.jpki.auth_cert).public_key()
    recovered = pow(int.from_bytes(signature, "big"), key.public_numbers().e,  # type: ignore[union-attr]
                    key.public_numbers().n)  # type: ignore[union-attr]
    assert recovered.to_bytes(256, "big") == b"\x00\x01" + b"\xff" * 8 + b"\x00" + bytes(range(245))


# --- §7.2 retry query, §7.1 counters ---------------------------------------------------------


def test_empty_verify_reports_tries_without_spending_one(card: SimulatedCard, send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 18")
    for _ in range(5):
        assert send("00 20 00 80") == (b"", 0x63C3)
    assert card.tries_left("jpki", 0x18) == 3


def test_wrong_pins_count_down_then_block(card: SimulatedCard, send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 18")
    assert send("00 20 00 80 04 39 39 39 39")[1] == 0x63C2
    assert send("00 20 00 80 04 39 39 39 39")[1] == 0x63C1
    assert send("00 20 00 80 04 39 39 39 39")[1] == 0x63C0  # the exhausting attempt
    assert send("00 20 00 80 04 39 39 39 39")[1] == 0x6984
    assert send(VERIFY_1234)[1] == 0x6984  # the right PIN no longer helps
    assert send("00 20 00 80")[1] == 0x63C0
    card.power_off()
    card.power_on()
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 18")
    assert send(VERIFY_1234)[1] == 0x6984  # blocked survives power cycles


def test_success_resets_the_counter(send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 1B")
    send("00 20 00 80 06 41 41 41 41 41 41")
    send("00 20 00 80 06 41 41 41 41 41 41")
    assert send("00 20 00 80") == (b"", 0x63C3)
    assert send(VERIFY_ABC123)[1] == 0x9000
    assert send("00 20 00 80") == (b"", 0x63C5)


def test_card_compares_the_signing_password_as_stored_uppercase(send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 1B")
    assert send("00 20 00 80 06 61 62 63 31 32 33")[1] == 0x63C4  # "abc123": driver must uppercase


def test_power_off_clears_verified_state_but_keeps_counters(card: SimulatedCard,
                                                            send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 18")
    send("00 20 00 80 04 30 30 30 30")
    send("00 A4 02 0C 02 00 1B")
    send(VERIFY_ABC123)
    card.power_off()
    card.power_on()
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 1A")
    assert send(sign_apdu(0x80, digest_info(b"x"))) == (b"", 0x6982)
    send("00 A4 02 0C 02 00 18")
    assert send("00 20 00 80") == (b"", 0x63C2)


@pytest.mark.parametrize(("clear_on_df_change", "after_df_change"), [(False, 0x9000),
                                                                     (True, 0x6982)])
def test_verified_state_across_df_change(make_card: Callable[..., SimulatedCard],
                                         send_to: Callable[[SimulatedCard], Send],
                                         clear_on_df_change: bool, after_df_change: int) -> None:
    send = send_to(make_card("standard", clear_on_df_change=clear_on_df_change))
    send(SELECT_JPKI)
    send("00 20 00 98 04 31 32 33 34")
    send(SELECT_TEXT)
    send(SELECT_JPKI)
    assert send(sign_apdu(0x97, digest_info(b"x")))[1] == after_df_change


# --- §3-§6 files, SELECT, READ BINARY --------------------------------------------------------


def test_read_binary_returns_min_of_le_and_remaining(card: SimulatedCard, send: Send) -> None:
    cert = card.profile.jpki.auth_cert
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 0A")
    assert send("00 B0 00 00 07") == (cert[:7], 0x9000)
    assert send("00 B0 00 00 00") == (cert[:256], 0x9000)
    last = len(cert) - 1
    assert send(f"00 B0 {last:04X} 00") == (cert[-1:], 0x9000)


def test_read_binary_at_or_past_end_of_file_is_6b00(card: SimulatedCard, send: Send) -> None:
    size = len(card.profile.jpki.auth_cert)
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 0A")
    assert send(f"00 B0 {size:04X} 01") == (b"", 0x6B00)
    assert send(f"00 B0 {size + 300:04X} 00") == (b"", 0x6B00)


def test_extended_le_reads_the_whole_certificate_at_once(card: SimulatedCard, send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 0A")
    assert send("00 B0 00 00 00 00 00") == (card.profile.jpki.auth_cert, 0x9000)


def test_header_driven_chunked_read_reassembles_the_certificate(card: SimulatedCard,
                                                                send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 0B")
    head, _ = send("00 B0 00 00 04")
    assert head[:2] == b"\x30\x82"
    size = int.from_bytes(head[2:4], "big") + 4
    chunks = [send(f"00 B0 {offset:04X} 00")[0] for offset in range(0, size, 256)]
    assert b"".join(chunks) == card.profile.jpki.auth_ca_cert


def test_read_binary_by_short_ef_id(card: SimulatedCard, send: Send) -> None:
    send(SELECT_JPKI)
    assert send("00 B0 8A 00 07") == (card.profile.jpki.auth_cert[:7], 0x9000)
    assert send("00 B0 00 07 03") == (card.profile.jpki.auth_cert[7:10], 0x9000)  # now current


def test_token_info_and_cert_availability(send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 06")
    token, sw = send("00 B0 00 00 00")
    assert sw == 0x9000
    assert len(token) == 160
    assert token[:32] == b"JPKIAPICCTOKEN2".ljust(32)
    send("00 A4 02 0C 02 00 08")
    assert send("00 B0 00 00 03") == (bytes.fromhex("8F8F00"), 0x9000)


def test_signing_certificate_needs_the_signing_password(card: SimulatedCard, send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 01")
    assert send("00 B0 00 00 04") == (b"", 0x6982)
    send("00 A4 02 0C 02 00 1B")
    send(VERIFY_ABC123)
    send("00 A4 02 0C 02 00 01")
    assert send("00 B0 00 00 00 00 00") == (card.profile.jpki.sign_cert, 0x9000)


@pytest.mark.parametrize(("apdu", "sw"), [
    ("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 02", 0x6A82),  # unknown AID
    ("00 A4 00 00", 0x6A86),  # no MF right after reset
    ("00 A4 02 0C 02 00 0A", 0x6A82),  # no DF selected yet
    ("00 B0 00 00 04", 0x6A82),  # nothing to read
    ("00 A4 04 0C 0A D3", 0x6700),  # Lc says 10, one byte follows
    ("00 B0", 0x6700),  # shorter than a header
    ("00 FF 00 00", 0x6D00),  # unknown INS
    ("A0 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", 0x6E00),  # unknown CLA
    ("80 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", 0x6E00),  # SELECT is CLA 00
])
def test_error_status_words_after_reset(send: Send, apdu: str, sw: int) -> None:
    assert send(apdu) == (b"", sw)


@pytest.mark.parametrize(("apdu", "sw"), [
    ("00 A4 02 0C 02 00 09", 0x6A82),  # absent EF
    ("00 A4 02 0C 03 00 0A 00", 0x6700),  # FID of 3 bytes
    ("00 A4 02 04 02 00 0A", 0x6A86),  # FCI requested: P2 must be 0C
    ("00 A4 00 00", 0x9000),  # with an AP selected: a no-op
    ("00 B0 80 00 04", 0x6A82),  # SFI 0 names nothing
    ("00 20 00 80 04 31 32 33 34", 0x6A88),  # no PIN EF selected
    ("00 20 01 98 04 31 32 33 34", 0x6A86),
    ("00 84 00 00 00 00 10", 0x6985),  # GET CHALLENGE with extended Le
])
def test_error_status_words_in_jpki_ap(send: Send, apdu: str, sw: int) -> None:
    send(SELECT_JPKI)
    assert send(apdu) == (b"", sw)


def test_key_efs_are_never_readable(send: Send) -> None:
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 17")
    assert send("00 B0 00 00 00") == (b"", 0x6981)


def test_card_refuses_apdus_when_unpowered(card: SimulatedCard) -> None:
    card.power_off()
    with pytest.raises(CardNotPoweredError):
        card.process(bytes.fromhex(SELECT_JPKI))


# --- text AP and 券面AP access rules (§12) -----------------------------------------------------


def test_text_ap_opens_with_pin(card: SimulatedCard, send: Send) -> None:
    send(SELECT_TEXT)
    send("00 A4 02 0C 02 00 01")
    assert send("00 B0 00 00 00") == (b"", 0x6982)
    send("00 A4 02 0C 02 00 11")
    assert send("00 20 00 80") == (b"", 0x63C3)
    assert send(VERIFY_1234) == (b"", 0x9000)
    assert card.profile.text is not None
    send("00 A4 02 0C 02 00 01")
    assert send("00 B0 00 00 11") == (card.profile.text.my_number_record, 0x9000)
    send("00 A4 02 0C 02 00 02")
    assert send("00 B0 00 00 00") == (card.profile.text.attributes_record, 0x9000)


def test_verification_number_a_opens_my_number_but_not_attributes(card: SimulatedCard,
                                                                  send: Send) -> None:
    number = card.profile.holder.my_number.encode().hex()
    send(SELECT_TEXT)
    send("00 A4 02 0C 02 00 14")
    assert send(f"00 20 00 80 0C {number}") == (b"", 0x9000)
    send("00 A4 02 0C 02 00 01")
    assert send("00 B0 00 00 00")[1] == 0x9000
    send("00 A4 02 0C 02 00 02")
    assert send("00 B0 00 00 00") == (b"", 0x6982)


def test_verification_number_b_opens_attributes_and_card_face(card: SimulatedCard,
                                                              send: Send) -> None:
    assert card.profile.text is not None
    assert card.profile.text.verify_b.value is not None
    b = card.profile.text.verify_b.value.hex()
    send(SELECT_TEXT)
    send("00 A4 02 0C 02 00 15")
    assert send(f"00 20 00 80 0E {b}") == (b"", 0x9000)
    send("00 A4 02 0C 02 00 02")
    assert send("00 B0 00 00 00")[1] == 0x9000
    send("00 A4 02 0C 02 00 01")
    assert send("00 B0 00 00 00") == (b"", 0x6982)
    send(SELECT_VISUAL)  # the 券面AP has its own key EF for B: 0012
    send("00 A4 02 0C 02 00 02")
    assert send("00 B0 00 00 00") == (b"", 0x6982)
    send("00 A4 02 0C 02 00 12")
    assert send(f"00 20 00 80 0E {b}") == (b"", 0x9000)
    send("00 A4 02 0C 02 00 02")
    assert card.profile.visual is not None
    assert send("00 B0 00 00 00 00 00") == (card.profile.visual.card_face, 0x9000)


def test_card_face_opens_with_verification_number_a(card: SimulatedCard, send: Send) -> None:
    number = card.profile.holder.my_number.encode().hex()
    send(SELECT_VISUAL)
    assert send(f"00 20 00 93 0C {number}") == (b"", 0x9000)
    assert send("00 B0 82 00 05")[1] == 0x9000


def test_visual_ap_signs_a_challenge_with_its_card_key(card: SimulatedCard, send: Send) -> None:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    send(SELECT_VISUAL)
    challenge, sw = send("00 84 00 00 10")
    assert sw == 0x9000
    assert len(challenge) == 16
    signature, sw = send(sign_apdu(0x00, digest_info(challenge)))
    assert sw == 0x9000
    assert card.profile.visual is not None
    face = card.profile.visual.card_face
    modulus_at = face.index(bytes.fromhex("91820100")) + 4
    key = RSAPublicNumbers(65537, int.from_bytes(face[modulus_at : modulus_at + 256], "big"))
    key.public_key().verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
