"""The technician's sound settings (voice guidance on/off, volume), kept in the state
directory so that the next start keeps them.

They change only on the technician screen, behind the technician code (the engine's
`SaveSound`); config.toml's `[ui] voice` and `volume` are what a reader starts with until a
technician changed them. One small JSON file, written atomically (mode 0600).
"""

from __future__ import annotations

import json
from pathlib import Path

from myna_reader.daemon.engine import Sound
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.store.files import write_atomic

SOUND_FILE = "sound.json"


class SoundStoreError(DaemonError):
    """The settings file cannot be read or written (the reader keeps what it has)."""


class SoundStore:
    def __init__(self, state_dir: Path, default: Sound) -> None:
        self.path = Path(state_dir) / SOUND_FILE
        self.default = default

    def load(self) -> Sound:
        """The kept settings; `default` when none were ever changed."""
        try:
            raw = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return self.default
        except (OSError, ValueError) as exc:
            raise SoundStoreError(f"{self.path}: unreadable ({type(exc).__name__})") from None
        voice, volume = (raw.get("voice"), raw.get("volume")) if isinstance(raw, dict) else (
            None, None)
        if not isinstance(voice, bool) or type(volume) is not int or not 0 <= volume <= 100:
            raise SoundStoreError(f"{self.path}: voice is true or false, volume 0..100")
        return Sound(voice, volume)

    def save(self, sound: Sound) -> None:
        data = json.dumps({"voice": sound.voice, "volume": sound.volume}).encode() + b"\n"
        try:
            write_atomic(self.path, data)
        except OSError as exc:
            raise SoundStoreError(f"{self.path}: {exc.strerror or exc}") from None
