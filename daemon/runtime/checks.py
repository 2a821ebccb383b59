"""One check of the reader's health: the line doctor prints and the self-check of a new release.

Small on purpose: the updater's self-check (runtime/self_check.py) uses it without loading the
rest of doctor's checks.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import MutableMapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from myna_reader.daemon.runtime.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    DaemonConfig,
    config_from_mapping,
    read_config_document,
)

MAX_CONFIG_PROBLEMS = 50  # a file of garbage gives a screenful, not an endless list
CONFIG_FIX = "edit {where} (systemd/config.toml.example documents every key)"
_KEY_PART = re.compile(r'"(?:[^"\\]|\\.)*"|[^.\[\]]+|\[\d+\]')


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


def _key_path(dotted: str) -> list[str | int]:
    """`consent.pages[1].items` -> ["consent", "pages", 1, "items"]; quoted parts unquoted."""
    parts: list[str | int] = []
    for token in _KEY_PART.findall(dotted):
        if token.startswith("["):
            parts.append(int(token[1:-1]))
        elif token.startswith('"'):
            parts.append(str(json.loads(token)))
        else:
            parts.append(token)
    return parts


def _holds(node: object, part: str | int) -> bool:
    if isinstance(node, MutableMapping):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


def _drop(document: MutableMapping[str, object], dotted: str) -> bool:
    """Remove the value at a ConfigError's key, so the next pass finds the next problem."""
    path = _key_path(dotted)
    if not path:
        return False
    node: Any = document
    for part in path:
        if not _holds(node, part):
            return False
        parent, node = node, node[part]
    del parent[path[-1]]
    return True


def config_problems(path: Path | None) -> tuple[list[ConfigError], DaemonConfig]:
    """Every problem of the config file, and the config the rest of doctor checks: the file
    with its bad keys left out (their defaults instead), or the defaults when it is unreadable.

    The daemon stops at the first bad key; a technician fixing a file wants them all at once,
    so each pass leaves out the key the last one named and validates again.
    """
    try:
        document = read_config_document(path)
    except ConfigError as exc:
        return [exc], DaemonConfig()
    if document is None:
        return [], DaemonConfig()
    source = path or DEFAULT_CONFIG_PATH
    working = copy.deepcopy(document)
    problems: list[ConfigError] = []
    while len(problems) < MAX_CONFIG_PROBLEMS:
        try:
            config = config_from_mapping(working)
        except ConfigError as exc:
            problems.append(exc)
            if not _drop(working, exc.key):
                break  # a problem of the whole file, not of one key
            continue
        return problems, replace(config, source=source)
    return problems, DaemonConfig()


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
