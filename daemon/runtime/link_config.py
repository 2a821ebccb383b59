"""The terminal's `config` message: session settings over the host link.

They are the session's tables as config.toml writes them (`{"timeouts": {"pin_s": 45}}`) and
are checked exactly as the file is (`validate_session_overrides`, the one schema). Two parts
of those tables are held outside the engine from the start, so the link cannot change them
and refuses them like a bad value: `face` (the cameras and models are loaded once) and the
staff lockout (the passcode store enforces it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from myna_reader.daemon.engine import (
    ConfigError,
    LockoutPolicy,
    Problem,
    SessionConfig,
    config_keys,
    validate_session_overrides,
)

MAX_REASON_CHARS = 500  # the keys an audit line names: the terminal wrote them
_RESTART = "set it in config.toml and restart the reader"
HELD_AT_START: dict[str, str] = {
    "face": f"{_RESTART}: the cameras and face models are loaded at start",
    **{f"staff_mode.{key}": f"{_RESTART}: the passcode store enforces the lockout"
       for key in config_keys(LockoutPolicy)},
}


def named_keys(settings: Mapping[str, object], prefix: str = "") -> Iterator[str]:
    """The dotted keys a settings document sets (a table's keys, not the table)."""
    for name, value in settings.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        if isinstance(value, Mapping) and value:
            yield from named_keys(value, key)
        else:
            yield key


def terminal_settings(settings: Mapping[str, object], base: SessionConfig) -> SessionConfig:
    """`base` with the terminal's `settings` applied; ConfigError (every problem: key, value,
    fix) when the file would refuse them or they touch what only a restart changes."""
    held = [Problem(key, fix) for key in named_keys(settings)
            for where, fix in HELD_AT_START.items()
            if key == where or key.startswith(where + ".")]
    try:
        config = validate_session_overrides(settings, base)
    except ConfigError as exc:
        raise ConfigError((*exc.problems, *held)) from None
    if held:
        raise ConfigError(held)
    return config


def keys_reason(keys: Iterator[str] | list[str]) -> str:
    """The keys for an audit line's `reason`, bounded."""
    text = ", ".join(keys)
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS] + "..."
