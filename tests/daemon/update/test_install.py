"""Install, switch, keep, roll back: real bundles, real venvs, real pip --no-index."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from myna_reader.daemon.update import bundle as update_bundle
from myna_reader.daemon.update import install as update_install
from myna_reader.daemon.update.install import (
    DowngradeRefusedError,
    Layout,
    NothingToRollBackError,
    RolledBackError,
    install,
    rollback,
)
from tests.daemon.update.conftest import Keys, launcher_version


def linked(layout: Layout) -> str:
    return os.readlink(layout.current)


def reported_version(layout: Layout) -> str:
    """What the linked release's own launcher says it is (it runs, not only exists)."""
    return launcher_version(layout.current)


def audit(layout: Layout) -> list[dict[str, object]]:
    lines = (layout.state_dir / "audit.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_good_bundles_install_switch_keep_and_roll_back(layout: Layout,
                                                        bundles: dict[str, Path]) -> None:
    first = install(bundles["1.0.0"], layout)
    assert (first.outcome, first.previous) == ("installed", None)
    assert linked(layout) == "releases/1.0.0"  # relative, as install.sh writes it
    assert reported_version(layout) == "1.0.0"
    assert (layout.release("1.0.0") / ".myna-release").is_file()

    second = install(bundles["1.1.0"], layout)
    assert (second.outcome, second.previous) == ("installed", "1.0.0")
    assert "1.1.0 installed and running (was 1.0.0" in second.message
    assert linked(layout) == "releases/1.1.0"
    assert reported_version(layout) == "1.1.0"
    assert update_install.is_complete(layout.release("1.0.0"))  # kept for rollback
    assert not list(layout.releases.glob(".*-*"))  # no staging or trash left

    again = install(bundles["1.1.0"], layout)
    assert again.outcome == "already-running"

    message = rollback(layout)
    assert message == "myna-reader 1.0.0 is running again (was 1.1.0)"
    assert reported_version(layout) == "1.0.0"
    state = update_install.status(layout)
    assert state["current"] == "1.0.0"
    assert state["releases"] == ["1.0.0", "1.1.0"]
    assert state["pending"] is None
    assert [(a["event"], a["outcome"], a["release"]) for a in audit(layout)] == [
        ("update", "installed", "1.0.0"), ("update", "installed", "1.1.0"),
        ("update", "rolled-back", "1.0.0")]


def test_only_the_last_n_releases_are_kept(layout: Layout, bundles: dict[str, Path]) -> None:
    install(bundles["1.0.0"], layout)
    install(bundles["1.1.0"], layout, keep=1)
    assert update_install.status(layout)["releases"] == ["1.1.0"]
    with pytest.raises(NothingToRollBackError, match="no earlier release is kept"):
        rollback(layout)
    assert linked(layout) == "releases/1.1.0"


@pytest.mark.parametrize(("bundle", "reason"), [
    ("1.2.0-exit-1", r"self-check failed \(FAIL simulated: this release is broken on purpose"),
    ("1.3.0-no-ready", r"no READY within 5 s"),
])
def test_a_release_failing_its_health_check_rolls_back_by_itself(
        layout: Layout, bundles: dict[str, Path], bundle: str, reason: str) -> None:
    install(bundles["1.1.0"], layout)
    with pytest.raises(RolledBackError, match=reason) as refused:
        install(bundles[bundle], layout, deadline_s=5)
    assert str(refused.value).endswith("; 1.1.0 is running again")
    assert linked(layout) == "releases/1.1.0"
    assert reported_version(layout) == "1.1.0"
    assert not layout.release(bundle.partition("-")[0]).exists()  # the failed one is gone
    state = update_install.status(layout)
    assert state["pending"] is None
    assert state["last"]["outcome"] == "rolled-back"
    assert audit(layout)[-1]["outcome"] == "rolled-back"


def test_a_downgrade_needs_a_bundle_signed_as_one(layout: Layout,
                                                  bundles: dict[str, Path]) -> None:
    install(bundles["1.1.0"], layout)
    with pytest.raises(DowngradeRefusedError,
                       match=r"1\.0\.0 is older than the installed 1\.1\.0"):
        install(bundles["1.0.0"], layout)
    assert linked(layout) == "releases/1.1.0"
    assert audit(layout)[-1]["outcome"] == "refused"
    done = install(bundles["1.0.0-downgrade"], layout)
    assert (done.outcome, done.previous) == ("installed", "1.1.0")
    assert reported_version(layout) == "1.0.0"


def test_a_downgrade_bundle_replaces_only_the_version_it_names(
        layout: Layout, bundles: dict[str, Path], keys: Keys, tmp_path: Path) -> None:
    """A downgrade bundle cannot be replayed over another release than the one it was signed
    to replace."""
    install(bundles["1.1.0"], layout)
    other = tmp_path / "1.0.0-for-1.0.5.bundle"
    wheels = tmp_path / "wheels"
    with tarfile.open(bundles["1.0.0"]) as tar:
        tar.extractall(wheels, filter="data")
    update_bundle.build_bundle(wheels / "wheels", other, keys.vendor, downgrade_from="1.0.5")
    with pytest.raises(DowngradeRefusedError, match=r"replaces 1\.0\.5 only"):
        install(other, layout)
    assert linked(layout) == "releases/1.1.0"
