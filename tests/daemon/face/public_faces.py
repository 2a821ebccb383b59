"""The real public faces of daemon/harness/face_samples.py for the tests: fetched with pip into the
cache once (CI caches it). A missing download FAILS the tests (pytest.fail), never skips them."""

from __future__ import annotations

import pytest

from myna_reader.daemon.harness.face_samples import SampleError
from myna_reader.daemon.harness.face_samples import load_faces as fetch_faces
from myna_reader.drivers.camera import Frame


def load_faces() -> dict[str, Frame]:
    try:
        return fetch_faces()
    except SampleError as exc:
        pytest.fail(str(exc), pytrace=False)
