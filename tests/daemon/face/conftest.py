"""Session fixtures of the face tests: the real dlib model, the real RapidOCR engine and the
public faces (tests/daemon/face/public_faces.py). No fakes: a missing part fails the tests."""

from __future__ import annotations

import pytest

from myna_reader.daemon.face.model import FaceModel
from myna_reader.daemon.face.ocr import CardOcr
from myna_reader.drivers.camera import Frame
from tests.daemon.face.public_faces import load_faces


@pytest.fixture(scope="session")
def model() -> FaceModel:
    return FaceModel()


@pytest.fixture(scope="session")
def ocr() -> CardOcr:
    return CardOcr()


@pytest.fixture(scope="session")
def faces() -> dict[str, Frame]:
    return load_faces()
