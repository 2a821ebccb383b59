"""A command line that never surprises (issue 14): unknown options named as such by the
command they were given to, one line for every error, nothing written that was not asked for,
and `audit` reading the log without touching it."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from myna_reader.daemon.cli import main
from myna_reader.daemon.cli.audit import parse_since


@pytest.mark.parametrize(("argv", "usage"), [
    (["--bogus"], "usage: myna-reader [-h]"),
    (["-x"], "usage: myna-reader [-h]"),
    (["passcode", "--bogus"], "usage: myna-reader passcode [-h]"),
    (["passcode", "status", "--bogus"], "usage: myna-reader passcode status"),
    (["--bogus", "passcode", "status"], "usage: myna-reader passcode status"),
    (["status", "--frobnicate"], "usage: myna-reader status"),
    (["audit", "--nope"], "usage: myna-reader audit"),
])
def test_an_unknown_option_is_named_by_its_command(
        argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    bogus = next(a for a in argv if a.startswith("-"))
    assert err.splitlines()[-1].endswith(f"error: unrecognized arguments: {bogus}")
    assert err.startswith(usage)
    assert "the following arguments are required" not in err


def test_a_missing_command_is_still_said_so(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["-vv"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "the following arguments are required: COMMAND" in capsys.readouterr().err


def test_passcode_status_writes_nothing(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"  # absent, as on a reader where the daemon never ran
    assert main(["passcode", "status", "--state-dir", str(state)]) == 0
    assert main(["passcode", "clear", "--state-dir", str(state)]) == 0
    assert not state.exists()
    out = capsys.readouterr().out
    assert "provisioned   no" in out
    assert "issue one from the terminal" in out


AUDIT = [
    {"time": "2026-06-01T00:10:00.000Z", "event": "staff-enter", "mode": "staff",
     "method": None, "outcome": "entered", "session": None, "cert": None, "code": None},
    {"time": "2026-06-01T00:12:31.500Z", "event": "confirmation", "mode": "unattended",
     "method": "pin", "outcome": "error", "session": "ab12", "cert": "fp", "code": "113"},
]


def write_log(state: Path, torn: bool = False) -> bytes:
    state.mkdir(mode=0o700)
    data = "".join(json.dumps(r) + "\n" for r in AUDIT).encode()
    if torn:
        data += b'{"time": "2026-06-01T00:13'  # a crash mid-write
    (state / "audit.jsonl").write_bytes(data)
    return data


def test_audit_prints_readable_lines_and_repairs_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_log(tmp_path / "state", torn=True)
    before = os.stat(tmp_path / "state" / "audit.jsonl")
    assert main(["audit", "--state-dir", str(tmp_path / "state")]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2
    assert "staff-enter" in lines[0] and "entered" in lines[0]
    assert "confirmation" in lines[1] and "code=113" in lines[1] and "method=pin" in lines[1]
    assert err.strip() == "myna-reader: 1 damaged line(s) skipped"
    assert (tmp_path / "state" / "audit.jsonl").read_bytes() == data  # not trimmed
    assert os.stat(tmp_path / "state" / "audit.jsonl").st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["audit.jsonl"]


def test_audit_since(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(tmp_path / "state")
    assert main(["audit", "--state-dir", str(tmp_path / "state"), "--json",
                 "--since", "2026-06-01T00:11:00+00:00"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["code"] == "113"


def test_since_forms() -> None:
    now = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("today", now) == datetime(2026, 6, 1, tzinfo=UTC)
    assert parse_since("yesterday", now) == datetime(2026, 5, 31, tzinfo=UTC)
    assert parse_since("2026-05-01 09:00+09:00", now) == datetime(2026, 5, 1, 0, tzinfo=UTC)


def test_audit_without_a_log_is_one_line(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--state-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no audit log" in err[0]
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("code", ["0000", "1111", "1234", "0123", "9876", "3210", "1212",
                                  "1122"])
def test_a_passcode_anyone_would_try_first_is_refused(
        code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(code + "\n"))
    assert main(["passcode", "set", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "choose another; nothing was changed" in err[0]
    assert code not in err[0]
    assert not (tmp_path / "passcode.json").exists()


def test_an_ordinary_passcode_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("2580\n"))
    assert main(["passcode", "set", "--state-dir", str(tmp_path)]) == 0
    assert (tmp_path / "passcode.json").exists()
