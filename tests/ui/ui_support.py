"""Helpers shared by the UI tests."""

from __future__ import annotations

import pygame

from myna_reader.daemon.engine import View
from myna_reader.ui.fonts import FontSet
from myna_reader.ui.layout import Layout
from myna_reader.ui.messages import Lang, Messages
from myna_reader.ui.screens import Frame, ScreenInfo, render
from myna_reader.ui.widgets import Canvas

INFO = ScreenInfo(facility="さくら内科クリニック", version="0.1.0", link="tcp://127.0.0.1:7060")


def draw(view: View, fonts: FontSet, messages: dict[Lang, Messages],
         size: tuple[int, int] = (800, 480), lang: Lang = Lang.JA,
         rotation: int = 0) -> tuple[Frame, pygame.Surface]:
    surface = pygame.Surface(size)
    canvas = Canvas(surface, Layout(*size, rotation=rotation), fonts, messages[lang])
    return render(view, canvas, INFO), surface


