"""The typed error of the session's settings: it names the key and the fix."""

from __future__ import annotations

from myna_reader.daemon.errors import DaemonError


class SessionConfigError(DaemonError, ValueError):
    """A setting of the session engine out of range: names the key and the fix."""

    def __init__(self, key: str, fix: str) -> None:
        self.key = key
        self.fix = fix
        super().__init__(f"{key}: {fix}")
