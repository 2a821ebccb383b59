"""The reader registry: one table from a spec's kind to its backend, one place that checks."""

from __future__ import annotations

import ast

import pytest

from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.readers import (
    BACKENDS,
    SPEC_FORMS,
    ReaderSpec,
    ReaderSpecError,
    open_reader,
    parse_spec,
)
from tests.support.repo import REPO


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("pcsc", ReaderSpec("pcsc", "")),
        ("pcsc:Virtual PCD 00 01", ReaderSpec("pcsc", "Virtual PCD 00 01")),
        ("nfc:usb", ReaderSpec("nfc", "usb")),
        ("nfc:tty:AMA0:pn532", ReaderSpec("nfc", "tty:AMA0:pn532")),
        ("nfc:udp:localhost:54321", ReaderSpec("nfc", "udp:localhost:54321")),
        ("sim:iphone", ReaderSpec("sim", "iphone")),
        ("replay:t.jsonl", ReaderSpec("replay", "t.jsonl")),
        ("  sim:standard ", ReaderSpec("sim", "standard")),
    ],
)
def test_good_specs(text: str, spec: ReaderSpec) -> None:
    assert parse_spec(text) == spec
    assert parse_spec(str(spec)) == spec


@pytest.mark.parametrize("text", ["", "floppy:a", "sim", "sim:", "replay:", "PCSC", "nfc:com3"])
def test_bad_specs_name_every_form(text: str) -> None:
    with pytest.raises(ReaderSpecError) as caught:
        parse_spec(text)
    message = str(caught.value)
    assert "\n" not in message
    assert all(form in message for form in SPEC_FORMS)


def test_every_kind_is_one_row_and_its_class_exists() -> None:
    assert set(BACKENDS) == {"pcsc", "nfc", "sim", "replay"}
    assert len(SPEC_FORMS) == len(set(SPEC_FORMS)) == 8
    for kind, backend in BACKENDS.items():
        assert all(form.split(":")[0] == kind for form in backend.forms)
        module = REPO / "drivers" / "backends" / f"{backend.module.rsplit('.', 1)[1]}.py"
        classes = {node.name for node in ast.walk(ast.parse(module.read_text()))
                   if isinstance(node, ast.ClassDef)}
        assert backend.cls in classes  # read, not imported: pyscard or nfcpy may be missing


def test_open_reader_goes_through_the_table() -> None:
    reader = open_reader("sim:iphone")
    assert isinstance(reader, SimReader)
    assert reader.spec == "sim:iphone"
    assert reader.profile.name == "iphone"
    with pytest.raises(ReaderSpecError):
        open_reader(ReaderSpec("floppy", "a"))  # a spec made by hand is checked too


def test_no_other_module_checks_a_spec() -> None:
    """Everything that takes a spec asks parse_spec; nobody re-checks kinds or forms."""
    for path in [*REPO.glob("daemon/**/*.py"), *REPO.glob("drivers/**/*.py")]:
        if path.name == "readers.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "NFC_PATH_KINDS" not in text, path
        assert "ReaderSpecError(" not in text, path  # only the registry decides a spec is bad
