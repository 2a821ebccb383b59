"""View models: what a screen shows (ids, codes, numbers; never UI text). The UI renders a
view and decides nothing; derive.py makes them from the engine state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from myna_reader.daemon.engine.consent import ConsentItem
from myna_reader.daemon.engine.vocabulary import FacePrompt, Mode, Screen

# --- view models ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class View:
    screen: ClassVar[Screen]
    mode: Mode = Mode.UNATTENDED


@dataclass(frozen=True, slots=True, kw_only=True)
class NoReaderView(View):
    screen: ClassVar[Screen] = Screen.NO_READER


@dataclass(frozen=True, slots=True, kw_only=True)
class StandbyView(View):
    screen: ClassVar[Screen] = Screen.STANDBY
    staff_button: bool = False  # 職員用: only when a passcode is provisioned
    remove_card: bool = False  # a finished card still lies on the reader


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingView(View):
    screen: ClassVar[Screen] = Screen.READING
    cancel_button: bool = True
    face_prompt: FacePrompt | None = None  # face authentication: what to do now


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodView(View):
    screen: ClassVar[Screen] = Screen.METHOD
    face: bool = False
    pin: bool = True
    face_failed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PinView(View):
    screen: ClassVar[Screen] = Screen.PIN
    digits: int = 0  # how many masked digits to draw
    tries_left: int | None = None
    one_try_left: bool = False  # the warning before the last try
    wrong: bool = False  # the last VERIFY failed
    back_button: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffPasscodeView(View):
    screen: ClassVar[Screen] = Screen.STAFF_PASSCODE
    digits: int = 0
    wrong: bool = False
    failures_left: int | None = None
    checking: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffLockedView(View):
    screen: ClassVar[Screen] = Screen.STAFF_LOCKED
    locked_until_wall: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffStandbyView(View):
    screen: ClassVar[Screen] = Screen.STAFF_STANDBY
    remove_card: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentView(View):
    screen: ClassVar[Screen] = Screen.CONSENT
    page_index: int = 0
    page_count: int = 0
    page_id: str = ""
    items: tuple[ConsentItem, ...] = ()
    back_button: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DoneView(View):
    screen: ClassVar[Screen] = Screen.DONE
    remove_card: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorView(View):
    screen: ClassVar[Screen] = Screen.ERROR
    code: str = ""
    ask_staff: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TechnicianView(View):
    screen: ClassVar[Screen] = Screen.TECHNICIAN
    reader: str | None = None
    passcode_provisioned: bool = False
    staff_locked: bool = False
