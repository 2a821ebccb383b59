"""`myna-reader technician`: set as root from stdin, its own file handed to the service's user,
status without the code, refusals that change nothing."""

import io
import os
import stat
from pathlib import Path

import pytest

from myna_reader.daemon.cli import main
from myna_reader.daemon.engine import Credential
from myna_reader.daemon.store.passcode import (
    PASSCODE_FILE,
    TECHNICIAN_FILE,
    TECHNICIAN_LOCK_FILE,
    PasscodeStore,
)

SERVICE = (65534, 65534)  # nobody: stands for the service's user owning the state directory


def _set(state: Path, code: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(code + "\n"))
    return main(["technician", "set", "--state-dir", str(state)])


def _technician(state: Path) -> PasscodeStore:
    return PasscodeStore(state, credential=Credential.TECHNICIAN)


def test_set_status_clear_as_root_never_show_the_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    os.chown(tmp_path, *SERVICE)
    assert _set(tmp_path, "3692", monkeypatch) == 0
    assert _technician(tmp_path).check("3692").ok
    assert not PasscodeStore(tmp_path).check("3692").ok  # not the staff passcode
    assert not (tmp_path / PASSCODE_FILE).exists()
    for name in (TECHNICIAN_FILE, TECHNICIAN_LOCK_FILE):  # the service can read its file
        info = (tmp_path / name).stat()
        assert (info.st_uid, info.st_gid) == SERVICE and stat.S_IMODE(info.st_mode) == 0o600
    assert main(["technician", "status", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "provisioned   yes" in out.out
    assert "3692" not in out.out + out.err
    for path in tmp_path.iterdir():
        assert b"3692" not in path.read_bytes()
    assert main(["technician", "clear", "--state-dir", str(tmp_path)]) == 0
    assert not _technician(tmp_path).status().provisioned
    assert main(["technician", "status", "--state-dir", str(tmp_path)]) == 0
    assert "sudo myna-reader technician set" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["", "12a4", "12345", "1234", "0000", "1212"])
def test_malformed_and_guessable_codes_are_refused(
        bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _set(tmp_path, "3692", monkeypatch) == 0
    assert _set(tmp_path, bad, monkeypatch) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "technician code" in err[0] and "nothing was changed" in err[0]
    assert _technician(tmp_path).check("3692").ok


def test_only_root_sets_or_clears(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert _set(tmp_path, "3692", monkeypatch) == 2
    assert main(["technician", "clear", "--state-dir", str(tmp_path)]) == 2
    assert "sudo myna-reader technician" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_code_is_never_taken_from_the_command_line() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["technician", "set", "3692"])
    assert caught.value.code == 2
