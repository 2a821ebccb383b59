"""The whole face path through the daemon's runner (real threads, queue, engine, CardJobs) on
the simulated 顔認証マイナンバーカード (no PIN set), whose chip photo is a real public face:
the card camera is an image sequence of its synthetic card face (camera-degraded), the
patient camera an MJPEG video of the same person whose head pose changes both ways (two
other real photos, see test_liveness.py for what that does and does not show). The result
goes out with method `face`; with another person in front of the camera nothing does."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from PIL import Image

from myna_reader.daemon.engine import (
    Button,
    FacePrompt,
    FaceSettings,
    MethodView,
    Pressed,
    ReadingView,
    Screen,
    SessionConfig,
)
from myna_reader.daemon.face.auth import FaceAuth
from myna_reader.daemon.face.model import FaceModel
from myna_reader.daemon.face.ocr import CardOcr
from myna_reader.daemon.harness.face_samples import (
    FACE_CARD_HOLDER,
    camera_shot,
    card_face,
    chip_photo,
    face_card_profile,
    placed,
)
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import PasscodeStore
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.camera import Frame
from tests.daemon.runtime.test_runner import Recorder

WAIT_S = 90.0  # a bound that turns a hang into a failure, not a speed target


def _wait(seen: Recorder, screen: Screen) -> None:
    deadline = time.monotonic() + WAIT_S
    with seen.changed:
        while not (seen.views and seen.views[-1].screen is screen):
            left = deadline - time.monotonic()
            assert left > 0, f"screen {screen} not reached; last {seen.views[-1:]}"
            seen.changed.wait(left)


def _clip(path: Path, frames: list[Frame]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 15, (640, 480))
    for frame in frames:
        writer.write(frame[:, :, ::-1].copy())
    writer.release()
    return path


@pytest.fixture
def face_rig(tmp_path: Path, model: FaceModel, ocr: CardOcr, faces: dict[str, Frame],
             request: pytest.FixtureRequest) -> Iterator[tuple[Runner, SimReader, Recorder]]:
    photo = faces["obama"]
    reader = SimReader(face_card_profile(chip_photo(model, photo)), present=False)
    shots = tmp_path / "card"
    shots.mkdir()
    rng = random.Random(3)
    for i in range(3):
        shot = camera_shot(card_face(FACE_CARD_HOLDER, photo), rng)
        Image.fromarray(shot).save(shots / f"{i}.png")
    front, left, right = (placed(model, faces[n]) for n in ("obama", "obama3", "obama2"))
    live = [front] * 4 + [left] * 2 + [front] * 3 + [right] * 2 + [front] * 3
    if request.param == "impostor":
        live = [placed(model, faces["biden"])] * 14
    clip = _clip(tmp_path / "patient.avi", live)
    settings = FaceSettings(available=True, patient_camera=f"video:{clip}",
                            card_camera=f"images:{shots}")
    seen = Recorder()
    runner = Runner(config=SessionConfig(face=settings),
                    open_reader=lambda: reader, store=PasscodeStore(tmp_path),
                    audit=AuditLog(tmp_path), display=seen, link=seen,
                    face=FaceAuth(settings, model, ocr))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    _wait(seen, Screen.STANDBY)
    yield runner, reader, seen
    runner.stop()
    thread.join(WAIT_S)
    assert not thread.is_alive()


@pytest.mark.parametrize("face_rig", ["patient"], indirect=True)
def test_a_face_confirmation_end_to_end(face_rig: tuple[Runner, SimReader, Recorder]) -> None:
    runner, reader, seen = face_rig
    reader.insert()
    _wait(seen, Screen.METHOD)
    assert seen.views[-1] == MethodView(face=True, pin=False)
    runner.post(Pressed(Button.METHOD_FACE))
    _wait(seen, Screen.CONSENT)
    prompts = [v.face_prompt for v in seen.views if isinstance(v, ReadingView)]
    assert FacePrompt.SHOW_CARD in prompts
    assert {FacePrompt.TURN_LEFT, FacePrompt.TURN_RIGHT} & set(prompts)
    for _ in range(len(SessionConfig().consent_pages)):
        runner.post(Pressed(Button.AGREE))
    _wait(seen, Screen.DONE)
    [result] = seen.results
    assert result.method.value == "face"
    assert result.signature is None
    assert reader.card is not None and not reader.card.powered


@pytest.mark.parametrize("face_rig", ["impostor"], indirect=True)
def test_another_person_gets_no_result(face_rig: tuple[Runner, SimReader, Recorder]) -> None:
    runner, reader, seen = face_rig
    reader.insert()
    _wait(seen, Screen.METHOD)
    runner.post(Pressed(Button.METHOD_FACE))
    _wait(seen, Screen.ERROR)  # default attempts = 1 and no PIN on this card: ask the staff
    assert seen.results == []
    assert [e.code for e in seen.errors] == ["111"]
