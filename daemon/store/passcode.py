"""The code stores: a salted scrypt hash, a failure counter and a lockout, for the staff
passcode and (the same way, in a file of its own) the technician code (`Credential`).

Nothing but the hash is kept: the code itself is never stored, logged or returned. Checks
compare in constant time. `max_failures` wrong entries in a row lock staff entry, for
`first_s` the first time and twice as long each time after, up to `duration_s` (5 entries;
1, 2, 4, 8, 16, then 30 minutes by default). The count of locks starts over a day after the
last one (CALM_S) or at a re-issue: a patient who plays with 職員用 locks the staff out for a
minute, an attacker still needs 41 days for every code (LockoutPolicy, docs/session.md,
"Staff lockout"). The counters and the lock live in the same file as
the hash, written atomically (mode 0600) before a check returns, so a restart (or a power
cut) neither clears nor repeats anything. A re-issue replaces the hash at once: the old code
fails from the next check on; it also clears the counter and the lock (an administrator has
acted on the terminal).

Clock choice for the lock (see docs/session.md):
- the lock records its end three ways: wall clock, CLOCK_BOOTTIME and the kernel's boot id;
- within one boot the BOOTTIME deadline rules: it keeps running across daemon restarts and
  suspend and cannot be moved by wall-clock jumps (a Pi without an RTC jumps at NTP sync);
- after a reboot the wall-clock deadline is used once, clamped to [0, duration] so a clock
  set backwards cannot lengthen the lock beyond one full duration, and re-anchored on the new
  boot's BOOTTIME, so later jumps do not matter either. Only a forward jump across a
  power-off can shorten a lock: time may really have passed then.
"""

from __future__ import annotations

import base64
import binascii
import errno
import fcntl
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from myna_reader.daemon.engine import (
    CALM_S,
    PASSCODE_LENGTH,
    CheckPasscode,
    Credential,
    LockoutPolicy,
    PasscodeChecked,
    PasscodeStatus,
    Secret,
    SecretFormatError,
)
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.store.files import remove_durably, write_atomic

PASSCODE_FILE = "passcode.json"
LOCK_FILE = "passcode.lock"
TECHNICIAN_FILE = "technician.json"
TECHNICIAN_LOCK_FILE = "technician.lock"
#: each credential's record and lock file; the staff passcode's names are the original ones
FILES: dict[Credential, tuple[str, str]] = {
    Credential.STAFF: (PASSCODE_FILE, LOCK_FILE),
    Credential.TECHNICIAN: (TECHNICIAN_FILE, TECHNICIAN_LOCK_FILE),
}
RECORD_VERSION = 1


class PasscodeFormatError(DaemonError, ValueError):
    """A passcode that is not exactly four decimal digits."""


class PasscodeStoreError(DaemonError):
    """The store's file is unreadable or inconsistent (staff entry stays closed)."""


@dataclass(frozen=True, slots=True)
class StorePasscode:
    """A terminal's passcode.issue for the store worker. The link hands it to the runner, not
    to the engine: its ack must mean stored, and the engine hears of it as the new status."""

    code: Secret


@dataclass(frozen=True, slots=True)
class ScryptParams:
    n: int = 2**14
    r: int = 8
    p: int = 1
    dklen: int = 32

    def derive(self, code: Secret, salt: bytes) -> bytes:
        return hashlib.scrypt(code.reveal().encode("ascii"), salt=salt, n=self.n, r=self.r,
                              p=self.p, dklen=self.dklen, maxmem=128 * self.r * self.n * 2)


def _read_boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()


def _boottime() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


@dataclass(frozen=True, slots=True)
class Clocks:
    """Injected for tests: wall clock, a clock that runs across restarts within a boot, and
    the boot's id."""

    wall: Callable[[], float] = time.time
    boottime: Callable[[], float] = _boottime
    boot_id: Callable[[], str] = _read_boot_id


@dataclass(frozen=True, slots=True)
class Lock:
    until_wall: float
    boot_id: str
    until_boottime: float


@dataclass(frozen=True, slots=True)
class Record:
    params: ScryptParams
    salt: bytes = field(repr=False)
    digest: bytes = field(repr=False)
    issued_at: float
    failures: int = 0
    lock: Lock | None = None
    lockouts: int = 0  # locks since the count started over
    calm: Lock | None = None  # when the count starts over (a day after the last lock)


@dataclass(frozen=True, slots=True)
class PasscodeState:
    """What `passcode status` may show: never the code, never the hash."""

    provisioned: bool
    issued_at: float | None = None
    failures: int = 0
    locked_until_wall: float | None = None
    locked_for_s: float = 0.0
    lockouts: int = 0  # locks since the count last started over

    def as_event(self, credential: Credential = Credential.STAFF) -> PasscodeStatus:
        """The engine event the runner posts at start and after every set or clear."""
        return PasscodeStatus(self.provisioned, self.locked_for_s, self.locked_until_wall,
                              credential)


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    failures_left: int
    locked_for_s: float = 0.0
    locked_until_wall: float | None = None

    def as_event(self, credential: Credential = Credential.STAFF) -> PasscodeChecked:
        """The engine event answering its CheckPasscode effect."""
        return PasscodeChecked(self.ok, self.failures_left, self.locked_for_s,
                               self.locked_until_wall, credential)


def parse_passcode(code: str | Secret) -> Secret:
    """A Secret of exactly four digits, or PasscodeFormatError (the message holds no digits)."""
    text = code.reveal() if isinstance(code, Secret) else code
    try:
        secret = Secret(text)
    except SecretFormatError:
        raise PasscodeFormatError("the passcode is 4 digits (0-9)") from None
    if len(secret) != PASSCODE_LENGTH or not text.isascii():
        raise PasscodeFormatError("the passcode is 4 digits (0-9)")
    return secret


def _lock_wire(lock: Lock | None) -> dict[str, object] | None:
    return None if lock is None else {"until_wall": lock.until_wall, "boot_id": lock.boot_id,
                                      "until_boottime": lock.until_boottime}


def _lock_of(raw: object) -> Lock | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise TypeError("a lock is a table")
    return Lock(float(raw["until_wall"]), str(raw["boot_id"]), float(raw["until_boottime"]))


def _encode(record: Record) -> bytes:
    return json.dumps({
        "v": RECORD_VERSION, "kdf": "scrypt", "n": record.params.n, "r": record.params.r,
        "p": record.params.p, "dklen": record.params.dklen,
        "salt": base64.b64encode(record.salt).decode(),
        "hash": base64.b64encode(record.digest).decode(),
        "issued_at": record.issued_at, "failures": record.failures,
        "lock": _lock_wire(record.lock), "lockouts": record.lockouts,
        "calm": _lock_wire(record.calm),
    }, sort_keys=True).encode() + b"\n"


def _decode(data: bytes) -> Record:
    try:
        raw = json.loads(data)
        if raw["v"] != RECORD_VERSION or raw["kdf"] != "scrypt":
            raise PasscodeStoreError("unknown passcode record version")
        record = Record(ScryptParams(int(raw["n"]), int(raw["r"]), int(raw["p"]),
                                     int(raw["dklen"])),
                        base64.b64decode(raw["salt"], validate=True),
                        base64.b64decode(raw["hash"], validate=True),
                        float(raw["issued_at"]), int(raw["failures"]), _lock_of(raw["lock"]),
                        # a record written before growing locks has no count: none so far
                        int(raw.get("lockouts", 0)), _lock_of(raw.get("calm")))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise PasscodeStoreError(f"unreadable passcode record ({type(exc).__name__})") from None
    if (record.failures < 0 or record.lockouts < 0 or len(record.salt) < 16
            or len(record.digest) != record.params.dklen):
        raise PasscodeStoreError("inconsistent passcode record")
    return record


class PasscodeStore:
    """The code file of `credential` in `state_dir` (the staff passcode unless told).
    Every call reads the file under an advisory lock, so the daemon and `myna-reader
    passcode` (or `technician`) can use it at the same time. `owner` (uid, gid): who the
    files a root process writes are given to (by descriptor), the service's user."""

    def __init__(self, state_dir: Path, policy: LockoutPolicy | None = None, *,
                 scrypt: ScryptParams | None = None, clocks: Clocks | None = None,
                 credential: Credential = Credential.STAFF,
                 owner: tuple[int, int] | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.credential = credential
        self.file, self.lock_file = FILES[credential]
        self.path = self.state_dir / self.file
        self.policy = policy or LockoutPolicy()
        self.scrypt = scrypt or ScryptParams()
        self.clocks = clocks or Clocks()
        self.owner = owner

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The store's lock; any OSError inside (a full disk, EIO, EACCES) becomes a
        PasscodeStoreError: staff entry stays closed, the reader keeps serving."""
        try:
            with self._flock():
                yield
        except OSError as exc:
            raise PasscodeStoreError(f"{self.file} in {self.state_dir}: "
                                     f"{exc.strerror or exc}") from None

    @contextmanager
    def _flock(self) -> Iterator[None]:
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.state_dir / self.lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW,
                     0o600)
        try:
            info = os.fstat(fd)
            if self.owner is not None and info[4:6] != self.owner:
                if info.st_nlink != 1:  # a hard link someone planted to a file of root's
                    raise OSError(errno.EMLINK, "the lock file has other links; not touched")
                os.fchown(fd, *self.owner)
            fcntl.flock(fd, fcntl.LOCK_EX)
            # a writer killed inside write_atomic leaves its temporary file; every write
            # happens under this lock, so any temporary file seen here is such a leftover
            for stale in self.state_dir.glob(f".{self.file}.*.tmp"):
                stale.unlink(missing_ok=True)
            yield
        finally:
            os.close(fd)

    def _load(self) -> Record | None:
        try:
            return _decode(self.path.read_bytes())
        except FileNotFoundError:
            return None

    def _save(self, record: Record) -> None:
        write_atomic(self.path, _encode(record), owner=self.owner)

    def _remaining(self, lock: Lock, longest: float | None = None) -> float:
        """Seconds the lock (or the calm) still holds, by the clock choice in the module
        docstring, never more than `longest` (the longest lock)."""
        if lock.boot_id == self.clocks.boot_id():
            remaining = lock.until_boottime - self.clocks.boottime()
        else:
            remaining = lock.until_wall - self.clocks.wall()
        return min(max(remaining, 0.0), self.policy.duration_s if longest is None else longest)

    def _calm_left(self, calm: Lock) -> float:
        return self._remaining(calm, self.policy.duration_s + CALM_S)

    def _lock_for(self, seconds: float) -> Lock:
        return Lock(self.clocks.wall() + seconds, self.clocks.boot_id(),
                    self.clocks.boottime() + seconds)

    def _current(self, record: Record) -> tuple[Record, float]:
        """The record with its lock brought up to date (expired or re-anchored), and the
        seconds it still holds. Saves the record if that changed it."""
        updated, remaining = record, 0.0
        if record.lock is not None:
            remaining = self._remaining(record.lock)
            if remaining <= 0:
                updated = replace(record, failures=0, lock=None)
            elif record.lock.boot_id != self.clocks.boot_id():
                calm = record.calm
                updated = replace(record, lock=self._lock_for(remaining), calm=None
                                  if calm is None else self._lock_for(self._calm_left(calm)))
        if updated.lock is None and updated.calm is not None and \
                self._calm_left(updated.calm) <= 0:
            updated = replace(updated, lockouts=0, calm=None)  # a day without a lock
        if updated != record:
            self._save(updated)
        return updated, remaining

    def set(self, code: str | Secret) -> None:
        """Provision or re-issue: the old code fails from now on; counter and lock clear."""
        secret = parse_passcode(code)
        salt = os.urandom(16)
        record = Record(self.scrypt, salt, self.scrypt.derive(secret, salt), self.clocks.wall())
        with self._locked():
            self._save(record)

    def clear(self) -> bool:
        """Remove the passcode (staff mode becomes unavailable). True if one was set."""
        with self._locked():
            return remove_durably(self.path)

    def status(self) -> PasscodeState:
        with self._locked():
            record = self._load()
            if record is None:
                return PasscodeState(provisioned=False)
            record, remaining = self._current(record)
        until = None if record.lock is None else self.clocks.wall() + remaining
        return PasscodeState(True, record.issued_at, record.failures, until, remaining,
                             record.lockouts)

    def peek(self) -> PasscodeState:
        """The status, read-only: no lock file, no directory, nothing rewritten (for a root
        `doctor`, whose writes would leave files the service cannot read). The file is only
        ever replaced by rename, so a read without the lock sees a whole record."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return PasscodeState(provisioned=False)
        except OSError as exc:
            raise PasscodeStoreError(f"{self.path}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as f:
            try:
                data = f.read()
            except OSError as exc:
                raise PasscodeStoreError(f"{self.path}: {exc.strerror or exc}") from None
        record = _decode(data)
        remaining = 0.0 if record.lock is None else self._remaining(record.lock)
        failures = record.failures if remaining > 0 or record.lock is None else 0
        until = self.clocks.wall() + remaining if remaining > 0 else None
        calm = record.calm
        lockouts = record.lockouts if calm is not None and self._calm_left(calm) > 0 else 0
        return PasscodeState(True, record.issued_at, failures, until, remaining, lockouts)

    def answer(self, job: CheckPasscode | StorePasscode) -> PasscodeChecked | PasscodeStatus:
        """Do what the engine asked and return the event that answers it: a check's verdict,
        or the status after a set."""
        if isinstance(job, CheckPasscode):
            return self.check(job.code).as_event(self.credential)
        self.set(job.code)
        return self.status().as_event(self.credential)

    def check(self, code: str | Secret) -> CheckResult:
        """One staff entry. While locked, no hash is computed and nothing is counted."""
        with self._locked():
            record = self._load()
            if record is None:
                return CheckResult(ok=False, failures_left=0)
            record, remaining = self._current(record)
            if remaining > 0:
                return CheckResult(False, 0, remaining, self.clocks.wall() + remaining)
            try:
                candidate = record.params.derive(parse_passcode(code), record.salt)
            except PasscodeFormatError:
                candidate = b""
            if hmac.compare_digest(candidate, record.digest):
                if record.failures:
                    self._save(replace(record, failures=0))
                return CheckResult(True, self.policy.max_failures)
            failures = record.failures + 1
            if failures < self.policy.max_failures:
                self._save(replace(record, failures=failures))
                return CheckResult(False, self.policy.max_failures - failures)
            level = record.lockouts + 1
            seconds = self.policy.lock_s(level)
            lock = self._lock_for(seconds)
            self._save(replace(record, failures=failures, lock=lock, lockouts=level,
                               calm=self._lock_for(seconds + CALM_S)))
            return CheckResult(False, 0, seconds, lock.until_wall)
