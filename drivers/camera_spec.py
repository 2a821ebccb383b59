"""Camera specs as config names them (drivers/camera.py opens them); no imaging imports here,
so the config loader can check a spec on a reader without the face extra.

    v4l2:0 | v4l2:/dev/video2 | picamera:0 | video:/path/clip.avi | images:/path/dir
"""

from __future__ import annotations

from dataclasses import dataclass

from myna_reader.drivers.errors import FormatError

SPEC_KINDS = ("v4l2", "picamera", "video", "images")


class CameraSpecError(FormatError):
    """A camera spec of none of the known forms (a ValueError, as FormatError is)."""


@dataclass(frozen=True, slots=True)
class CameraSpec:
    kind: str
    target: str
    width: int = 640
    height: int = 480

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


def parse_camera_spec(text: str) -> CameraSpec:
    """A spec of the module docstring's forms; CameraSpecError names the forms."""
    kind, sep, target = text.partition(":")
    if not sep or kind not in SPEC_KINDS or not target:
        forms = ", ".join(k + ":..." for k in SPEC_KINDS)
        raise CameraSpecError(f"a camera spec is one of {forms}")
    if kind in ("v4l2", "picamera") and not (target.isdigit() or target.startswith("/dev/")):
        raise CameraSpecError(f"{kind}: give a device number or a /dev path")
    return CameraSpec(kind, target)
