"""Transcripts, terminal link lines and config files (hypothesis, bounded)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myna_reader.daemon.link.protocol import MAX_LINE_BYTES, HostProtocolError, parse_terminal_line
from myna_reader.daemon.runtime.config import ConfigError, config_from_mapping, load_config
from myna_reader.drivers.transcript import TranscriptError, parse_lines
from tests.fuzz.fuzz_strategies import FUZZ, json_values, mutated
from tests.fuzz.fuzz_targets import (
    HOST_LINE_SEEDS,
    MANIFEST_SEED,
    config_bytes,
    config_seed,
    host_line,
    manifest_bytes,
    transcript_bytes,
    transcript_seeds,
)

_DEEP = 20_000  # deeper than the json and tomllib parsers' recursion limits, inside a line


@FUZZ
@given(mutated([seed.encode() for seed in transcript_seeds()], max_edits=6))
def test_transcripts_damaged(data: bytes) -> None:
    transcript_bytes(data)


@FUZZ
@given(st.lists(json_values.map(json.dumps), max_size=5))
def test_transcript_lines_of_any_json(lines: list[str]) -> None:
    header = transcript_seeds()[0].splitlines()[0]
    transcript_bytes("\n".join([header, *lines]).encode())


@FUZZ
@given(st.binary(max_size=200) | mutated(list(HOST_LINE_SEEDS)))
def test_host_lines_damaged(data: bytes) -> None:
    host_line(data)


@FUZZ
@given(st.dictionaries(st.sampled_from(["type", "id", "v", "ref", "token", "challenge",
                                        "passcode", "settings"]), json_values))
def test_host_lines_of_any_fields(obj: dict[str, object]) -> None:
    host_line(json.dumps(obj).encode())


@FUZZ
@given(mutated([config_seed().encode()], max_edits=6))
def test_config_files_damaged(data: bytes) -> None:
    config_bytes(data)


@FUZZ
@given(st.dictionaries(st.sampled_from(["reader", "state_dir", "log_level", "link", "ui",
                                        "timeouts", "staff_mode", "face", "consent", "other"]),
                       json_values))
def test_config_tables_of_any_values(raw: dict[str, object]) -> None:
    with contextlib.suppress(ConfigError):
        config_from_mapping(raw)


@FUZZ
@given(mutated([MANIFEST_SEED], max_edits=6) | st.binary(max_size=200))
def test_update_manifests_damaged(data: bytes) -> None:
    manifest_bytes(data)


# --- regressions the fuzzers found (deep nesting raised RecursionError) -----------------------


def test_a_deeply_nested_host_line_is_a_protocol_error() -> None:
    line = b"[" * _DEEP
    assert len(line) <= MAX_LINE_BYTES
    with pytest.raises(HostProtocolError):
        parse_terminal_line(line)
    host_line(line)


def test_a_deeply_nested_transcript_is_a_transcript_error() -> None:
    header = transcript_seeds()[0].splitlines()[0]
    with pytest.raises(TranscriptError):
        parse_lines([header, "[" * _DEEP])


_HUGE = "9" * 400  # past a float: float() of it overflows
_HUGER = "9" * 5000  # past Python's 4300 digits for int(): json.loads itself refuses it


@pytest.mark.parametrize("line", [
    '{"event": "card-inserted", "t": ' + _HUGE + "}",
    '{"event": "card-inserted", "t": ' + _HUGER + "}",
    '{"event": "card-inserted", "t": 1e999}',
    '{"cmd": "00A40000", "rsp": "9000", "ms": NaN}',
    '{"cmd": "00A40000", "rsp": "9000", "note": "a\\u0000b"}',
])
def test_huge_numbers_and_nul_in_a_transcript_are_one_line(line: str) -> None:
    header = transcript_seeds()[0].splitlines()[0]
    with pytest.raises(TranscriptError) as raised:
        parse_lines([header, line])
    assert "\n" not in str(raised.value) and ":2:" in str(raised.value)


def test_a_nul_in_a_transcript_header_is_one_line() -> None:
    header = json.loads(transcript_seeds()[0].splitlines()[0])
    header["reader"] = "sim:\0standard"
    with pytest.raises(TranscriptError, match="NUL"):
        parse_lines([json.dumps(header)])


@pytest.mark.parametrize("text", [
    "[link]\noutbox_ttl_s = " + _HUGE + "\n",
    "[link]\noutbox_ttl_s = 1e999\n",
    "log_level = " + _HUGER + "\n",
    'state_dir = "/var/lib/\\u0000x"\n',
    'reader = "sim:\\u0000"\n',
])
def test_huge_numbers_and_nul_in_config_are_one_line_each(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert len(str(raised.value).splitlines()) == 1


def test_a_deeply_nested_config_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("reader = " + "[" * _DEEP)
    with pytest.raises(ConfigError):
        load_config(path)


@pytest.mark.parametrize("data", [
    MANIFEST_SEED.replace(b'"size": ', b'"size": 1e999, "was": ', 1),
    b"[" * 20_000,
])
def test_update_manifest_regressions_found_by_atheris(data: bytes) -> None:
    manifest_bytes(data)  # an OverflowError or RecursionError here was the bug
