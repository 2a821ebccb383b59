"""The driver's exact bytes on the wire, scripted through the replay backend (see conftest)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from myna_reader.drivers import errors, pin
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.replay import TranscriptDivergenceError
from myna_reader.drivers.card import (
    PinFormatError,
    PinStatus,
    RetryCounterUnreadError,
    TokenKind,
)
from myna_reader.drivers.files import CardFiles
from myna_reader.drivers.jpki import PhoneNotAuthenticatedError
from myna_reader.drivers.mynumber_ids import TEXT_AID, TextEF
from tests.drivers.card.conftest import Script

SELECT_JPKI = "00A4040C0AD392F000260100000001"
SELECT_TEXT = "00A4040C0AD3921000310001010408"
SELECT_VISUAL = "00A4040C0AD3921000310001010402"
OK = "9000"
DIGEST_INFO_PREFIX = "3031300D060960864801650304020105000420"


def ber_blob(total: int, filler: int = 0) -> bytes:
    """A `30 82 LL LL` object of `total` bytes (a stand-in certificate) and `filler` FF bytes."""
    body = bytes(i % 251 for i in range(total - 4))
    return bytes.fromhex("3082") + (total - 4).to_bytes(2, "big") + body + b"\xff" * filler


def ok(data: bytes) -> bytes:
    return data + b"\x90\x00"


# --- the canonical flow (docs/card-protocol.md §9) ----------------------------------------------


def test_pin_mode_canonical_flow(scripted: Script) -> None:
    challenge = b"terminal nonce 0123456789"
    digest = hashlib.sha256(challenge).hexdigest().upper()
    signature = bytes(range(256))
    card, reader = scripted(
        (SELECT_JPKI, OK),
        ("00A4020C020018", OK),
        ("00200080", "63C3"),
        ("002000800431323334", OK),
        ("00A4020C020017", OK),
        ("802A008033" + DIGEST_INFO_PREFIX + digest + "00", ok(signature)),
    )
    jpki = card.jpki()
    assert jpki.auth_pin_tries() == PinStatus(tries_left=3)
    jpki.verify_auth_pin("1234")
    assert jpki.sign_with_auth_key(challenge) == signature
    assert reader.finished
    assert card.channel.apdu_count == 6


def test_digest_info_bytes() -> None:
    from myna_reader.drivers.jpki import sha256_digest_info, sign_command

    info = sha256_digest_info(b"abc")
    assert info == bytes.fromhex(DIGEST_INFO_PREFIX) + hashlib.sha256(b"abc").digest()
    assert len(info) == 51
    assert sign_command(info).to_bytes() == bytes.fromhex("802A008033") + info + b"\x00"


def test_iphone_refusal_is_its_own_error(scripted: Script) -> None:
    digest = hashlib.sha256(b"nonce").hexdigest().upper()
    card, reader = scripted(
        (SELECT_JPKI, OK),
        ("00A4020C020006", OK), ("00B0000020", ok(b"JPKIAPIOSTOKEN".ljust(32, b" "))),
        ("00A4020C020017", OK),
        ("802A008033" + DIGEST_INFO_PREFIX + digest + "00", "6982"),
    )
    jpki = card.jpki()
    assert jpki.token_kind() is TokenKind.IPHONE
    with pytest.raises(PhoneNotAuthenticatedError) as caught:
        jpki.sign_with_auth_key(b"nonce")
    assert caught.value.sw == 0x6982
    assert isinstance(caught.value, errors.SecurityStatusError)
    assert reader.finished  # the token label was cached: no APDU after the refusal


def test_a_card_refusing_the_signature_is_not_a_phone_error(scripted: Script) -> None:
    card, _ = scripted(
        (SELECT_JPKI, OK),
        ("00A4020C020006", OK), ("00B0000020", ok(b"JPKIAPICCTOKEN2".ljust(32, b" "))),
        ("00A4020C020017", OK),
        ("802A008033" + DIGEST_INFO_PREFIX + hashlib.sha256(b"x").hexdigest().upper() + "00",
         "6982"),
    )
    jpki = card.jpki()
    jpki.token_kind()
    with pytest.raises(errors.SecurityStatusError) as caught:
        jpki.sign_with_auth_key(b"x")
    assert not isinstance(caught.value, PhoneNotAuthenticatedError)


# --- retry query ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sw", "status"),
    [
        ("63C3", PinStatus(tries_left=3)),
        ("63C1", PinStatus(tries_left=1)),
        ("63C0", PinStatus(tries_left=0)),
        ("6984", PinStatus(tries_left=0)),
        ("9000", PinStatus(tries_left=None, verified=True)),
        ("6300", PinStatus(tries_left=None)),
    ],
)
def test_empty_verify_answers(scripted: Script, sw: str, status: PinStatus) -> None:
    card, reader = scripted((SELECT_JPKI, OK), ("00A4020C020018", OK), ("00200080", sw))
    got = card.jpki().auth_pin_tries()
    assert got == status
    assert got.blocked == (status.tries_left == 0)
    assert reader.finished


@pytest.mark.parametrize(
    ("sw", "error"),
    [("6A82", errors.CardFileNotFoundError), ("6F00", errors.UnknownStatusError),
     ("6982", errors.SecurityStatusError)],
)
def test_empty_verify_other_status_words_are_typed(scripted: Script, sw: str, error: type) -> None:
    card, _ = scripted((SELECT_JPKI, OK), ("00A4020C020018", OK), ("00200080", sw))
    with pytest.raises(error):
        card.jpki().auth_pin_tries()


def test_repeated_tries_query_does_not_reselect(scripted: Script) -> None:
    card, reader = scripted((SELECT_JPKI, OK), ("00A4020C020018", OK), ("00200080", "63C3"),
                            ("00200080", "63C3"))
    jpki = card.jpki()
    jpki.auth_pin_tries()
    jpki.auth_pin_tries()
    assert reader.finished


# --- VERIFY failures: typed, never retried ------------------------------------------------------


def test_wrong_pin_is_not_retried(scripted: Script) -> None:
    card, reader = scripted((SELECT_JPKI, OK), ("00A4020C020018", OK), ("00200080", "63C3"),
                            ("002000800439393939", "63C2"))
    jpki = card.jpki()
    jpki.auth_pin_tries()
    with pytest.raises(errors.PinIncorrectError) as caught:
        jpki.verify_auth_pin("9999")
    assert caught.value.tries_left == 2
    assert reader.finished
    assert card.channel.apdu_count == 4


@pytest.mark.parametrize("sw", ["63C0", "6984"])
def test_blocked_pin(scripted: Script, sw: str) -> None:
    card, _ = scripted((SELECT_JPKI, OK), ("00A4020C020018", OK), ("00200080", "63C1"),
                       ("002000800439393939", sw))
    jpki = card.jpki()
    jpki.auth_pin_tries()
    with pytest.raises(errors.PinBlockedError):
        jpki.verify_auth_pin("9999")


def test_verify_refused_until_the_counter_is_read(scripted: Script) -> None:
    card, reader = scripted((SELECT_JPKI, OK), ("00A4020C020018", OK), ("00200080", "63C3"),
                            ("002000800431323334", OK), (SELECT_JPKI, OK))
    jpki = card.jpki()
    with pytest.raises(RetryCounterUnreadError):
        jpki.verify_auth_pin("1234")
    assert card.channel.apdu_count == 1  # no VERIFY went out
    jpki.auth_pin_tries()
    jpki.verify_auth_pin("1234")
    card.reset()  # a new power session: the counter must be read again
    with pytest.raises(RetryCounterUnreadError):
        card.jpki().verify_auth_pin("1234")
    assert reader.finished


@pytest.mark.parametrize("bad", ["", "123", "12345", "12a4", "１２３４", " 1234", "1234\n"])
def test_bad_auth_pin_sends_nothing(scripted: Script, bad: str) -> None:
    card, _ = scripted((SELECT_JPKI, OK))
    jpki = card.jpki()
    with pytest.raises(PinFormatError) as caught:
        jpki.verify_auth_pin(bad)
    assert card.channel.apdu_count == 1  # the SELECT of jpki() only
    assert bad.strip() not in str(caught.value) or not bad.strip()
    assert isinstance(caught.value, errors.FormatError)


@pytest.mark.parametrize("bad", ["5502172035228", "550217203522851", "5502172035228A", ""])
def test_bad_collation_b_sends_nothing(scripted: Script, bad: str) -> None:
    card, _ = scripted((SELECT_VISUAL, OK))
    visual = card.visual()
    with pytest.raises(PinFormatError):
        visual.verify_collation_b(bad)
    assert card.channel.apdu_count == 1


def test_text_pin_format(scripted: Script) -> None:
    card, _ = scripted((SELECT_TEXT, OK))
    with pytest.raises(PinFormatError):
        card.text().verify_pin("12345")
    assert card.channel.apdu_count == 1


# --- certificate reads ------------------------------------------------------------------------


def test_short_read_of_a_1319_byte_certificate(scripted: Script,
                                               certificate_of_size: Callable[[int], bytes]) -> None:
    blob = certificate_of_size(1319) + b"\xff" * 200
    card, reader = scripted(
        (SELECT_JPKI, OK),
        ("00A4020C02000A", OK),
        ("00B0000000", ok(blob[0:256])),
        ("00B0010000", ok(blob[256:512])),
        ("00B0020000", ok(blob[512:768])),
        ("00B0030000", ok(blob[768:1024])),
        ("00B0040000", ok(blob[1024:1280])),
        ("00B0050027", ok(blob[1280:1319])),
    )
    assert card.jpki().read_auth_certificate() == blob[:1319]
    assert reader.finished
    assert card.channel.apdu_count == 2 + 6  # SELECT AP + SELECT EF + ceil(1319 / 256)


def test_extended_read_is_one_apdu_and_trims_filler(
        scripted: Script, certificate_of_size: Callable[[int], bytes]) -> None:
    blob = certificate_of_size(1319) + b"\xff" * 300
    card, reader = scripted(
        (SELECT_JPKI, OK), ("00A4020C02000A", OK), ("00B00000000000", ok(blob)), extended=True,
    )
    assert card.jpki().read_auth_certificate() == blob[:1319]
    assert reader.finished
    assert card.channel.apdu_count == 3


def test_extended_short_read_continues_from_the_new_offset(
        scripted: Script, certificate_of_size: Callable[[int], bytes]) -> None:
    blob = certificate_of_size(1319)
    card, reader = scripted(
        (SELECT_JPKI, OK), ("00A4020C02000B", OK),
        ("00B00000000000", ok(blob[:1000])),
        ("00B003E800013F", ok(blob[1000:])),  # 319 bytes left: extended Le 013F
        extended=True,
    )
    assert card.jpki().read_auth_ca_certificate() == blob
    assert reader.finished


def test_extended_refused_by_the_card_falls_back_to_short(
        scripted: Script, certificate_of_size: Callable[[int], bytes]) -> None:
    blob = certificate_of_size(450)
    card, reader = scripted(
        (SELECT_JPKI, OK), ("00A4020C02000A", OK),
        ("00B00000000000", "6700"),
        ("00B0000000", ok(blob[:256])),
        ("00B00100C2", ok(blob[256:])),
        ("00A4020C02000B", OK),
        ("00B0000000", ok(blob[:256])),  # the session stays on short reads
        ("00B00100C2", ok(blob[256:])),
        extended=True,
    )
    jpki = card.jpki()
    assert jpki.read_auth_certificate() == blob
    assert jpki.read_auth_ca_certificate() == blob
    assert reader.finished


def test_short_reads_continue_from_the_new_offset(
        scripted: Script, certificate_of_size: Callable[[int], bytes]) -> None:
    blob = certificate_of_size(600)
    card, reader = scripted(
        (SELECT_JPKI, OK), ("00A4020C02000A", OK),
        ("00B0000000", ok(blob[:200])),
        ("00B000C800", ok(blob[200:456])),
        ("00B001C890", ok(blob[456:])),
    )
    assert card.jpki().read_auth_certificate() == blob
    assert reader.finished


def test_small_file_read_in_one_apdu(scripted: Script) -> None:
    card, reader = scripted(
        (SELECT_TEXT, OK), ("00A4020C020011", OK), ("00200080", "63C3"),
        ("002000800431323334", OK),
        ("00A4020C020001", OK),
        ("00B0000000", ok(bytes.fromhex("FF100C") + b"123456789012" + b"\xff\xff")),
    )
    files = CardFiles(card.channel)
    pin.query_status(files, TEXT_AID, TextEF.PIN)
    pin.verify(files, TEXT_AID, TextEF.PIN, b"1234")
    assert files.read_object(TEXT_AID, TextEF.MY_NUMBER) == (bytes.fromhex("FF100C")
                                                             + b"123456789012")
    assert reader.finished


def test_end_of_file_warning_with_data_then_length_beyond_file(scripted: Script) -> None:
    blob = ber_blob(600)[:500]
    card, _ = scripted(
        (SELECT_JPKI, OK), ("00A4020C02000A", OK),
        ("00B0000000", ok(blob[:256])),
        ("00B0010000", blob[256:] + b"\x62\x82"),
    )
    with pytest.raises(errors.TlvError, match="BER length 600 runs beyond the end of the file"):
        card.jpki().read_auth_certificate()


def test_offset_beyond_file_after_a_short_read(scripted: Script) -> None:
    blob = ber_blob(600)[:500]
    card, reader = scripted(
        (SELECT_JPKI, OK), ("00A4020C02000A", OK),
        ("00B0000000", ok(blob[:256])),
        ("00B0010000", ok(blob[256:])),
        ("00B001F464", "6B00"),
    )
    with pytest.raises(errors.TlvError, match=r"\(500 bytes\)"):
        card.jpki().read_auth_certificate()
    assert reader.finished


def test_file_ending_in_the_header(scripted: Script) -> None:
    card, _ = scripted((SELECT_JPKI, OK), ("00A4020C02000A", OK), ("00B0000000", "30826282"))
    with pytest.raises(errors.TlvError, match="truncated"):
        card.jpki().read_auth_certificate()


def test_empty_file(scripted: Script) -> None:
    card, _ = scripted((SELECT_JPKI, OK), ("00A4020C02000A", OK), ("00B0000000", "6B00"))
    with pytest.raises(errors.TlvError):
        card.jpki().read_auth_certificate()


def test_certificate_ef_holding_other_ber(scripted: Script) -> None:
    card, _ = scripted((SELECT_JPKI, OK), ("00A4020C02000A", OK),
                       ("00B0000000", ok(ber_blob(100))))
    with pytest.raises(errors.CertificateError):
        card.jpki().read_auth_certificate()


def test_garbage_header(scripted: Script) -> None:
    card, _ = scripted((SELECT_JPKI, OK), ("00A4020C02000A", OK),
                       ("00B0000000", ok(bytes.fromhex("3080") + bytes(50))))
    with pytest.raises(errors.TlvError, match="indefinite"):
        card.jpki().read_auth_certificate()


@pytest.mark.parametrize(
    ("response", "error"),
    [("6F00", errors.UnknownStatusError), ("6982", errors.SecurityStatusError),
     ("90", errors.MalformedResponseError), ("", errors.MalformedResponseError)],
)
def test_bad_read_responses_are_typed(scripted: Script, response: str, error: type) -> None:
    card, _ = scripted((SELECT_JPKI, OK), ("00A4020C02000A", OK), ("00B0000000", response))
    with pytest.raises(error):
        card.jpki().read_auth_certificate()


def test_not_a_my_number_card(scripted: Script) -> None:
    card, _ = scripted((SELECT_JPKI, "6A82"), (SELECT_JPKI, "6A82"))
    assert not card.is_my_number_card()
    with pytest.raises(errors.CardFileNotFoundError):
        card.jpki()


# --- selection memory and the per-session cache ----------------------------------------------


def test_free_files_select_once_and_cache(scripted: Script,
                                          certificate_of_size: Callable[[int], bytes]) -> None:
    label = b"JPKIAPICCTOKEN2".ljust(32, b" ")
    cert = certificate_of_size(450)
    card, reader = scripted(
        (SELECT_JPKI, OK),
        ("00A4020C020006", OK), ("00B0000020", ok(label)),
        ("00A4020C020008", OK), ("00B0000003", ok(bytes.fromhex("8F8F00"))),
        ("00A4020C02000A", OK), ("00B0000000", ok(cert[:256])), ("00B00100C2", ok(cert[256:])),
        # after reset(): everything is asked again
        (SELECT_JPKI, OK), ("00A4020C02000A", OK),
        ("00B0000000", ok(cert[:256])), ("00B00100C2", ok(cert[256:])),
    )
    jpki = card.jpki()
    for _ in range(2):
        assert jpki.token_kind() is TokenKind.PLASTIC_CARD
        availability = jpki.certificate_availability()
        assert (availability.sign, availability.auth) == (True, True)
        assert jpki.read_auth_certificate() == cert
    assert card.channel.apdu_count == 8
    card.reset()
    assert card.jpki().read_auth_certificate() == cert
    assert reader.finished


def test_cached_files_cost_nothing_after_switching_aps(scripted: Script) -> None:
    card, reader = scripted(
        (SELECT_JPKI, OK), ("00A4020C020006", OK),
        ("00B0000020", ok(b"JPKIAPIOSTOKEN".ljust(32, b" "))),
        (SELECT_VISUAL, OK),
    )
    jpki = card.jpki()
    assert jpki.token_kind() is TokenKind.IPHONE
    card.visual()
    assert jpki.token_kind() is TokenKind.IPHONE
    assert reader.finished
    assert card.channel.apdu_count == 4


def test_switching_aps_reselects(scripted: Script) -> None:
    card, reader = scripted(
        (SELECT_JPKI, OK), (SELECT_VISUAL, OK),  # card.jpki(), card.visual()
        (SELECT_JPKI, OK), ("00A4020C020018", OK), ("00200080", "63C3"),
        (SELECT_VISUAL, OK), ("00A4020C020012", OK), ("00200080", "63CA"),
        (SELECT_JPKI, OK), ("00A4020C020018", OK), ("00200080", "63C3"),
    )
    jpki, visual = card.jpki(), card.visual()
    assert jpki.auth_pin_tries().tries_left == 3
    assert visual.collation_b_tries().tries_left == 10
    assert jpki.auth_pin_tries().tries_left == 3
    assert reader.finished


def test_failed_select_is_not_remembered(scripted: Script,
                                         certificate_of_size: Callable[[int], bytes]) -> None:
    cert = certificate_of_size(1024)
    card, reader = scripted(
        (SELECT_JPKI, OK), ("00A4020C02000B", "6A82"), ("00A4020C02000B", OK),
        ("00B00000000000", ok(cert)), extended=True,
    )
    jpki = card.jpki()
    with pytest.raises(errors.CardFileNotFoundError):
        jpki.read_auth_ca_certificate()
    assert jpki.read_auth_ca_certificate() == cert
    assert reader.finished


def test_card_removed_mid_read_forgets_the_session(
        scripted: Script, certificate_of_size: Callable[[int], bytes]) -> None:
    cert = certificate_of_size(1024)
    card, reader = scripted(
        (SELECT_JPKI, OK), ("00A4020C02000A", OK),
        ReaderEventKind.CARD_REMOVED, ReaderEventKind.CARD_INSERTED,
        (SELECT_JPKI, OK), ("00A4020C02000A", OK), ("00B00000000000", ok(cert)),
        extended=True,
    )
    jpki = card.jpki()
    with pytest.raises(errors.CardRemovedError):
        jpki.read_auth_certificate()
    assert jpki.read_auth_certificate() == cert
    assert reader.finished


def test_token_kinds_and_availability(scripted: Script) -> None:
    card, _ = scripted(
        (SELECT_JPKI, OK),
        ("00A4020C020006", OK), ("00B0000020", ok(b"JPKIAPGPSETOKEN".ljust(32, b" "))),
        ("00A4020C020008", OK), ("00B0000003", ok(bytes.fromhex("008F00"))),
    )
    jpki = card.jpki()
    assert jpki.token_kind() is TokenKind.ANDROID
    availability = jpki.certificate_availability()
    assert (availability.sign, availability.auth) == (False, True)


@pytest.mark.parametrize(
    ("label", "kind"),
    [(b"JPKIAPIOSTOKEN", TokenKind.IPHONE), (b"JPKIAPICCTOKEN2", TokenKind.PLASTIC_CARD),
     (b"SOMETHING ELSE", TokenKind.UNKNOWN), (b"\xff\xfe", TokenKind.UNKNOWN)],
)
def test_token_labels(label: bytes, kind: TokenKind) -> None:
    assert TokenKind.from_label(label.ljust(32, b" ")) is kind


def test_short_availability_file(scripted: Script) -> None:
    card, reader = scripted((SELECT_JPKI, OK), ("00A4020C020008", OK),
                            ("00B0000003", ok(b"\x8f")), ("00B0000102", "6B00"))
    with pytest.raises(errors.FormatError, match="needs 2 bytes"):
        card.jpki().certificate_availability()
    assert reader.finished


def test_collation_b_goes_to_ef_0012_of_the_visual_ap(scripted: Script) -> None:
    card, reader = scripted(
        (SELECT_VISUAL, OK), ("00A4020C020012", OK), ("00200080", "63CA"),
        ("002000800E" + b"55021720352285".hex(), OK),
    )
    visual = card.visual()
    visual.collation_b_tries()
    visual.verify_collation_b("55021720352285")
    assert reader.finished


def test_divergence_is_caught_by_the_script(scripted: Script) -> None:
    # the script itself fails loudly when the driver sends other bytes (guards the harness)
    card, _ = scripted(("00A4040C0AD392F000260100000002", OK))
    with pytest.raises(TranscriptDivergenceError):
        card.jpki()
