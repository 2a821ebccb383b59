"""What a touch, a click or a key becomes: an engine event, or a setting of the display itself.

Engine intents are the engine's own events (`Pressed`, `DigitPressed`); the UI only chooses
which. The patient's language is the session's, so 日本語 / English is an engine press too.
Voice settings and "say it again" change how things are said, never the flow, so they stay
in the UI (`UiIntent`); that the patient is guided by voice (say it again, the USB keypad)
the engine hears as `VoiceGuided`, because it lengthens the session's deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from myna_reader.daemon.engine import DigitPressed, Pressed, VoiceGuided


class UiAction(StrEnum):
    VOICE = "voice"  # voice guidance on/off (technician screen)
    VOLUME_DOWN = "volume-down"
    VOLUME_UP = "volume-up"
    REPEAT = "repeat"  # say the screen's prompt again (button, or + on the USB keypad)


@dataclass(frozen=True, slots=True)
class UiIntent:
    action: UiAction


EngineIntent = Pressed | DigitPressed | VoiceGuided
Intent = Pressed | DigitPressed | UiIntent
