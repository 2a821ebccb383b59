"""What a touch, a click or a key becomes: an engine event, or a setting of the display itself.

Engine intents are the engine's own events (`Pressed`, `DigitPressed`); the UI only chooses
which. The patient's language is the session's, so 日本語 / English is an engine press too.
"Say it again" changes nothing but what is heard, so it stays in the UI (`UiIntent`); that
the patient is guided by voice (say it again, the USB keypad) the engine hears as
`VoiceGuided`, because it lengthens the session's deadlines. The voice and volume settings
are the technician's, kept and audited, so they are engine presses (Button.VOICE,
VOLUME_DOWN, VOLUME_UP) behind the technician code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from myna_reader.daemon.engine import DigitPressed, Pressed, VoiceGuided


class UiAction(StrEnum):
    REPEAT = "repeat"  # say the screen's prompt again (button, or + on the USB keypad)


@dataclass(frozen=True, slots=True)
class UiIntent:
    action: UiAction


EngineIntent = Pressed | DigitPressed | VoiceGuided
Intent = Pressed | DigitPressed | UiIntent
