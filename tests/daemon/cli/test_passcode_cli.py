"""`myna-reader passcode`: set from stdin, status without the code, bad input changes nothing."""

import io
from pathlib import Path

import pytest

from myna_reader.daemon.cli import main
from myna_reader.daemon.store.passcode import PasscodeStore


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
