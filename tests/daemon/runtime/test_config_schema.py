"""The one config schema (daemon/engine/schema.py) over every key of config.toml.

The keys are read off the schema itself (`config_keys`), so a setting someone adds to a
dataclass is held to these tests without a line here: each bad value gives exactly one problem
that names the key, shows the value and says the fix, and every problem of a document comes at
once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pytest

from myna_reader.daemon.engine import (
    ConfigError,
    ConsentItem,
    FaceSettings,
    KeyRule,
    SessionConfig,
    StaffScope,
    Timeouts,
    config_keys,
    setting,
    settings_from,
    validate_session_overrides,
)
from myna_reader.daemon.runtime.config import DaemonConfig, config_from_mapping

KEYS = list(config_keys(DaemonConfig))
SESSION_KEYS = list(config_keys(SessionConfig))
PAGE = {"id": "p", "items": ["diagnosis"]}


def document_with(key: str, value: object) -> dict[str, object]:
    """A document that sets the dotted `key` (`a.b[].c` in the first table of `a.b`)."""
    document: dict[str, object] = {}
    node = document
    parts = key.split(".")
    for part in parts[:-1]:
        if part.endswith("[]"):
            item: dict[str, object] = dict(PAGE)
            node[part[:-2]] = [item]
            node = item
        else:
            node = node.setdefault(part, {})  # type: ignore[assignment]
    node[parts[-1]] = value
    return document


def problems_of(document: dict[str, object]) -> list[str]:
    try:
        config_from_mapping(document)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_the_schema_covers_every_section_of_the_file() -> None:
    tables = {key.split(".")[0] for key in KEYS if "." in key}
    assert tables >= {"link", "ui", "timeouts", "staff_mode", "face", "consent",
                      "certificate", "prescription"}
    assert {"reader", "state_dir", "log_level"} <= set(KEYS)
    assert len(KEYS) == len(set(KEYS))  # each key declared once
    assert set(SESSION_KEYS) <= set(KEYS)  # the terminal's `config` takes the engine's keys


# [[1]] is no value of any key; the others are numbers too large or not numbers at all, and
# a text with a NUL; each must be one clear line, never a traceback
BAD_VALUES = [([[1]], "[[1]]"), (10**400, "a 401-digit number"), (math.inf, "inf"),
              (math.nan, "nan"), ("a\x00b", '"a\\u0000b"')]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(("value", "shown"), BAD_VALUES, ids=["list", "huge", "inf", "nan", "nul"])
def test_each_key_refuses_a_bad_value_in_one_line(key: str, value: object, shown: str) -> None:
    problems = problems_of(document_with(key, value))
    where = key.replace("[]", "[0]")
    assert len(problems) == 1, problems
    prefix = f"{where}: {'the value (hidden)' if key == 'link.pairing_token' else shown}"
    assert problems[0].startswith(prefix + " is ")
    fix = problems[0].split("; ", 1)[1]
    assert fix and "Error" not in fix and "<class" not in fix


def merged(into: Any, new: Any) -> Any:
    """`new` merged into `into`: tables key by key, the first table of an array with the other's."""
    if isinstance(into, dict) and isinstance(new, dict):
        return {**into, **{k: merged(into[k], v) if k in into else v for k, v in new.items()}}
    if isinstance(into, list) and isinstance(new, list):
        return [merged(into[0], new[0])]
    return new


def test_a_document_bad_in_every_key_reports_every_key() -> None:
    document: dict[str, object] = {}
    for key in KEYS:
        document = merged(document, document_with(key, [[1]]))
    document = merged(document, {"consent": {"pages": [{"id": [[1]], "items": [[1]]}]}})
    problems = problems_of(document)
    assert len(problems) == len(KEYS)
    assert sorted(p.split(":")[0] for p in problems) == sorted(
        k.replace("[]", "[0]") for k in KEYS)


@pytest.mark.parametrize(("document", "line"), [
    ({"colour": 1}, "colour: unknown key; remove it (known keys: reader, state_dir, "),
    ({"ui": {"colour": 1}}, "ui.colour: unknown key; remove it (known keys: size, "),
    ({"a b": 1}, '"a b": unknown key; remove it'),
    ({"consent": {"pages": [PAGE | {"colour": 1}]}},
     "consent.pages[0].colour: unknown key; remove it (known keys: id, items)"),
    ({"consent": {"validity_h": {"gossip": 2}}},
     "consent.validity_h.gossip: unknown key; remove it (known keys: limit-application, "),
    ({"staff_mode": {"idle_s": 5}},  # the field's name is not its key
     "staff_mode.idle_s: unknown key; remove it (known keys: scope, idle_timeout_s, "),
    ({"ui": 3}, "ui: 3 is not accepted; make it a table: [ui]"),
    ({"consent": {"pages": [{"id": "p"}]}},
     "consent.pages[0].items: missing; list ids from: limit-application, "),
])
def test_unknown_keys_and_wrong_shapes(document: dict[str, object], line: str) -> None:
    problems = problems_of(document)
    assert len(problems) == 1, problems
    assert problems[0].startswith(line)


def test_range_choices_and_checks_name_the_fix() -> None:
    problems = problems_of({
        "timeouts": {"pin_s": 0.5, "voice_factor": 9},
        "staff_mode": {"scope": "forever", "lockout_failures": 0},
        "face": {"threshold": 0.9, "patient_camera": "usb", "attempts": 1.0},
        "consent": {"pages": [PAGE, PAGE], "validity_h": {"limit-application": 3}},
        "ui": {"rotation": 90, "language": "fr"},
    })
    assert problems == [  # in the schema's order: [ui] comes before the engine's tables
        "ui.rotation: 90 is not accepted; set 0 or 180",
        'ui.language: "fr" is not accepted; set "ja" or "en"',
        "timeouts.pin_s: 0.5 is not accepted; set a number of seconds between 1 and 3600",
        "timeouts.voice_factor: 9 is not accepted; set a number between 1 and 5",
        'staff_mode.scope: "forever" is not accepted; set "one" or "until-cancel"',
        "staff_mode.lockout_failures: 0 is not accepted; set a whole number 1..20",
        'face.patient_camera: "usb" is not accepted; a camera spec is one of v4l2:..., '
        "picamera:..., video:..., images:...",
        "face.threshold: 0.9 is not accepted; set a number between 0.3 and 0.6",
        "face.attempts: 1.0 is not accepted; set a whole number 1..5",
        "consent.validity_h.limit-application: 3.0 is not accepted; only viewing items have "
        "a validity; remove it",
        'consent.pages[1].id: "p" is not accepted; give every page its own non-empty id',
        """consent.pages[1].items: ["diagnosis"] is not accepted; ask 'diagnosis' on one page"""
        " only",
    ]


def test_the_terminals_settings_are_checked_as_the_file_is() -> None:
    base = SessionConfig(timeouts=Timeouts(pin_s=45))
    config = validate_session_overrides(json.loads(
        '{"staff_mode": {"scope": "until-cancel"}, "consent": {"validity_h": {"diagnosis": 48}}}'
    ), base)
    assert config.timeouts.pin_s == 45  # what it does not name keeps base's value
    assert config.staff.scope is StaffScope.UNTIL_CANCEL
    assert dict(config.consent_validity.hours)[ConsentItem.DIAGNOSIS] == 48
    assert dict(config.consent_validity.hours)[ConsentItem.PHARMACEUTICAL] == 24
    with pytest.raises(ConfigError) as caught:
        validate_session_overrides(json.loads(
            '{"timeouts": {"pin_s": 1e400, "done_s": null}, "reader": "sim:x"}'), base)
    assert [str(p) for p in caught.value.problems] == [
        "reader: unknown key; remove it (known keys: timeouts, staff_mode, consent, face, "
        "certificate, prescription)",
        "timeouts.pin_s: inf is not accepted; set a number of seconds between 1 and 3600",
        "timeouts.done_s: a value is not accepted; set a number of seconds between 1 and 3600",
    ]


def test_values_built_in_code_keep_the_same_rules() -> None:
    with pytest.raises(ConfigError, match=r"^pin_s: 0 is not accepted; set a number of seconds"):
        Timeouts(pin_s=0)
    with pytest.raises(ConfigError) as caught:
        FaceSettings(attempts=0, threshold=math.nan)
    assert [p.key for p in caught.value.problems] == ["threshold", "attempts"]


@dataclass(frozen=True)
class Twice:
    a: int = 1
    b: int = setting(2, KeyRule(key="a"))


@dataclass(frozen=True)
class Inner:
    x: bool = False


@dataclass(frozen=True)
class Merged:
    x: bool = False
    inner: Inner = field(default_factory=Inner, metadata=KeyRule(key="").metadata)


def test_a_key_declared_by_two_fields_is_refused() -> None:
    for schema in (Twice, Merged):
        with pytest.raises(TypeError, match="declared twice"):
            settings_from(schema, {})
