"""Test media made at test time from the public faces: chip photos (greyscale JPEG 2000 of a
few KB, as on the card), 640x480 "live" frames, warped stills (attacks) and synthetic card
faces rendered with a Debian font (clean and camera-degraded). Nothing is written to the
repository; files go to pytest's tmp dirs only."""

from __future__ import annotations

import datetime as dt
import io
import math
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from myna_reader.daemon.face_model import FaceModel
from myna_reader.drivers.camera import Frame

FRAME_SIZE = (640, 480)
LIVE_FACE_WIDTH = 200  # px in a 640x480 frame: a patient about 50 cm from the camera
FONT = Path("/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-Regular.ttf")  # bootstrap apt


def _box(model: FaceModel, image: Frame) -> tuple[int, int, int, int]:
    """The largest face (astronaut.png has a second, tiny false detection when upsampled)."""
    faces = model.faces(image, upsample=1)
    assert faces, "expected a face"
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
    return cv2.warpAffine(image, matrix, FRAME_SIZE, borderValue=(128, 128, 128))


def noisy(frame: Frame, rng: np.random.Generator, sigma: float = 3.0) -> Frame:
    return np.clip(frame + rng.normal(0, sigma, frame.shape), 0, 255).astype(np.uint8)


def live_clip(model: FaceModel, image: Frame, count: int, seed: int = 0) -> list[Frame]:
    """A still-ish 'live' clip: the placed photo with a few px of sway and sensor noise."""
    rng = np.random.default_rng(seed)
    base = placed(model, image)
    return [noisy(cv2.warpAffine(base, np.array([[1, 0, rng.uniform(-4, 4)],
                                                 [0, 1, rng.uniform(-4, 4)]]), FRAME_SIZE,
                                 borderValue=(128, 128, 128)), rng) for _ in range(count)]


# --- attacks: a flat picture moved in front of the camera -----------------------------------


def similarity(frame: Frame, angle_deg: float, scale: float, shift: tuple[float, float],
               ) -> Frame:
    matrix = cv2.getRotationMatrix2D((FRAME_SIZE[0] / 2, FRAME_SIZE[1] / 2), angle_deg, scale)
    matrix[:, 2] += shift
    return cv2.warpAffine(frame, matrix, FRAME_SIZE, borderValue=(128, 128, 128))


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
    return cv2.warpPerspective(frame, matrix, FRAME_SIZE, borderValue=(128, 128, 128))


# --- synthetic card faces ------------------------------------------------------------------

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


def random_holders(count: int, seed: int) -> list[CardHolder]:
    rng = random.Random(seed)
    holders = []
    while len(holders) < count:
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 82 * 365))
        if (birth.month, birth.day) == (2, 29):
            continue
        expiry = dt.date(rng.randrange(2027, 2036), birth.month, birth.day)
        holders.append(CardHolder(birth, expiry, f"{rng.randrange(10000):04d}"))
    return holders


def font(size: int) -> ImageFont.FreeTypeFont:
    if not FONT.is_file():
        pytest.fail(f"{FONT} missing: apt install fonts-morisawa-bizud-gothic", pytrace=False)
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
