"""Liveness on real faces. What these tests can show: a flat picture moved, scaled, rotated,
sheared or tilted towards the camera (perspective) in front of the camera never passes the
head-turn challenge, for either direction; and real 3D pose change passes. There is no video
of a head turn here: the 'turn' is a different real photo of the same person whose head is
turned (obama2: turned to his right, obama3: to his left), placed at the same spot. That is
real parallax of a real head, but not a continuous turn, and lighting and expression change
too. What they cannot show: a replayed video of the patient, a 3D mask, two photos of the
patient in two poses swapped in front of the camera; nor how real patients at a real counter
perform. One photo tilted 35-50 degrees about a DIAGONAL axis used to pass: the 5-point
predictor reads it as a head turn, asymmetry included. The planarity check
(daemon/face/planarity.py) now refuses it: its turned frames moved from the baseline by one
homography. On the real side, the two real photos of a head turn cannot be feature-matched
with each other at all (different sittings), so the planarity check does not judge them: these
tests show that it stops flat pictures, NOT that it lets a real, continuously turning head
through. That needs recordings of real people (docs/face-auth.md)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from myna_reader.daemon.face.liveness import HeadTurnChallenge, Outcome, Turn, pose_of
from myna_reader.daemon.face.model import FaceModel
from myna_reader.daemon.face.planarity import face_features, moved_as_a_plane
from myna_reader.daemon.harness.face_samples import placed
from myna_reader.drivers.camera import Frame
from tests.daemon.face.media import noisy, similarity, tilted

TURN_RATIO = 0.10  # the config default


def run(model: FaceModel, frames: list[Frame], turn: Turn) -> Outcome:
    challenge = HeadTurnChallenge(TURN_RATIO, turn)
    for frame in frames:
        challenge.feed(model.faces(frame), frame)
    challenge.forget()
    return challenge.outcome


def test_a_real_pose_change_passes_both_ways(model: FaceModel,
                                             faces: dict[str, Frame]) -> None:
    front = placed(model, faces["obama"])
    left = placed(model, faces["obama3"])  # his head turned to his left
    right = placed(model, faces["obama2"])
    assert run(model, [front] * 4 + [left] * 2 + [front] * 2, Turn.LEFT) is Outcome.LIVE
    assert run(model, [front] * 4 + [right] * 2 + [front] * 2, Turn.RIGHT) is Outcome.LIVE


def test_a_turn_the_wrong_way_does_not_pass(model: FaceModel, faces: dict[str, Frame]) -> None:
    front = placed(model, faces["obama"])
    right = placed(model, faces["obama2"])
    assert run(model, [front] * 4 + [right] * 3 + [front] * 2, Turn.LEFT) is not Outcome.LIVE


@pytest.mark.parametrize("name", ["obama", "hopper", "collins", "biden"])
@pytest.mark.parametrize("turn", list(Turn))
def test_a_still_photo_fails(model: FaceModel, faces: dict[str, Frame], name: str,
                             turn: Turn) -> None:
    front = placed(model, faces[name])
    assert run(model, [front] * 12, turn) is not Outcome.LIVE  # the same frame repeated
    moves = [similarity(front, angle, scale, (dx, 0.0)) for angle, scale, dx in (
        (0, 1.0, 0), (0, 1.0, 0), (0, 1.0, 0), (4, 1.05, 20), (8, 1.1, 40), (-6, 0.9, -30),
        (0, 1.2, 60), (0, 0.85, -60), (0, 1.0, 0), (0, 1.0, 0))]
    assert run(model, moves, turn) is not Outcome.LIVE  # moved, rotated, scaled


TILTS = (20.0, 35.0, 50.0)
AXES = (0.0, 45.0, 90.0, 135.0)  # vertical, both diagonals, horizontal


@pytest.mark.parametrize("name", ["obama", "hopper", "collins", "biden"])
@pytest.mark.parametrize(("axis", "distance", "affine"),
                         [(a, d, aff) for a in AXES for d, aff in ((1.0, True), (1.0, False),
                                                                   (0.7, False))])
def test_a_photo_tilted_towards_the_camera_fails(model: FaceModel, faces: dict[str, Frame],
                                                 name: str, axis: float, distance: float,
                                                 affine: bool) -> None:
    """Sheared/squashed (affine) and perspective tilts of a still, both signs, 20-50 deg."""
    front = placed(model, faces[name])
    for sign, turn in itertools.product((1, -1), Turn):
        frames = [front] * 4 + [tilted(front, sign * t, axis, distance, affine)
                                for t in TILTS] + [front] * 2
        assert run(model, frames, turn) is not Outcome.LIVE, (sign, turn)


def test_pose_measures_ignore_rigid_moves(model: FaceModel, faces: dict[str, Frame]) -> None:
    front = placed(model, faces["hopper"])
    base = pose_of(model.faces(front)[0].points)
    moved = pose_of(model.faces(similarity(front, 10, 1.2, (30.0, 10.0)))[0].points)
    assert abs(moved.yaw - base.yaw) < 0.03
    assert abs(moved.eye_asymmetry - base.eye_asymmetry) < 0.05


def _flat_pair(model: FaceModel, before: Frame, after: Frame) -> bool:
    [face_a], [face_b] = model.faces(before), model.faces(after)
    features_a, features_b = face_features(before, face_a), face_features(after, face_b)
    assert features_a is not None and features_b is not None
    return moved_as_a_plane(features_a, features_b, face_b.width)


def test_the_diagonal_tilt_reads_as_a_turn_and_is_refused_as_flat(
        model: FaceModel, faces: dict[str, Frame]) -> None:
    """The attack that used to pass: its landmarks say 'turned' (so only the planarity check
    stops it), and every such frame moved from the baseline as a plane."""
    front = placed(model, faces["obama"])
    challenge = HeadTurnChallenge(TURN_RATIO, Turn.LEFT)
    for _ in range(4):
        challenge.feed(model.faces(front), front)
    read_as_turn = 0
    for axis, tilt in itertools.product((45.0, 135.0), (-50.0, -35.0, 35.0, 50.0)):
        frame = tilted(front, tilt, axis, 1.0, affine=True)
        [face] = model.faces(frame)
        for turn in Turn:
            challenge.turn = turn
            if challenge.is_turned(pose_of(face.points)):
                read_as_turn += 1
                assert _flat_pair(model, front, frame), (axis, tilt)
    challenge.forget()
    assert read_as_turn >= 4


def test_planarity_on_noisy_flat_pictures_and_on_two_real_photos(
        model: FaceModel, faces: dict[str, Frame]) -> None:
    """Flat: every tilt and axis of a noisy still is planar. Real (two photos of one head in
    two poses): not judged planar, because they barely match (see the module docstring)."""
    rng = np.random.default_rng(1)
    judged = 0
    for name in ("obama", "collins"):
        front = placed(model, faces[name])
        for axis, tilt in itertools.product(AXES, (-50.0, -20.0, 35.0)):
            after = noisy(tilted(front, tilt, axis, 0.7), rng)
            if len(model.faces(after)) != 1:
                continue  # no face found: the challenge does not count such a frame either
            assert _flat_pair(model, noisy(front, rng), after), (name, axis, tilt)
            judged += 1
    assert judged >= 18  # of 24 (19 on this material)
    front = placed(model, faces["obama"])
    for other in ("obama2", "obama3"):
        assert not _flat_pair(model, front, placed(model, faces[other]))
