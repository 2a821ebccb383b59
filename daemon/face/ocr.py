"""The card camera's OCR: RapidOCR 3.x with the PP-OCR models inside its wheel (no download).

Loaded once (about a second) and kept; each `read` takes one frame and gives its text lines.
RapidOCR's own logger only names model files; it is still held at WARNING so that no future
version can put recognised text (a name, an address) into the daemon's log.
"""

from __future__ import annotations

import logging
from typing import Any

from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.face.card_number import TextLine
from myna_reader.drivers.camera import Frame


class OcrUnavailableError(DaemonError, RuntimeError):
    """RapidOCR or its models are not installed (the `face` extra)."""


class CardOcr:
    def __init__(self) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise OcrUnavailableError("install rapidocr and onnxruntime (the face extra)") from exc
        self._engine: Any = RapidOCR(params={"Global.log_level": "warning"})
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)  # its constructor sets a level

    def read(self, frame: Frame) -> list[TextLine]:
        result = self._engine(frame)
        texts = result.txts or ()
        scores = result.scores or ()
        return [TextLine(str(t), float(s)) for t, s in zip(texts, scores, strict=True)]


def ocr_version() -> str | None:
    """The installed RapidOCR version, or None (for `doctor`)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rapidocr")
    except PackageNotFoundError:
        return None
