"""The chip photo: 券面AP EF 0002 DF27, a greyscale JPEG 2000, decoded with Pillow's bundled
OpenJPEG into an RGB frame for the face model. Nothing is written to disk."""

from __future__ import annotations

import io

import numpy as np

from myna_reader.drivers.camera import Frame
from myna_reader.drivers.errors import FormatError

JP2_MAGIC = bytes.fromhex("0000000C6A5020200D0A870A")  # docs/card-protocol.md §10.7
J2K_MAGIC = bytes.fromhex("FF4FFF51")  # a bare codestream (some encoders)
MAX_SIDE = 1024  # the card's photo is a few KB; anything larger is not a card photo


class ChipPhotoError(FormatError):
    """DF27 is not a JPEG 2000 face photo Pillow can decode."""


def decode_chip_photo(data: bytes) -> Frame:
    from PIL import Image, UnidentifiedImageError

    if not data.startswith((JP2_MAGIC, J2K_MAGIC)):
        raise ChipPhotoError("the card's photo is not JPEG 2000")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) > MAX_SIDE:
                raise ChipPhotoError("the card's photo is larger than a card photo can be")
            return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ChipPhotoError("the card's photo cannot be decoded") from exc
