"""The `counter` fixture: the daemon, Xvfb, the terminal and the card, started once per module.

Missing Xvfb, xdotool or pcscd fails (never skips) these tests.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
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
    CLI,
    SIZE,
    WATCHDOG_USEC,
    Counter,
    Daemon,
    Lines,
    Terminal,
    WatchedCard,
    process_running,
)
from tests.support.notify import bind_notify_socket, receive
from tests.support.pcscd import PcscdInstance
from tests.support.xserver import XServerUnavailableError, running_xvfb


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spawn_daemon(tmp: Path, display: str, pcscd: PcscdInstance, port: int,
                  notify_address: str) -> subprocess.Popen[bytes]:
    config = tmp / "config.toml"
    config.write_text("# the defaults: no /etc config leaks into the test\n", encoding="utf-8")
    env = {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11",
           "SDL_AUDIODRIVER": "dummy", "NOTIFY_SOCKET": notify_address,
           "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    command = [str(CLI), "run", "--config", str(config), "--reader",
               f"pcsc:{pcscd.reader_name}", "--link", f"tcp://127.0.0.1:{port}",
               "--state-dir", str(tmp / "state"), "--size", SIZE]
    # `exec` keeps the shell's pid: WATCHDOG_PID=$$ names the daemon, as systemd names its
    # main pid, and the pid the test knows is the one that must send READY=1
    with (tmp / "daemon.log").open("wb") as log:
        return subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh", *command],
                                env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def counter(pcscd: PcscdInstance, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counter]:
    tmp = tmp_path_factory.mktemp("counter")
    try:
        xvfb = running_xvfb(SIZE)
        display = xvfb.__enter__()
    except XServerUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)
    gallery = tmp / "screens"
    made = subprocess.run([str(CLI), "screens", "--out", str(gallery), "--size", SIZE],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy"}, check=False)
    if made.returncode != 0:
        xvfb.__exit__(None, None, None)
        pytest.fail(f"myna-reader screens failed: {made.stderr}", pytrace=False)
    screens = {p.stem: json.loads(p.read_text(encoding="utf-8"))
               for p in gallery.glob("*.json")}
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
    port = _free_port()
    spawned = time.monotonic()
    daemon = Daemon(_spawn_daemon(tmp, display, pcscd, port, str(tmp / "notify")), spawned,
                    notify, tmp / "daemon.log")
    challenge = secrets.token_bytes(32)
    host = subprocess.Popen([str(CLI), "host", "--link", f"tcp://127.0.0.1:{port}",
                             "--link-secret-file", str(tmp / "state" / "link.secret"), "--json",
                             "--issue-passcode", "--challenge-hex", challenge.hex()],
                            stdout=subprocess.PIPE, text=True)
    terminal = Terminal(host, challenge)
    threading.Thread(target=terminal.read_lines, daemon=True).start()
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
        for proc in (host, daemon.proc):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        bridge.remove()
        with PcscReader(pcscd.reader_name) as watcher:  # the next module finds the reader empty
            wait_until_absent(watcher)
        stop.set()
        notify_reader.join(timeout=5)
        notify_sock.close()
        xvfb.__exit__(None, None, None)
