"""systemd/install.sh into a temporary root: layout, idempotence, uninstall, purge.

Under --root nothing on this machine is touched: no apt-get, systemctl or udevadm; the user
and the state directory are made inside the root by systemd-sysusers/-tmpfiles --root.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from tests.systemd.conftest import INSTALL_SH

InstallRunner = Callable[..., CompletedProcess[str]]

FILES = ("etc/systemd/system/myna-reader.service", "etc/udev/rules.d/60-myna-reader.rules",
         "etc/tmpfiles.d/myna-reader.conf", "etc/sysusers.d/myna-reader.conf",
         "etc/myna-reader/config.toml.example", "etc/myna-reader/config.toml")


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its mode, and each file's mtime (to see what a second run
    wrote; directory mtimes move with the lock files systemd-sysusers takes)."""
    return {str(p.relative_to(root)): (p.lstat().st_mode,
                                       0 if p.is_dir() else p.lstat().st_mtime_ns)
            for p in root.rglob("*") if "__pycache__" not in p.parts}


def test_install_layout_then_idempotent_then_uninstall(tmp_path: Path, wheel: Path,
                                                      install: InstallRunner) -> None:
    root = tmp_path / "root"
    first = install(root, "--wheel", wheel, "--no-deps")
    assert first.returncode == 0, first.stdout + first.stderr

    current = root / "opt/myna-reader/current"
    assert os.readlink(current) == "releases/0.1.0"  # relative: survives a chroot or image
    launcher = current / "bin/myna-reader"
    assert launcher.is_file() and os.access(launcher, os.X_OK)
    for name in FILES:
        assert (root / name).is_file(), name
    assert (root / "etc/myna-reader/config.toml").read_text() == (
        root / "etc/myna-reader/config.toml.example").read_text()
    passwd = (root / "etc/passwd").read_text()
    assert passwd.startswith("myna-reader:x:")
    assert "/usr/sbin/nologin" in passwd.splitlines()[0]
    groups = {line.split(":")[0]: line.split(":")[3]
              for line in (root / "etc/group").read_text().splitlines()}
    for group in ("video", "input", "render", "audio", "dialout", "plugdev"):
        assert groups[group] == "myna-reader"
    state = root / "var/lib/myna-reader"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700

    # a technician's edit of config.toml survives a re-run; nothing else changes
    config = root / "etc/myna-reader/config.toml"
    config.write_text('reader = "nfc:usb"\n')
    before = snapshot(root)
    second = install(root, "--wheel", wheel, "--no-deps")
    assert second.returncode == 0, second.stderr
    assert "release 0.1.0 already installed" in second.stdout
    assert "wrote" not in second.stdout
    assert snapshot(root) == before

    (state / "passcode.json").write_text("{}")
    removed = install(root, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not (root / "opt/myna-reader").exists()
    for name in FILES[:4]:
        assert not (root / name).exists(), name
    assert config.read_text() == 'reader = "nfc:usb"\n'  # config and state are kept
    assert (state / "passcode.json").exists()

    purged = install(root, "--uninstall", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert not (root / "etc/myna-reader").exists()
    assert not state.exists()


def test_unknown_option_is_one_clear_line(tmp_path: Path, install: InstallRunner) -> None:
    done = install(tmp_path, "--frobnicate")
    assert done.returncode == 2
    assert done.stderr.strip() == "install.sh: unknown option --frobnicate (see --help)"


def test_install_needs_root_and_says_so(tmp_path: Path) -> None:
    """A normal user is told at once, not stopped half-way (tmpfiles' exit 73 before)."""
    from tests.field.users import second_user

    with second_user() as user:
        target = user.home / "root"
        done = user.run(["bash", INSTALL_SH, "--root", target, "--no-apt"])
    assert done.returncode == 1
    assert done.stderr.startswith("install.sh: needs root to install"), done.stderr
    assert not target.exists()


def test_a_root_tree_runs_once_deployed_at_slash(tmp_path: Path, install: InstallRunner) -> None:
    """From the source tree, dependencies included: the wheels are built by the unprivileged
    build user, root only unpacks them; the release is recorded as good for rollback; no
    script names the build root, so the tree runs when mounted at /opt/myna-reader."""
    root = tmp_path / "image"
    done = install(root, "--no-apt")
    assert done.returncode == 0, done.stdout + done.stderr
    opt = root / "opt/myna-reader"
    release = opt / "releases/0.1.0"
    named = subprocess.run(["grep", "-rlF", str(root), str(release / "bin"),
                            str(release / "pyvenv.cfg")], capture_output=True, text=True,
                           check=False)
    assert named.stdout == "", named.stdout
    state = json.loads((opt / "update-state.json").read_text())
    assert state["good"] == ["0.1.0"] and state["pending"] is None
    pip = subprocess.run([release / "bin/python", "-m", "pip", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert int(pip.split()[1].split(".")[0]) >= 24  # not bookworm's 23.0.1
    site = next(release.glob("lib/python3*/site-packages"))
    for lang in ("ja", "en"):  # English by Piper from the build user's build-only venv
        assert list((site / "myna_reader/ui/assets/voice" / lang).glob("*.wav")), lang
    assert not [p.name for p in site.iterdir() if p.name.startswith(("piper", "onnxruntime"))]
    for path in [release, *release.rglob("*")]:
        st = path.lstat()
        assert (st.st_uid, st.st_gid) == (0, 0), path  # the service user can replace nothing
        assert not st.st_mode & stat.S_IWOTH or stat.S_ISLNK(st.st_mode), path
    config = root / "etc/myna-reader/config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    group = config.stat().st_gid
    assert f"myna-reader:x:{group}:" in (root / "etc/group").read_text()

    # deployed: the tree at /opt/myna-reader in a private mount namespace, the host untouched
    deployed = subprocess.run(
        ["unshare", "--mount", "sh", "-ec",
         'mount -t tmpfs tmpfs /opt && mkdir /opt/myna-reader && '
         'mount --bind "$1" /opt/myna-reader && '
         '/opt/myna-reader/current/bin/myna-reader --version && '
         '/opt/myna-reader/current/bin/python -c "import myna_reader.daemon.runtime.runner"',
         "sh", str(opt)], capture_output=True, text=True, timeout=120, check=False)
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.strip() == "myna-reader 0.1.0"
