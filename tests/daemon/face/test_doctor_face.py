"""`myna-reader doctor` with `[face] available = true`: the face lines after the others, each
camera role opened through the real backends (an image sequence that gives a frame, a video
file that does not exist), the real model files and the real RapidOCR version. Without the
switch the face lines are absent (tests/systemd/test_doctor.py pins that list)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from myna_reader.daemon.runtime.doctor import run_checks
from tests.systemd.test_doctor import CHECKS, LINE

FACE_CHECKS = ["patient camera", "card camera", "face model", "ocr engine"]


def test_doctor_reports_the_face_path(tmp_path: Path) -> None:
    shots = tmp_path / "card"
    shots.mkdir()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(shots / "0.png")
    config = tmp_path / "config.toml"
    config.write_text(f'state_dir = "{tmp_path}"\n[face]\navailable = true\n'
                      f'patient_camera = "video:{tmp_path}/none.avi"\n'
                      f'card_camera = "images:{shots}"\n')
    checks = run_checks(config)
    assert [c.name for c in checks] == CHECKS + FACE_CHECKS
    for check in checks:
        assert LINE.match(check.line()), check.line()
    face = {c.name: c for c in checks[len(CHECKS):]}
    assert not face["patient camera"].ok
    assert face["patient camera"].fix.endswith("set face.patient_camera to it")
    assert face["card camera"].line() == f"OK   card camera: images:{shots}: 64x48 frames"
    assert face["face model"].ok, face["face model"].line()
    assert face["ocr engine"].line().startswith("OK   ocr engine: RapidOCR 3.")


def test_no_face_lines_when_face_is_off(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'state_dir = "{tmp_path}"\n')
    assert [c.name for c in run_checks(config)] == CHECKS
