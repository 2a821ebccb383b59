"""The display's settings: the `[ui]` table of config.toml, validated, with safe defaults.

UiSettings is the table's schema (daemon/engine/schema.py): each field is a key.

Keys: size ("800x480", "1024x600", "720x1280"), rotation (0 | 180), language ("ja" | "en",
the language a session starts in), fonts (fontconfig family names, in order of preference),
font_files (font file paths tried before the families), voice (true | false), volume
(0..100), facility_name, fullscreen, voice_dir (where `python -m myna_reader.ui.make_voice`
wrote the prompts, one folder per language; default: the package's own assets/voice),
keypad ("standard" | "tactile": the 5 key fixed at the panel's centre, docs/accessibility.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from myna_reader.daemon.engine import KeyRule, require_valid, setting
from myna_reader.ui.layout import ROTATIONS, SIZES, KeypadLayout, parse_size
from myna_reader.ui.messages import Lang

# fontconfig family names (pygame.font.match_font normalises them: lower case, no spaces);
# here, not in fonts.py, so that checking a config needs no pygame
DEFAULT_FAMILIES: tuple[str, ...] = ("BIZ UDPGothic", "IPAexGothic")

SIZE = KeyRule(parse=parse_size, choices=SIZES, what="is not a supported size",
               fix=f"use one of {', '.join(f'{w}x{h}' for w, h in SIZES)}")


@dataclass(frozen=True, slots=True)
class UiSettings:
    size: tuple[int, int] = setting((800, 480), SIZE)
    rotation: int = setting(0, KeyRule(choices=ROTATIONS))
    language: Lang = Lang.JA
    fonts: tuple[str, ...] = DEFAULT_FAMILIES
    font_files: tuple[str, ...] = ()
    voice: bool = True
    volume: int = setting(80, KeyRule(low=0, high=100))
    facility_name: str = ""
    fullscreen: bool = False
    voice_dir: str | None = setting(None, KeyRule(fix="set a directory path"))
    keypad: KeypadLayout = KeypadLayout.STANDARD

    def __post_init__(self) -> None:
        require_valid(self)
