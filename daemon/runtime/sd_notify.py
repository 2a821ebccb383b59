"""A client of systemd's notify protocol (sd_notify(3)), with no dependency.

The service manager passes an AF_UNIX datagram socket in NOTIFY_SOCKET (a path, or an
abstract name written with a leading '@'); each datagram is newline-separated KEY=VALUE
lines. Without NOTIFY_SOCKET (not under systemd, or Type=simple) every call does nothing,
so the daemon runs the same way from a shell. A failed send is logged, never raised: a
missing watchdog ping is systemd's to act on, not a reason to stop serving the patient.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)

USEC_PER_S = 1_000_000


class Notifier:
    """One connection to the manager's notify socket (or none)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        self._sock: socket.socket | None = None
        if self._address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, **fields: str | int) -> bool:
        """Send KEY=VALUE lines (`notify(READY=1, STATUS="...")`); False when not sent."""
        if self._sock is None or self._address is None:
            return False
        lines = []
        for key, value in fields.items():
            text = str(value)
            if "\n" in text:  # a newline would start a forged field
                text = text.replace("\n", " ")
            lines.append(f"{key}={text}")
        try:
            self._sock.sendto("\n".join(lines).encode("utf-8"), self._address)
        except OSError as exc:
            log.warning("sd_notify failed: %s", exc)
            return False
        return True

    # the named messages return nothing, so they fit plain callbacks (Runner's watchdog)
    def ready(self, status: str | None = None) -> None:
        self.notify(READY=1, **({"STATUS": status} if status else {}))

    def watchdog(self) -> None:
        self.notify(WATCHDOG=1)

    def stopping(self, status: str | None = None) -> None:
        self.notify(STOPPING=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> None:
        self.notify(STATUS=text)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _socket_address(value: str) -> str | bytes | None:
    if value.startswith("@"):  # Linux abstract namespace: a leading NUL byte
        return b"\0" + value[1:].encode("utf-8")
    if value.startswith("/"):
        return value
    if value:
        log.warning("NOTIFY_SOCKET %r is neither a path nor an abstract name; ignored", value)
    return None


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between pings the manager expects (half its WatchdogSec), or None.

    None when no watchdog is set, or when WATCHDOG_PID names another process (the variable
    was inherited by a child and is not meant for it).
    """
    env = os.environ if environ is None else environ
    usec_text = env.get("WATCHDOG_USEC", "")
    pid_text = env.get("WATCHDOG_PID", "")
    if not usec_text.isdigit() or int(usec_text) == 0:
        return None
    if pid_text and (not pid_text.isdigit() or int(pid_text) != os.getpid()):
        return None
    return int(usec_text) / USEC_PER_S / 2  # sd_watchdog_enabled(3): ping at half the timeout


@functools.cache
def default_notifier() -> Notifier:
    """The process's notifier, from its own environment (made on first use)."""
    return Notifier()


def ready(status: str | None = None) -> None:
    default_notifier().ready(status)


def watchdog() -> None:
    default_notifier().watchdog()


def stopping(status: str | None = None) -> None:
    default_notifier().stopping(status)


def status(text: str) -> None:
    default_notifier().status(text)
