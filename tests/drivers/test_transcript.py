"""The transcript format and the replay backend's strictness."""

import io
import json

import pytest

from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.replay import ReplayReader, TranscriptDivergenceError
from myna_reader.drivers.errors import CardRemovedError
from myna_reader.drivers.transcript import (
    CardEvent,
    Header,
    Step,
    Transcript,
    TranscriptError,
    masked_hex,
    parse_lines,
    write,
)

HEADER = json.dumps({"format": "myna-reader-transcript", "version": 1, "scenario": "t"})


def sample() -> Transcript:
    return Transcript(
        Header("pin", profile="standard", reader="sim:standard", atr=b"\x3b\x88"),
        (
            CardEvent(ReaderEventKind.CARD_INSERTED),
            Step("00A4040C0AD392F000260100000001", b"\x90\x00", 0.001, 0.2, "SELECT JPKI AP"),
            Step(masked_hex(bytes.fromhex("002000800431323334")), b"\x90\x00", 0.002, 0.3),
            CardEvent(ReaderEventKind.CARD_REMOVED, 0.5),
        ),
    )


def test_write_then_parse_is_identity_and_never_holds_the_pin() -> None:
    out = io.StringIO()
    write(sample(), out)
    text = out.getvalue()
    assert "31323334" not in text
    assert "0020008004XXXXXXXX" in text
    assert parse_lines(text.splitlines()) == sample()


def test_replay_accepts_any_pin_of_the_right_shape_and_reports_removal() -> None:
    reader = ReplayReader(sample())
    event = reader.wait_for_event(0)
    assert event is not None
    assert event.kind is ReaderEventKind.CARD_INSERTED
    assert reader.connect() == b"\x3b\x88"
    reader.transmit(bytes.fromhex("00A4040C0AD392F000260100000001"))
    assert reader.transmit(bytes.fromhex("002000800439393939")) == b"\x90\x00"
    assert reader.finished
    with pytest.raises(CardRemovedError):
        reader.transmit(bytes.fromhex("00A4020C020017"))


def test_divergence_is_shown_as_a_readable_diff() -> None:
    reader = ReplayReader(sample())
    reader.connect()
    with pytest.raises(TranscriptDivergenceError) as caught:
        reader.transmit(bytes.fromhex("00A4040C0AD392100031000101040802"))
    message = str(caught.value)
    assert "exchange 1 (SELECT JPKI AP)" in message
    assert "expected 00 A4 04 0C 0A D3 92 F0" in message
    assert "^" in message.splitlines()[-1]
    # a PIN of another length is another shape: it diverges
    reader2 = ReplayReader(sample())
    reader2.connect()
    reader2.transmit(bytes.fromhex("00A4040C0AD392F000260100000001"))
    with pytest.raises(TranscriptDivergenceError):
        reader2.transmit(bytes.fromhex("00200080053132333435"))


@pytest.mark.parametrize(
    ("lines", "fragment"),
    [
        ([], "empty transcript"),
        (["{not json"], "not JSON"),
        (['{"format": "other"}'], "header"),
        ([HEADER, '{"cmd": "00A4", "rsp": "9000"}'], "at least 4 bytes"),
        ([HEADER, '{"cmd": "00A4020C", "rsp": "zz"}'], "not hex"),
        ([HEADER, '{"cmd": "00A4020C", "rsp": "90"}'], "SW1 SW2"),
        ([HEADER, '{"event": "explode"}'], "unknown event"),
        ([HEADER, '[1, 2]'], "JSON object"),
        ([HEADER, '{"cmd": "00A4020C", "rsp": "9000", "t": "soon"}'], "'t' must be a number"),
    ],
)
def test_bad_transcripts_fail_with_the_line_and_the_reason(lines: list[str], fragment: str) -> None:
    with pytest.raises(TranscriptError, match=fragment):
        parse_lines(lines, "f.jsonl")
