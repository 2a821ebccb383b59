"""Root working in the service user's directory (issue 12): the updater and `doctor` run as
root; the state directory belongs to the service's user, who may plant anything there.

Real processes: `myna-reader update install` and `myna-reader doctor` / `passcode status` run
as root (as a technician runs them); the service's user is a real second user who plants the
link. Before, the updater followed the link (truncating and chowning root's file) and doctor
rewrote the passcode file as root, after which the service could not read it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from myna_reader.daemon.engine import LockoutPolicy
from myna_reader.daemon.store.passcode import LOCK_FILE, PASSCODE_FILE, Clocks, PasscodeStore
from tests.attack.second_user import Rogue

WAIT_S = 120.0


@pytest.fixture
def reader_root() -> Iterator[Path]:
    """A reader root the second user can reach (pytest's tmp dirs sit under root's 0700)."""
    top = Path(tempfile.mkdtemp(prefix="myna-root-"))
    top.chmod(0o755)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "myna_reader.daemon.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=WAIT_S, check=False,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy",
                               "SDL_AUDIODRIVER": "dummy"})


def _service_state(root: Path, rogue: Rogue) -> Path:
    """ROOT/var/lib/myna-reader, owned by the (rogue) service user, as install.sh makes it."""
    state = root / "var/lib/myna-reader"
    state.mkdir(parents=True)
    for path in (root, root / "var", root / "var/lib"):
        path.chmod(0o755)
    os.chown(state, rogue.uid, rogue.gid)
    state.chmod(0o700)
    return state


def test_the_updater_follows_no_link_the_service_user_planted(rogue: Rogue,
                                                              reader_root: Path) -> None:
    tmp_path = reader_root
    root = tmp_path / "root"
    state = _service_state(root, rogue)
    (root / "etc/myna-reader/update-keys").mkdir(parents=True)
    victim = tmp_path / "roots-own-file"
    victim.write_bytes(b"root's data, with no newline at its end")
    victim.chmod(0o600)
    planted = rogue.run("-c", f"import os; os.symlink({str(victim)!r}, "
                        f"{str(state / 'audit.jsonl')!r})")
    assert planted.returncode == 0, planted.stderr
    done = _cli("update", "install", tmp_path / "no-such.bundle", "--root", root)
    assert done.returncode == 1  # refused (no bundle): and the refusal is audited as root
    info = victim.stat()
    assert victim.read_bytes() == b"root's data, with no newline at its end"
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, 0, 0o600)
    assert (state / "audit.jsonl").is_symlink()


def test_doctor_and_passcode_status_as_root_change_nothing(rogue: Rogue,
                                                          reader_root: Path) -> None:
    tmp_path = reader_root
    root = tmp_path / "root"
    state = _service_state(root, rogue)
    # a lock from another boot, long over: a read that "brings it up to date" rewrites it
    old_boot = Clocks(wall=lambda: 1000.0, boottime=lambda: 1000.0, boot_id=lambda: "old")
    store = PasscodeStore(state, clocks=old_boot)
    store.set("2468")
    for _ in range(LockoutPolicy().max_failures):
        store.check("0000")
    (state / LOCK_FILE).unlink()  # the daemon is not running: no lock file is there yet
    for path in state.iterdir():
        os.chown(path, rogue.uid, rogue.gid)

    def snapshot() -> dict[str, tuple[int, int, int, int, bytes]]:
        return {p.name: (p.stat().st_uid, p.stat().st_gid, p.stat().st_mode,
                         p.stat().st_mtime_ns, p.read_bytes()) for p in state.iterdir()}

    before = snapshot()
    config = tmp_path / "config.toml"
    config.write_text(f'reader = "sim:standard"\nstate_dir = "{state}"\n', encoding="utf-8")
    _cli("doctor", "--config", config)  # its verdict on this machine is not the point
    status = _cli("passcode", "status", "--state-dir", state)
    assert status.returncode == 0, status.stderr
    assert "provisioned   yes" in status.stdout
    assert snapshot() == before  # nothing created, rewritten or handed to root
    readable = rogue.run("-c", f"print(open({str(state / PASSCODE_FILE)!r}).read()[:1])")
    assert readable.stdout.strip() == "{"  # the service's user still reads its own file
