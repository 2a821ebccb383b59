"""The vendor's and technician's commands: keygen, build, status, rollback, progress, errors."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import tarfile
from pathlib import Path

from myna_reader.daemon.cli.update import ProgressBar
from myna_reader.daemon.update import bundle as ub
from myna_reader.daemon.update.install import Layout
from tests.daemon.update.conftest import Keys, UpdateCli


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path,
                                                         update_cli: UpdateCli) -> None:
    done = update_cli("keygen", "--out", tmp_path / "keys/vendor")
    assert done.returncode == 0, done.stderr
    private, public = tmp_path / "keys/vendor", tmp_path / "keys/vendor.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    kid = ub.key_id(ub.load_private_key(private).public_key())
    assert done.stdout.rstrip().endswith(f"key id {kid}")
    assert kid in ub.load_trusted_keys(public.parent)

    again = update_cli("keygen", "--out", tmp_path / "keys/vendor")
    assert again.returncode == 1
    assert again.stderr == (f"myna-reader: {private} or vendor.pub exists already; "
                            "choose another --out\n")


def test_build_signs_every_wheel_into_the_manifest(tmp_path: Path, keys: Keys,
                                                   bundles: dict[str, Path],
                                                   update_cli: UpdateCli) -> None:
    wheels = tmp_path / "wheels"
    with tarfile.open(bundles["1.1.0"]) as tar:  # the same wheels, built again by the CLI
        for member in tar.getmembers():
            if member.name.startswith("wheels/"):
                (wheels / Path(member.name).name).parent.mkdir(exist_ok=True)
                (wheels / Path(member.name).name).write_bytes(
                    tar.extractfile(member).read())  # type: ignore[union-attr]
    out = tmp_path / "out.bundle"
    done = update_cli("build", "--key", keys.vendor, "--out", out, "--wheel-dir", wheels,
                      "--min-version", "1.0.0")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    assert done.stdout.startswith(f"{out}: myna-reader 1.1.0, {len(list(wheels.iterdir()))} "
                                  "wheels, ")

    with tarfile.open(out) as tar:
        names = tar.getnames()
        raw = tar.extractfile(ub.MANIFEST).read()  # type: ignore[union-attr]
        signature = tar.extractfile(ub.SIGNATURE).read()  # type: ignore[union-attr]
    assert names[:2] == [ub.MANIFEST, ub.SIGNATURE]
    vendor = ub.load_private_key(keys.vendor).public_key()
    vendor.verify(signature, raw)
    manifest = json.loads(raw)
    assert (manifest["version"], manifest["min_version"], manifest["downgrade"]) == (
        "1.1.0", "1.0.0", False)
    assert manifest["key_id"] == ub.key_id(vendor)
    assert "any" in manifest["platforms"]
    for wheel in wheels.iterdir():
        entry = manifest["files"][f"wheels/{wheel.name}"]
        assert entry == {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
                         "size": wheel.stat().st_size}


def test_build_without_a_project_wheel_is_one_line(tmp_path: Path, keys: Keys,
                                                   update_cli: UpdateCli) -> None:
    (tmp_path / "empty").mkdir()
    done = update_cli("build", "--key", keys.vendor, "--out", tmp_path / "x.bundle",
                      "--wheel-dir", tmp_path / "empty")
    assert done.returncode == 1
    assert done.stderr.startswith("myna-reader: ")
    assert "must hold exactly one myna-reader wheel (found 0)" in done.stderr
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "x.bundle").exists()


def test_status_and_rollback_on_a_reader_with_nothing_installed(layout: Layout,
                                                                update_cli: UpdateCli) -> None:
    done = update_cli("status", "--root", layout.root, "--json")
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert (state["current"], state["releases"], state["pending"]) == (None, [], None)
    assert len(state["trusted_keys"]) == 1

    done = update_cli("rollback", "--root", layout.root)
    assert done.returncode == 1
    assert done.stderr == ("myna-reader: no earlier release is kept on this reader; install "
                           "an older bundle signed as a downgrade\n")


class Terminal(io.StringIO):
    """A stream that says it is a terminal, to see what the bar draws there."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_one_line_on_a_terminal() -> None:
    stream = Terminal()
    bar = ProgressBar(stream)
    for done in (0, 50, 50, 100):
        bar("verify", done, 100)
    bar.finish()
    frames = stream.getvalue().split("\r")[1:]
    assert frames[0] == "verify [" + "." * 30 + "]   0%"
    assert frames[-1] == "verify [" + "#" * 30 + "] 100%\n"
    assert len(frames) == 3  # an unchanged frame is not drawn again
