"""One check of the reader's health: the line doctor prints and the self-check of a new release.

Small on purpose: the updater's self-check (runtime/self_check.py) uses it without loading the
rest of doctor's checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from myna_reader.daemon.runtime.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    DaemonConfig,
    Problem,
    check_config_document,
    read_config_document,
)

CONFIG_FIX = "edit {where} (systemd/config.toml.example documents every key)"


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


def config_problems(path: Path | None) -> tuple[list[Problem], DaemonConfig]:
    """Every problem of the config file, and the config the rest of doctor checks: the file
    with its bad keys left at their defaults, or the defaults when it is unreadable."""
    try:
        document = read_config_document(path)
    except ConfigError as exc:
        return list(exc.problems), DaemonConfig()
    if document is None:
        return [], DaemonConfig()
    config, problems = check_config_document(document, path or DEFAULT_CONFIG_PATH)
    return list(problems), config


def config_checks(path: Path | None) -> tuple[list[Check], DaemonConfig]:
    """One line per config problem (or one OK line), and the config the other checks use."""
    problems, config = config_problems(path)
    where = str(path or DEFAULT_CONFIG_PATH)
    if problems:
        return [fail("config", str(p), CONFIG_FIX.format(where=where)) for p in problems], config
    source = config.source or "no config file: defaults"
    return [ok("config", f"{source} is valid")], config


def check_config(path: Path | None) -> tuple[Check, DaemonConfig]:
    """The config as one check (the self-check of a new release): every problem in one line."""
    checks, config = config_checks(path)
    if len(checks) == 1:
        return checks[0], config
    details = "; ".join(c.detail for c in checks)
    return fail("config", f"{len(checks)} problems: {details}", checks[0].fix), config
