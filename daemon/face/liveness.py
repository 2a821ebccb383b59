"""Liveness: a head-turn challenge the patient follows on screen, judged on dlib's 5 landmarks.

Two measures per frame, both unchanged when a flat picture is moved, scaled, rotated or
sheared in the image (any affine map keeps ratios along one line):
- `yaw`: the nose base's offset along the eye line, over the distance between the eyes. A
  real head turn moves the nose (2-3 cm in front of the eyes) sideways: parallax.
- `eye_asymmetry`: log(width of one eye / width of the other). A real turn narrows the far
  eye (the face is curved); a flat picture keeps the ratio under any affine map.
A turn counts only when yaw moves the asked way by `turn_ratio` AND the asymmetry moves the
other way in proportion (MIN_PARALLAX..MAX_PARALLAX of the yaw change): an affine-warped
photo gives no asymmetry change; a photo tilted towards the camera (perspective) gives far
more asymmetry than nose shift. The 5-point predictor can still read a photo tilted about a
diagonal axis as a turn, asymmetry included; so a turned frame counts only when the face did
not move from the last baseline frame as a flat picture does (daemon/face/planarity.py). What
this cannot stop is in docs/face-auth.md (a video replay of the same person; two photos of the
patient in two poses; no blink: the 5-point model has no eyelids).

Sequence: look straight (baseline) -> turn the asked way (random) -> look straight again.
Exactly one face per frame, and it may not jump between frames (no swapping people).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from myna_reader.daemon.engine import FacePrompt
from myna_reader.daemon.face.model import Face, Points
from myna_reader.daemon.face.planarity import FaceFeatures, face_features, moved_as_a_plane
from myna_reader.drivers.camera import Frame

CENTRE_BAND = 0.06  # |yaw - baseline| below this: looking straight
MIN_PARALLAX = 0.3  # asymmetry change per yaw change, a real face: about 0.8-0.9
MAX_PARALLAX = 3.0  # a tilted flat picture: about 8
MAX_ROLL_CHANGE_DEG = 15.0
BASELINE_FRAMES = 3
TURN_FRAMES = 2
MAX_JUMP = 0.6  # face centre shift between frames, in face widths
MAX_SCALE_STEP = 1.5
MAX_MISSES = 5  # frames without exactly one face before the challenge fails


class Turn(StrEnum):
    """The patient's own left/right; on a camera facing them their left is the image right."""

    LEFT = "left"
    RIGHT = "right"

    @property
    def image_sign(self) -> int:
        return 1 if self is Turn.LEFT else -1


@dataclass(frozen=True, slots=True)
class Pose:
    yaw: float
    eye_asymmetry: float
    roll_deg: float


def pose_of(points: Points) -> Pose:
    """The two measures (module docstring) and the eye line's angle, from 5 landmarks."""
    eye_a = points[0:2].mean(axis=0)
    eye_b = points[2:4].mean(axis=0)
    axis = eye_a - eye_b
    spacing = float(np.linalg.norm(axis))
    if spacing < 1.0:
        return Pose(0.0, 0.0, 0.0)
    unit = axis / spacing
    yaw = float(np.dot(points[4] - (eye_a + eye_b) / 2, unit)) / spacing
    width_a = float(np.linalg.norm(points[0] - points[1]))
    width_b = float(np.linalg.norm(points[2] - points[3]))
    asymmetry = math.log(max(width_a, 1.0) / max(width_b, 1.0))
    return Pose(yaw, asymmetry, math.degrees(math.atan2(axis[1], axis[0])))


class Outcome(StrEnum):
    PENDING = "pending"
    LIVE = "live"
    FAILED = "failed"


class Stage(StrEnum):
    BASELINE = "baseline"
    TURN = "turn"
    RETURN = "return"


class HeadTurnChallenge:
    """Feed one frame and its faces at a time; `outcome` says when it is decided. `forget`
    zeroes the baseline face's features (the owner calls it when the attempt ends)."""

    def __init__(self, turn_ratio: float, turn: Turn | None = None) -> None:
        self.turn = turn or secrets.choice((Turn.LEFT, Turn.RIGHT))
        self._turn_ratio = turn_ratio
        self.stage = Stage.BASELINE
        self.outcome = Outcome.PENDING
        self._poses: list[Pose] = []
        self._baseline: Pose | None = None
        self._turned = 0
        self._misses = 0
        self._last: Face | None = None
        self._baseline_features: FaceFeatures | None = None

    @property
    def prompt(self) -> FacePrompt:
        if self.stage is Stage.TURN:
            return FacePrompt.TURN_LEFT if self.turn is Turn.LEFT else FacePrompt.TURN_RIGHT
        return FacePrompt.LOOK_STRAIGHT

    def feed(self, faces: list[Face], frame: Frame) -> Outcome:
        if self.outcome is not Outcome.PENDING:
            return self.outcome
        if len(faces) != 1 or not self._continuous(faces[0]):
            self._misses += 1
            if self._misses > MAX_MISSES:
                self.outcome = Outcome.FAILED
            self._last = None if len(faces) != 1 else self._last
            return self.outcome
        face = faces[0]
        self._last = face
        pose = pose_of(face.points)
        if self.stage is Stage.BASELINE:
            self._baseline_step(pose, frame, face)
        elif self.stage is Stage.TURN:
            self._turn_step(pose, frame, face)
        elif abs(pose.yaw - self._base().yaw) < CENTRE_BAND:
            self.outcome = Outcome.LIVE
        return self.outcome

    def _base(self) -> Pose:
        assert self._baseline is not None, "set when the baseline stage ends"
        return self._baseline

    def _continuous(self, face: Face) -> bool:
        last = self._last
        if last is None:
            return True
        centre = np.array(face.box[:2]) + np.array(face.box[2:])
        last_centre = np.array(last.box[:2]) + np.array(last.box[2:])
        jump = float(np.linalg.norm(centre - last_centre)) / 2 / max(last.width, 1)
        scale = face.width / max(last.width, 1)
        return jump <= MAX_JUMP and 1 / MAX_SCALE_STEP <= scale <= MAX_SCALE_STEP

    def forget(self) -> None:
        if self._baseline_features is not None:
            self._baseline_features.wipe()
            self._baseline_features = None

    def _baseline_step(self, pose: Pose, frame: Frame, face: Face) -> None:
        if self._poses and abs(pose.yaw - self._poses[-1].yaw) >= CENTRE_BAND:
            self._poses = []  # not holding still yet
        self._poses.append(pose)
        if len(self._poses) >= BASELINE_FRAMES:
            self._baseline = Pose(*(float(np.median([getattr(p, name) for p in self._poses]))
                                    for name in ("yaw", "eye_asymmetry", "roll_deg")))
            self._baseline_features = face_features(frame, face)
            self.stage = Stage.TURN

    def _turn_step(self, pose: Pose, frame: Frame, face: Face) -> None:
        if self.is_turned(pose) and not self._flat(frame, face):
            self._turned += 1
            if self._turned >= TURN_FRAMES:
                self.stage = Stage.RETURN
        else:
            self._turned = 0

    def is_turned(self, pose: Pose) -> bool:
        """Turned the asked way, with the asymmetry change of a solid face."""
        base = self._base()
        yaw_change = pose.yaw - base.yaw
        if yaw_change * self.turn.image_sign < self._turn_ratio:
            return False
        parallax = -(pose.eye_asymmetry - base.eye_asymmetry) / yaw_change
        roll_change = abs((pose.roll_deg - base.roll_deg + 180) % 360 - 180)
        return MIN_PARALLAX <= parallax <= MAX_PARALLAX and roll_change <= MAX_ROLL_CHANGE_DEG

    def _flat(self, frame: Frame, face: Face) -> bool:
        """The face moved from the baseline as a flat picture moves (module docstring)."""
        if self._baseline_features is None:
            return False  # a baseline face too plain to match: not judged
        turned = face_features(frame, face)
        if turned is None:
            return False
        try:
            return moved_as_a_plane(self._baseline_features, turned, face.width)
        finally:
            turned.wipe()
