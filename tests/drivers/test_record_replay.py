"""Recording scrubs personal data; every committed transcript replays through the CLI."""

import io
import json
from pathlib import Path

import pytest

from myna_reader.daemon.cli import main
from myna_reader.drivers import pin
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.replay import ReplayReader
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.files import CardFiles
from myna_reader.drivers.mynumber_ids import JPKI_AID, JpkiEF
from myna_reader.drivers.recorder import Recorder
from myna_reader.drivers.sim.profile import load_profile
from myna_reader.drivers.transcript import Header, load, parse_lines, write
from myna_reader.fixtures.record_transcripts import DRIVER_FLOWS, play_driver_flow
from tests.support.repo import REPO

ALL_TRANSCRIPTS = sorted(
    (REPO / "hw-fixtures" / "transcripts").glob("*.jsonl"))
TRANSCRIPTS = [p for p in ALL_TRANSCRIPTS if load(p).header.flow not in DRIVER_FLOWS]
DRIVER_TRANSCRIPTS = [p for p in ALL_TRANSCRIPTS if p not in TRANSCRIPTS]


def test_there_is_a_transcript_for_every_scenario_family() -> None:
    names = {p.stem for p in TRANSCRIPTS}
    assert {"pin-standard", "staff-standard", "pin-blocked", "face-card-pin",
            "android-phone-pin", "android-phone-staff", "expired-staff"} <= names
    assert {p.stem for p in DRIVER_TRANSCRIPTS} == {
        "android-phone-driver-pin", "iphone-driver-refused", "iphone-driver-authenticated"}


DRIVER_EXPECTED = {  # what each phone path gives at the driver level, and its APDU floor
    "android-phone-driver-pin": ({"token": "ANDROID", "tries_left": 3, "signature": 256}, 16),
    "iphone-driver-refused": ({"token": "IPHONE", "refused": "PhoneNotAuthenticatedError",
                               "sw": "6982"}, 13),
    "iphone-driver-authenticated": ({"token": "IPHONE", "signature": 256}, 13),
}


@pytest.mark.parametrize("path", DRIVER_TRANSCRIPTS, ids=lambda p: p.stem)
def test_each_phone_transcript_replays_through_the_driver(path: Path) -> None:
    transcript = load(path)
    reader = ReplayReader(transcript)
    outcome = play_driver_flow(transcript.header.flow, reader, "4321")
    expected, apdus = DRIVER_EXPECTED[path.stem]
    assert outcome == expected
    assert len(transcript.steps) == apdus  # SELECT AP, token, [PIN], certificate, signature
    assert reader.finished
    for line in path.read_text(encoding="utf-8").splitlines():
        assert "0020008004" not in line or "XXXXXXXX" in line


CHALLENGE_REFUSED = "114"  # a pin script's challenge arriving when no PIN session waits
EXPECTED: dict[str, str | tuple[str, ...]] = {  # the result's method, or the terminal's errors
    "pin-standard": "pin", "pin-one-try-left": "pin", "android-phone-pin": "pin",
    "under-15-pin": "pin", "expiring-pin": "pin", "grace-pin": "pin",
    "staff-standard": "visual", "staff-standard-extended": "visual",
    "face-card-staff": "visual", "iphone-phone": "phone",
    "pin-blocked": ("101", CHALLENGE_REFUSED), "face-card-pin": ("102", CHALLENGE_REFUSED),
    "expired-pin": ("006", CHALLENGE_REFUSED), "android-phone-expired": ("006",
                                                                         CHALLENGE_REFUSED),
    "android-phone-staff": ("103",), "expired-staff": ("006",), "pin-wrong": ("106",),
    "iphone-phone-refused": ("112",),
}


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_each_transcript_drives_the_engine_to_its_outcome(
        path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(path), "--pin", "4321", "--passcode", "5678"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["scenario"] == path.stem
    expected = EXPECTED.get(path.stem)
    if isinstance(expected, str):
        [result] = outcome["results"]
        assert result["method"] == expected
        assert result["signed"] is (expected != "visual")
        assert all(result["consents"].values())
    elif expected is not None:
        assert outcome["results"] == []
        assert outcome["errors"] == list(expected)
    else:
        assert load(path).header.flow == "info", f"{path.stem} has no expected outcome"
    for line in path.read_text(encoding="utf-8").splitlines():
        assert "0020008004" not in line or "XXXXXXXX" in line  # no PIN ever lands on disk


def _personal_values(profile_name: str) -> list[bytes]:
    holder = load_profile(profile_name).holder
    return [holder.my_number.encode(), holder.name.encode(), holder.address.encode(),
            holder.birth_date.encode()]


def _sign_certificate(channel: CardChannel, password: bytes) -> bytes:
    """The signing certificate, which the reader never reads: a recording that meets it (a
    tool of a technician's own) must still be scrubbed."""
    files = CardFiles(channel)
    pin.query_status(files, JPKI_AID, JpkiEF.SIGN_PIN)
    pin.verify(files, JPKI_AID, JpkiEF.SIGN_PIN, password)
    return files.read_object(JPKI_AID, JpkiEF.SIGN_CERT)


def test_recording_scrubs_every_personal_file_but_keeps_its_shape() -> None:
    profile = load_profile("standard")
    reader = SimReader(profile)
    reader.connect()
    recorder = Recorder()
    recorder.card_event(ReaderEventKind.CARD_INSERTED)
    channel = CardChannel(reader, (recorder,))
    card = MyNumberCard(channel)
    text = card.text()
    text.pin_tries()
    text.verify_pin("1234")
    real = text.check_integrity()
    assert real.ok
    visual = card.visual()
    visual.collation_b_tries()
    assert profile.visual is not None
    assert profile.visual.verify_b.value is not None
    visual.verify_collation_b(profile.visual.verify_b.value.decode())
    real_face = visual.read_card_face()
    real_sign_cert = _sign_certificate(channel, b"ABC123")
    reader.disconnect()

    out = io.StringIO()
    write(recorder.transcript(Header("diagnostics", profile="standard",
                                     supports_extended=reader.supports_extended)), out)
    recorded = out.getvalue()
    for value in [*_personal_values("standard"), real_face.photo[16:64],
                  real_face.name_image[16:48], b"1234", b"ABC123"]:
        assert value.hex().upper() not in recorded
    assert real.my_number not in recorded

    # the scrubbed transcript drives the same reads, and the records still parse
    replay = ReplayReader(parse_lines(recorded.splitlines()))
    replay.connect()
    card2 = MyNumberCard(CardChannel(replay))
    text2 = card2.text()
    text2.pin_tries()
    text2.verify_pin("0000")
    scrubbed = text2.check_integrity()
    four, real_four = scrubbed.basic_four, real.basic_four
    assert len(four.name.encode()) == len(real_four.name.encode())
    assert four.name != real_four.name and four.address != real_four.address
    assert scrubbed.my_number != real.my_number
    # the digests of EF 0003 are zeroed: they would identify the name and the number
    assert not scrubbed.my_number_digest_ok and not scrubbed.attributes_digest_ok
    visual2 = card2.visual()
    visual2.collation_b_tries()
    visual2.verify_collation_b("0" * 14)
    face = visual2.read_card_face()
    assert len(face.photo) == len(real_face.photo) and face.photo != real_face.photo
    scrubbed_cert = parse_certificate(_sign_certificate(card2.channel, b"XXXXXX"))
    assert len(scrubbed_cert.der) == len(real_sign_cert)
    original = parse_certificate(real_sign_cert)
    assert scrubbed_cert.personal_subject() != original.personal_subject()
    assert scrubbed_cert.serial_hex == original.serial_hex
    assert replay.finished


def test_record_command_writes_a_masked_transcript(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pin.jsonl"
    monkeypatch.setattr("sys.stdin", io.StringIO("1234\n"))
    assert main(["record", "--reader", "sim:standard", "--flow", "pin", "--pin-stdin",
                 "--disagree", "2", "--out", str(out)]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["signed"]
    assert list(result["consents"].values()).count(False) >= 1
    transcript = load(out)
    verify = [s for s in transcript.steps if s.command.startswith("0020008004")]
    assert [s.command for s in verify] == ["0020008004XXXXXXXX"]
    assert main(["replay", str(out)]) == 0


STAFF_TRANSCRIPT = str(REPO / "hw-fixtures" / "transcripts" /
                       "staff-standard.jsonl")


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (["card", "info", "--reader", "floppy:a"], 1, "is not one of"),
        (["card", "info", "--reader", "sim:no-such-profile"], 1, "no-such-profile"),
        (["replay", "/nonexistent/t.jsonl"], 1, "cannot read"),
        (["record", "--reader", "sim:standard", "--out", "."], 2, "is a directory"),
        (["record", "--out", "/nonexistent/t.jsonl"], 2, "no directory"),
        (["replay", STAFF_TRANSCRIPT, "--passcode", "12"], 2, "passcode is 4 digits"),
        (["replay", STAFF_TRANSCRIPT, "--disagree", "9"], 2, "numbered 1 to"),
        (["card", "read-cert", "--reader", "sim:standard", "--out", "/nonexistent/c.der"], 1,
         "No such file"),
    ],
)
def test_bad_input_is_one_clear_line(argv: list[str], code: int, fragment: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0]


def test_replay_of_a_diverging_transcript_names_the_exchange(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = (REPO / "hw-fixtures" / "transcripts" /
              "staff-standard.jsonl").read_text(encoding="utf-8").splitlines()
    # the recording says the reader selected EF 000B where it selects 000A: a divergence,
    # reported even though the engine turns the card error into an error screen
    [line] = [i for i, text in enumerate(source) if '"cmd": "00A4020C02000A"' in text]
    source[line] = source[line].replace("00A4020C02000A", "00A4020C02000B")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(source) + "\n", encoding="utf-8")
    assert main(["replay", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "exchange 6 (SELECT EF 000A) differs" in err
    assert "expected 00 A4 02 0C 02 00 0B" in err
