"""The decision matrix on real public faces: every chip photo (greyscale JPEG 2000 of a few KB,
made from one photo) against every live clip (made from every photo), decided by the product
code (FaceModel + FrameAgreement) at the default threshold. Same person: the three different
Obama photos. Zero false accepts is required; a false reject is reported, not hidden."""

from __future__ import annotations

import pytest

from myna_reader.daemon.engine import FaceSettings
from myna_reader.daemon.face.chip import JP2_MAGIC, decode_chip_photo
from myna_reader.daemon.face.model import Embedding, FaceModel, distance
from myna_reader.daemon.face.verify import FrameAgreement, Verdict
from myna_reader.daemon.harness.face_samples import PERSON, chip_photo
from myna_reader.drivers.camera import Frame
from tests.daemon.face.media import live_clip

SETTINGS = FaceSettings()
CLIP_FRAMES = 4


def embed_one(model: FaceModel, image: Frame, upsample: int = 0) -> Embedding:
    found = model.faces(image, upsample)
    assert len(found) == 1
    return model.embed(image, found[0])


def decide(reference: Embedding, clip: list[Embedding]) -> tuple[Verdict | None, float]:
    agreement = FrameAgreement(SETTINGS.threshold, SETTINGS.agreeing_frames)
    distances = [distance(live, reference) for live in clip]
    for d in distances:
        agreement.feed(d)
    return agreement.verdict, max(distances)


@pytest.fixture(scope="module")
def matrix(model: FaceModel, faces: dict[str, Frame],
           ) -> dict[tuple[str, str], tuple[Verdict | None, float]]:
    chips = {name: chip_photo(model, image) for name, image in faces.items()}
    for chip in chips.values():
        assert chip.startswith(JP2_MAGIC)
        assert 1500 < len(chip) < 6000  # a few KB, like the card's
    references = {name: embed_one(model, decode_chip_photo(chip), upsample=1)
                  for name, chip in chips.items()}
    clips = {name: [embed_one(model, frame) for frame in live_clip(model, image, CLIP_FRAMES, i)]
             for i, (name, image) in enumerate(faces.items())}
    return {(c, v): decide(references[c], clips[v]) for c in chips for v in clips}


def test_no_false_accept(matrix: dict[tuple[str, str], tuple[Verdict | None, float]]) -> None:
    for (chip, live), (verdict, worst) in matrix.items():
        print(f"chip {chip:8s} live {live:8s} {verdict} max distance {worst:.3f}")
        if PERSON[chip] != PERSON[live]:
            assert verdict is Verdict.NO_MATCH, (chip, live, worst)


def test_the_same_person_is_accepted_against_a_frontal_photo(
        matrix: dict[tuple[str, str], tuple[Verdict | None, float]]) -> None:
    """Same photo: accepted. The frontal obama.jpg against the two others, both ways:
    accepted. obama2 <-> obama3 (both heads turned, opposite ways, years apart) sit at
    0.44-0.50: at the strict default they are refused or undecided. That is a false reject
    (the patient falls back to the PIN or staff), reported in docs/face-auth.md."""
    same = [(c, v) for c, v in matrix if PERSON[c] == PERSON[v]]
    assert len(same) == 9 + 3  # obama x3 both ways + biden, hopper, collins against itself
    accepted = [pair for pair in same if matrix[pair][0] is Verdict.MATCH]
    print(f"same person accepted: {len(accepted)}/{len(same)}")
    assert all(matrix[(name, name)][0] is Verdict.MATCH for name in PERSON)
    for other in ("obama2", "obama3"):
        assert matrix[("obama", other)][0] is Verdict.MATCH
        assert matrix[(other, "obama")][0] is Verdict.MATCH


def test_different_people_are_far_from_the_threshold(
        matrix: dict[tuple[str, str], tuple[Verdict | None, float]]) -> None:
    nearest = min(worst for (c, v), (_d, worst) in matrix.items() if PERSON[c] != PERSON[v])
    print(f"nearest different-person max distance {nearest:.3f}")
    assert nearest > SETTINGS.threshold + 0.1


def test_a_decision_needs_consecutive_agreeing_frames() -> None:
    agreement = FrameAgreement(0.45, 3)
    assert [agreement.feed(d) for d in (0.3, 0.3, 0.6, 0.3, 0.3)] == [None] * 5
    assert agreement.feed(0.3) is Verdict.MATCH
    assert agreement.feed(0.9) is Verdict.MATCH  # latched: later frames do not flip it
    assert agreement.last is Verdict.NO_MATCH
