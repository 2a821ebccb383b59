"""Face authentication of one card session, run by the card worker for the engine's MatchFace.

    card camera --OCR--> 照合番号B --checks, tries read, ONE VERIFY--> 券面AP EF 0002
    chip photo (DF27) --decode, detect, 128-d--> reference
    patient camera --frames--> head-turn challenge + distance to the reference --> decision

Rules: the retry counter of 券面AP EF 0012 is read before anything else, and with fewer than
MIN_TRIES_LEFT tries the card is refused (the rest belong to the municipality's counter); a
照合番号B goes to the chip only after two consecutive card frames gave the same checked value,
once per card session, never guessed, corrected or retried. A doubtful read asks the patient
to straighten the card. Frames, the photo and the embeddings live in this call only: frame
buffers are zeroed after use and nothing is logged but outcome words and counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from myna_reader.daemon.engine import FaceFailure, FacePrompt, FaceSettings
from myna_reader.daemon.face.card_number import CardNumber, Unsure, card_number_from_lines
from myna_reader.daemon.face.chip import ChipPhotoError, decode_chip_photo
from myna_reader.daemon.face.liveness import HeadTurnChallenge, Outcome
from myna_reader.daemon.face.model import Embedding, FaceModel, distance
from myna_reader.daemon.face.ocr import CardOcr
from myna_reader.daemon.face.verify import FrameAgreement, Verdict
from myna_reader.drivers.camera import CameraError, Frame, FrameSource, open_camera, wipe
from myna_reader.drivers.camera_spec import CameraSpec, parse_camera_spec
from myna_reader.drivers.card import MyNumberCard, VisualAp
from myna_reader.drivers.errors import PinBlockedError, PinIncorrectError

log = logging.getLogger(__name__)

MIN_TRIES_LEFT = 3  # below this the reader leaves 照合番号B to staff and the municipality
CARD_AGREEING_READS = 2  # consecutive card frames that must give the same 照合番号B
MAX_CARD_FRAMES = 8  # about 6 s of OCR on the development machine
MAX_PATIENT_FRAMES = 150  # about 20 s of frames at 7 per second
CHIP_UPSAMPLE = 1  # the chip photo is small: let HOG look for faces of 40 px


@dataclass(frozen=True, slots=True)
class FaceResult:
    ok: bool
    failure: FaceFailure | None = None
    number_sent: bool = False  # this attempt sent a 照合番号B to the card
    counts: dict[str, int] = field(default_factory=dict)  # frames used, for the bench


Guide = Callable[[FacePrompt], None]


class FaceAuth:
    """The loaded model, OCR engine and settings; `authenticate` runs one attempt."""

    def __init__(self, settings: FaceSettings, model: FaceModel | None = None,
                 ocr: CardOcr | None = None,
                 opener: Callable[[CameraSpec], FrameSource] = open_camera,
                 clock: Callable[[], float] = time.monotonic,
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        self.settings = settings
        self.model = model or FaceModel()
        self.ocr = ocr or CardOcr()
        self._open = opener
        self._clock = clock
        self._today = today

    def authenticate(self, card: MyNumberCard, guide: Guide, number_sent: bool) -> FaceResult:
        """One attempt. `number_sent`: a 照合番号B already went to this card in this session."""
        deadline = self._clock() + self.settings.time_limit_s
        visual = card.visual()
        status = visual.collation_b_tries()
        if not status.verified:
            if number_sent:
                return FaceResult(False, FaceFailure.CARD_REFUSED)  # never a second value
            if status.blocked or (status.tries_left is not None
                                  and status.tries_left < MIN_TRIES_LEFT):
                log.info("face: 照合番号B has too few tries left for the reader")
                return FaceResult(False, FaceFailure.CARD_REFUSED)
            guide(FacePrompt.SHOW_CARD)
            number = self._read_card_number(guide, deadline)
            if number is None:
                return FaceResult(False, FaceFailure.CARD_UNREAD)
            try:
                visual.verify_collation_b(number.digits)  # the one VERIFY of this session
            except (PinIncorrectError, PinBlockedError) as exc:
                log.info("face: the card refused the 照合番号B read from its face (%s)",
                         type(exc).__name__)
                return FaceResult(False, FaceFailure.CARD_REFUSED, number_sent=True)
        reference = self._chip_reference(visual)
        if reference is None:
            return FaceResult(False, FaceFailure.UNAVAILABLE, number_sent=not status.verified)
        try:
            result = self._live(reference, guide, deadline)
        finally:
            reference.fill(0.0)
        return FaceResult(result.ok, result.failure, not status.verified, result.counts)

    # --- the card face and the chip -------------------------------------------------------

    def _read_card_number(self, guide: Guide, deadline: float) -> CardNumber | None:
        try:
            source = self._open(parse_camera_spec(self.settings.card_camera))
        except CameraError as exc:
            log.warning("face: card camera: %s", exc)
            return None
        previous: CardNumber | None = None
        agreeing = 0
        straighten_asked = False
        try:
            for _ in range(MAX_CARD_FRAMES):
                if self._clock() > deadline:
                    break
                frame = source.read()
                if frame is None:
                    break
                try:
                    lines = self.ocr.read(frame)
                finally:
                    wipe([frame])
                found = card_number_from_lines(lines, self._today(),
                                               self.settings.ocr_min_score)
                del lines
                if isinstance(found, Unsure):
                    log.info("face: card face not read with confidence (%s)", found.doubt)
                    previous, agreeing = None, 0
                    if not straighten_asked:
                        guide(FacePrompt.STRAIGHTEN_CARD)
                        straighten_asked = True
                    continue
                agreeing = agreeing + 1 if found == previous else 1
                previous = found
                if agreeing >= CARD_AGREEING_READS:
                    return found
        finally:
            source.close()
        return None

    def _chip_reference(self, visual: VisualAp) -> Embedding | None:
        try:
            chip = decode_chip_photo(visual.face_photo())
        except ChipPhotoError as exc:
            log.warning("face: %s", exc)
            return None
        try:
            faces = self.model.faces(chip, upsample=CHIP_UPSAMPLE)
            if len(faces) != 1:
                log.warning("face: the chip photo shows %d faces, not one", len(faces))
                return None
            return self.model.embed(chip, faces[0])
        finally:
            wipe([chip])

    # --- the patient ------------------------------------------------------------------------

    def _live(self, reference: Embedding, guide: Guide, deadline: float) -> FaceResult:
        settings = self.settings
        try:
            source = self._open(parse_camera_spec(settings.patient_camera))
        except CameraError as exc:
            log.warning("face: patient camera: %s", exc)
            return FaceResult(False, FaceFailure.UNAVAILABLE)
        challenge = HeadTurnChallenge(settings.turn_ratio)
        agreement = FrameAgreement(settings.threshold, settings.agreeing_frames)
        prompt = challenge.prompt
        guide(prompt)
        frames = 0
        try:
            while frames < MAX_PATIENT_FRAMES and self._clock() <= deadline:
                frame = source.read()
                if frame is None:
                    break
                frames += 1
                try:
                    outcome, verdict = self._judge(frame, reference, challenge, agreement)
                finally:
                    wipe([frame])
                if verdict is Verdict.NO_MATCH:
                    return FaceResult(False, FaceFailure.NO_MATCH, counts={"frames": frames})
                if outcome is Outcome.FAILED:
                    return FaceResult(False, FaceFailure.NOT_LIVE, counts={"frames": frames})
                if (outcome is Outcome.LIVE and verdict is Verdict.MATCH
                        and agreement.last is Verdict.MATCH):
                    return FaceResult(True, None, counts={"frames": frames})
                if challenge.prompt is not prompt:
                    prompt = challenge.prompt
                    guide(prompt)
        finally:
            challenge.forget()
            source.close()
        failure = FaceFailure.NO_MATCH if agreement.verdict is None else FaceFailure.NOT_LIVE
        return FaceResult(False, failure, counts={"frames": frames})

    def _judge(self, frame: Frame, reference: Embedding, challenge: HeadTurnChallenge,
               agreement: FrameAgreement) -> tuple[Outcome, Verdict | None]:
        """Feed one frame to the challenge and, with exactly one face, to the agreement."""
        faces = self.model.faces(frame)
        outcome = challenge.feed(faces, frame)
        if len(faces) == 1:
            embedding = self.model.embed(frame, faces[0])
            agreement.feed(distance(embedding, reference))
            embedding.fill(0.0)
        return outcome, agreement.verdict
