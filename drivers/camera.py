"""Frame sources: one interface for a camera, with backends for Picamera2 (Raspberry Pi camera
modules), V4L2 through OpenCV (USB cameras) and image sequences or video files (tests, bench).

A frame is an RGB `uint8` array of shape (height, width, 3) that the caller owns: it may
overwrite it (the face code zeroes every frame after use). Nothing here keeps, logs or writes a
frame. Specs name a source in config (`[face] patient_camera`, `card_camera`):

    v4l2:0 | v4l2:/dev/video2     a UVC camera through OpenCV's V4L2 backend
    picamera:0                    a Pi camera module through Picamera2/libcamera
    video:/path/clip.avi          a video file (OpenCV: FFmpeg or its built-in MJPEG reader)
    images:/path/dir              the directory's .png/.jpg files in name order

Two roles may name the same device: `open_camera` is called per use, so one device is only
open for one role at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from myna_reader.drivers.camera_spec import CameraSpec
from myna_reader.drivers.errors import MynaError

Frame = npt.NDArray[np.uint8]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class CameraError(MynaError):
    """A camera that cannot be opened or stopped delivering frames."""


class FrameSource(Protocol):
    """A camera as the face code sees it: frames until it has none (None), then closed."""

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


def _rgb(bgr: npt.ArrayLike) -> Frame:
    """OpenCV's BGR frame as a fresh RGB array (the capture's buffer is reused by OpenCV)."""
    frame: Frame = np.ascontiguousarray(np.asarray(bgr, dtype=np.uint8)[:, :, ::-1])
    return frame


class ArraySource:
    """Frames from memory (tests, bench): each read hands out a copy the caller may zero."""

    def __init__(self, frames: Iterable[Frame]) -> None:
        self._frames: Iterator[Frame] = iter(frames)

    def read(self) -> Frame | None:
        frame = next(self._frames, None)
        return None if frame is None else frame.copy()

    def close(self) -> None:
        self._frames = iter(())


class ImageSequenceSource:
    """A directory of still images, read in name order (decoded with Pillow, RGB)."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise CameraError(f"image sequence {folder} is not a directory")
        self._paths: Iterator[Path] = iter(sorted(
            p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))

    def read(self) -> Frame | None:
        from PIL import Image

        path = next(self._paths, None)
        if path is None:
            return None
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()

    def close(self) -> None:
        self._paths = iter(())


class OpenCvSource:
    """A video file or a V4L2 device through cv2.VideoCapture (opencv-python-headless)."""

    def __init__(self, target: str | int, api: int, size: tuple[int, int] | None = None) -> None:
        import cv2

        self._capture = cv2.VideoCapture(target, api)
        if not self._capture.isOpened():
            raise CameraError(f"OpenCV cannot open {target!r}")
        if size is not None:
            self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])

    def read(self) -> Frame | None:
        ok, bgr = self._capture.read()
        return _rgb(bgr) if ok else None

    def close(self) -> None:
        self._capture.release()


class PicameraSource:
    """A Raspberry Pi camera module through Picamera2 (Pi OS: apt install python3-picamera2)."""

    def __init__(self, index: int, size: tuple[int, int]) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError as exc:
            raise CameraError("picamera: install python3-picamera2 (Raspberry Pi OS)") from exc
        try:
            self._camera = Picamera2(index)
            config = self._camera.create_preview_configuration(
                main={"size": size, "format": "RGB888"})
            self._camera.configure(config)
            self._camera.start()
        except (RuntimeError, IndexError) as exc:
            raise CameraError(f"picamera {index}: {exc}") from exc

    def read(self) -> Frame | None:
        # libcamera's "RGB888" is B,G,R in memory (its DRM naming): the same order as OpenCV
        return _rgb(self._camera.capture_array("main"))

    def close(self) -> None:
        self._camera.stop()
        self._camera.close()


def open_camera(spec: CameraSpec) -> FrameSource:
    """Open the source a spec names; CameraError when it cannot be opened."""
    size = (spec.width, spec.height)
    if spec.kind == "images":
        return ImageSequenceSource(Path(spec.target))
    if spec.kind == "picamera":
        return PicameraSource(int(spec.target), size)
    import cv2

    if spec.kind == "video":
        if not Path(spec.target).is_file():
            raise CameraError(f"video file {spec.target} does not exist")
        return OpenCvSource(spec.target, cv2.CAP_ANY)
    device: str | int = int(spec.target) if spec.target.isdigit() else spec.target
    return OpenCvSource(device, cv2.CAP_V4L2, size)


def frames(source: FrameSource, limit: int) -> Iterator[Frame]:
    """At most `limit` frames, ending early when the source has none."""
    for _ in range(limit):
        frame = source.read()
        if frame is None:
            return
        yield frame


def wipe(frames_: Sequence[Frame]) -> None:
    """Overwrite frames in place: the picture is gone even if a reference survives."""
    for frame in frames_:
        if frame.flags.writeable:
            frame.fill(0)
