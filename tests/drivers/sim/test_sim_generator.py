"""The generator runs and writes loadable profiles (into a temporary folder)."""

from pathlib import Path

import pytest

from myna_reader.drivers.sim.profile import load_profile
from myna_reader.fixtures import generate


def test_generator_writes_every_profile(tmp_path: Path) -> None:
    written = generate.generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.json" for n in generate.VARIANTS)
    for path in written:
        profile = load_profile(str(path))
        assert profile.name == path.stem
        assert 1301 <= len(profile.jpki.auth_ca_cert) <= 1319
        assert path.stat().st_size < 60_000


def test_generator_cli_takes_an_output_folder(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert generate.main(["--out", str(tmp_path / "out")]) == 0
    assert "standard.json" in capsys.readouterr().out
    assert (tmp_path / "out" / "face-card.json").is_file()
