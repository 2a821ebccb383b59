"""The technician's line for a session guided by voice (docs/accessibility.md)."""

from __future__ import annotations

import logging

import pytest

from myna_reader.daemon.engine import Note, NoteEvent, Screen
from myna_reader.daemon.runtime.logs import FIELDS_ATTR
from myna_reader.daemon.runtime.session_log import noted


def test_voice_guidance_is_one_info_line_with_its_fields(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="myna_reader.session"):
        noted(Note(NoteEvent.VOICE, "session-1", Screen.PIN))
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage() == ("guided by voice: the patient's screens wait longer for "
                                   "this session")
    assert getattr(record, FIELDS_ATTR) == {"event": "voice", "session": "session-1",
                                            "screen": "pin"}
