"""Renders every screen state to files: DIR/<screen-id>.png and DIR/<screen-id>.json.

Headless (SDL's dummy video driver unless a display is already set up): the same render
functions as the reader, so the gallery shows exactly what the panel shows.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pygame

from myna_reader.daemon.engine import Screen
from myna_reader.ui.app import load_fonts
from myna_reader.ui.layout import KeypadLayout, Layout
from myna_reader.ui.messages import Lang, load_messages
from myna_reader.ui.samples import GALLERY
from myna_reader.ui.screens import ScreenInfo, render
from myna_reader.ui.settings import UiSettings
from myna_reader.ui.widgets import Canvas

SAMPLE_INFO = ScreenInfo(version="0.1.0", link="tcp://127.0.0.1:7060")


def export(out: Path, size: tuple[int, int] = (800, 480), lang: Lang = Lang.JA,
           rotation: int = 0, keypad: KeypadLayout = KeypadLayout.STANDARD) -> list[Path]:
    """Write the PNG and JSON of every screen id; returns the files written."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    pygame.display.init()
    pygame.font.init()
    messages = load_messages()
    fonts = load_fonts(UiSettings(size=size), messages)
    layout = Layout(*size, rotation=rotation)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for screen in Screen:
        surface = pygame.Surface(size)
        view = replace(GALLERY[screen], language=lang)
        frame = render(view, Canvas(surface, layout, fonts, messages[lang]),
                       replace(SAMPLE_INFO, keypad=keypad))
        if rotation == 180:
            surface = pygame.transform.rotate(surface, 180)
        png, data = out / f"{screen.value}.png", out / f"{screen.value}.json"
        pygame.image.save(surface, str(png))
        elements = [e.as_json() | {"rect": list(layout.to_panel(e.rect))}
                    for e in frame.elements]
        lines = ",\n ".join(json.dumps(e, ensure_ascii=False) for e in elements)
        data.write_text(f"[{lines}]\n" if not elements else f"[\n {lines}\n]\n",
                        encoding="utf-8")
        written += [png, data]
    return written
