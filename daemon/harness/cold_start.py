"""Cold start to READY=1: `myna-reader run` spawned as systemd would, timed until it says
READY=1 on the notify socket (sd_notify(3)), then stopped with SIGTERM.

The daemon runs headless (SDL's dummy driver) on the simulated reader, with an empty config
file (so the machine's /etc/myna-reader/config.toml cannot change the figure), a private
state directory and a loopback link on a free port.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from myna_reader.daemon.errors import DaemonError

READY_WAIT_S = 60.0  # a start slower than this is a failure, not a figure
STOP_WAIT_S = 15.0


class ColdStartError(DaemonError, RuntimeError):
    """The daemon did not report READY=1 (or did not stop on SIGTERM)."""


def _wait_ready(notify: socket.socket, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ColdStartError(f"the daemon exited with {process.returncode} before READY=1")
        notify.settimeout(0.1)
        try:
            datagram = notify.recv(4096)
        except TimeoutError:
            continue
        if b"READY=1" in datagram.split(b"\n"):
            return
    raise ColdStartError(f"no READY=1 within {READY_WAIT_S:.0f} s")


def cold_start_once(workdir: Path) -> float:
    """Seconds from spawning `myna-reader run` to its READY=1."""
    config = workdir / "config.toml"
    config.write_text("", encoding="utf-8")
    address = str(workdir / "notify.sock")
    env = {**os.environ, "NOTIFY_SOCKET": address, "SDL_VIDEODRIVER": "dummy",
           "SDL_AUDIODRIVER": "dummy"}
    env.pop("WATCHDOG_USEC", None)
    command = [sys.executable, "-m", "myna_reader.daemon.cli", "run", "--config", str(config),
               "--reader", "sim:standard", "--link", "tcp://127.0.0.1:0",
               "--state-dir", str(workdir / "state")]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(address)
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,  # noqa: S603
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_ready(notify, process)
            elapsed = time.perf_counter() - start
            process.terminate()
            if process.wait(timeout=STOP_WAIT_S) != 0:
                raise ColdStartError(f"the daemon exited with {process.returncode} on SIGTERM")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    os.unlink(address)
    return elapsed


def measure_cold_start(runs: int) -> dict[str, object]:
    """The median (and every run) of `runs` cold starts, in seconds."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="myna-reader-cold-") as tmp:
            times.append(cold_start_once(Path(tmp)))
    return {"median_s": round(statistics.median(times), 3),
            "runs_s": [round(t, 3) for t in times]}
