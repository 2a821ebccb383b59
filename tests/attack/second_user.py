"""A real second, unprivileged user for the attacker's processes. The venv's
interpreter links into root's home, which a second user cannot enter, so the attacker runs
Debian's /usr/bin/python3."""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

ROGUE = "myna-rogue"  # a local account that is neither root nor the reader's service user
# Debian's interpreter: every user may run it (the venv's links into root's home, which
# another user cannot execute); the attacker's scripts need the standard library only
SYSTEM_PYTHON = "/usr/bin/python3"


@dataclass(frozen=True)
class Rogue:
    name: str
    uid: int
    gid: int
    python: str

    def run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run as this user (setuid in the child, like `su`), from a directory it may read."""
        return subprocess.run([self.python, *args], user=self.uid, group=self.gid,
                              extra_groups=[], cwd="/", capture_output=True, text=True,
                              timeout=timeout, check=False, env={"PATH": "/usr/bin:/bin"})

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([self.python, *args], user=self.uid, group=self.gid,
                                extra_groups=[], cwd="/", stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env={"PATH": "/usr/bin:/bin"})


class SecondUserError(RuntimeError):
    pass


def second_user() -> Rogue:
    """The second user, made once (useradd); the tests run as root, as CI's do."""
    if os.geteuid() != 0:
        raise SecondUserError("the attack tests make a second user: run them as root")
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        raise SecondUserError(f"{SYSTEM_PYTHON} is needed to run code as the second user")
    try:
        entry = pwd.getpwnam(ROGUE)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        ROGUE], check=True, capture_output=True)
        entry = pwd.getpwnam(ROGUE)
    assert entry.pw_uid != 0
    return Rogue(ROGUE, entry.pw_uid, entry.pw_gid, SYSTEM_PYTHON)


def world_readable_copy(source: str) -> str:
    """A copy of one of these scripts where the second user can read it: pytest's own tmp
    dirs sit under a 0700 directory of root's. In a fresh /tmp dir, removed at exit."""
    directory = tempfile.mkdtemp(prefix="myna-rogue-")
    atexit.register(shutil.rmtree, directory, True)
    os.chmod(directory, 0o755)
    target = os.path.join(directory, os.path.basename(source))
    shutil.copy(source, target)
    os.chmod(target, 0o644)
    return target
