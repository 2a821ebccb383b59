"""Audio output: the mixer, the cue sounds, and one channel each for cues and voice.

A reader without a working sound device still shows every screen: the mixer failing to open
is logged once and the UI goes on silently (sound is a help, never a condition).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pygame

from myna_reader.daemon.engine import Cue

log = logging.getLogger(__name__)

CUE_CHANNEL = 0
VOICE_CHANNEL = 1


def sounds_dir() -> Path:
    return Path(__file__).resolve().parent / "assets" / "sounds"


class Audio:
    """The mixer with two reserved channels. `ok` is False when no device could be opened."""

    def __init__(self, volume: int = 80) -> None:
        self.volume = volume
        self._cache: dict[Path, pygame.mixer.Sound] = {}
        try:
            pygame.mixer.init(frequency=48000, size=-16, channels=1, buffer=1024)
            pygame.mixer.set_reserved(2)
        except pygame.error as exc:
            log.warning("no sound output (%s): cues and voice are off", exc)
            self.ok = False
            return
        self.ok = True

    def channel(self, number: int) -> pygame.mixer.Channel | None:
        return pygame.mixer.Channel(number) if self.ok else None

    def load(self, path: Path) -> pygame.mixer.Sound | None:
        if not self.ok:
            return None
        sound = self._cache.get(path)
        if sound is None:
            try:
                sound = pygame.mixer.Sound(str(path))
            except (pygame.error, FileNotFoundError) as exc:
                log.warning("cannot load %s: %s", path.name, exc)
                return None
            self._cache[path] = sound
        return sound

    def play(self, number: int, path: Path) -> bool:
        """Play a file on a channel (cutting what it played); False when nothing plays."""
        channel, sound = self.channel(number), self.load(path)
        if channel is None or sound is None:
            return False
        channel.set_volume(self.volume / 100)
        channel.play(sound)
        return True


def play_cue(audio: Audio, cue: Cue) -> bool:
    return audio.play(CUE_CHANNEL, sounds_dir() / f"{cue.value}.wav")
