"""A private pcscd with its own vpcd channel, for tests and the bench.

pcscd's client socket is fixed (/run/pcscd/pcscd.comm), so only one pcscd runs on the machine:
start it once per test session. A private reader.conf.d with its own CHANNELID keeps the vpcd
ports clear of a system pcscd's (35963/35964). A missing pcscd or vpcd driver FAILS the caller
loudly (`PcscdUnavailableError`; the fixture turns it into pytest.fail), it never skips.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

RUN_DIR = Path("/run/pcscd")
SOCKET_PATH = RUN_DIR / "pcscd.comm"
PID_PATH = RUN_DIR / "pcscd.pid"
VPCD_DRIVER_GLOB = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so*"
#: 0x9C7B = 40059: vpcd listens on CHANNELID and CHANNELID + 1 (readers "... 00 00", "... 00 01").
TEST_CHANNEL_ID = 0x9C7B
READER_FRIENDLY_NAME = "Virtual PCD"
START_TIMEOUT_S = 10.0

# pcscd -a logs each exchange as "<usec> APDU: <hex>" then "<usec> SW: <data+SW hex>".
_APDU_LINE = re.compile(r"^\d+ APDU: ((?:[0-9A-F]{2} ?)+)", re.MULTILINE)


class PcscdUnavailableError(RuntimeError):
    """pcscd or the vpcd driver is not installed, or pcscd did not come up."""


@dataclass(frozen=True)
class PcscdInstance:
    host: str
    port: int  # vpcd port of the first reader; the second reader listens on port + 1
    reader_name: str  # PC/SC name of the first vpcd reader
    log_path: Path | None  # pcscd's stdout+stderr when started with apdu_log=True

    def log_mark(self) -> int:
        """The log's current end, to read only what a later step logs (`log_since`)."""
        return self.log_path.stat().st_size if self.log_path else 0

    def log_since(self, mark: int) -> str:
        if self.log_path is None:
            raise ValueError("pcscd was started without apdu_log")
        with self.log_path.open("rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")


def apdu_commands(log_text: str) -> list[bytes]:
    """The command APDUs of a `pcscd -f -a` log, in order."""
    return [bytes.fromhex(m) for m in _APDU_LINE.findall(log_text)]


def _vpcd_driver() -> Path:
    found = sorted(Path("/").glob(VPCD_DRIVER_GLOB.lstrip("/")))
    if not found:
        raise PcscdUnavailableError(
            f"vpcd driver not found ({VPCD_DRIVER_GLOB}): apt-get install vsmartcard-vpcd"
        )
    return found[0]


def _pcscd_binary() -> str:
    path = shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if os.access(p, os.X_OK)), None
    )
    if path is None:
        raise PcscdUnavailableError("pcscd not found: apt-get install pcscd")
    return path


def kill_running_pcscd() -> None:
    """Stop a pcscd left over from a crashed run, and remove its stale socket and pid file.

    The process is found by the pid pcscd itself wrote, and checked to be a pcscd.
    """
    with suppress(OSError, ValueError):
        pid = int(PID_PATH.read_text().strip("\0 \n"))  # pcscd pads the file with NULs
        if Path(f"/proc/{pid}/comm").read_text().strip() == "pcscd":
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)
    for stale in (SOCKET_PATH, PID_PATH):
        stale.unlink(missing_ok=True)


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # A killed child of ours stays a zombie until reaped.
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.05)


def write_config(conf_dir: Path, channel_id: int = TEST_CHANNEL_ID) -> None:
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "vpcd-test").write_text(
        f'FRIENDLYNAME "{READER_FRIENDLY_NAME}"\n'
        f"DEVICENAME   /dev/null:0x{channel_id:04X}\n"
        f"LIBPATH      {_vpcd_driver()}\n"
        f"CHANNELID    0x{channel_id:04X}\n"
    )


@contextmanager
def private_pcscd(
    workdir: Path,
    *,
    channel_id: int = TEST_CHANNEL_ID,
    apdu_log: bool = False,
    debug: bool = False,
) -> Iterator[PcscdInstance]:
    """Run `pcscd -f -c <workdir>/reader.conf.d` until the block ends.

    With `apdu_log`, pcscd runs with `-a` (one line per command and per response; `debug`
    adds `-d`, every internal step too) and its output goes to <workdir>/pcscd.log. The log
    holds VERIFY data as sent: use it with synthetic PINs only.
    """
    binary = _pcscd_binary()
    conf_dir = workdir / "reader.conf.d"
    write_config(conf_dir, channel_id)
    kill_running_pcscd()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    args = [binary, "-f", "-c", str(conf_dir)]
    log_path = workdir / "pcscd.log" if apdu_log else None
    if apdu_log:
        args += ["-a", "-d"] if debug else ["-a"]
    with open(log_path or os.devnull, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_socket(proc)
        yield PcscdInstance(
            host="127.0.0.1",
            port=channel_id,
            reader_name=f"{READER_FRIENDLY_NAME} 00 00",
            log_path=log_path,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stale in (SOCKET_PATH, PID_PATH):
            stale.unlink(missing_ok=True)


def _wait_for_socket(proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not SOCKET_PATH.exists():
        if proc.poll() is not None:
            raise PcscdUnavailableError(
                f"pcscd exited at start with status {proc.returncode} "
                f"(another pcscd without a pid file in {RUN_DIR}?)"
            )
        if time.monotonic() > deadline:
            proc.kill()
            raise PcscdUnavailableError(
                f"pcscd did not create {SOCKET_PATH} in {START_TIMEOUT_S} s"
            )
        time.sleep(0.05)
