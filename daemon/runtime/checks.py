"""One check of the reader's health: the line doctor prints and the self-check of a new release.

Small on purpose: the updater's self-check (runtime/self_check.py) uses it without loading the
rest of doctor's checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from myna_reader.daemon.runtime.config import ConfigError, DaemonConfig, load_config


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"OK   {self.name}: {self.detail}"
        return f"FAIL {self.name}: {self.detail}" + (f" — fix: {self.fix}" if self.fix else "")


def ok(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


def check_config(path: Path | None) -> tuple[Check, DaemonConfig]:
    """The config check, and the config the other checks use (defaults when it is bad)."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        return fail("config", str(exc), "correct that key (systemd/config.toml.example "
                     "documents every key)"), DaemonConfig()
    source = config.source or "no config file: defaults"
    return ok("config", f"{source} is valid"), config
