"""Fleet updates through Mender: Debian's mender-client in standalone mode, in the fresh root
with the .deb installed, installs Mender Artifacts (built with Debian's mender-artifact and
signed with an ECDSA key the client trusts) that carry signed update bundles, through the
update module the .deb ships (systemd/mender/myna-reader):

- install 0.2.0, commit: 0.2.0 runs and is the Artifact Mender reports;
- install 0.2.1, rollback: 0.2.0 runs again, and Mender reports it;
- install a 0.3.0 whose self-check fails: the install fails, the reader is back on 0.2.0 by
  itself (the updater), Mender rolls back through ArtifactRollback and still reports 0.2.0;
- an Artifact signed with a key Mender does not trust is refused before the module runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from myna_reader.daemon.update import bundle as update_bundle
from tests.daemon.update.conftest import Keys, _project_wheel
from tests.field.conftest import Root

DEVICE_TYPE = "raspberrypi4"


def _sign_key(path: Path) -> Path:
    subprocess.run(["openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out",
                    str(path)], check=True, capture_output=True)
    public = path.with_suffix(".pub.pem")
    subprocess.run(["openssl", "ec", "-in", str(path), "-pubout", "-out", str(public)],
                   check=True, capture_output=True)
    return public


def _artifact(bundle: Path, version: str, key: Path, out: Path) -> Path:
    subprocess.run(["mender-artifact", "write", "module-image", "-T", "myna-reader",
                    "-n", f"myna-reader-{version}", "-t", DEVICE_TYPE, "-f", str(bundle),
                    "-o", str(out), "-k", str(key), "--software-name", "myna-reader",
                    "--software-version", version], check=True, capture_output=True,
                   timeout=600)
    return out


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory, dependency_wheels: list[Path],
              keys: Keys) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("mender")
    trusted = work / "mender-signing.pem"
    public = _sign_key(trusted)
    untrusted = work / "other-signing.pem"
    _sign_key(untrusted)
    made = {"verify-key": public}
    for name, version, broken in (("0.2.0", "0.2.0", None), ("0.2.1", "0.2.1", None),
                                  ("0.3.0-broken", "0.3.0", "exit-1")):
        wheels = work / f"wheels-{name}"
        wheels.mkdir()
        for dep in dependency_wheels:
            os.link(dep, wheels / dep.name)
        shutil.copy2(_project_wheel(work, version, broken), wheels)
        bundle = work / f"{name}.bundle"
        update_bundle.build_bundle(wheels, bundle, keys.vendor)
        made[name] = _artifact(bundle, version, trusted, work / f"{name}.mender")
        shutil.rmtree(wheels)
    made["0.2.1-untrusted"] = _artifact(work / "0.2.1.bundle", "0.2.1", untrusted,
                                        work / "untrusted.mender")
    return made


@pytest.fixture(scope="module")
def reader(fresh_root: Root, deb: Path, keys: Keys, artifacts: dict[str, Path]) -> Root:
    """The fresh root with the .deb, mender-client, the vendor key and Mender's verify key."""
    r, top = fresh_root, fresh_root.path
    debs = top / "root/debs"
    debs.mkdir(parents=True, exist_ok=True)
    shutil.copy(deb, debs / deb.name)
    r.run("apt-get update -qq")
    r.run(f"apt-get install -y --no-install-recommends /root/debs/{deb.name} mender-client")
    shutil.copy(keys.vendor.with_name("vendor.pub"), top / "etc/myna-reader/update-keys")
    shutil.copy(artifacts["verify-key"], top / "etc/mender/artifact-verify-key.pem")
    # the name of what the device runs before its first Mender update (provisioning writes it)
    (top / "etc/mender/artifact_info").write_text("artifact_name=myna-reader-0.1.0\n")
    (top / "etc/mender/mender.conf").write_text(json.dumps(
        {"ArtifactVerifyKey": "/etc/mender/artifact-verify-key.pem"}))
    # Debian's /var/lib/mender is a link to /data/mender (the Yocto layout's data partition)
    (top / "data/mender").mkdir(parents=True, exist_ok=True)
    (top / "data/mender/device_type").write_text(f"device_type={DEVICE_TYPE}\n")
    inbox = top / "root/artifacts"
    inbox.mkdir(exist_ok=True)
    for name, path in artifacts.items():
        shutil.copy(path, inbox / f"{name}.mender")
    return r


def running(r: Root) -> str:
    return (r.path / "opt/myna-reader/current").readlink().name


def shown(r: Root) -> str:
    return r.run("mender show-artifact").stdout.strip()


def test_install_commit_rollback_and_a_failing_self_check(reader: Root) -> None:
    r = reader
    assert running(r) == "0.1.0"

    r.run("mender install /root/artifacts/0.2.0.mender")
    assert running(r) == "0.2.0"
    r.run("mender commit")
    assert shown(r) == "myna-reader-0.2.0"

    r.run("mender install /root/artifacts/0.2.1.mender")
    assert running(r) == "0.2.1"
    r.run("mender rollback")
    assert running(r) == "0.2.0"
    assert shown(r) == "myna-reader-0.2.0"

    failed = r.run("mender install /root/artifacts/0.3.0-broken.mender", check=False)
    assert failed.returncode != 0
    assert "failed its health check" in failed.stdout + failed.stderr
    assert running(r) == "0.2.0"  # back by itself, before Mender asked
    assert shown(r) == "myna-reader-0.2.0"
    assert not (r.path / "opt/myna-reader/releases/0.3.0").exists()
    state = json.loads((r.path / "opt/myna-reader/update-state.json").read_text())
    assert state["pending"] is None and state["last"]["outcome"] == "rolled-back"


def test_an_artifact_mender_does_not_trust_is_refused(reader: Root) -> None:
    before = running(reader)
    refused = reader.run("mender install /root/artifacts/0.2.1-untrusted.mender", check=False)
    assert refused.returncode != 0
    assert running(reader) == before
