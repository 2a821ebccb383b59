"""`myna-reader passcode`: set from stdin, status without the code, bad input changes nothing;
run as root, its files go to the state directory's owner and no planted hard link is chowned."""

import io
import os
import stat
from pathlib import Path

import pytest

from myna_reader.daemon.cli import main
from myna_reader.daemon.store.passcode import LOCK_FILE, PASSCODE_FILE, PasscodeStore

SERVICE = (65534, 65534)  # nobody: stands for the service's user owning the state directory


def _set(state: Path, code: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(code + "\n"))
    return main(["passcode", "set", "--state-dir", str(state)])


def test_set_status_clear_never_show_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert _set(tmp_path, "8642", monkeypatch) == 0
    assert PasscodeStore(tmp_path).check("8642").ok
    assert main(["passcode", "status", "--state-dir", str(tmp_path)]) == 0
    assert _set(tmp_path, "1357", monkeypatch) == 0  # a re-issue: the old code fails at once
    assert not PasscodeStore(tmp_path).check("8642").ok
    assert PasscodeStore(tmp_path).check("1357").ok
    out = capsys.readouterr()
    assert "provisioned   yes" in out.out
    for code in ("8642", "1357"):
        assert code not in out.out + out.err
        for path in tmp_path.iterdir():
            assert code.encode() not in path.read_bytes()
    assert main(["passcode", "clear", "--state-dir", str(tmp_path)]) == 0
    assert not PasscodeStore(tmp_path).status().provisioned


@pytest.mark.parametrize("bad", ["", "123", "12345", "12a4", "１２３４"])
def test_a_malformed_code_is_refused_and_changes_nothing(
        bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _set(tmp_path, "2468", monkeypatch) == 0
    assert _set(tmp_path, bad, monkeypatch) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing was changed" in err[0]
    assert not bad or bad not in err[0]
    assert PasscodeStore(tmp_path).check("2468").ok


def test_the_code_is_never_taken_from_the_command_line() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["passcode", "set", "1234"])
    assert caught.value.code == 2


def test_set_as_root_gives_the_files_to_the_service(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, root's `passcode set` left root's 0600 file the service could not read."""
    os.chown(tmp_path, *SERVICE)
    assert _set(tmp_path, "8642", monkeypatch) == 0
    for name in (PASSCODE_FILE, LOCK_FILE):
        info = (tmp_path / name).stat()
        assert (info.st_uid, info.st_gid) == SERVICE and stat.S_IMODE(info.st_mode) == 0o600


def test_a_planted_hard_link_is_never_handed_to_the_service(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    state.mkdir()
    os.chown(state, *SERVICE)
    victim = tmp_path / "roots-own-file"
    victim.write_bytes(b"root's")
    victim.chmod(0o600)
    os.link(victim, state / LOCK_FILE)  # where the service's user could have linked it
    assert _set(state, "8642", monkeypatch) == 1
    info = victim.stat()
    assert (info.st_uid, info.st_gid) == (0, 0) and victim.read_bytes() == b"root's"
    assert "other links" in capsys.readouterr().err
    assert not (state / PASSCODE_FILE).exists()
