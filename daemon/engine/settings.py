"""The session engine's settings: frozen, validated at construction, with safe defaults.

The daemon's config loader builds these from config.toml (see `session_config_from_mapping`
for the keys); every error names the key and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum

from myna_reader.daemon.engine.consent import (
    DEFAULT_CONSENT_PAGES,
    ConsentPage,
    pages_from_config,
    validate_pages,
)
from myna_reader.daemon.engine.errors import SessionConfigError
from myna_reader.daemon.engine.face_settings import (
    FACE_KEYS,
    FaceSettings,
    face_settings_from_mapping,
)

MAX_TIMEOUT_S = 3600.0


def _check_seconds(key: str, value: float, low: float = 1.0, high: float = MAX_TIMEOUT_S) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SessionConfigError(key, f"set a number of seconds between {low:g} and {high:g}")
    if not low <= value <= high:
        raise SessionConfigError(key, f"set a number of seconds between {low:g} and {high:g}")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long each screen waits for a person (or a job) before it ends in a safe state."""

    method_s: float = 60.0
    pin_s: float = 60.0
    passcode_s: float = 30.0
    consent_page_s: float = 90.0
    done_s: float = 10.0
    error_s: float = 20.0
    staff_locked_s: float = 15.0
    technician_s: float = 300.0
    card_job_s: float = 15.0  # a card job (probe, VERIFY, certificate, signature)
    challenge_s: float = 10.0  # waiting for the terminal's challenge before the signature
    store_job_s: float = 10.0  # the passcode store's answer

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_seconds(f"timeouts.{f.name}", getattr(self, f.name))


class StaffScope(StrEnum):
    ONE = "one"  # staff mode ends after one confirmation (default)
    UNTIL_CANCEL = "until-cancel"  # stays until 中止 or the idle timeout


@dataclass(frozen=True, slots=True)
class StaffModeConfig:
    scope: StaffScope = StaffScope.ONE
    idle_s: float = 120.0  # staff standby with nobody placing a card

    def __post_init__(self) -> None:
        if not isinstance(self.scope, StaffScope):
            raise SessionConfigError("staff_mode.scope", 'set "one" or "until-cancel"')
        _check_seconds("staff_mode.idle_timeout_s", self.idle_s)


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """Wrong staff passcodes allowed before staff entry locks, and for how long."""

    max_failures: int = 5
    duration_s: float = 1800.0

    def __post_init__(self) -> None:
        if (isinstance(self.max_failures, bool) or not isinstance(self.max_failures, int)
                or not 1 <= self.max_failures <= 20):
            raise SessionConfigError("staff_mode.lockout_failures", "set a whole number 1..20")
        _check_seconds("staff_mode.lockout_s", self.duration_s, low=60.0, high=86400.0)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    timeouts: Timeouts = field(default_factory=Timeouts)
    staff: StaffModeConfig = field(default_factory=StaffModeConfig)
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    consent_pages: tuple[ConsentPage, ...] = DEFAULT_CONSENT_PAGES
    face: FaceSettings = field(default_factory=FaceSettings)  # cameras, thresholds, attempts

    def __post_init__(self) -> None:
        validate_pages(self.consent_pages)

    @property
    def face_available(self) -> bool:
        """Face is offered only where `[face] available = true` (both cameras and models)."""
        return self.face.available


def _section(raw: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise SessionConfigError(key, "make it a table")
    return value


def _reject_unknown(section: Mapping[str, object], key: str, known: Sequence[str]) -> None:
    for name in section:
        if name not in known:
            raise SessionConfigError(f"{key}.{name}", f"unknown key; known: {', '.join(known)}")


def session_config_from_mapping(raw: Mapping[str, object]) -> SessionConfig:
    """Build the settings from parsed TOML tables `timeouts`, `staff_mode`, `face`, `consent`.

    Keys: timeouts.<name>_s (see Timeouts); staff_mode.scope, staff_mode.idle_timeout_s,
    staff_mode.lockout_failures, staff_mode.lockout_s; face.* (daemon/engine/face_settings.py);
    consent.pages (a list of {id, items}). Absent keys keep their defaults.
    """
    timeouts_raw = _section(raw, "timeouts")
    timeout_names = [f.name for f in fields(Timeouts)]
    _reject_unknown(timeouts_raw, "timeouts", timeout_names)
    timeouts = Timeouts(**timeouts_raw)  # type: ignore[arg-type]  # values checked in Timeouts

    staff_raw = _section(raw, "staff_mode")
    _reject_unknown(staff_raw, "staff_mode",
                    ["scope", "idle_timeout_s", "lockout_failures", "lockout_s"])
    try:
        scope = StaffScope(str(staff_raw.get("scope", StaffScope.ONE.value)))
    except ValueError:
        raise SessionConfigError("staff_mode.scope", 'set "one" or "until-cancel"') from None
    staff = StaffModeConfig(scope, staff_raw.get("idle_timeout_s", 120.0))  # type: ignore[arg-type]
    lockout = LockoutPolicy(staff_raw.get("lockout_failures", 5),  # type: ignore[arg-type]
                            staff_raw.get("lockout_s", 1800.0))  # type: ignore[arg-type]

    face_raw = _section(raw, "face")
    _reject_unknown(face_raw, "face", FACE_KEYS)
    face = face_settings_from_mapping(face_raw)
    consent_raw = _section(raw, "consent")
    _reject_unknown(consent_raw, "consent", ["pages"])
    pages_raw = consent_raw.get("pages")
    if pages_raw is None:
        pages = DEFAULT_CONSENT_PAGES
    elif isinstance(pages_raw, list) and all(isinstance(p, Mapping) for p in pages_raw):
        pages = pages_from_config(pages_raw)
    else:
        raise SessionConfigError("consent.pages", "set a list of tables {id, items}")
    return SessionConfig(timeouts, staff, lockout, pages, face)
