"""Every bundled profile loads, has realistic certificates and behaves as its name says."""

import datetime as dt
import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import ProfileError, load_profile, profile_names
from tests.drivers.sim.conftest import Send
from tests.support.repo import REPO

SELECT_JPKI = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
SELECT_TEXT = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08"
SELECT_VISUAL = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 02"
NAMES = ["standard", "one-try-left", "pin-blocked", "face-card", "under-15", "android-phone",
         "iphone", "expired"]
PHONES = ["android-phone", "iphone"]
PROFILES_DIR = resources.files("myna_reader.fixtures") / "profiles"
README = REPO / "hw-fixtures" / "README.md"


def test_the_eight_named_profiles_are_bundled() -> None:
    assert sorted(profile_names()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_profile_is_small_marked_synthetic_and_named(name: str) -> None:
    text = (PROFILES_DIR / f"{name}.json").read_text(encoding="utf-8")
    assert len(text.encode()) < 60_000
    assert json.loads(text)["synthetic"] is True
    assert load_profile(name).name == name


@pytest.mark.parametrize("name", NAMES)
def test_atr_is_a_contactless_atr_with_a_valid_checksum(name: str) -> None:
    profile = load_profile(name)
    atr = profile.atr
    # Type B: 8 historical bytes from the ATQB; a phone (Type A): an ATS without any
    assert atr[:4] == bytes.fromhex("3B808001" if name in PHONES else "3B888001")
    assert profile.rf == ("A" if name in PHONES else "B")
    check = 0
    for byte in atr[1:]:
        check ^= byte
    assert check == 0


@pytest.mark.parametrize("name", NAMES)
def test_certificate_sizes_match_the_real_card(name: str) -> None:
    jpki = load_profile(name).jpki
    for ca in (jpki.auth_ca_cert, jpki.sign_ca_cert):
        assert 1301 <= len(ca) <= 1319
        assert ca[:2] == b"\x30\x82"
    users = [jpki.auth_cert] + ([jpki.sign_cert] if jpki.sign_cert else [])
    for cert in users:
        assert 1500 <= len(cert) <= 1800


@pytest.mark.parametrize("name", NAMES)
def test_user_certificates_chain_to_the_test_ca(name: str) -> None:
    jpki = load_profile(name).jpki
    auth = x509.load_der_x509_certificate(jpki.auth_cert)
    auth.verify_directly_issued_by(x509.load_der_x509_certificate(jpki.auth_ca_cert))
    if jpki.sign_cert:
        sign = x509.load_der_x509_certificate(jpki.sign_cert)
        sign.verify_directly_issued_by(x509.load_der_x509_certificate(jpki.sign_ca_cert))
        san = sign.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        oids = {n.type_id.dotted_string for n in san if isinstance(n, x509.OtherName)}
        assert oids == {f"1.2.392.200149.8.5.5.{i}" for i in range(1, 7)}


def test_only_the_expired_profile_has_an_expired_auth_certificate() -> None:
    now = dt.datetime.now(dt.UTC)
    for name in NAMES:
        cert = x509.load_der_x509_certificate(load_profile(name).jpki.auth_cert)
        assert (cert.not_valid_after_utc < now) == (name == "expired"), name


def test_every_synthetic_my_number_is_listed_in_the_readme() -> None:
    listed = set(re.findall(r"\b\d{12}\b", README.read_text(encoding="utf-8")))
    assert {load_profile(name).holder.my_number for name in NAMES} <= listed


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown card profile 'nope'.*standard"):
        load_profile("nope")


def test_profile_loads_from_a_path(tmp_path: Path) -> None:
    doc = json.loads((PROFILES_DIR / "standard.json").read_text(encoding="utf-8"))
    doc["name"] = "copy"
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_profile(str(path)).name == "copy"


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.pop("jpki"), r"profile\.jpki is missing"),
    (lambda d: d["jpki"].update(auth_pin={"value": "1234", "max_tries": 3, "tries_left": 4}),
     "tries_left exceeds"),
    (lambda d: d.update(atr="XYZ"), r"profile\.atr is not hex"),
    (lambda d: d["jpki"]["auth_pin"].update(value="１２３４"), "must be ASCII"),
])
def test_broken_profiles_raise_a_profile_error(tmp_path: Path,
                                               mutate: Callable[[dict[str, Any]], object],
                                               message: str) -> None:
    doc = json.loads((PROFILES_DIR / "standard.json").read_text(encoding="utf-8"))
    mutate(doc)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ProfileError, match=message):
        load_profile(str(path))


def test_not_json_raises_a_profile_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid JSON"):
        load_profile(str(path))


# --- behaviour per profile ------------------------------------------------------------------


def pin_query(send: Send, ef: str) -> int:
    send(SELECT_JPKI)
    send(f"00 A4 02 0C 02 {ef}")
    return send("00 20 00 80")[1]


def test_standard(make_card: Callable[..., SimulatedCard],
                  send_to: Callable[[SimulatedCard], Send]) -> None:
    send = send_to(make_card("standard"))
    assert pin_query(send, "00 18") == 0x63C3
    assert pin_query(send, "00 1B") == 0x63C5


def test_one_try_left(make_card: Callable[..., SimulatedCard],
                      send_to: Callable[[SimulatedCard], Send]) -> None:
    send = send_to(make_card("one-try-left"))
    assert pin_query(send, "00 18") == 0x63C1
    assert send("00 20 00 80 04 31 32 33 34")[1] == 0x9000
    assert send("00 20 00 80")[1] == 0x63C3


def test_pin_blocked(make_card: Callable[..., SimulatedCard],
                     send_to: Callable[[SimulatedCard], Send]) -> None:
    send = send_to(make_card("pin-blocked"))
    assert pin_query(send, "00 18") == 0x63C0
    assert send("00 20 00 80 04 31 32 33 34")[1] == 0x6984
    send("00 A4 02 0C 02 00 0A")
    assert send("00 B0 00 00 04")[1] == 0x9000  # the auth certificate is still readable


def test_face_card_has_no_pins_and_no_signing_certificate(
        make_card: Callable[..., SimulatedCard], send_to: Callable[[SimulatedCard], Send]) -> None:
    card = make_card("face-card")
    send = send_to(card)
    assert pin_query(send, "00 18") == 0x63C0
    assert send("00 20 00 80 04 31 32 33 34")[1] == 0x6984
    assert pin_query(send, "00 1B") == 0x63C0
    send("00 A4 02 0C 02 00 08")
    availability, _ = send("00 B0 00 00 03")
    assert availability[0] != 0x8F
    assert send("00 A4 02 0C 02 00 01")[1] == 0x6A82
    assert send("00 A4 02 0C 02 00 1A")[1] == 0x6A82
    send("00 A4 02 0C 02 00 0A")
    assert send("00 B0 00 00 00 00 00") == (card.profile.jpki.auth_cert, 0x9000)
    send(SELECT_TEXT)
    send("00 A4 02 0C 02 00 11")
    assert send("00 20 00 80")[1] == 0x63C0
    assert card.profile.visual is not None
    assert card.profile.visual.verify_b.value is not None
    b = card.profile.visual.verify_b.value.hex()
    send(SELECT_VISUAL)
    assert send(f"00 20 00 92 0E {b}")[1] == 0x9000  # face mode: 照合番号B opens the photo
    assert send("00 B0 82 00 00")[1] == 0x9000


def test_under_15_has_no_signing_certificate(make_card: Callable[..., SimulatedCard],
                                             send_to: Callable[[SimulatedCard], Send]) -> None:
    send = send_to(make_card("under-15"))
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 08")
    assert send("00 B0 00 00 00") == (bytes.fromhex("008F00"), 0x9000)
    assert send("00 A4 02 0C 02 00 01")[1] == 0x6A82
    assert pin_query(send, "00 18") == 0x63C3


def test_android_phone_needs_the_pin_for_the_auth_certificate(
        make_card: Callable[..., SimulatedCard], send_to: Callable[[SimulatedCard], Send]) -> None:
    card = make_card("android-phone")
    send = send_to(card)
    send(SELECT_JPKI)
    send("00 A4 02 0C 02 00 06")
    assert send("00 B0 00 00 20")[0] == b"JPKIAPGPSETOKEN".ljust(32)
    send("00 A4 02 0C 02 00 0A")
    assert send("00 B0 00 00 04")[1] == 0x6982
    assert send("00 20 00 98 04 31 32 33 34")[1] == 0x9000
    send("00 A4 02 0C 02 00 0A")
    assert send("00 B0 00 00 00 00 00") == (card.profile.jpki.auth_cert, 0x9000)
    assert send(SELECT_TEXT)[1] == 0x6A82  # a phone token carries the JPKI AP only
    assert send(SELECT_VISUAL)[1] == 0x6A82


def test_expired_card_still_answers_like_a_card(make_card: Callable[..., SimulatedCard],
                                                send_to: Callable[[SimulatedCard], Send]) -> None:
    send = send_to(make_card("expired"))
    assert pin_query(send, "00 18") == 0x63C3
