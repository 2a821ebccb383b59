"""systemd/install.sh into a temporary root: layout, idempotence, uninstall, purge.

Under --root nothing on this machine is touched: no apt-get, systemctl or udevadm; the user
and the state directory are made inside the root by systemd-sysusers/-tmpfiles --root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

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
