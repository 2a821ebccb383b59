"""`sudo myna-reader doctor` changes nothing of the service user's: a real second user owns
the state directory and its passcode file (with a lock that has run out, which the old
status() rewrote, as root, into a file the service could no longer read); root's doctor then
reads it. Every file keeps its inode, owner, mode, time and bytes, none is added, and the user
can still read its passcode afterwards."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.field.users import User, second_user

# the user's own store: one wrong code locks it for an hour, placed two hours ago
EXPIRED_LOCK = """
import sys, time
from pathlib import Path
from myna_reader.daemon.engine import LockoutPolicy
from myna_reader.daemon.store.passcode import Clocks, PasscodeStore, _read_boot_id
earlier = Clocks(wall=lambda: time.time() - 7200,
                 boottime=lambda: time.clock_gettime(time.CLOCK_BOOTTIME) - 7200,
                 boot_id=_read_boot_id)
store = PasscodeStore(Path(sys.argv[1]), LockoutPolicy(max_failures=1, duration_s=3600.0),
                      clocks=earlier)
store.set("4821")
assert store.check("0000").locked_for_s > 0
"""


@pytest.fixture
def service_user() -> Iterator[User]:
    with second_user() as user:
        yield user


def snapshot(directory: Path) -> dict[str, tuple[int, int, int, int, int, str]]:
    found = {}
    for path in [directory, *directory.iterdir()]:
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        found[path.name] = (st.st_ino, st.st_uid, st.st_gid, st.st_mode, st.st_mtime_ns, digest)
    return found


def test_doctor_as_root_leaves_the_service_users_files_alone(service_user: User) -> None:
    state = service_user.home / "state"
    made = service_user.run(["mkdir", "-m", "0700", state])
    assert made.returncode == 0, made.stderr
    locked = service_user.run([service_user.python, "-c", EXPIRED_LOCK, state])
    assert locked.returncode == 0, locked.stderr
    assert {p.name for p in state.iterdir()} == {"passcode.json", "passcode.lock"}
    config = service_user.home / "config.toml"
    config.write_text(f'state_dir = "{state}"\nreader = "sim:standard"\n[ui]\nvoice = false\n')
    before = snapshot(state)

    assert os.geteuid() == 0
    doctor = subprocess.run([sys.executable, "-m", "myna_reader.daemon.cli", "doctor",
                             "--config", str(config)], capture_output=True, text=True,
                            timeout=300, check=False)
    lines = doctor.stdout.splitlines()
    assert "OK   passcode: provisioned" in doctor.stdout, doctor.stdout + doctor.stderr
    assert any(line.startswith("OK   state dir:") for line in lines), lines
    assert snapshot(state) == before  # nothing created, nothing rewritten, no owner changed

    status = service_user.myna_reader("passcode", "status", "--state-dir", str(state))
    assert status.returncode == 0, status.stderr
    assert "4821" not in status.stdout + doctor.stdout
