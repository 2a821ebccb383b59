"""A real second, unprivileged user for tests that cross the root / service-user boundary.

The project's venv runs on an interpreter inside root's home (a pyenv build) that other users
cannot execute, so the user gets its own venv made from Debian's /usr/bin/python3 (same
3.11 ABI) that adds the project's site-packages (the editable install included) as a site
directory. Its files live under /var/tmp, which the user can reach (pytest's tmp is root's).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SYSTEM_PYTHON = Path("/usr/bin/python3")


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: Path  # 0755, owned by the user: its venv and whatever the test gives it
    python: Path

    def run(self, argv: Sequence[str | Path], *, stdin: str = "",
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """argv as this user (setpriv: real uid/gid switch, no supplementary groups)."""
        return subprocess.run(
            ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
             "env", "-i", "PATH=/usr/bin:/bin", f"HOME={self.home}", "LANG=C.UTF-8",
             "PYGAME_HIDE_SUPPORT_PROMPT=1", *map(str, argv)],
            input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
            cwd=self.home)

    def myna_reader(self, *args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return self.run([self.python, "-m", "myna_reader.daemon.cli", *args], stdin=stdin)


@contextmanager
def second_user(prefix: str = "mynaf") -> Iterator[User]:
    """A fresh system user (no login shell, no password), removed afterwards."""
    if os.geteuid() != 0:
        raise RuntimeError("a second user needs root to be created (run the tests as root)")
    name = f"{prefix}{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                    "--shell", "/usr/sbin/nologin", name], check=True)
    home = Path(f"/var/tmp/{name}")
    try:
        entry = pwd.getpwnam(name)
        home.mkdir(mode=0o755)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        python = _user_venv(home / "venv", entry.pw_uid, entry.pw_gid)
        yield User(name, entry.pw_uid, entry.pw_gid, home, python)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def _user_venv(where: Path, uid: int, gid: int) -> Path:
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(where)], check=True)
    site = sysconfig.get_path("purelib")  # this interpreter's (the project venv's)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (where / "lib" / version / "site-packages" / "myna-project.pth").write_text(
        f"import site; site.addsitedir({site!r})\n")
    for path in [where, *where.rglob("*")]:
        os.lchown(path, uid, gid)
    return where / "bin" / "python"
