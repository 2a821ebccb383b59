"""Frame sources without a camera: the real image-sequence and OpenCV video-file backends
(MJPEG AVI written by OpenCV's own encoder, read back through cv2.VideoCapture). V4L2 and
Picamera2 need a device: here they must fail with CameraError, not hang or crash."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from myna_reader.drivers.camera import CameraError, frames, open_camera, wipe
from myna_reader.drivers.camera_spec import parse_camera_spec


def _frames(n: int) -> list[np.ndarray]:
    return [np.full((48, 64, 3), (40 * i, 200, 10), dtype=np.uint8) for i in range(n)]


def test_image_sequence_in_name_order(tmp_path: Path) -> None:
    for i, frame in enumerate(_frames(3)):
        Image.fromarray(frame).save(tmp_path / f"f{i:03d}.png")
    source = open_camera(parse_camera_spec(f"images:{tmp_path}"))
    got = list(frames(source, 10))
    source.close()
    assert [int(f[0, 0, 0]) for f in got] == [0, 40, 80]
    assert got[0].shape == (48, 64, 3)


def test_video_file_gives_rgb_frames(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 15, (64, 48))
    assert writer.isOpened()
    for frame in _frames(5):
        writer.write(frame[:, :, ::-1].copy())  # OpenCV writes BGR
    writer.release()
    source = open_camera(parse_camera_spec(f"video:{path}"))
    got = list(frames(source, 10))
    source.close()
    assert len(got) == 5
    assert abs(int(got[0][10, 10, 1]) - 200) < 12  # green stays green (RGB order)
    wipe(got)
    assert not any(f.any() for f in got)


@pytest.mark.parametrize("spec", ["v4l2:0", "v4l2:/dev/video9", "video:/nonexistent.avi",
                                  "images:/nonexistent"])
def test_missing_devices_are_camera_errors(spec: str) -> None:
    with pytest.raises(CameraError):
        open_camera(parse_camera_spec(spec))


@pytest.mark.parametrize("spec", ["usb:0", "v4l2:", "v4l2:cam", "picamera:x", "0"])
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=r"camera spec|device number"):
        parse_camera_spec(spec)
