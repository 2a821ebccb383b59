"""The .deb in a fresh Debian bookworm root (debootstrap minbase): install the previous build,
upgrade to this one with a technician's config edit and the service's state in place, remove
(config and state stay), purge (both go). apt resolves the dependencies from the archive, as
on a Raspberry Pi OS Lite. The transcript is kept in build/field/fresh-root-transcript.txt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.field.conftest import Root

RELEASE = "0.1.0"


def _package_files(root: Root, deb: Path) -> str:
    inside = Path("/root/debs") / deb.name
    (root.path / "root/debs").mkdir(parents=True, exist_ok=True)
    shutil.copy(deb, root.path / inside.relative_to("/"))
    return str(inside)


def test_install_upgrade_remove_purge(fresh_root: Root, deb: Path, previous_deb: Path) -> None:
    r, top = fresh_root, fresh_root.path
    old, new = _package_files(r, previous_deb), _package_files(r, deb)
    r.run("apt-get update -qq")

    r.run(f"apt-get install -y --no-install-recommends {old}")
    assert (top / "opt/myna-reader/current").readlink() == Path(f"releases/{RELEASE}")
    version = r.run("/opt/myna-reader/current/bin/myna-reader --version").stdout.strip()
    assert version == f"myna-reader {RELEASE}"
    # debhelper installed the unit, enabled it, and the udev rules, sysusers, tmpfiles
    assert (top / "lib/systemd/system/myna-reader.service").is_file()
    assert (top / "etc/systemd/system/multi-user.target.wants/myna-reader.service").is_symlink()
    assert not (top / "etc/systemd/system/graphical.target.wants/myna-reader-cage.service"
                ).exists()  # the kiosk variant is there, not enabled
    assert (top / "lib/udev/rules.d/60-myna-reader.rules").is_file()
    assert (top / "usr/lib/sysusers.d/myna-reader.conf").is_file()
    assert (top / "usr/lib/tmpfiles.d/myna-reader.conf").is_file()
    assert (top / "usr/share/mender/modules/v3/myna-reader").stat().st_mode & 0o111
    passwd = (top / "etc/passwd").read_text()
    assert "\nmyna-reader:x:" in passwd
    state = top / "var/lib/myna-reader"
    assert oct(state.stat().st_mode & 0o777) == "0o700"
    conffiles = r.run("dpkg-query -W -f='${Conffiles}' myna-reader").stdout
    assert "/etc/myna-reader/config.toml " in conffiles
    config = top / "etc/myna-reader/config.toml"
    mode = r.run("stat -c '%a %U:%G' /etc/myna-reader/config.toml").stdout.split()
    assert mode == ["640", "root:myna-reader"]
    good = json.loads((top / "opt/myna-reader/update-state.json").read_text())["good"]
    assert good == [RELEASE]  # the first update keeps it for rollback
    # the byte-code the postinst made with the system's python3
    assert list((top / f"opt/myna-reader/releases/{RELEASE}/lib").rglob("*.pyc"))
    # Piper and onnxruntime made the English prompts at build time and stay out of the release
    site = next((top / f"opt/myna-reader/releases/{RELEASE}/lib").glob("python3*/site-packages"))
    assert not [p.name for p in site.iterdir() if p.name.startswith(("piper", "onnxruntime"))]
    for lang in ("ja", "en"):
        assert len(list((site / "myna_reader/ui/assets/voice" / lang).glob("*.wav"))) > 40, lang
    doctor = r.run("/opt/myna-reader/current/bin/myna-reader doctor", check=False)
    assert "OK   config: /etc/myna-reader/config.toml is valid" in doctor.stdout
    assert "OK   voice: Japanese and English prompts in " in doctor.stdout, doctor.stdout
    assert "OK   sdl video:" in doctor.stdout, doctor.stdout
    metrics = r.run("/opt/myna-reader/current/bin/myna-reader metrics").stdout
    assert "myna_reader_release_info{version=\"0.1.0\"} 1.0" in metrics, metrics

    # a technician's edit and the service's state, then the upgrade
    config.write_text('reader = "nfc:usb"\n')
    (state / "audit.jsonl").write_text("")
    upgraded = r.run(f"apt-get install -y --no-install-recommends {new}")
    assert "Unpacking myna-reader" in upgraded.stdout
    assert config.read_text() == 'reader = "nfc:usb"\n'
    assert (state / "audit.jsonl").exists()
    assert r.run("dpkg-query -W -f='${Version}' myna-reader").stdout == deb.name.split("_")[1]
    assert r.run("/opt/myna-reader/current/bin/myna-reader --version").stdout.strip() == version

    r.run("apt-get remove -y myna-reader")
    assert not (top / "lib/systemd/system/myna-reader.service").exists()
    assert not (top / "opt/myna-reader/current").exists()
    assert config.read_text() == 'reader = "nfc:usb"\n'  # configuration and state stay
    assert (state / "audit.jsonl").exists()

    r.run("apt-get purge -y myna-reader")
    for gone in ("etc/myna-reader", "var/lib/myna-reader", "opt/myna-reader"):
        assert not (top / gone).exists(), gone
