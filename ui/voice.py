"""Voice guidance: which prompts a screen speaks (pure), and playing them in order.

A screen speaks its prompts when it appears, in the language it is shown in. On the PIN and
passcode pads a change of the digit count speaks only the count ("ふたけた、入力しました"),
never a digit: the prompt depends on `digits` alone, and the view holds no digit values to
begin with. After a wrong PIN the tries left are said as a count too ("あと、にかい").
"""

from __future__ import annotations

import dataclasses
from collections import deque
from pathlib import Path

from myna_reader.daemon.engine import (
    BY_CODE,
    ConsentView,
    DoneView,
    ErrorView,
    MethodView,
    NoReaderView,
    PinView,
    PrescriptionView,
    ReadingView,
    StaffLockedView,
    StaffPasscodeView,
    StaffStandbyView,
    StandbyView,
    TechnicianCodeView,
    TechnicianLockedView,
    TechnicianUnsetView,
    TechnicianView,
    View,
)
from myna_reader.ui.messages import Lang
from myna_reader.ui.sound import VOICE_CHANNEL, Audio
from myna_reader.ui.voice_prompts import default_out

SPOKEN_TRIES = (2, 3)  # tries-left counts with a prompt; one left has its own warning
PHONE_VARIANTS = frozenset({"error-006"})  # a phone is told another way on


def screen_prompts(view: View) -> list[str]:
    """The prompt keys a screen speaks when it appears."""
    match view:
        case NoReaderView():
            return ["no-reader"]
        case StandbyView(remove_card=remove):
            return ["standby-remove-card" if remove else "standby"]
        case ReadingView(face_prompt=None, token=token):
            return ["reading-phone" if token is not None and token.phone else "reading"]
        case ReadingView(face_prompt=prompt) if prompt is not None:
            return [f"face-{prompt.value}"]
        case MethodView(face_failed=failed):
            return ["method-face-failed", "method"] if failed else ["method"]
        case PinView(wrong=wrong, one_try_left=last, tries_left=tries):
            if not wrong:
                return ["pin"]
            if last:
                return ["pin-wrong", "pin-one-try-left"]
            return ["pin-wrong"] + ([f"pin-tries-left-{tries}"] if tries in SPOKEN_TRIES else [])
        case TechnicianCodeView(checking=False) | TechnicianLockedView() | \
                TechnicianUnsetView():
            return ["technician"]  # a technician's screens say where one is, and are read
        case StaffPasscodeView(checking=True):
            return ["staff-passcode-checking"]
        case StaffPasscodeView(wrong=wrong):
            return ["staff-passcode-wrong"] if wrong else ["staff-passcode"]
        case StaffLockedView():
            return ["staff-locked"]
        case StaffStandbyView(remove_card=remove):
            return ["staff-standby-remove-card" if remove else "staff-standby"]
        case ConsentView(items=items):
            return ["consent", *(f"consent-item-{item.value}" for item in items)]
        case PrescriptionView():
            return ["prescription"]
        case DoneView(remove_card=remove, certificate_expiry=expiry, grace_until=grace):
            notice = ([] if expiry is None
                      else ["done-qualification-only" if grace else "done-expiring"])
            return ["done", *notice, *(["done-remove-card"] if remove else [])]
        case ErrorView(code=code, ask_staff=ask, token=token):
            first = f"error-{code}" if code in BY_CODE else "error"
            if token is not None and token.phone and first in PHONE_VARIANTS:
                first += "-phone"
            return [first, "ask-staff"] if ask else [first]
        case TechnicianView():
            return ["technician"]
    raise ValueError(f"no prompts for {type(view).__name__}")


def prompts_for(previous: View | None, view: View) -> list[str]:
    """What to say on the change from `previous` to `view` (nothing when nothing changed)."""
    if previous == view:
        return []
    if (previous is not None and type(previous) is type(view)
            and dataclasses.replace(previous, countdown=view.countdown) == view):
        # only the deadline's countdown changed: said when it starts, not every second
        return ["countdown"] if previous.countdown is None and view.countdown else []
    keypads = (PinView, StaffPasscodeView)
    if (isinstance(view, keypads) and type(previous) is type(view)
            and dataclasses.replace(previous, digits=view.digits) == view):
        return [f"count-{view.digits}"]
    return screen_prompts(view)


class VoicePlayer:
    """Plays prompt files one after the other on the voice channel.

    The display loop calls `poll()` while `speaking` (a few times a second): simpler and
    safer than the channel's end event, which also fires when a new screen cuts a prompt.
    """

    def __init__(self, audio: Audio, directory: Path | None = None, enabled: bool = True) -> None:
        self.audio = audio
        self.directory = directory or default_out()  # holds ja/ and en/
        self.enabled = enabled
        self._queue: deque[Path] = deque()

    @property
    def speaking(self) -> bool:
        return bool(self._queue) or self._busy()

    def say(self, keys: list[str], lang: Lang = Lang.JA) -> None:
        """Replace what is being said with `keys` in `lang` (a new screen cuts the old one)."""
        if not self.enabled or not keys:
            return
        self._queue = deque(self.directory / lang.value / f"{key}.wav" for key in keys)
        self._next()

    def poll(self) -> None:
        if self._queue and not self._busy():
            self._next()

    def stop(self) -> None:
        self._queue.clear()
        channel = self.audio.channel(VOICE_CHANNEL)
        if channel is not None:
            channel.stop()

    def _busy(self) -> bool:
        channel = self.audio.channel(VOICE_CHANNEL)
        return channel is not None and bool(channel.get_busy())

    def _next(self) -> None:
        while self._queue:
            if self.audio.play(VOICE_CHANNEL, self._queue.popleft()):
                return
