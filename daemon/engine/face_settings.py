"""The `[face]` table of config.toml: the switch, the two cameras, the decision thresholds.

    [face]
    available = false          # offer face authentication (needs both cameras and the models)
    patient_camera = "v4l2:0"  # drivers/camera.py specs; the two roles may share a device
    card_camera = "v4l2:0"
    threshold = 0.45           # max 128-d distance chip photo - live face (calibrate: docs)
    agreeing_frames = 3        # consecutive live frames that must agree before a decision
    attempts = 1               # face attempts per card session before PIN / staff (2: kinder)
    turn_ratio = 0.10          # head-turn challenge: nose shift / eye distance to reach
    ocr_min_score = 0.90       # RapidOCR line score below which the card must be straightened
    time_limit_s = 40          # the whole face job (card OCR, chip, live frames)

FaceSettings is that table's schema (daemon/engine/schema.py): its fields are the keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from myna_reader.daemon.engine.schema import KeyRule, require_valid, seconds, setting
from myna_reader.drivers.camera_spec import CameraSpecError, parse_camera_spec

# dlib's own default is 0.6; at 0.6 two different public-domain faces came within 0.63 of each
# other (docs/face-auth.md, "Models, sample faces and their sources"), so the default is
# stricter. Calibrate on site.
DEFAULT_THRESHOLD = 0.45
THRESHOLD_RANGE = (0.30, 0.60)


def _camera_problem(spec: str) -> str | None:
    try:
        parse_camera_spec(spec)
    except CameraSpecError as exc:
        return str(exc)
    return None


CAMERA = KeyRule(check=_camera_problem)


@dataclass(frozen=True, slots=True)
class FaceSettings:
    available: bool = False
    patient_camera: str = setting("v4l2:0", CAMERA)
    card_camera: str = setting("v4l2:0", CAMERA)
    threshold: float = setting(DEFAULT_THRESHOLD, KeyRule(low=THRESHOLD_RANGE[0],
                                                       high=THRESHOLD_RANGE[1]))
    agreeing_frames: int = setting(3, KeyRule(low=1, high=10))
    attempts: int = setting(1, KeyRule(low=1, high=5))
    turn_ratio: float = setting(0.10, KeyRule(low=0.05, high=0.5))
    ocr_min_score: float = setting(0.90, KeyRule(low=0.5, high=1.0))
    time_limit_s: float = seconds(40.0, 10.0, 300.0)

    def __post_init__(self) -> None:
        require_valid(self)
