"""The `counter` fixture: the daemon, Xvfb, the terminal and the card, started once per module.

Missing Xvfb, xdotool or pcscd fails (never skips) these tests.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from myna_reader.drivers.backends.pcsc import PcscReader
from myna_reader.drivers.sim.vpcd import VpcdBridge
from tests.drivers.pcsc.waits import wait_until_absent
from tests.e2e.counter_support import (
    WATCHDOG_USEC,
    Counter,
    Daemon,
    Lines,
    Screens,
    WatchedCard,
    display_with_gallery,
    process_running,
    run_command,
    start_terminal,
    stop_processes,
)
from tests.support.notify import bind_notify_socket, receive
from tests.support.pcscd import PcscdInstance
from tests.support.ports import free_port


def _spawn_daemon(tmp: Path, display: str, pcscd: PcscdInstance, port: int,
                  notify_address: str) -> subprocess.Popen[bytes]:
    config = tmp / "config.toml"
    config.write_text("# the defaults: no /etc config leaks into the test\n", encoding="utf-8")
    env = {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11",
           "SDL_AUDIODRIVER": "dummy", "NOTIFY_SOCKET": notify_address,
           "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    command = run_command(config, f"pcsc:{pcscd.reader_name}", port, tmp / "state")
    # `exec` keeps the shell's pid: WATCHDOG_PID=$$ names the daemon, as systemd names its
    # main pid, and the pid the test knows is the one that must send READY=1
    with (tmp / "daemon.log").open("wb") as log:
        return subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh", *command],
                                env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def counter(pcscd: PcscdInstance, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counter]:
    tmp = tmp_path_factory.mktemp("counter")
    with display_with_gallery(tmp) as (display, screens):
        yield from _counter(pcscd, tmp, display, screens)


def _counter(pcscd: PcscdInstance, tmp: Path, display: str, screens: Screens
             ) -> Iterator[Counter]:
    notify_sock = bind_notify_socket(str(tmp / "notify"), timeout=0.5)
    notify = Lines()
    stop = threading.Event()

    def read_notify() -> None:
        while not stop.is_set():
            try:
                notify.add(receive(notify_sock))
            except TimeoutError:
                continue

    notify_reader = threading.Thread(target=read_notify, daemon=True)
    notify_reader.start()
    port = free_port()
    spawned = time.monotonic()
    daemon = Daemon(_spawn_daemon(tmp, display, pcscd, port, str(tmp / "notify")), spawned,
                    notify, tmp / "daemon.log")
    challenge = secrets.token_bytes(32)
    terminal = start_terminal(port, tmp / "state", "--issue-passcode", "--challenge-hex",
                              challenge.hex(), challenge=challenge)
    card = WatchedCard(lambda: process_running(daemon.proc.pid))
    bridge = VpcdBridge(card, pcscd.host, pcscd.port)
    shots = tmp / "shots"
    shots.mkdir()
    bench = Counter(display, daemon, terminal, card, bridge, screens, shots)
    try:
        yield bench
    finally:
        print("\nterminal:", *[f"{t - spawned:8.3f} {m.get('type') or m.get('event')} "
                                f"{m.get('screen', '')} {m.get('mode', '')}"
                                for t, m in terminal.lines.items], sep="\n")
        print("\nfigures:", json.dumps(bench.figures), "\nscreenshots:", shots)
        stop_processes(terminal.proc, daemon.proc)
        bridge.remove()
        with PcscReader(pcscd.reader_name) as watcher:  # the next module finds the reader empty
            wait_until_absent(watcher)
        stop.set()
        notify_reader.join(timeout=5)
        notify_sock.close()
