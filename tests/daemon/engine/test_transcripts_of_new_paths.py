"""The committed transcripts of the phone and certificate life-cycle paths (hw-fixtures/
record_transcripts.py) replay through the CLI to their outcome, with exactly the APDUs each
path needs, in the order the engine asks them (docs/session.md, "APDUs per path")."""

from __future__ import annotations

import json

import pytest

from myna_reader.daemon.cli import main
from myna_reader.drivers.transcript import Step, load
from tests.support.repo import REPO

TRANSCRIPTS = REPO / "hw-fixtures" / "transcripts"


def words(steps: tuple[Step, ...]) -> list[str]:
    """Each APDU as a word: AP, EF 000A, READ, COUNTER (empty VERIFY), VERIFY, SIGN; a status
    word other than 9000 / 63Cx after it."""
    out = []
    for step in steps:
        command = bytes.fromhex(step.command.replace("X", "0"))
        ins, sw = command[1], step.response[-2:].hex().upper()
        if ins == 0xA4:
            word = "AP" if command[2] == 0x04 else f"EF {command[5:7].hex().upper()}"
        elif ins == 0xB0:
            word = "READ"
        elif ins == 0x20:
            word = "COUNTER" if len(command) == 4 else "VERIFY"
        elif ins == 0x2A:
            word = "SIGN"
        else:
            word = command[:2].hex()
        out.append(word if sw == "9000" or sw.startswith("63C") else f"{word} {sw}")
    return out


PROBE = ["AP", "EF 0006", "READ", "EF 0008", "READ"]  # token, certificate availability
CERT = ["EF 000A"] + ["READ"] * 7  # a 1.58 KB certificate in short READ BINARYs
COUNTER = ["EF 0018", "COUNTER"]
SIGN = ["EF 0017", "SIGN"]

# scenario: (the APDUs in order, what the replay reports)
PATHS: dict[str, tuple[list[str], dict[str, object]]] = {
    "pin-standard": (PROBE + CERT + COUNTER + ["VERIFY"] + SIGN,
                     {"method": "pin", "token": "plastic-card", "certificate_life": "valid"}),
    "android-phone-pin": (PROBE + COUNTER + ["VERIFY"] + CERT + SIGN,
                          {"method": "pin", "token": "android", "certificate_life": "valid"}),
    "iphone-phone": (PROBE + CERT + SIGN,
                     {"method": "phone", "token": "iphone", "certificate_life": "valid"}),
    "iphone-phone-refused": (PROBE + CERT + ["EF 0017", "SIGN 6982"], {"error": "112"}),
    "expired-pin": (PROBE + CERT, {"error": "006"}),
    "android-phone-expired": (PROBE + COUNTER + ["VERIFY"] + CERT, {"error": "006"}),
    "grace-pin": (PROBE + CERT + COUNTER + ["VERIFY"] + SIGN,
                  {"method": "pin", "token": "plastic-card", "certificate_life": "grace"}),
    "expiring-pin": (PROBE + CERT + COUNTER + ["VERIFY"] + SIGN,
                     {"method": "pin", "token": "plastic-card", "certificate_life": "expiring"}),
}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_each_path_replays_with_the_apdus_it_needs(
        name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = TRANSCRIPTS / f"{name}.jsonl"
    apdus, expected = PATHS[name]
    assert words(load(path).steps) == apdus
    assert main(["replay", str(path), "--pin", "4321", "--passcode", "5678"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    if "error" in expected:
        assert outcome["results"] == []
        assert outcome["errors"][0] == expected["error"]  # before the scripted challenge's
        return
    [result] = outcome["results"]
    assert {k: result[k] for k in expected} == expected
    assert result["signed"] is True
    consents = set(result["consents"])
    if expected["certificate_life"] == "grace":  # 資格情報のみ: no viewing consent asked
        assert consents == {"limit-application", "specific-disease"}
    else:
        assert len(consents) == 6


def test_no_pin_is_asked_where_the_certificate_cannot_be_used() -> None:
    """An expired card never gets its PIN counter read, let alone a VERIFY."""
    apdus = words(load(TRANSCRIPTS / "expired-pin.jsonl").steps)
    assert "COUNTER" not in apdus and "VERIFY" not in apdus
