"""Real public-domain (or package-shipped) faces, fetched at test time: never committed.

Sources (reference face-auth.md §2), each pinned, downloaded once with pip into a cache
directory ($MYNA_FACE_CACHE, default ~/.cache/myna-reader/faces; CI caches it) and unpacked
from the archive; nothing is installed:
- face_recognition 1.3.0 sdist: obama.jpg, obama2.jpg, obama3.jpg (one person, three photos),
  biden.jpg;
- matplotlib 3.11.2 wheel: grace_hopper.jpg (US Navy photo, public domain);
- scikit-image 0.26.0 wheel: astronaut.png (Eileen Collins, NASA, public domain).
A missing download FAILS the tests (pytest.fail), never skips them.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from myna_reader.drivers.camera import Frame

ARCHIVES = {
    # (pip requirement, binary?) -> {name: member path inside the archive}
    ("face_recognition==1.3.0", False): {
        "obama": "face_recognition-1.3.0/tests/test_images/obama.jpg",
        "obama2": "face_recognition-1.3.0/tests/test_images/obama2.jpg",
        "obama3": "face_recognition-1.3.0/tests/test_images/obama3.jpg",
        "biden": "face_recognition-1.3.0/tests/test_images/biden.jpg",
    },
    ("matplotlib==3.11.2", True): {
        "hopper": "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
    },
    ("scikit-image==0.26.0", True): {
        "collins": "skimage/data/astronaut.png",
    },
}
PERSON = {"obama": "obama", "obama2": "obama", "obama3": "obama", "biden": "biden",
          "hopper": "hopper", "collins": "collins"}


def cache_dir() -> Path:
    root = os.environ.get("MYNA_FACE_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "myna-reader" / "faces"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _archive(requirement: str, binary: bool, folder: Path) -> Path:
    name = requirement.split("==", maxsplit=1)[0].replace("-", "_").lower()
    found = [p for p in folder.iterdir() if p.name.lower().replace("-", "_").startswith(name)]
    if found:
        return found[0]
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(folder),
               "--only-binary" if binary else "--no-binary", ":all:", requirement]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = [p for p in folder.iterdir() if p.name.lower().replace("-", "_").startswith(name)]
    if done.returncode != 0 or not found:
        pytest.fail(f"cannot fetch the test faces ({requirement}): {done.stderr[-500:]}",
                    pytrace=False)
    return found[0]


def _member(archive: Path, member: str) -> bytes:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            return wheel.read(member)
    with tarfile.open(archive) as sdist:
        extracted = sdist.extractfile(member)
        assert extracted is not None, member
        return extracted.read()


def load_faces() -> dict[str, Frame]:
    """name -> RGB array of every face above (held in memory only)."""
    folder = cache_dir()
    faces: dict[str, Frame] = {}
    for (requirement, binary), members in ARCHIVES.items():
        archive = _archive(requirement, binary, folder)
        for name, member in members.items():
            with Image.open(io.BytesIO(_member(archive, member))) as image:
                faces[name] = np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    return faces
