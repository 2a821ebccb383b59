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

Parsed by `session_config_from_mapping` (daemon/engine/settings.py); errors name the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from myna_reader.daemon.engine.errors import SessionConfigError
from myna_reader.drivers.camera_spec import parse_camera_spec

# dlib's own default is 0.6; at 0.6 two different public-domain faces came within 0.63 of each
# other (reference face-auth.md §1), so the default is stricter. Calibrate on site.
DEFAULT_THRESHOLD = 0.45
THRESHOLD_RANGE = (0.30, 0.60)


@dataclass(frozen=True, slots=True)
class FaceSettings:
    available: bool = False
    patient_camera: str = "v4l2:0"
    card_camera: str = "v4l2:0"
    threshold: float = DEFAULT_THRESHOLD
    agreeing_frames: int = 3
    attempts: int = 1
    turn_ratio: float = 0.10
    ocr_min_score: float = 0.90
    time_limit_s: float = 40.0

    def __post_init__(self) -> None:
        if not isinstance(self.available, bool):
            raise SessionConfigError("face.available", "set true or false")
        for key in ("patient_camera", "card_camera"):
            value = getattr(self, key)
            try:
                parse_camera_spec(value if isinstance(value, str) else "")
            except ValueError as exc:
                raise SessionConfigError(f"face.{key}", str(exc)) from None
        _number("threshold", self.threshold, *THRESHOLD_RANGE)
        _whole("agreeing_frames", self.agreeing_frames, 1, 10)
        _whole("attempts", self.attempts, 1, 5)
        _number("turn_ratio", self.turn_ratio, 0.05, 0.5)
        _number("ocr_min_score", self.ocr_min_score, 0.5, 1.0)
        _number("time_limit_s", self.time_limit_s, 10.0, 300.0)


def _number(key: str, value: object, low: float, high: float) -> None:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not low <= value <= high):
        raise SessionConfigError(f"face.{key}", f"set a number between {low:g} and {high:g}")


def _whole(key: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SessionConfigError(f"face.{key}", f"set a whole number {low}..{high}")


FACE_KEYS = tuple(FaceSettings.__dataclass_fields__)


def face_settings_from_mapping(raw: Mapping[str, object]) -> FaceSettings:
    """The `[face]` table (unknown keys already rejected by the caller)."""
    return FaceSettings(**raw)  # type: ignore[arg-type]  # checked in __post_init__
