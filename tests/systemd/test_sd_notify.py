"""sd_notify against a real AF_UNIX datagram socket, as systemd's manager receives it.

The socket has SO_PASSCRED, so the kernel attaches the sender's pid to each datagram: the
test checks READY=1 comes from the process it started (the daemon's main pid), as
NotifyAccess=main requires.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from myna_reader.daemon.runtime.sd_notify import Notifier, watchdog_interval
from tests.support.notify import bind_notify_socket, receive

CHILD = """
import sys
from myna_reader.daemon.runtime import sd_notify
print(sd_notify.watchdog_interval(), flush=True)
sd_notify.ready("serving")
sd_notify.watchdog()
sd_notify.status("two\\nlines")
sd_notify.stopping()
"""


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    address = str(tmp_path / "notify")
    sock = bind_notify_socket(address)
    yield address, sock
    sock.close()


def run_daemon_like_child(notify_socket: str) -> tuple[subprocess.Popen[str], str]:
    # `exec` keeps the shell's pid, so WATCHDOG_PID=$$ names the python process, as systemd
    # names the main pid
    env = {**os.environ, "NOTIFY_SOCKET": notify_socket, "WATCHDOG_USEC": "30000000"}
    child = subprocess.Popen(
        ["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" -c "$1"', sys.executable, CHILD],
        env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    first_line = child.stdout.readline().strip()
    return child, first_line


def test_ready_watchdog_status_stopping_come_from_the_main_pid(
        path_socket: tuple[str, socket.socket]) -> None:
    address, sock = path_socket
    child, interval = run_daemon_like_child(address)
    messages = [receive(sock) for _ in range(4)]
    assert child.wait(timeout=30) == 0
    assert interval == "15.0"  # half of WatchdogSec=30, as sd_watchdog_enabled(3) advises
    assert messages == [("READY=1\nSTATUS=serving", child.pid), ("WATCHDOG=1", child.pid),
                        ("STATUS=two lines", child.pid), ("STOPPING=1", child.pid)]


def test_abstract_socket_names_work() -> None:
    name = f"myna-reader-test-{os.getpid()}"
    sock = bind_notify_socket(b"\0" + name.encode())
    try:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
        notifier.ready()
        assert receive(sock) == ("READY=1", os.getpid())
        notifier.close()
    finally:
        sock.close()


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert not notifier.notify(READY=1)
    notifier.watchdog()  # a no-op, not an error


def test_a_vanished_socket_is_reported_not_raised(tmp_path: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert notifier.enabled
    assert not notifier.notify(WATCHDOG=1)
    notifier.watchdog()  # logged, not raised


@pytest.mark.parametrize(("env", "expected"), [
    ({"WATCHDOG_USEC": "30000000"}, 15.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
    ({}, None),
])
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval(env) == expected
