"""The typed error of the session's settings: it names the key and the fix."""

from __future__ import annotations


class SessionConfigError(ValueError):
    def __init__(self, key: str, fix: str) -> None:
        self.key = key
        self.fix = fix
        super().__init__(f"{key}: {fix}")
