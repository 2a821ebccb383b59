"""The control socket (daemon/runtime/control.py) and `myna-reader status`: a real AF_UNIX
socket, real file modes, and a real second user (nobody) on the wrong side of the boundary."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from myna_reader.daemon.cli import main
from myna_reader.daemon.runtime.control import (
    SOCKET_NAME,
    ControlError,
    ControlServer,
    query,
    socket_path,
)

STATUS = {"screen": "standby", "mode": "unattended", "language": "ja", "reader": "Virtual PCD",
          "terminal": {"connected": False, "since": 1_760_000_000.0},
          "staff": {"provisioned": True, "locked_until": None}, "countdown": None,
          "ended": "pin-timeout", "results_sent": 2, "started": 1_760_000_000.0,
          "version": "0.1.0", "pid": 1,
          "last_errors": [{"time": 1_760_000_100.0, "code": "113",
                           "key": "terminal-not-connected", "session": "s1"}]}
NOBODY = 65534
# a client with only the socket module, run by another user (no access to the project needed)
CLIENT = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
          "try:\n    s.connect(sys.argv[1]); s.sendall(b'status\\n')\n"
          "    print(s.recv(9999).decode())\n"
          "except OSError as e:\n    print(type(e).__name__)\n")


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    # short and outside pytest's tmp tree (sun_path is 108 bytes); 0750 like RuntimeDirectory=
    path = Path(f"/tmp/myna-ctl-{os.getpid()}-{threading.get_ident() % 1000}")
    path.mkdir(mode=0o750)
    os.chmod(path, 0o750)
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


@pytest.fixture
def server(runtime_dir: Path) -> Iterator[ControlServer]:
    control = ControlServer(runtime_dir / SOCKET_NAME, lambda: STATUS)
    control.start()
    yield control
    control.stop()


def as_user(path: Path, *, groups: str) -> str:
    done = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                           f"--groups={groups}", "/usr/bin/python3", "-c", CLIENT, str(path)],
                          capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.strip()


def test_status_round_trip_and_the_socket_is_group_only(server: ControlServer) -> None:
    assert query(server.path) == STATUS
    assert server.path.stat().st_mode & 0o777 == 0o660


def test_another_user_is_refused_and_a_group_member_is_answered(server: ControlServer) -> None:
    assert as_user(server.path, groups=str(NOBODY)) == "PermissionError"
    # the daemon's group here is root's (gid 0): a member of it reads the status
    assert json.loads(as_user(server.path, groups="0"))["screen"] == "standby"


def test_an_unknown_request_is_refused_and_a_silent_client_blocks_no_one(
        server: ControlServer) -> None:
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(str(server.path))  # says nothing: dropped after its timeout
    other = socket.socket(socket.AF_UNIX)
    other.connect(str(server.path))
    other.sendall(b"passcode clear\n")
    reply = json.loads(other.makefile().readline())
    assert "unknown request" in reply["error"]
    silent.close()
    other.close()
    assert query(server.path)["mode"] == "unattended"


def test_a_stale_socket_is_replaced_a_live_one_is_not(runtime_dir: Path) -> None:
    path = runtime_dir / SOCKET_NAME
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()  # a daemon killed without cleaning up
    first = ControlServer(path, lambda: STATUS)
    first.start()
    try:
        with pytest.raises(ControlError, match="another myna-reader daemon"):
            ControlServer(path, lambda: STATUS).start()
    finally:
        first.stop()
    assert not path.exists()
    path.write_text("not a socket")
    with pytest.raises(ControlError, match="not a socket"):
        ControlServer(path, lambda: STATUS).start()


def test_no_daemon_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no reader daemon answers" in err[0]
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_cli_renders_the_status(server: ControlServer,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--socket", str(server.path)]) == 0
    out = capsys.readouterr().out
    assert "terminal      away: no unattended confirmation until it is back" in out
    assert "last ended    pin-timeout" in out
    assert "113 terminal-not-connected" in out
    assert main(["status", "--socket", str(server.path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == STATUS


def test_the_daemon_listens_in_the_units_runtime_directory(tmp_path: Path) -> None:
    assert socket_path(tmp_path, {"RUNTIME_DIRECTORY": "/run/myna-reader"}) == Path(
        "/run/myna-reader/control.sock")
    assert socket_path(tmp_path, {}) == tmp_path / SOCKET_NAME
