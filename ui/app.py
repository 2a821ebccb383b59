"""The display loop: shows the engine's views, turns touches into intents, plays sound.

It draws only when something visible changed (a new view, a pressed button)
or an animation runs; otherwise it sleeps between short looks for events (`App._wait`), so
an idle reader costs next to no CPU. Views and cues arrive from other threads as pygame user events
(`post_view`, `post_cue`: pygame.event.post is thread-safe); engine intents leave through
`on_intent`, which the runner points at the engine's queue.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pygame

from myna_reader.daemon.engine import Cue, Sound, View, VoiceGuided
from myna_reader.daemon.version import __version__
from myna_reader.ui.fonts import FontSet, choose_fonts
from myna_reader.ui.input import InputMapper, guided_by_voice
from myna_reader.ui.intents import EngineIntent, Intent, UiAction, UiIntent
from myna_reader.ui.layout import Layout
from myna_reader.ui.messages import Lang, Messages, load_messages
from myna_reader.ui.screens import Frame, ScreenInfo, animated, render
from myna_reader.ui.settings import UiSettings
from myna_reader.ui.sound import Audio, play_cue
from myna_reader.ui.voice import VoicePlayer, prompts_for, screen_prompts
from myna_reader.ui.widgets import Canvas

IDLE_WAIT_MS = 1000  # nothing to do: the loop goes round once a second
ANIMATION_MS = 250  # a running animation: four frames a second are enough for a progress bar
VOICE_POLL_MS = 100  # while a prompt sequence plays
POLL_S = 0.01  # how often an idle loop looks for input: well under the 50 ms latency target

VIEW_EVENT = pygame.event.custom_type()
CUE_EVENT = pygame.event.custom_type()
STOP_EVENT = pygame.event.custom_type()
# SDL has one event queue a process: what a thread posts for an App that has ended (a stop
# after its loop returned, a late view) must not reach the next App, so each posts its own id
OWN_EVENTS = frozenset({VIEW_EVENT, CUE_EVENT, STOP_EVENT})
_APP_IDS = itertools.count(1)

FlipHook = Callable[[float], None]


def load_fonts(settings: UiSettings, messages: dict[Lang, Messages]) -> FontSet:
    """The font that covers every text (catalogs and the facility name), or FontError."""
    texts = [text for catalog in messages.values() for text in catalog.all_texts()]
    return choose_fonts([*texts, settings.facility_name], settings.fonts, settings.font_files)


class App:
    def __init__(self, settings: UiSettings, on_intent: Callable[[EngineIntent], None],
                 link: str = "", on_flip: FlipHook | None = None) -> None:
        self.settings = settings
        self.on_intent = on_intent
        self.on_flip = on_flip
        self.link = link
        self.messages = load_messages()
        pygame.display.init()
        pygame.font.init()
        self.fonts = load_fonts(settings, self.messages)  # fails loudly before any window
        width, height = settings.size
        self.layout = Layout(width, height, settings.rotation)
        flags = pygame.FULLSCREEN if settings.fullscreen else 0
        self.window = pygame.display.set_mode((width, height), flags)
        pygame.display.set_caption("myna-reader")
        # keys an embedding adds on top (`run --simulate`: place and take the simulated card)
        self.keys: dict[int, Callable[[], None]] = {}
        if settings.fullscreen:
            pygame.mouse.set_visible(False)
        self.canvas_surface = pygame.Surface((width, height))
        self.volume = settings.volume
        self.audio = Audio(settings.volume)
        voice_dir = Path(settings.voice_dir) if settings.voice_dir else None
        self.voice = VoicePlayer(self.audio, voice_dir, settings.voice)
        self.input = InputMapper(self.layout)
        self.view: View | None = None
        self.frame: Frame | None = None
        self._drawn_view: View | None = None
        self.anim = 0
        self._dirty = False
        self._running = True
        self._id = next(_APP_IDS)

    # --- from other threads -------------------------------------------------------------

    def post_view(self, view: View) -> None:
        pygame.event.post(pygame.event.Event(VIEW_EVENT, view=view, app=self._id))

    def post_cue(self, cue: Cue) -> None:
        pygame.event.post(pygame.event.Event(CUE_EVENT, cue=cue, app=self._id))

    def stop(self) -> None:
        pygame.event.post(pygame.event.Event(STOP_EVENT, app=self._id))

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        while self.step():
            pass

    def step(self) -> bool:
        """Wait for events (or the next animation frame), handle them, draw if needed."""
        timeout = IDLE_WAIT_MS
        if self.view is not None and animated(self.view):
            timeout = ANIMATION_MS
        if self.voice.speaking:
            timeout = min(timeout, VOICE_POLL_MS)
        events = self._wait(timeout / 1000)
        if not events and self.view is not None and animated(self.view):
            self.anim += 1
            self._dirty = True
        for each in events:
            self._handle(each)
        self.voice.poll()
        if self._dirty and self._running:
            self.draw()
        return self._running

    @staticmethod
    def _wait(timeout_s: float) -> list[pygame.event.Event]:
        """Events, waiting up to `timeout_s` for the first. Not `pygame.event.wait`: with a
        timeout it polls every millisecond (about 2% of a core here); sleeping POLL_S between
        looks costs a tenth of that and at most POLL_S of latency."""
        deadline = time.monotonic() + timeout_s
        while True:
            events = pygame.event.get()
            if events or time.monotonic() >= deadline:
                return events
            time.sleep(POLL_S)

    def _handle(self, event: pygame.event.Event) -> None:
        if event.type in OWN_EVENTS and event.app != self._id:
            return  # posted for an App that has ended
        if event.type == VIEW_EVENT:
            self.show(event.view)
        elif event.type == CUE_EVENT:
            play_cue(self.audio, event.cue)
        elif event.type in (STOP_EVENT, pygame.QUIT):
            self._running = False
        elif event.type == pygame.KEYDOWN and event.key in self.keys:
            self.keys[event.key]()
        else:
            before = self.input.pressed
            intent = self.input.handle(event, time.monotonic())
            if self.input.pressed != before:
                self._dirty = True
            if intent is not None:
                self._intent(intent)
            if guided_by_voice(event, intent):
                # after the key's own intent: 続ける (Enter) still meets its countdown
                self.on_intent(VoiceGuided())  # the engine lengthens this session's deadlines

    def show(self, view: View) -> None:
        previous, self.view = self.view, view
        if view != previous:
            self._dirty = True
            self._apply(view.sound)
            self.voice.say(prompts_for(previous, view), view.language)  # the session's

    def _apply(self, sound: Sound) -> None:
        """The technician's settings, as the engine keeps them (every view carries them)."""
        if sound.voice != self.voice.enabled:
            self.voice.enabled = sound.voice
            if not sound.voice:
                self.voice.stop()
        self.volume = self.audio.volume = sound.volume

    def _intent(self, intent: Intent) -> None:
        if not isinstance(intent, UiIntent):
            self.on_intent(intent)
            return
        if intent.action is UiAction.REPEAT:
            self._say_again()
        self._dirty = True

    def _say_again(self) -> None:
        if self.view is not None:
            self.voice.say(screen_prompts(self.view), self.view.language)

    def info(self) -> ScreenInfo:
        return ScreenInfo(facility=self.settings.facility_name, version=__version__,
                          link=self.link, voice_on=self.voice.enabled, volume=self.volume,
                          keypad=self.settings.keypad)

    def draw(self) -> None:
        """Render the current view and flip: the only place that touches the display."""
        self._dirty = False
        if self.view is None:
            return
        new_screen = self.view != self._drawn_view
        canvas = Canvas(self.canvas_surface, self.layout, self.fonts,
                        self.messages[self.view.language], pressed=self.input.pressed,
                        anim=self.anim)
        self.frame = render(self.view, canvas, self.info())
        self._drawn_view = self.view
        self.input.set_elements(self.frame.elements, new_screen)
        if self.layout.rotation == 180:
            self.window.blit(pygame.transform.rotate(self.canvas_surface, 180), (0, 0))
        else:
            self.window.blit(self.canvas_surface, (0, 0))
        pygame.display.flip()
        if self.on_flip is not None:
            self.on_flip(time.perf_counter())

