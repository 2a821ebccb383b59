"""The display loop headless (SDL dummy video): intents out, frames only on change."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pygame
import pytest

from myna_reader.daemon.engine import (
    Button,
    CardPlaced,
    CardProbed,
    CertificateRead,
    DigitPressed,
    Engine,
    Event,
    Language,
    PinCounterRead,
    PinView,
    Pressed,
    ReaderAttached,
    Screen,
    Show,
    Sound,
    StandbyView,
    TokenKind,
    VoiceGuided,
)
from myna_reader.ui.app import App
from myna_reader.ui.fonts import FontCoverageError
from myna_reader.ui.intents import EngineIntent, UiAction, UiIntent
from myna_reader.ui.samples import GALLERY
from myna_reader.ui.screens import Frame
from myna_reader.ui.settings import UiSettings


class RecordingApp(App):
    """The app with the flips it made and the intents it sent, for the tests to look at."""

    flips: list[float]
    intents: queue.Queue[EngineIntent]

    @property
    def drawn(self) -> Frame:
        """The frame on screen (a test steps the app before it looks)."""
        assert self.frame is not None
        return self.frame


@pytest.fixture
def app() -> Iterator[RecordingApp]:
    flips: list[float] = []
    intents: queue.Queue[EngineIntent] = queue.Queue()
    app = RecordingApp(UiSettings(voice=False), intents.put, on_flip=flips.append)
    app.flips, app.intents = flips, intents
    yield app
    pygame.display.quit()


def tap(app: RecordingApp, element_id: str) -> None:
    element = next(e for e in app.drawn.elements if e.id == element_id)
    x, y, w, h = element.rect
    for kind in (pygame.FINGERDOWN, pygame.FINGERUP):
        pygame.event.post(pygame.event.Event(kind, x=(x + w / 2) / 800, y=(y + h / 2) / 480,
                                             dx=0.0, dy=0.0, finger_id=0, touch_id=1,
                                             pressure=1.0))
    app.step()


def test_what_was_posted_for_an_ended_app_never_reaches_the_next(app: RecordingApp) -> None:
    """SDL's event queue is the process's: a stop, a view or a cue a thread posts after its
    App's loop returned stayed queued and ended the next App at its first step (a soak
    after another one ended at once, all sessions aborted)."""
    ended = App(UiSettings(voice=False), lambda intent: None)
    ended.stop()
    ended.post_view(GALLERY[Screen.ERROR])
    app.post_view(GALLERY[Screen.PIN])
    assert app.step()
    assert app.view == GALLERY[Screen.PIN] and app.frame is not None
    app.stop()
    assert not app.step()


def test_touch_reaches_the_intent_queue(app: RecordingApp) -> None:
    app.post_view(GALLERY[Screen.PIN])
    app.step()
    assert app.frame is not None
    tap(app, "digit-8")
    tap(app, Button.CANCEL.value)
    assert app.intents.get_nowait() == DigitPressed(8)
    assert app.intents.get_nowait() == Pressed(Button.CANCEL)
    assert app.intents.empty()


def key(app: RecordingApp, k: int, scancode: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, scancode=scancode, mod=0,
                                         unicode=""))
    app.step()


def test_the_usb_keypad_and_say_again_tell_the_engine_the_patient_is_guided_by_voice(
        app: RecordingApp) -> None:
    app.post_view(GALLERY[Screen.PIN])
    app.step()
    key(app, pygame.K_4, pygame.KSCAN_4)  # the keyboard's row of digits: not the keypad
    assert app.intents.get_nowait() == DigitPressed(4)
    assert app.intents.empty()
    key(app, pygame.K_KP5, pygame.KSCAN_KP_5)
    assert [app.intents.get_nowait(), app.intents.get_nowait()] == [DigitPressed(5),
                                                                    VoiceGuided()]
    app.post_view(GALLERY[Screen.STANDBY])
    app.step()
    key(app, pygame.K_KP_PLUS, pygame.KSCAN_KP_PLUS)  # say it again, on any screen
    assert app.intents.get_nowait() == VoiceGuided()
    key(app, pygame.K_KP1, pygame.KSCAN_KP_1)  # a keypad key the screen has no use for
    assert app.intents.get_nowait() == VoiceGuided()
    assert app.intents.empty()


def test_draws_only_when_something_changed(app: RecordingApp) -> None:
    view = StandbyView(staff_button=True)
    app.post_view(view)
    app.step()
    drawn = len(app.flips)
    assert drawn >= 1
    app.post_view(view)  # the same view again: nothing to draw
    app.step()
    assert len(app.flips) == drawn
    app.post_view(StandbyView(staff_button=False))
    app.step()
    assert len(app.flips) == drawn + 1
    assert "staff" not in {e.id for e in app.drawn.elements}


def test_language_is_the_sessions(app: RecordingApp) -> None:
    """日本語 / English goes to the engine; the screen follows the language its view carries."""
    view = GALLERY[Screen.DONE]
    app.post_view(view)
    app.step()
    tap(app, "language")
    assert app.intents.get_nowait() == Pressed(Button.LANGUAGE)
    assert next(e.label for e in app.drawn.elements if e.id == "language") == "English"
    app.post_view(replace(view, language=Language.EN))
    app.step()
    assert next(e.label for e in app.drawn.elements if e.id == "language") == "日本語"
    assert next(e.label for e in app.drawn.elements if e.id == Button.OK.value) == "Close"
    app.post_view(view)
    app.step()
    assert next(e.label for e in app.drawn.elements if e.id == Button.OK.value) == "閉じる"


def test_voice_follows_the_views_language_and_repeats(voice_dir: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Prompts play from the folder of the view's language; the repeat key says them again."""
    intents: queue.Queue[EngineIntent] = queue.Queue()
    app = App(UiSettings(voice=True, voice_dir=str(voice_dir)), intents.put)
    try:
        played: list[str] = []

        def play(number: int, path: Path) -> bool:
            played.append(f"{path.parent.name}/{path.stem}")
            return True

        monkeypatch.setattr(app.audio, "play", play)
        app.show(replace(GALLERY[Screen.STANDBY], language=Language.EN))
        assert played[0] == "en/standby"
        app.show(GALLERY[Screen.STANDBY])
        assert played[-1] == "ja/standby"
        app._intent(UiIntent(UiAction.REPEAT))
        assert played[-1] == "ja/standby" and len(played) == 3
        assert intents.empty()
    finally:
        pygame.display.quit()


def test_technician_settings_are_engine_presses_and_views_apply_them(
        app: RecordingApp) -> None:
    """The voice and volume buttons change nothing in the display: they go to the engine
    (which keeps and audits them), and the display follows the sound its views carry."""
    app.post_view(GALLERY[Screen.TECHNICIAN])
    app.step()
    tap(app, "volume-up")
    tap(app, "voice")
    assert [app.intents.get_nowait(), app.intents.get_nowait()] == [
        Pressed(Button.VOLUME_UP), Pressed(Button.VOICE)]
    assert app.volume == 80 and app.voice.enabled  # the sample's sound, unchanged
    app.post_view(replace(GALLERY[Screen.TECHNICIAN], sound=Sound(False, 30)))
    app.step()
    assert "音声案内：オフ　音量：30" in [t.text for t in app.drawn.texts]
    assert app.volume == 30 and app.audio.volume == 30 and not app.voice.enabled


def test_real_engine_drives_the_pad(app: RecordingApp) -> None:
    engine = Engine()

    def feed(event: Event) -> None:
        for effect in engine.feed(event, 0.0):
            if isinstance(effect, Show):
                app.post_view(effect.view)

    feed(ReaderAttached("sim"))
    feed(CardPlaced("s1", 1.0))
    feed(CardProbed("s1", TokenKind.PLASTIC_CARD, auth_cert=True))
    feed(CertificateRead("s1", b"cert", "00", datetime(2100, 1, 1, tzinfo=UTC)))
    feed(PinCounterRead("s1", tries=3))
    app.step()
    for digit in (1, 2):
        tap(app, f"digit-{digit}")
        feed(app.intents.get_nowait())
        app.step()
    assert app.view == PinView(digits=2, tries_left=3)


def test_start_fails_loudly_without_a_covering_font() -> None:
    import os

    default = os.path.join(os.path.dirname(pygame.__file__), pygame.font.get_default_font())
    with pytest.raises(FontCoverageError):
        App(UiSettings(fonts=(), font_files=(default,), voice=False), lambda intent: None)
