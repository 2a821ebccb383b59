"""`myna-reader card info` on the simulated cards: the technician's view, and `--text`, which
reads and checks the 券面事項入力補助AP's integrity record as an independent client does."""

from __future__ import annotations

import io
import json

import pytest

from myna_reader.daemon.cli import build_parser, main
from myna_reader.drivers.sim.profile import load_profile


def _info(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str,
          stdin: str = "") -> tuple[int, dict[str, object], str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["card", "info", "--json", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else {}), err


def test_card_and_record_default_to_the_real_reader() -> None:
    for argv in (["card", "info"], ["card", "read-cert"], ["record", "--out", "x.jsonl"]):
        assert build_parser(argv[0]).parse_args(argv).reader == "pcsc"


def test_plain_info_has_no_personal_data(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    code, info, _ = _info(capsys, monkeypatch, "--reader", "sim:standard")
    holder = load_profile("standard").holder
    assert code == 0
    assert info["reader"] == "Simulated reader (standard)"  # a simulated card says so
    assert info["token"] == "plastic-card"
    assert info["auth_pin_tries_left"] == 3
    assert "text_ap_identification" not in info
    assert holder.my_number not in json.dumps(info)


def test_text_checks_the_integrity_record(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, info, _ = _info(capsys, monkeypatch, "--reader", "sim:standard", "--text",
                          "--pin-stdin", stdin="1234\n")
    assert code == 0
    assert info["my_number_digest_ok"] is info["attributes_digest_ok"] is True
    assert info["integrity_signature_ok"] is True
    assert info["text_ap_identification"] == "01 03 0E 01"
    assert (info["text_ap_certificate_issuer"], info["text_ap_certificate_subject"]) == (
        "9000033/001", "9100033/001")
    assert info["text_pin_tries_left"] == 3
    holder = load_profile("standard").holder
    assert holder.my_number not in json.dumps(info, ensure_ascii=False)
    assert holder.name not in json.dumps(info, ensure_ascii=False)


def test_show_personal_prints_the_checked_fields(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    code, info, _ = _info(capsys, monkeypatch, "--reader", "sim:standard", "--text",
                          "--show-personal", "--pin-stdin", stdin="1234\n")
    holder = load_profile("standard").holder
    assert code == 0
    assert (info["my_number"], info["name"], info["address"], info["birth_date"]) == (
        holder.my_number, holder.name, holder.address, holder.birth_date)
    assert info["sex"] == "female"


def test_a_wrong_text_pin_is_one_line(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, info, err = _info(capsys, monkeypatch, "--reader", "sim:standard", "--text",
                            "--pin-stdin", stdin="9999\n")
    assert code == 1 and info == {}
    assert err.strip().splitlines() == ["myna-reader: PIN incorrect, 2 tries left (SW 63C2)"]


@pytest.mark.parametrize("pin", ["12345", "abcd", ""])
def test_a_malformed_text_pin_touches_no_card(pin: str, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = _info(capsys, monkeypatch, "--reader", "sim:standard", "--text",
                         "--pin-stdin", stdin=pin + "\n")
    assert code == 1
    assert err.strip() == "myna-reader: a PIN is exactly 4 ASCII digits"


def test_a_blocked_text_pin_is_reported_not_tried(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    code, info, _ = _info(capsys, monkeypatch, "--reader", "sim:face-card", "--text",
                          "--pin-stdin", stdin="1234\n")
    assert code == 0
    assert info["text_pin_tries_left"] == 0
    assert info["text_ap_integrity"] == "not checked: the text-AP PIN is blocked"


def test_phones(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, iphone, _ = _info(capsys, monkeypatch, "--reader", "sim:iphone")
    assert code == 0
    assert iphone["token"] == "iphone"
    assert iphone["auth_pin"] == "none on the reader (the holder authenticates on the phone)"
    assert "certificate_fingerprint" in iphone
    code, android, _ = _info(capsys, monkeypatch, "--reader", "sim:android-phone")
    assert code == 0
    assert android["token"] == "android"
    assert android["auth_pin_tries_left"] == 3
    assert android["certificate"] == "needs the auth PIN first (Android token)"
    code, _, err = _info(capsys, monkeypatch, "--reader", "sim:iphone", "--text", "--pin-stdin",
                         stdin="1234\n")
    assert code == 1
    assert err.strip().splitlines() == [
        "myna-reader: this token has no 券面事項入力補助AP (a phone carries only the JPKI "
        "application)"]
