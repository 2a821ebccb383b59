"""Logging: journald priorities when stderr is the journal stream, levels elsewhere, and the
redaction safety net."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from myna_reader.daemon.runtime.logs import fields, redact, setup_logging, stream_is_journal


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def journal_env(path: Path) -> dict[str, str]:
    info = os.stat(path)
    return {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}


@pytest.mark.usefixtures("restore_root_logger")
def test_journal_stream_lines_carry_syslog_priorities(tmp_path: Path) -> None:
    # systemd hands the service a stream whose dev:ino it puts in JOURNAL_STREAM; a file
    # stands in for that socket: the check is on the descriptor's identity only
    path = tmp_path / "journal"
    with path.open("w") as stream:
        setup_logging("debug", stream=stream, environ=journal_env(path))
        log = logging.getLogger("myna_reader.test")
        log.debug("polling")
        log.info("reader attached", extra=fields(reader="ACS ACR39U", slot=0))
        log.warning("link dropped")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("card job failed")
    lines = path.read_text().splitlines()
    assert lines[:4] == [
        "<7>myna_reader.test: polling",
        '<6>myna_reader.test: reader attached reader="ACS ACR39U" slot=0',
        "<4>myna_reader.test: link dropped",
        "<3>myna_reader.test: card job failed",
    ]
    assert all(line.startswith("<3>") for line in lines[4:])  # the traceback stays an error
    assert lines[-1] == "<3>RuntimeError: boom"


@pytest.mark.usefixtures("restore_root_logger")
def test_other_streams_get_time_and_level_names(tmp_path: Path) -> None:
    path = tmp_path / "other"
    path.write_text("")
    stream = io.StringIO()
    # JOURNAL_STREAM inherited from a parent names another file: not the journal
    setup_logging("info", stream=stream, environ=journal_env(path))
    logging.getLogger("x").debug("hidden")
    logging.getLogger("x").error("shown")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(" ERROR x: shown")
    assert not line.startswith("<")


def test_stream_is_journal_requires_a_matching_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with path.open("w") as stream:
        assert stream_is_journal(stream, journal_env(path))
        assert not stream_is_journal(stream, {"JOURNAL_STREAM": "1:2"})
        assert not stream_is_journal(stream, {})
    assert not stream_is_journal(io.StringIO(), journal_env(path))


@pytest.mark.parametrize(("text", "expected"), [
    ("number 123456789012 read", "number ************ read"),
    ("1234567890123 is 13 digits", "1234567890123 is 13 digits"),
    ("pin=1234 ok", "pin=*** ok"),
    ("PIN: 9876", "PIN: ***"),
    ('passcode="0000" set', "passcode=*** set"),
    ("password=ABC123", "password=***"),
    ("link tcp://0.0.0.0:4730?token=0123456789abcdef", "link tcp://0.0.0.0:4730?token=***"),
    ("pin_tries=3", "pin_tries=3"),
])
def test_redaction(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.usefixtures("restore_root_logger")
def test_redaction_covers_fields_and_tracebacks() -> None:
    stream = io.StringIO()
    setup_logging("info", stream=stream, environ={})
    log = logging.getLogger("y")
    log.info("job", extra=fields(note="pin=4321", id="123456789012"))
    try:
        raise ValueError("bad pin=5555")
    except ValueError:
        log.exception("failed")
    text = stream.getvalue()
    for secret in ("4321", "123456789012", "5555"):
        assert secret not in text
