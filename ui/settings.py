"""The display's settings: the `[ui]` table of config.toml, validated, with safe defaults.

Keys: size ("800x480", "1024x600", "720x1280"), rotation (0 | 180), language ("ja" | "en",
the language a session starts in), fonts (fontconfig family names, in order of preference),
font_files (font file paths tried before the families), voice (true | false), volume
(0..100), facility_name, fullscreen, voice_dir (where `python -m myna_reader.ui.make_voice`
wrote the prompts, one folder per language; default: the package's own assets/voice),
keypad ("standard" | "tactile": the 5 key fixed at the panel's centre, docs/accessibility.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from myna_reader.daemon.engine import SessionConfigError
from myna_reader.ui.fonts import DEFAULT_FAMILIES
from myna_reader.ui.layout import ROTATIONS, KeypadLayout, LayoutError, parse_size
from myna_reader.ui.messages import Lang

KEYS = ("size", "rotation", "language", "fonts", "font_files", "voice", "volume",
        "facility_name", "fullscreen", "voice_dir", "keypad")


@dataclass(frozen=True, slots=True)
class UiSettings:
    size: tuple[int, int] = (800, 480)
    rotation: int = 0
    language: Lang = Lang.JA
    fonts: tuple[str, ...] = DEFAULT_FAMILIES
    font_files: tuple[str, ...] = ()
    voice: bool = True
    volume: int = 80
    facility_name: str = ""
    fullscreen: bool = False
    voice_dir: str | None = None
    keypad: KeypadLayout = KeypadLayout.STANDARD


def _strings(raw: object, key: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise SessionConfigError(key, "set a list of strings")
    return tuple(raw)


def _flag(raw: object, key: str) -> bool:
    if not isinstance(raw, bool):
        raise SessionConfigError(key, "set true or false")
    return raw


def ui_settings_from_mapping(raw: Mapping[str, object]) -> UiSettings:
    """UiSettings from the parsed `[ui]` table; absent keys keep their defaults."""
    for name in raw:
        if name not in KEYS:
            raise SessionConfigError(f"ui.{name}", f"unknown key; known: {', '.join(KEYS)}")
    default = UiSettings()
    try:
        size = parse_size(str(raw.get("size", "800x480")))
    except LayoutError as exc:
        raise SessionConfigError("ui.size", str(exc)) from None
    rotation = raw.get("rotation", 0)
    if not isinstance(rotation, int) or isinstance(rotation, bool) or rotation not in ROTATIONS:
        raise SessionConfigError("ui.rotation", "set 0 or 180")
    try:
        language = Lang(str(raw.get("language", "ja")))
    except ValueError:
        raise SessionConfigError("ui.language", 'set "ja" or "en"') from None
    volume = raw.get("volume", default.volume)
    if isinstance(volume, bool) or not isinstance(volume, int) or not 0 <= volume <= 100:
        raise SessionConfigError("ui.volume", "set a whole number 0..100")
    facility = raw.get("facility_name", "")
    voice_dir = raw.get("voice_dir")
    if not isinstance(facility, str):
        raise SessionConfigError("ui.facility_name", "set a text")
    if voice_dir is not None and not isinstance(voice_dir, str):
        raise SessionConfigError("ui.voice_dir", "set a directory path")
    try:
        keypad = KeypadLayout(str(raw.get("keypad", KeypadLayout.STANDARD.value)))
    except ValueError:
        raise SessionConfigError("ui.keypad", 'set "standard" or "tactile"') from None
    return UiSettings(
        size=size, rotation=rotation, language=language,
        fonts=_strings(raw.get("fonts", list(default.fonts)), "ui.fonts"),
        font_files=_strings(raw.get("font_files", []), "ui.font_files"),
        voice=_flag(raw.get("voice", True), "ui.voice"), volume=volume,
        facility_name=facility, fullscreen=_flag(raw.get("fullscreen", False), "ui.fullscreen"),
        voice_dir=voice_dir, keypad=keypad)
