"""Host link v1 messages: parsing, the typed errors, framing bounds; fuzzed with hypothesis."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myna_reader.daemon.engine import ErrorMessage, Secret
from myna_reader.daemon.link.protocol import (
    MAX_LINE_BYTES,
    Ack,
    Challenge,
    ConfigUpdate,
    Fault,
    HostProtocolError,
    LineSplitter,
    Pair,
    PasscodeIssue,
    decode_frame,
    encode,
    outgoing,
    parse_terminal_line,
)


def line(**fields: object) -> bytes:
    return json.dumps({"v": 1, **fields}).encode()


CHALLENGE = bytes(range(32))


def test_every_terminal_message_parses_to_its_type() -> None:
    assert parse_terminal_line(line(type="pair", id="t1")) == Pair("t1")
    assert parse_terminal_line(line(type="ack", id="t2", ref="s-1")) == Ack("t2", "s-1")
    b64 = base64.b64encode(CHALLENGE).decode()
    assert parse_terminal_line(line(type="challenge", id="t3", challenge=b64)) == Challenge(
        "t3", CHALLENGE)
    issued = parse_terminal_line(line(type="passcode.issue", id="t4", passcode="0427"))
    assert issued == PasscodeIssue("t4", Secret("0427"))
    assert "0427" not in repr(issued)
    config = parse_terminal_line(line(type="config", id="t5", settings={"staff_idle_s": 90}))
    assert config == ConfigUpdate("t5", {"staff_idle_s": 90})


def test_unknown_fields_are_ignored_for_compatibility() -> None:
    assert parse_terminal_line(line(type="ack", id="t1", ref="r1", later="x")) == Ack("t1", "r1")


@pytest.mark.parametrize(("raw", "fault", "ref"), [
    (b"not json", Fault.NOT_JSON, None),
    (b"\xff\xfe{}", Fault.NOT_JSON, None),
    (b"[1, 2]", Fault.NOT_OBJECT, None),
    (json.dumps({"type": "ack", "v": 1, "ref": "a"}).encode(), Fault.MISSING_FIELD, None),
    (json.dumps({"type": "ack", "id": "", "v": 1}).encode(), Fault.BAD_FIELD, None),
    (json.dumps({"type": "ack", "id": 7, "v": 1}).encode(), Fault.BAD_FIELD, None),
    (json.dumps({"type": "ack", "id": "a"}).encode(), Fault.MISSING_FIELD, "a"),
    (json.dumps({"type": "ack", "id": "a", "v": 2}).encode(), Fault.UNSUPPORTED_VERSION, "a"),
    (json.dumps({"type": "ack", "id": "a", "v": True}).encode(), Fault.UNSUPPORTED_VERSION, "a"),
    (json.dumps({"id": "a", "v": 1}).encode(), Fault.MISSING_FIELD, "a"),
    (line(type="launch", id="a"), Fault.UNKNOWN_TYPE, "a"),
    (line(type="ack", id="a"), Fault.MISSING_FIELD, "a"),
    (line(type="ack", id="a", ref="bad id!"), Fault.BAD_FIELD, "a"),
    (line(type="challenge", id="a", challenge="***"), Fault.BAD_FIELD, "a"),
    # a challenge's length is the engine's to refuse, with an audit line (tests/attack)
    (line(type="challenge", id="a", challenge="AAAA", session=5), Fault.BAD_FIELD, "a"),
    (line(type="config", id="a", settings=[1]), Fault.BAD_FIELD, "a"),
    (b"x" * (MAX_LINE_BYTES + 1), Fault.LINE_TOO_LONG, None),
])
def test_bad_lines_raise_the_typed_error(raw: bytes, fault: Fault, ref: str | None) -> None:
    with pytest.raises(HostProtocolError) as caught:
        parse_terminal_line(raw)
    assert caught.value.fault is fault
    assert caught.value.ref == ref
    reply = caught.value.to_wire()
    assert reply["type"] == "error"
    assert reply["code"] == "protocol"
    assert reply["fault"] == fault.value


@pytest.mark.parametrize("code", ["123", "12345", "12a4", "١٢٣٤", "", 1234, None])
def test_a_bad_passcode_is_refused_without_echoing_it(code: object) -> None:
    with pytest.raises(HostProtocolError) as caught:
        parse_terminal_line(line(type="passcode.issue", id="p1", passcode=code))
    assert caught.value.fault in (Fault.BAD_FIELD, Fault.MISSING_FIELD)
    if isinstance(code, str) and code:
        assert code not in json.dumps(caught.value.to_wire(), ensure_ascii=False)


def test_outgoing_messages_carry_type_id_and_version() -> None:
    wire = outgoing(ErrorMessage("001", "s-9").to_wire(), "r1")
    assert decode_frame(encode(wire).rstrip(b"\n")) == {
        "type": "error", "id": "r1", "v": 1, "code": "001", "session": "s-9"}
    result_like = outgoing({"type": "result", "id": "s-1"}, "r2")
    assert result_like["id"] == "s-1"  # a result is named by its own id


def test_encode_refuses_a_line_over_the_limit() -> None:
    with pytest.raises(ValueError, match="line limit"):
        encode({"type": "config", "id": "a", "v": 1, "pad": "x" * MAX_LINE_BYTES})


def test_the_splitter_bounds_lines_and_keeps_the_next_one() -> None:
    splitter = LineSplitter(max_line=16)
    out = splitter.feed(b'{"a":1}\r\n\n' + b"y" * 40)
    assert out[0] == b'{"a":1}'
    assert isinstance(out[1], HostProtocolError)
    assert out[1].fault is Fault.LINE_TOO_LONG
    assert splitter.feed(b"y" * 40) == []  # still inside the same long line: one error only
    assert splitter.feed(b'zz\n{"b":2}\n') == [b'{"b":2}']
    too_long_in_one_piece = splitter.feed(b"q" * 20 + b"\nok\n")
    assert isinstance(too_long_in_one_piece[0], HostProtocolError)
    assert too_long_in_one_piece[1:] == [b"ok"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_any_bytes_parse_or_raise_the_typed_error(raw: bytes) -> None:
    try:
        parse_terminal_line(raw)
    except HostProtocolError as exc:
        refused = exc
        assert isinstance(refused.fault, Fault)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.text(max_size=8), children, max_size=3),
    max_leaves=8)
FIELDS = st.fixed_dictionaries(
    {}, optional={"type": st.sampled_from(
        ["pair", "ack", "challenge", "passcode.issue", "config", "hello"]) | st.text(max_size=8),
        "id": st.text(max_size=10) | st.integers(), "v": st.sampled_from([1, 2, "1", None]),
        "ref": JSON_VALUES, "challenge": JSON_VALUES, "passcode": JSON_VALUES,
        "settings": JSON_VALUES, "token": JSON_VALUES})


@settings(max_examples=400, deadline=None)
@given(FIELDS)
def test_fuzz_message_shaped_objects(fields: dict[str, object]) -> None:
    try:
        message = parse_terminal_line(json.dumps(fields).encode())
    except HostProtocolError as exc:
        refused = exc
        assert isinstance(refused.fault, Fault)
        passcode = fields.get("passcode")
        if isinstance(passcode, str) and len(passcode) >= 3:
            assert passcode not in refused.detail
    else:
        assert fields["v"] == 1
        assert message.id == fields["id"]
