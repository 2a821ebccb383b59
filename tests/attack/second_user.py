"""A real second, unprivileged user for the attacker's processes. The venv's
interpreter links into root's home, which a second user cannot enter, so the attacker runs
Debian's /usr/bin/python3."""

from __future__ import annotations

import atexit
import json
import os
import pwd
import select
import shutil
import signal
import subprocess
import tempfile
import traceback
from collections.abc import Callable
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


    def call(self, target: Callable[..., object], *args: object,
             timeout: float = 60.0) -> object:
        """`target(*args)` in a forked child that became this user (setgroups, setgid,
        setuid, as the service's unit starts it): the product's code, already imported,
        running as a real unprivileged process; the kernel checks every file it opens.
        Only a fork gets there: the venv's interpreter cannot be exec'd by this user.
        Returns what `target` returned (JSON), or raises with the child's traceback; the
        child may import nothing new (the standard library sits in root's home too)."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            status = 1
            try:
                os.close(read_end)
                os.setgroups([])
                os.setgid(self.gid)
                os.setuid(self.uid)
                answer: dict[str, object] = {"ok": target(*args)}
                status = 0
            except BaseException:  # noqa: BLE001  everything goes back to the test
                answer = {"error": traceback.format_exc()}
            with os.fdopen(write_end, "w", encoding="utf-8") as out:
                json.dump(answer, out)
            os._exit(status)
        os.close(write_end)
        try:
            ready, _, _ = select.select([read_end], [], [], timeout)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                raise SecondUserError(f"the child as {self.name} did not answer in {timeout} s")
            with os.fdopen(read_end, encoding="utf-8", closefd=False) as answer_in:
                text = answer_in.read()
        finally:
            os.close(read_end)
            os.waitpid(pid, 0)
        answer = json.loads(text)
        if "error" in answer:
            raise SecondUserError(f"as {self.name}:\n{answer['error']}")
        return answer["ok"]


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


def service_dir(owner: Rogue) -> str:
    """A state directory this user owns (0700), under a fresh /tmp dir it may enter (pytest's
    tmp dirs sit under a 0700 directory of root's); removed at exit."""
    parent = tempfile.mkdtemp(prefix="myna-service-")
    atexit.register(shutil.rmtree, parent, True)
    os.chmod(parent, 0o755)
    state = os.path.join(parent, "state")
    os.mkdir(state, 0o700)
    os.chown(state, owner.uid, owner.gid)
    return state


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
