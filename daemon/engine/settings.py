"""The session engine's settings: frozen, validated at construction, with safe defaults.

These dataclasses are the schema of their config.toml tables (daemon/engine/schema.py): each
field is a key, its type and KeyRule say what it takes, and systemd/config.toml.example shows
every key at its default. Tables: [timeouts] (Timeouts), [staff_mode] (StaffModeConfig and
LockoutPolicy), [face] (face_settings.py), [consent] (pages, validity_h: consent.py),
[certificate] (certificate_life.py), [prescription].
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from myna_reader.daemon.engine.certificate_life import CertificatePolicy
from myna_reader.daemon.engine.consent import (
    DEFAULT_CONSENT_PAGES,
    ConsentPage,
    ConsentValidity,
    repeated_on_pages,
)
from myna_reader.daemon.engine.face_settings import FaceSettings
from myna_reader.daemon.engine.schema import (
    NOT_A_KEY,
    KeyRule,
    Problem,
    problem_at,
    require_valid,
    seconds,
    setting,
    settings_from,
)
from myna_reader.daemon.engine.vocabulary import Language

MAX_TIMEOUT_S = 3600.0


def _wait_s(default: float) -> float:
    """A screen's (or a job's) deadline: 1 s .. an hour."""
    return seconds(default, 1.0, MAX_TIMEOUT_S)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long each screen waits for a person (or a job) before it ends in a safe state."""

    method_s: float = _wait_s(60.0)
    pin_s: float = _wait_s(60.0)
    passcode_s: float = _wait_s(30.0)
    consent_page_s: float = _wait_s(90.0)
    done_s: float = _wait_s(10.0)
    error_s: float = _wait_s(20.0)
    staff_locked_s: float = _wait_s(15.0)
    technician_s: float = _wait_s(300.0)
    card_job_s: float = _wait_s(15.0)  # a card job (probe, VERIFY, certificate, signature)
    challenge_s: float = _wait_s(10.0)  # the terminal's challenge before the signature
    store_job_s: float = _wait_s(10.0)  # the passcode store's answer
    # the last seconds of a person's screen (method, PIN, consent, passcode, staff standby,
    # technician) count down with a button to continue; half the deadline when it is shorter
    warning_s: float = _wait_s(15.0)
    # standby says why the last screen ended, and keeps a language chosen there, this long
    standby_notice_s: float = _wait_s(30.0)
    # a patient guided by voice (asked for a prompt again, or typed on the USB keypad): the
    # screens they answer (method, PIN, consent, prescription), countdown included, wait this
    # many times longer for the rest of the session (docs/accessibility.md)
    voice_factor: float = setting(2.0, KeyRule(low=1.0, high=5.0))

    def __post_init__(self) -> None:
        require_valid(self)


class StaffScope(StrEnum):
    ONE = "one"  # staff mode ends after one confirmation (default)
    UNTIL_CANCEL = "until-cancel"  # stays until 中止 or the idle timeout


@dataclass(frozen=True, slots=True)
class StaffModeConfig:
    scope: StaffScope = StaffScope.ONE
    # staff standby with nobody placing a card
    idle_s: float = seconds(120.0, 1.0, MAX_TIMEOUT_S, key="idle_timeout_s")

    def __post_init__(self) -> None:
        require_valid(self)


PASSCODE_SPACE = 10**4  # four digits
MIN_SEARCH_DAYS = 40.0  # trying every passcode must take the staff-entry locks this long
CALM_S = 86400.0  # a day without a new lock: the next one starts short again


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """Wrong staff passcodes allowed before staff entry locks, and for how long.

    Locks grow: the first lasts `first_s`, each further one twice the last, up to
    `duration_s`. The count starts over after CALM_S with no lock, or when a passcode is
    issued. docs/session.md ("Staff lockout") explains the choice and its bound."""

    max_failures: int = setting(5, KeyRule(low=1, high=20, key="lockout_failures"))
    duration_s: float = seconds(1800.0, 60.0, 86400.0, key="lockout_s")  # the longest lock
    first_s: float = seconds(60.0, 10.0, 86400.0, key="lockout_first_s")

    def __post_init__(self) -> None:
        require_valid(self, self._bound_problems())

    def lock_s(self, level: int) -> float:
        """How long the `level`-th lock (1, 2, ...) since the count started over lasts."""
        doublings = min(max(level - 1, 0), 32)  # 2**32 times any first_s is past the cap
        return min(self.first_s * 2.0**doublings, self.duration_s)

    def search_s(self, codes: int = PASSCODE_SPACE) -> float:
        """Seconds of locks before the last of `codes` passcodes can be tried, every code
        tried once, `max_failures` per lock, the count never starting over (waiting CALM_S
        for a shorter lock costs more than it saves, see docs/session.md)."""
        locks = math.ceil(codes / self.max_failures) - 1
        # the doubling locks one by one (at most 33), then every further one at the cap: a
        # sum over all ~2,000 locks cost milliseconds at each SessionConfig on a Pi-class core
        total, level = 0.0, 1
        while level <= locks and (lock := self.lock_s(level)) < self.duration_s:
            total += lock
            level += 1
        return total + max(locks - level + 1, 0) * self.duration_s

    def _bound_problems(self) -> Iterator[Problem]:
        if self.first_s > self.duration_s:
            yield problem_at(self, "first_s", "set at most staff_mode.lockout_s")
            return
        days = self.search_s() / 86400.0
        if days < MIN_SEARCH_DAYS:
            yield problem_at(self, "duration_s", f"with {self.max_failures} wrong passcodes "
                             f"per lock, trying all {PASSCODE_SPACE:,} takes {days:.1f} days "
                             f"of locks; make locks longer or lockout_failures smaller "
                             f"(at least {MIN_SEARCH_DAYS:g} days)")


STAFF_MODE = KeyRule(key="staff_mode").metadata  # two dataclasses share the table


@dataclass(frozen=True, slots=True)
class SessionConfig:
    timeouts: Timeouts = field(default_factory=Timeouts)
    staff: StaffModeConfig = field(default_factory=StaffModeConfig, metadata=STAFF_MODE)
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy, metadata=STAFF_MODE)
    consent_pages: tuple[ConsentPage, ...] = setting(DEFAULT_CONSENT_PAGES,
                                                     KeyRule(key="consent.pages"))
    face: FaceSettings = field(default_factory=FaceSettings)  # cameras, thresholds, attempts
    certificate: CertificatePolicy = field(default_factory=CertificatePolicy)
    consent_validity: ConsentValidity = field(default_factory=ConsentValidity,
                                              metadata=KeyRule(key="consent").metadata)
    # the facility issues prescriptions: 処方箋の発行方法 page
    ask_prescription: bool = setting(False, KeyRule(key="prescription.ask"))
    # where every session starts and returns: the facility's `ui.language` (runtime/service.py)
    language: Language = field(default=Language.JA, metadata=NOT_A_KEY.metadata)

    def __post_init__(self) -> None:
        require_valid(self, (problem_at(self, "consent_pages", fix, part, value)
                             for part, value, fix in repeated_on_pages(self.consent_pages)))

    @property
    def face_available(self) -> bool:
        """Face is offered only where `[face] available = true` (both cameras and models)."""
        return self.face.available


def validate_session_overrides(settings: Mapping[str, object],
                               base: SessionConfig | None = None) -> SessionConfig:
    """`base` (the defaults when None) with `settings` applied: the session's tables as
    config.toml writes them (`{"timeouts": {"pin_s": 45}, "staff_mode": {...}}`), checked
    as the file is. ConfigError lists every problem; keys not given keep base's values.
    For the terminal's `config` message (docs/host-protocol.md)."""
    return settings_from(SessionConfig, settings, base)
