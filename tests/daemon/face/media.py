"""Test-only media made from the public faces (the shared ones, chip photos, placed frames
and card faces, are in daemon/harness/face_samples.py): still-ish live clips, warped stills
(attacks) and random card holders. Nothing is written to the repository; files go to
pytest's tmp dirs."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import cast

import cv2
import numpy as np

from myna_reader.daemon.face.model import FaceModel
from myna_reader.daemon.harness.face_samples import FRAME_SIZE, CardHolder, placed
from myna_reader.drivers.camera import Frame


def _frame(image: cv2.typing.MatLike) -> Frame:
    # cv2's stubs type every image as a MatLike of any dtype; a warp of a uint8 frame is uint8
    return cast(Frame, image)


def noisy(frame: Frame, rng: np.random.Generator, sigma: float = 3.0) -> Frame:
    return np.clip(frame + rng.normal(0, sigma, frame.shape), 0, 255).astype(np.uint8)


def live_clip(model: FaceModel, image: Frame, count: int, seed: int = 0) -> list[Frame]:
    """A still-ish 'live' clip: the placed photo with a few px of sway and sensor noise."""
    rng = np.random.default_rng(seed)
    base = placed(model, image)
    return [noisy(_frame(cv2.warpAffine(base, np.array([[1, 0, rng.uniform(-4, 4)],
                                                        [0, 1, rng.uniform(-4, 4)]]),
                                        FRAME_SIZE, borderValue=(128, 128, 128))), rng)
            for _ in range(count)]


# --- attacks: a flat picture moved in front of the camera -----------------------------------


def similarity(frame: Frame, angle_deg: float, scale: float, shift: tuple[float, float],
               ) -> Frame:
    matrix = cv2.getRotationMatrix2D((FRAME_SIZE[0] / 2, FRAME_SIZE[1] / 2), angle_deg, scale)
    matrix[:, 2] += np.array(shift)
    return _frame(cv2.warpAffine(frame, matrix, FRAME_SIZE, borderValue=(128, 128, 128)))


def tilted(frame: Frame, tilt_deg: float, axis_deg: float, distance: float,
           affine: bool = False) -> Frame:
    """The frame as a flat picture rotated by `tilt_deg` about an in-plane axis at `axis_deg`
    (0: vertical) through its centre, seen by a pinhole camera (focal = frame width) from
    `distance` focal lengths; `affine=True` drops the perspective (a far, orthographic view:
    a pure shear/squash)."""
    w, h = FRAME_SIZE
    f = float(w)
    a, t = math.radians(axis_deg), math.radians(tilt_deg)
    axis = np.array([math.sin(a), math.cos(a), 0.0])
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * k @ k
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    out = []
    for x, y in corners:
        p = rotation @ np.array([x - w / 2, y - h / 2, 0.0])
        if affine:
            out.append((p[0] / distance + w / 2, p[1] / distance + h / 2))
        else:
            z = distance * f + p[2]
            out.append((f * p[0] / z + w / 2, f * p[1] / z + h / 2))
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32),
                                         np.array(out, dtype=np.float32))
    return _frame(cv2.warpPerspective(frame, matrix, FRAME_SIZE, borderValue=(128, 128, 128)))


# --- synthetic card holders --------------------------------------------------------------


def random_holders(count: int, seed: int) -> list[CardHolder]:
    rng = random.Random(seed)
    holders: list[CardHolder] = []
    while len(holders) < count:
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 82 * 365))
        if (birth.month, birth.day) == (2, 29):
            continue
        expiry = dt.date(rng.randrange(2027, 2036), birth.month, birth.day)
        holders.append(CardHolder(birth, expiry, f"{rng.randrange(10000):04d}"))
    return holders
