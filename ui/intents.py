"""What a touch, a click or a key becomes: an engine event, or a setting of the display itself.

Engine intents are the engine's own events (`Pressed`, `DigitPressed`); the UI only chooses
which. The patient's language is the session's, so 日本語 / English is an engine press too.
Voice settings and "say it again" change how things are said, never the flow, so they stay
in the UI (`UiIntent`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from myna_reader.daemon.engine import DigitPressed, Pressed


class UiAction(StrEnum):
    VOICE = "voice"  # voice guidance on/off (technician screen)
    VOLUME_DOWN = "volume-down"
    VOLUME_UP = "volume-up"
    REPEAT = "repeat"  # say the screen's prompt again (button, or + on the USB keypad)


@dataclass(frozen=True, slots=True)
class UiIntent:
    action: UiAction


EngineIntent = Pressed | DigitPressed
Intent = Pressed | DigitPressed | UiIntent
