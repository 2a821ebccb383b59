"""Planarity: did the face move between two frames the way a flat picture moves?

A flat picture (a print, a phone screen) moved, tilted or bent slightly in front of the camera
maps from one frame to the next by a plane homography; a head turning does not (the nose,
brows and cheeks lie at different depths: a 15 degree turn shifts the nose some 10 px against
the cheeks at a 200 px face). The 5 dlib landmarks cannot show this: 4 of them are eye corners
on nearly one line, so a homography fits the nose for free and only the eye corners' cross
ratio is left (measured: a real pose change left a residual of 0.004 eye distances, flat
pictures 0.001-0.013, docs/face-auth.md). So the check uses image features inside the face
box: SIFT points of the baseline face matched to the turned face, a RANSAC homography, and the
share of matches it explains.

`moved_as_a_plane` says True only on positive evidence (enough matches, most of them on one
homography); a frame that cannot be matched (blur, a different picture) is not judged. Features
and descriptors are not a picture, but they are of a face: held by the challenge for one
attempt and zeroed by `FaceFeatures.wipe`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from myna_reader.daemon.face.model import Face
from myna_reader.drivers.camera import Frame

MIN_MATCHES = 16  # flat pictures gave 30 or more (tilted up to 50 degrees, 4 faces)
RATIO_TEST = 0.75  # Lowe's ratio: a match must be clearly better than the runner-up
RANSAC_FACE_SHARE = 0.015  # reprojection tolerance per face width: 3 px at a 200 px face
PLANAR_SHARE = 0.6  # flat pictures: 0.73 or more of the matches on one homography


@dataclass(slots=True)
class FaceFeatures:
    points: npt.NDArray[np.float32]  # (n, 2) keypoint positions in the frame
    descriptors: npt.NDArray[np.float32]  # (n, 128) SIFT descriptors

    def wipe(self) -> None:
        self.points.fill(0.0)
        self.descriptors.fill(0.0)


def face_features(frame: Frame, face: Face) -> FaceFeatures | None:
    """SIFT keypoints inside the face box (not the background: a static background would fit
    the identity homography behind a real, turning head)."""
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    mask = np.zeros(grey.shape, dtype=np.uint8)
    left, top, right, bottom = face.box
    mask[max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)] = 255
    keypoints, descriptors = cv2.SIFT.create().detectAndCompute(grey, mask)
    grey.fill(0)
    if descriptors is None or len(keypoints) < MIN_MATCHES:
        return None
    points = np.array([k.pt for k in keypoints], dtype=np.float32)
    return FaceFeatures(points, np.asarray(descriptors, dtype=np.float32))


def moved_as_a_plane(before: FaceFeatures, after: FaceFeatures, face_width: int) -> bool:
    """True when one homography explains most matched features (a flat picture)."""
    import cv2

    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(before.descriptors, after.descriptors, k=2)
    matches = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
    if len(matches) < MIN_MATCHES:
        return False
    source = before.points[[m.queryIdx for m in matches]]
    target = after.points[[m.trainIdx for m in matches]]
    _homography, inliers = cv2.findHomography(source, target, cv2.RANSAC,
                                              RANSAC_FACE_SHARE * max(face_width, 1))
    if inliers is None:
        return False
    return float(inliers.sum()) / len(matches) >= PLANAR_SHARE
