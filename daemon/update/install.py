"""Install a verified bundle as a new release, mark it good after a health check, or roll back.

The layout is install.sh's: ROOT/opt/myna-reader/releases/<version> (a virtual env, complete
once its `.myna-release` marker exists) and `current`, a relative link switched by writing
`current.new` and renaming it over `current`. Every step keeps this invariant, even when the
installer is killed at any point: `current` names a complete release. The order:

  verify the bundle (signature, hashes) -> refuse a downgrade, a skipped minimum, a foreign
  platform -> build releases/<v> (venv + pip --no-index from the bundle's wheels) -> write the
  marker -> record `pending` -> switch `current` -> restart the service -> health check
  (systemd's READY via `systemctl restart` on a live system, then the new release's own
  `update self-check`, which must send READY=1 on a NOTIFY_SOCKET and exit 0 before the
  deadline) -> mark good and prune, or switch back, restart, audit, and say why.

A `pending` left by a killed installer is settled by the next install or rollback (recover):
the release `current` names is checked again and kept or rolled back.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import platform
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from myna_reader.daemon.engine import AuditEvent, AuditOutcome, AuditRecord
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.store.audit import AuditError, AuditLog

# Everything is imported here, never lazily: once `current` is switched, this process's own
# prefix (/opt/myna-reader/current) names the new release, whose modules must not mix in.
from myna_reader.daemon.store.files import fsync_dir, write_atomic
from myna_reader.daemon.update.bundle import (
    BundleError,
    Manifest,
    Progress,
    load_trusted_keys,
    open_bundle,
    parse_version,
    parse_wheel_name,
)

log = logging.getLogger(__name__)

SERVICE = "myna-reader.service"
SERVICE_ACCOUNT = "myna-reader"
MARKER = ".myna-release"  # install.sh's: the release is complete; holds what it was built from
RELEASE_MANIFEST = "update-manifest.json"
STATE_FILE = "update-state.json"
SELF_CHECK_ENTRY = "myna_reader.daemon.cli.update"  # the contract between releases
DEFAULT_KEEP = 3
POLL_S = 0.2
DEFAULT_DEADLINE_S = 90.0
# what a release must import to run the daemon: its dependencies are really installed


class UpdateError(DaemonError):
    """An install or rollback that did not happen (or was undone); str() is one line."""


class DowngradeRefusedError(UpdateError):
    pass


class UpgradePathError(UpdateError):
    pass


class PlatformMismatchError(UpdateError):
    pass


class UpdateBusyError(UpdateError):
    pass


class ReleaseBuildError(UpdateError):
    pass


class RolledBackError(UpdateError):
    """The new release failed its health check; the previous one runs again."""


class NothingToRollBackError(UpdateError):
    pass


@dataclass(frozen=True, slots=True)
class Layout:
    root: Path

    def __post_init__(self) -> None:  # absolute: pip and the self-check run with cwd=/
        object.__setattr__(self, "root", self.root.absolute())

    @property
    def opt(self) -> Path:
        return self.root / "opt/myna-reader"

    @property
    def releases(self) -> Path:
        return self.opt / "releases"

    @property
    def current(self) -> Path:
        return self.opt / "current"

    @property
    def state_file(self) -> Path:
        return self.opt / STATE_FILE

    @property
    def keys_dir(self) -> Path:
        return self.root / "etc/myna-reader/update-keys"

    @property
    def config(self) -> Path:
        return self.root / "etc/myna-reader/config.toml"

    @property
    def state_dir(self) -> Path:
        return self.root / "var/lib/myna-reader"

    @property
    def live(self) -> bool:
        """The running machine itself (not a --root prefix): only then is systemd used."""
        return self.root.resolve() == Path("/")

    def release(self, version: str) -> Path:
        return self.releases / version


@dataclass(frozen=True, slots=True)
class InstallResult:
    version: str
    previous: str | None
    outcome: str  # installed | already-running
    message: str
    recovered: str | None = None  # what an earlier, interrupted install left and how it ended


# --- the release directories -----------------------------------------------------------------


def is_complete(release: Path) -> bool:
    return (release / MARKER).is_file() and (release / "bin/myna-reader").is_file()


def current_version(layout: Layout) -> str | None:
    """The version `current` names, when that release is complete."""
    try:
        target = os.readlink(layout.current)
    except OSError:
        return None
    version = Path(target).name
    return version if is_complete(layout.release(version)) else None


def switch_current(layout: Layout, version: str) -> None:
    """Point `current` at releases/VERSION atomically (install.sh does the same with ln+mv)."""
    staged = layout.opt / "current.new"
    staged.unlink(missing_ok=True)
    os.symlink(f"releases/{version}", staged)
    os.replace(staged, layout.current)
    fsync_dir(layout.opt)


def _discard(path: Path) -> None:
    """Remove a release directory so that no half-deleted one is ever taken for a release."""
    if not path.exists():
        return
    trash = path.with_name(f".trash-{path.name}-{os.getpid()}")
    path.rename(trash)
    fsync_dir(path.parent)
    shutil.rmtree(trash, ignore_errors=True)


def _clean_leftovers(layout: Layout) -> None:
    """What a killed installer leaves: staging dirs, trash, a stray link, unfinished releases."""
    (layout.opt / "current.new").unlink(missing_ok=True)
    if not layout.releases.is_dir():
        return
    try:  # whatever `current` names is never removed, complete or not
        keep = Path(os.readlink(layout.current)).name
    except OSError:
        keep = None
    for entry in layout.releases.iterdir():
        if entry.name.startswith((".incoming-", ".trash-")):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name != keep and not is_complete(entry):
            _discard(entry)


def _build_release(layout: Layout, manifest: Manifest, wheels: Path,
                   progress: Progress | None) -> Path:
    release = layout.release(manifest.version)
    _discard(release)
    steps = 3
    if progress:
        progress("venv", 0, steps)
    _run([sys.executable, "-I", "-m", "venv", str(release)], "the virtual environment")
    if progress:
        progress("pip", 1, steps)
    _run([str(release / "bin/python"), "-I", "-m", "pip", "install", "--no-index", "--find-links",
          str(wheels), "--disable-pip-version-check", "--no-cache-dir", "-q",
          f"myna-reader=={manifest.version}"], "the bundle's wheels")
    raw = manifest.to_bytes()
    write_atomic(release / RELEASE_MANIFEST, raw, mode=0o644)
    write_atomic(release / MARKER, (hashlib.sha256(raw).hexdigest() + "\n").encode(), mode=0o644)
    if progress:
        progress("pip", steps, steps)
    return release


def _run(command: list[str], what: str) -> None:
    # our own interpreter and the new venv's: no shell, no user text in the command; -I and
    # cwd=/ so nothing in the technician's directory is taken for an installed package
    done = subprocess.run(command, capture_output=True, text=True, check=False,  # noqa: S603
                          cwd="/")
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise ReleaseBuildError(f"{what} did not install: {lines[-1] if lines else 'no output'}")


# --- the update state (a small JSON file, written atomically) --------------------------------


def load_state(layout: Layout) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        state = {}
    state.setdefault("good", [])
    state.setdefault("pending", None)
    state.setdefault("last", None)
    return state


def _save_state(layout: Layout, state: dict[str, Any]) -> None:
    data = json.dumps(state, indent=1, sort_keys=True) + "\n"
    write_atomic(layout.state_file, data.encode(), mode=0o644)


def _note(layout: Layout, state: dict[str, Any], action: str, version: str | None,
          outcome: AuditOutcome, message: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    state["last"] = {"action": action, "version": version, "outcome": outcome,
                     "message": message, "time": stamp}
    _save_state(layout, state)
    _audit(layout, outcome, version)


def _service_user(layout: Layout) -> tuple[int, int] | None:
    """Who owns the state directory: the service's user (install.sh made it so)."""
    try:
        info = layout.state_dir.stat()
    except FileNotFoundError:
        return None
    return info.st_uid, info.st_gid


def _service_account() -> tuple[int, int] | None:
    """The service's account (systemd/myna-reader.sysusers), when this machine has one."""
    try:
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _audit(layout: Layout, outcome: AuditOutcome, version: str | None) -> None:
    """The update's audit line, in the service user's own directory: as root, only into a
    plain file (no link planted there is followed), handed to that user by descriptor. An
    audit line that cannot be written does not undo the update: it is logged."""
    try:
        owner = _service_user(layout) if os.geteuid() == 0 else None
        audit_log = AuditLog(layout.state_dir, owner=owner)
        audit_log.append(AuditRecord(AuditEvent.UPDATE, None, outcome, release=version))
    except (OSError, AuditError) as exc:
        log.warning("the update's audit line was not written: %s", exc)


@contextlib.contextmanager
def _locked(layout: Layout) -> Iterator[None]:
    layout.releases.mkdir(parents=True, exist_ok=True)
    with (layout.opt / ".update.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UpdateBusyError("another update is running on this reader; wait for it"
                                  ) from None
        yield


# --- health: systemd's READY, then the release's own self-check ------------------------------


def _systemctl(layout: Layout) -> str | None:
    """systemctl's path when it manages this machine (as install.sh's systemd_running)."""
    if not layout.live or not Path("/run/systemd/system").is_dir():
        return None
    return shutil.which("systemctl")


def restart_service(layout: Layout, timeout: float) -> str | None:
    """Restart the unit (live systems only); None when it came up (Type=notify: READY)."""
    systemctl = _systemctl(layout)
    if systemctl is None:
        return None
    try:
        done = subprocess.run([systemctl, "restart", SERVICE], capture_output=True,  # noqa: S603
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"the service sent no READY within {timeout:.0f} s"
    if done.returncode != 0:
        return f"the service did not start ({done.stderr.strip() or done.returncode})"
    return None


def run_self_check(layout: Layout, version: str, timeout: float) -> str | None:
    """Run releases/VERSION's `update self-check`; None when it sent READY=1 and exited 0."""
    with tempfile.TemporaryDirectory(prefix="myna-update-") as tmp:
        address = str(Path(tmp) / "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(address)
            command = [str(layout.release(version) / "bin/python"), "-I", "-m", SELF_CHECK_ENTRY,
                       "update", "self-check", "--root", str(layout.root), "--expect", version]
            env = {**os.environ, "NOTIFY_SOCKET": address}
            # nothing of a new release runs as root (its .pth files run at interpreter start):
            # the check runs as the service's user, who may reach the notify socket
            user: dict[str, Any] = {}
            account = _service_account() if os.geteuid() == 0 else None
            if account is not None:
                uid, gid = account
                os.chown(tmp, uid, gid)
                os.chown(address, uid, gid)
                user = {"user": uid, "group": gid, "extra_groups": []}
            with subprocess.Popen(command, env=env, stdout=subprocess.PIPE,  # noqa: S603
                                  stderr=subprocess.STDOUT, text=True, cwd="/",
                                  **user) as proc:
                ready = _wait_ready(sock, proc, time.monotonic() + timeout)
                hung = proc.poll() is None and not ready
                if hung:
                    proc.kill()
                output, _ = proc.communicate()
    lines = output.strip().splitlines()
    detail = "; ".join(line for line in lines if line.startswith("FAIL")) or (
        lines[-1] if lines else "no output")
    if hung:
        return f"no READY within {timeout:.0f} s"
    if proc.returncode != 0:
        return f"self-check failed ({detail})"
    return None if ready else "the self-check exited without READY"


def _wait_ready(sock: socket.socket, proc: subprocess.Popen[str], deadline: float) -> bool:
    """True once READY=1 arrives; False at the deadline or when the check exits without it."""
    while (left := deadline - time.monotonic()) > 0:
        exited = proc.poll() is not None
        sock.settimeout(0 if exited else min(left, POLL_S))
        try:
            data = sock.recv(4096)
        except (TimeoutError, BlockingIOError):
            if exited:
                return False
            continue
        if "READY=1" in data.decode("utf-8", "replace").splitlines():
            return True
    return False


def health_check(layout: Layout, version: str, deadline_s: float) -> str | None:
    start = time.monotonic()
    reason = restart_service(layout, deadline_s)
    if reason is None:
        left = max(1.0, deadline_s - (time.monotonic() - start))
        reason = run_self_check(layout, version, left)
    return reason


# --- install, rollback, recover, status ------------------------------------------------------


def _check_fits(manifest: Manifest, installed: str | None) -> None:
    machine = platform.machine()
    python = (sys.version_info.major, sys.version_info.minor)
    for name in manifest.files:
        if not parse_wheel_name(Path(name).name).fits(machine, python):
            raise PlatformMismatchError(
                f"refused: {Path(name).name} is not for this reader ({machine}, Python "
                f"{python[0]}.{python[1]}); build the bundle on the target platform")
    if installed is None:
        return
    new, old = parse_version(manifest.version), parse_version(installed)
    if new < old and not manifest.downgrade:
        raise DowngradeRefusedError(
            f"refused: {manifest.version} is older than the installed {installed} (a downgrade "
            f"needs a bundle signed as one: update build --downgrade-from {installed})")
    if new < old and manifest.replaces != installed:
        raise DowngradeRefusedError(
            f"refused: this downgrade to {manifest.version} replaces {manifest.replaces} only, "
            f"not the installed {installed}")
    if old < parse_version(manifest.min_version):
        raise UpgradePathError(f"refused: {manifest.version} replaces {manifest.min_version} "
                               f"or later; install that first (installed: {installed})")


def install(bundle: Path, layout: Layout, *, keep: int = DEFAULT_KEEP,
            deadline_s: float = DEFAULT_DEADLINE_S,
            progress: Progress | None = None) -> InstallResult:
    """Verify, install, switch, check; raise an UpdateError/BundleError when refused or undone."""
    os.umask(0o022)  # the service's user must read the release, whatever the shell's umask
    with _locked(layout):
        recovered = recover(layout, deadline_s)
        state = load_state(layout)
        installed = current_version(layout)
        incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=layout.releases))
        try:
            try:
                manifest = open_bundle(bundle, load_trusted_keys(layout.keys_dir), incoming,
                                       progress=progress)
                _check_fits(manifest, installed)
            except (BundleError, UpdateError) as exc:
                _note(layout, state, "install", None, AuditOutcome.REFUSED, str(exc))
                raise
            if manifest.version == installed:
                return InstallResult(installed, installed, "already-running",
                                     f"myna-reader {installed} is already installed and running",
                                     recovered)
            try:
                _build_release(layout, manifest, incoming, progress)
            except ReleaseBuildError as exc:
                _discard(layout.release(manifest.version))
                _note(layout, state, "install", manifest.version, AuditOutcome.FAILED, str(exc))
                raise
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
        state["pending"] = {"version": manifest.version, "previous": installed}
        _save_state(layout, state)
        switch_current(layout, manifest.version)
        result = _settle(layout, state, keep, deadline_s)
        return InstallResult(result.version, result.previous, result.outcome, result.message,
                             recovered)


def _settle(layout: Layout, state: dict[str, Any], keep: int,
            deadline_s: float) -> InstallResult:
    """Mark the pending release good, or go back to the previous one."""
    version: str = state["pending"]["version"]
    previous: str | None = state["pending"]["previous"]
    reason = health_check(layout, version, deadline_s)
    if reason is None:
        state["good"] = [v for v in state["good"] if v != version] + [version]
        state["pending"] = None
        was = f" (was {previous}; it is kept for `update rollback`)" if previous else ""
        message = f"myna-reader {version} installed and running{was}"
        _note(layout, state, "install", version, AuditOutcome.INSTALLED, message)
        prune(layout, state, keep)
        return InstallResult(version, previous, "installed", message)
    if previous is None or not is_complete(layout.release(previous)):
        state["pending"] = None
        _note(layout, state, "install", version, AuditOutcome.FAILED, f"{version}: {reason}")
        raise RolledBackError(f"myna-reader {version} failed its health check: {reason}; "
                              "no earlier release to go back to")
    switch_current(layout, previous)
    restart_service(layout, deadline_s)
    _discard(layout.release(version))
    state["good"] = [v for v in state["good"] if v != version]
    state["pending"] = None
    message = (f"myna-reader {version} failed its health check ({reason}); {previous} is "
               "running again")
    _note(layout, state, "install", version, AuditOutcome.ROLLED_BACK, message)
    raise RolledBackError(message)


def recover(layout: Layout, deadline_s: float = DEFAULT_DEADLINE_S) -> str | None:
    """Finish what a killed installer left; returns what was done, or None."""
    _clean_leftovers(layout)
    state = load_state(layout)
    pending = state["pending"]
    if pending is None:
        return None
    if current_version(layout) != pending["version"]:  # killed before the switch, or after
        state["pending"] = None                        # switching back: nothing to settle
        _save_state(layout, state)
        _clean_leftovers(layout)
        return f"an interrupted install of {pending['version']} was cleaned up"
    try:
        return _settle(layout, state, DEFAULT_KEEP, deadline_s).message
    except RolledBackError as exc:
        return str(exc)


def prune(layout: Layout, state: dict[str, Any], keep: int) -> list[str]:
    """Remove complete releases beyond the newest KEEP good ones (never `current`)."""
    current = current_version(layout)
    kept = set(state["good"][-keep:]) | {current}
    removed = []
    for entry in sorted(layout.releases.iterdir()):
        if entry.name.startswith(".") or entry.name in kept:
            continue
        _discard(entry)
        removed.append(entry.name)
    state["good"] = [v for v in state["good"] if v not in removed]
    _save_state(layout, state)
    return removed


def rollback(layout: Layout, deadline_s: float = DEFAULT_DEADLINE_S) -> str:
    """Go back to the newest good release before `current` (the technician's choice)."""
    with _locked(layout):
        recover(layout, deadline_s)
        state = load_state(layout)
        current = current_version(layout)
        candidates = [v for v in state["good"]
                      if v != current and is_complete(layout.release(v))]
        if not candidates:
            raise NothingToRollBackError("no earlier release is kept on this reader; "
                                         "install an older bundle signed as a downgrade")
        target = candidates[-1]
        switch_current(layout, target)
        reason = health_check(layout, target, deadline_s)
        outcome = (AuditOutcome.ROLLED_BACK if reason is None
                   else AuditOutcome.ROLLED_BACK_UNHEALTHY)
        message = f"myna-reader {target} is running again (was {current})"
        if reason:
            message += f", but it failed its health check: {reason}"
        state["good"] = [v for v in state["good"] if v != target] + [target]  # most recent last
        _note(layout, state, "rollback", target, outcome, message)
        return message


def status(layout: Layout) -> dict[str, Any]:
    state = load_state(layout)
    releases = []
    if layout.releases.is_dir():
        releases = sorted((e.name for e in layout.releases.iterdir()
                           if not e.name.startswith(".") and is_complete(e)),
                          key=lambda v: parse_version(v) if v[0].isdigit() else (0,))
    return {"current": current_version(layout), "releases": releases, "good": state["good"],
            "pending": state["pending"], "last": state["last"],
            "trusted_keys": sorted(load_trusted_keys(layout.keys_dir))}
