"""The daemon's control socket: its live status for `myna-reader status`, and nothing else.

An AF_UNIX stream socket, `control.sock`, in the runtime directory systemd makes for the unit
(RuntimeDirectory=myna-reader, mode 0750, named by $RUNTIME_DIRECTORY) or, for a daemon run by
hand, in its state directory (0700). The socket file is 0660, so only root, the service user
and members of its group reach it: that is the trust boundary (docs/security.md, "The control
socket"). A client sends one line, `status`, and reads one JSON object; no request changes
anything, and the answer holds no PIN, passcode or personal data (screen ids, error codes,
counts, times and the reader's name only).

The server runs in its own thread and never touches the engine: it calls `status()`, which
reads the runner's latest (immutable) state.
"""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import stat
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from myna_reader.daemon.errors import DaemonError

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
DEFAULT_RUNTIME_DIR = Path("/run/myna-reader")  # RuntimeDirectory=myna-reader in the unit
SOCKET_MODE = 0o660
REQUEST = b"status"
MAX_REQUEST = 64  # bytes: the one request there is, with room to refuse others clearly
CLIENT_TIMEOUT_S = 2.0  # a client that connects and says nothing is dropped after this
POLL_S = 0.5
MAX_PATH = 107  # sun_path holds 108 bytes with the terminating NUL

StatusSource = Callable[[], Mapping[str, object]]


class ControlError(DaemonError):
    """The control socket cannot be served or reached; the text says what to do."""


def socket_path(state_dir: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where the daemon listens: the unit's runtime directory, else its state directory."""
    env = os.environ if environ is None else environ
    runtime = env.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime or state_dir) / SOCKET_NAME


def _check_length(path: Path) -> None:
    if len(os.fsencode(path)) > MAX_PATH:
        raise ControlError(f"{path}: a socket path is at most {MAX_PATH} bytes; "
                           "use a shorter state directory")


class ControlServer:
    """Answers `status` on the socket at `path` until stopped."""

    def __init__(self, path: Path, status: StatusSource) -> None:
        self.path = path
        self.status = status
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        _check_length(self.path)
        self._remove_stale()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            listener.bind(str(self.path))
            # the directory (0750 or 0700) keeps others out while the mode is being set
            os.chmod(self.path, SOCKET_MODE)
            listener.listen(4)
        except OSError as exc:
            listener.close()
            raise ControlError(f"{self.path}: cannot listen ({exc.strerror or exc})") from exc
        self._listener = listener
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._thread.start()
        log.info("control socket at %s", self.path)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
            self.path.unlink(missing_ok=True)

    def _remove_stale(self) -> None:
        """A socket left by a daemon that died; refuse to take over a live one."""
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(info.st_mode):
            raise ControlError(f"{self.path}: exists and is not a socket; remove it")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            probe.connect(str(self.path))
        except OSError:
            self.path.unlink(missing_ok=True)  # nobody listens: stale
            return
        finally:
            probe.close()
        raise ControlError(f"{self.path}: another myna-reader daemon answers there")

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([self._listener], [], [], POLL_S)
            if not ready:
                continue
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(CLIENT_TIMEOUT_S)
        try:
            request = _read_line(conn, MAX_REQUEST)
            if request == REQUEST:
                reply: Mapping[str, object] = self.status()
            else:
                reply = {"error": "unknown request; the only one is `status`"}
            conn.sendall(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
        except OSError as exc:  # a client gone or silent: its problem, not the daemon's
            log.debug("control client: %s", exc)


def _read_line(conn: socket.socket, limit: int) -> bytes:
    data = b""
    while b"\n" not in data and len(data) <= limit:
        chunk = conn.recv(limit + 1 - len(data))
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].strip()


def query(path: Path, timeout_s: float = 5.0) -> dict[str, object]:
    """The running daemon's status, or ControlError saying why it cannot be had."""
    _check_length(path)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    client.settimeout(timeout_s)
    try:
        client.connect(str(path))
        client.sendall(REQUEST + b"\n")
        data = b""
        while chunk := client.recv(65536):
            data += chunk
    except (FileNotFoundError, ConnectionRefusedError):
        raise ControlError(f"no reader daemon answers at {path}; is it running? "
                           "(systemctl status myna-reader)") from None
    except PermissionError:
        raise ControlError(f"{path}: permission denied; run as root or as a member of the "
                           "myna-reader group") from None
    except TimeoutError:
        raise ControlError(f"{path}: the daemon did not answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise ControlError(f"{path}: {exc.strerror or exc}") from None
    finally:
        client.close()
    try:
        reply = json.loads(data)
    except ValueError:
        raise ControlError(f"{path}: the answer is not the daemon's status") from None
    if not isinstance(reply, dict) or "error" in reply:
        raise ControlError(f"{path}: the daemon refused the request")
    return reply
