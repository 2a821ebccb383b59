"""The daemon's exception root, and the typed error of the session's settings.

Every failure the daemon reports to a person derives from DaemonError (as every driver failure
derives from drivers' MynaError), so the command line turns each into one line.
"""

from __future__ import annotations


class DaemonError(Exception):
    """A failure of the reader daemon that a person can act on; its text is that one line."""


class SessionConfigError(DaemonError, ValueError):
    """A setting of the session engine out of range: names the key and the fix."""

    def __init__(self, key: str, fix: str) -> None:
        self.key = key
        self.fix = fix
        super().__init__(f"{key}: {fix}")
