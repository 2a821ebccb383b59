"""`myna-reader bench face`: card placed to face decision on this machine, split by stage.

The run is the product's own `FaceAuth.authenticate` (the code the card worker runs for
MatchFace) on the simulated face card (daemon/harness/face_samples.py: its chip photo a real public
face, greyscale JPEG 2000) with the card I/O timed by the real-card model
(drivers/sim/timing.py, 106 kbps), the card camera three camera-degraded shots of the
synthetic card face (1280x960) and the patient camera a 640x480 clip of the same person:
frontal, head turned both ways (two other real photos), frontal. The cameras are in-memory
frame sources, so camera capture time is not in the figures.

Stages (wall seconds, medians of `runs` after one warm-up run):
- card I/O: every APDU of the attempt (retry counter, VERIFY 照合番号B, EF 0002 photo);
- OCR: RapidOCR on the card frames until two agree;
- chip photo: JPEG 2000 decode, face detection (upsampled) and 128-d descriptor;
- live frames: detection, landmarks, liveness and descriptor per patient frame.
CPU per frame is process CPU time (all threads) per OCR frame and per live frame.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from myna_reader.daemon.engine import FacePrompt, FaceSettings
from myna_reader.daemon.face.auth import FaceAuth
from myna_reader.daemon.face.card_number import TextLine
from myna_reader.daemon.face.model import FaceModel
from myna_reader.daemon.face.ocr import CardOcr
from myna_reader.daemon.harness.face_samples import (
    FACE_CARD_HOLDER,
    camera_shot,
    card_face,
    chip_photo,
    face_card_profile,
    load_faces,
    placed,
)
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.camera import ArraySource, Frame, FrameSource
from myna_reader.drivers.camera_spec import CameraSpec
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.sim.profile import CardProfile
from myna_reader.drivers.sim.timing import TimingModel

CARD_SPEC = "images:bench-card"  # names only: the opener hands out in-memory frames
PATIENT_SPEC = "video:bench-patient"


@dataclass(slots=True)
class _Clock:
    """Wall and CPU seconds spent inside one kind of call."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    calls: int = 0

    def timed(self, call: Callable[[], object]) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return call()
        finally:
            self.wall_s += time.perf_counter() - wall
            self.cpu_s += time.process_time() - cpu
            self.calls += 1


class _TimedOcr(CardOcr):
    def __init__(self, inner: CardOcr) -> None:  # the loaded engine, not a second one
        self._inner = inner
        self.clock = _Clock()

    def read(self, frame: Frame) -> list[TextLine]:
        lines = self.clock.timed(lambda: self._inner.read(frame))
        assert isinstance(lines, list)
        return lines


class _TimedReader(SimReader):
    clock: _Clock

    def transmit(self, apdu: bytes) -> bytes:
        response = self.clock.timed(lambda: super(_TimedReader, self).transmit(apdu))
        assert isinstance(response, bytes)
        return response


@dataclass(frozen=True, slots=True)
class _Media:
    profile: CardProfile
    card_frames: list[Frame]
    live_frames: list[Frame]


def _media(model: FaceModel) -> _Media:
    faces = load_faces()  # SampleError (a DaemonError) reaches the command line as one line
    rng = random.Random(3)  # noqa: S311  (sample media: fixed, reproducible noise)
    card_frames = [camera_shot(card_face(FACE_CARD_HOLDER, faces["obama"]), rng)
                   for _ in range(3)]
    front, left, right = (placed(model, faces[n]) for n in ("obama", "obama3", "obama2"))
    live = [front] * 4 + [left] * 2 + [front] * 3 + [right] * 2 + [front] * 3
    return _Media(face_card_profile(chip_photo(model, faces["obama"])), card_frames, live)


def _one_run(auth: FaceAuth, ocr: _TimedOcr, media: _Media) -> dict[str, float]:
    ocr.clock = _Clock()
    reader = _TimedReader(media.profile, present=False, timing=TimingModel())
    reader.clock = _Clock()
    marks: dict[str, tuple[float, float, float]] = {}  # prompt -> wall, cpu, card I/O so far

    def guide(prompt: FacePrompt) -> None:
        marks.setdefault(prompt.value, (time.perf_counter(), time.process_time(),
                                        reader.clock.wall_s))

    placed_at = time.perf_counter()
    reader.insert()
    reader.connect()
    result = auth.authenticate(MyNumberCard(CardChannel(reader)), guide, number_sent=False)
    end_wall, end_cpu = time.perf_counter(), time.process_time()
    if not result.ok:
        raise RuntimeError(f"the bench's face attempt failed: {result.failure}")
    card_at = marks[FacePrompt.SHOW_CARD.value]
    live_at = marks[FacePrompt.LOOK_STRAIGHT.value]
    frames = result.counts["frames"]
    return {
        "total_s": end_wall - placed_at,
        "card_io_s": reader.clock.wall_s,
        "ocr_s": ocr.clock.wall_s,
        "ocr_frames": ocr.clock.calls,
        "chip_photo_s": live_at[0] - card_at[0] - ocr.clock.wall_s - (live_at[2] - card_at[2]),
        "live_s": end_wall - live_at[0],
        "live_frames": frames,
        "cpu_ms_per_ocr_frame": ocr.clock.cpu_s / max(ocr.clock.calls, 1) * 1e3,
        "cpu_ms_per_live_frame": (end_cpu - live_at[1]) / max(frames, 1) * 1e3,
        "wall_ms_per_live_frame": (end_wall - live_at[0]) / max(frames, 1) * 1e3,
    }


def face_figures(runs: int) -> dict[str, object]:
    """Load times once, then the medians of `runs` attempts (after one warm-up)."""
    start = time.perf_counter()
    model = FaceModel()
    model_load = time.perf_counter() - start
    start = time.perf_counter()
    ocr = _TimedOcr(CardOcr())
    ocr_load = time.perf_counter() - start
    media = _media(model)
    streams = {CARD_SPEC: media.card_frames, PATIENT_SPEC: media.live_frames}

    def opener(spec: CameraSpec) -> FrameSource:
        return ArraySource(streams[str(spec)])

    settings = FaceSettings(available=True, patient_camera=PATIENT_SPEC, card_camera=CARD_SPEC)
    auth = FaceAuth(settings, model, ocr, opener=opener)
    _one_run(auth, ocr, media)  # warm-up: first ONNX inference, caches
    measured = [_one_run(auth, ocr, media) for _ in range(runs)]
    medians = {key: round(statistics.median(run[key] for run in measured), 3)
               for key in measured[0]}
    return {"model_load_s": round(model_load, 3), "ocr_load_s": round(ocr_load, 3),
            "runs": runs, "median": medians}
