"""The widget set: text blocks (wrapped, fitted), buttons, the keypad, the PIN mask, progress.

Widgets draw onto a Canvas and record what they drew: interactive elements (for input, the
screens JSON and the tests) and every text with its rect and lines (for glyph, overlap and
line-break checks). Text breaks by phrase with kinsoku (ui/typeset.py) and shrinks step by
step until it fits; text that cannot fit even at the smallest size raises LayoutError, so a
screen never clips silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import pygame

from myna_reader.daemon.engine import Button, DigitPressed, Pressed
from myna_reader.ui.fonts import Face, FontSet, Weight
from myna_reader.ui.intents import Intent
from myna_reader.ui.layout import Layout, LayoutError, Rect, columns, inset, rows
from myna_reader.ui.messages import Messages
from myna_reader.ui.typeset import break_chars, break_lines, by_sentence

# High contrast (WCAG AA or better for every text/background pair used here).
INK = (26, 26, 26)
PAPER = (255, 255, 255)
HEADER = (11, 61, 145)
STAFF_HEADER = (122, 62, 0)  # staff mode: a different colour, so nobody mistakes the mode
ACCENT = (11, 95, 204)
ACCENT_DOWN = (6, 55, 120)
KEY = (232, 238, 247)
KEY_DOWN = (170, 190, 220)
MUTED = (90, 90, 90)
DISABLED = (200, 200, 200)
WARN = (170, 30, 20)

# text sizes in px at 800x480 (scaled by the layout's unit)
SIZE_HERO = 44
SIZE_TITLE = 32
SIZE_BODY = 28
SIZE_BUTTON = 30
SIZE_SMALL = 22
MIN_SIZE = 18


class Style(Enum):
    PRIMARY = "primary"  # the answer that moves on (決定, 同意する)
    SECONDARY = "secondary"  # outlined (中止, 戻る, 同意しない)
    KEY = "key"  # keypad
    TOGGLE = "toggle"  # language, voice settings


@dataclass(frozen=True, slots=True)
class Element:
    """An interactive element: what the screens JSON lists and what input hit-tests."""

    id: str
    role: str
    label: str
    rect: Rect
    intent: Intent
    repeatable: bool = False  # keypad keys may be pressed again on the same screen
    hold_s: float = 0.0  # > 0: a press-and-hold gesture

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "role": self.role, "label": self.label, "rect": list(self.rect)}


@dataclass(frozen=True, slots=True)
class DrawnText:
    text: str
    rect: Rect
    size: int
    in_element: str | None = None  # the element it labels, if any
    lines: tuple[str, ...] = ()  # as set on screen, one per line
    face: Face = Face.TEXT
    weight: Weight = Weight.REGULAR
    color: tuple[int, int, int] = INK


@dataclass
class Canvas:
    surface: pygame.Surface
    layout: Layout
    fonts: FontSet
    msg: Messages
    pressed: str | None = None  # the element under a finger: drawn pressed
    anim: int = 0  # animation frame (progress)
    elements: list[Element] = field(default_factory=list)
    texts: list[DrawnText] = field(default_factory=list)

    def px(self, value: float) -> int:
        return self.layout.px(value)


# --- text ----------------------------------------------------------------------------------


def line_height(font: pygame.font.Font) -> int:
    """Japanese needs air between lines: 1.25 of the font's own line size."""
    return font.get_linesize() * 5 // 4


def _set(text: str, width: int, font: pygame.font.Font, whole: bool,
         anywhere: bool) -> list[str] | None:
    """The lines of `text` in `font` within `width`, or None. A paragraph that wraps anyway
    reads better broken after each sentence; `anywhere` (text from the config, not the
    catalog) may break between characters when phrases cannot be kept whole."""

    def measure(line: str) -> int:
        return int(font.size(line)[0])

    if anywhere:
        return break_lines(text, width, measure) or break_chars(text, width, measure)
    one = break_lines(text, width, measure, whole)
    if one is not None and len(one) == 1:
        return one
    return break_lines(by_sentence(text), width, measure, whole) or one


def fit_stack(canvas: Canvas, texts: list[str], rect: Rect, size: float, weights: list[Weight],
              gap: int, whole: bool = False,
              anywhere: bool = False) -> tuple[int, list[tuple[pygame.font.Font, list[str]]]]:
    """The largest size <= `size` at which every one of `texts`, one below the other with
    `gap` px between, is set in `rect`: (px, [(font, lines)] per text). One size for all, so
    a warning is never drawn smaller than the prompt beside it."""
    _, _, width, height = rect
    px = canvas.px(size)
    while px >= canvas.px(MIN_SIZE):
        fonts = [canvas.fonts.get(px, weight) for weight in weights]
        sets = [_set(text, width, font, whole, anywhere)
                for text, font in zip(texts, fonts, strict=True)]
        if all(lines is not None for lines in sets):
            done = [(font, lines) for font, lines in zip(fonts, sets, strict=True)
                    if lines is not None]
            used = sum(len(lines) * line_height(font) for font, lines in done)
            if used + gap * (len(texts) - 1) <= height:
                return px, done
        px -= max(1, px // 16)
    raise LayoutError(f"text does not fit {rect} at {MIN_SIZE}px or more: {texts!r}")


def fit(canvas: Canvas, text: str, rect: Rect, size: float, weight: Weight,
        face: Face = Face.TEXT, whole: bool = False,
        anywhere: bool = False) -> tuple[pygame.font.Font, list[str], int]:
    """The largest size <= `size` at which `text` is set in `rect`: (font, lines, size).
    `whole` (terms) tries every size unbroken first, then breaks by phrase as any text."""
    _, _, width, height = rect
    for unbroken in (True, False) if whole else (False,):
        px = canvas.px(size)
        while px >= canvas.px(MIN_SIZE):
            font = canvas.fonts.get(px, weight, face)
            lines = _set(text, width, font, unbroken, anywhere)
            if lines is not None and len(lines) * line_height(font) <= height:
                return font, lines, px
            px -= max(1, px // 16)
    raise LayoutError(f"text does not fit {rect} at {MIN_SIZE}px or more: {text!r}")


def _draw(canvas: Canvas, text: str, font: pygame.font.Font, lines: list[str], px: int,
          area: Rect, top: int, color: tuple[int, int, int], center: bool,
          in_element: str | None, face: Face, weight: Weight) -> Rect:
    """Blit `lines` from `top` down in `area`; record and return the rect they cover."""
    x, _, w, _ = area
    step = line_height(font)
    covered: pygame.Rect | None = None
    for i, line in enumerate(lines):
        image = font.render(line, True, color)
        left = x + (w - image.get_width()) // 2 if center else x
        where = image.get_rect(topleft=(left, top + i * step))
        canvas.surface.blit(image, where)
        covered = where if covered is None else covered.union(where)
    drawn = (x, top, 0, 0) if covered is None else (covered.x, covered.y, covered.w, covered.h)
    canvas.texts.append(DrawnText(text, drawn, px, in_element, tuple(lines), face, weight,
                                  color))
    return drawn


def text_block(canvas: Canvas, text: str, rect: Rect, size: float = SIZE_BODY,
               weight: Weight = Weight.REGULAR, color: tuple[int, int, int] = INK,
               center: bool = False, middle: bool = False, in_element: str | None = None,
               face: Face = Face.TEXT, whole: bool = False, anywhere: bool = False) -> Rect:
    """Draw text set in `rect`; returns the rect the text actually covers. `whole`: break
    only at the text's own line breaks (terms); `anywhere`: see `_set`."""
    font, lines, px = fit(canvas, text, rect, size, weight, face, whole, anywhere)
    _, y, _, h = rect
    top = y + (h - line_height(font) * len(lines)) // 2 if middle else y
    return _draw(canvas, text, font, lines, px, rect, top, color, center, in_element, face,
                 weight)


Paragraph = tuple[str, Weight, tuple[int, int, int]]  # text, weight, colour


def text_stack(canvas: Canvas, paragraphs: list[Paragraph], rect: Rect,
               size: float = SIZE_BODY, gap: int = 0) -> list[Rect]:
    """Paragraphs one below the other from the top of `rect`, all at one size (fit_stack)."""
    px, sets = fit_stack(canvas, [p[0] for p in paragraphs], rect, size,
                         [p[1] for p in paragraphs], gap)
    drawn: list[Rect] = []
    top = rect[1]
    for (text, weight, color), (font, lines) in zip(paragraphs, sets, strict=True):
        drawn.append(_draw(canvas, text, font, lines, px, rect, top, color, False, None,
                           Face.TEXT, weight))
        top += len(lines) * line_height(font) + gap
    return drawn


# --- buttons -------------------------------------------------------------------------------

_COLORS: dict[Style, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    # style: (fill, fill when pressed, text)
    Style.PRIMARY: (ACCENT, ACCENT_DOWN, PAPER),
    Style.SECONDARY: (PAPER, KEY_DOWN, INK),
    Style.KEY: (KEY, KEY_DOWN, INK),
    Style.TOGGLE: (PAPER, KEY_DOWN, HEADER),
}


def button(canvas: Canvas, element: Element, style: Style, enabled: bool = True,
           size: float = SIZE_BUTTON, face: Face = Face.TEXT) -> None:
    """Draw a button; only an enabled one is interactive (recorded as an element)."""
    rect = pygame.Rect(element.rect)
    fill, fill_down, ink = _COLORS[style]
    radius = canvas.px(10)
    if not enabled:
        fill, ink = DISABLED, MUTED
    elif canvas.pressed == element.id:
        fill = fill_down
        if style is Style.PRIMARY:
            ink = PAPER
    pygame.draw.rect(canvas.surface, fill, rect, border_radius=radius)
    if style is not Style.PRIMARY or not enabled:
        pygame.draw.rect(canvas.surface, INK if enabled else MUTED, rect,
                         width=max(2, canvas.px(3)), border_radius=radius)
    text_block(canvas, element.label, inset(element.rect, canvas.px(4)), size, Weight.BOLD,
               ink, center=True, middle=True, in_element=element.id, face=face)
    if enabled:
        canvas.elements.append(element)


def keypad(canvas: Canvas, rect: Rect, ok_enabled: bool, enabled: bool = True) -> None:
    """Digits 1-9, then 訂正 0 決定: the layout of a phone keypad, the one people know."""
    msg, gap = canvas.msg, canvas.px(10)
    grid = [columns(row, 3, gap) for row in rows(rect, 4, gap)]
    for index, digit in enumerate((1, 2, 3, 4, 5, 6, 7, 8, 9)):
        cell = grid[index // 3][index % 3]
        button(canvas, Element(f"digit-{digit}", "key", str(digit), cell,
                               DigitPressed(digit), repeatable=True), Style.KEY, enabled,
               size=SIZE_HERO, face=Face.MONO)
    button(canvas, Element(Button.DELETE.value, "key", msg.text("common.delete"), grid[3][0],
                           Pressed(Button.DELETE), repeatable=True), Style.SECONDARY, enabled)
    button(canvas, Element("digit-0", "key", "0", grid[3][1], DigitPressed(0), repeatable=True),
           Style.KEY, enabled, size=SIZE_HERO, face=Face.MONO)
    # the home key's mark, as the bump on a phone's 5
    home = pygame.Rect(grid[1][1])
    bar = pygame.Rect(0, 0, home.w // 5, max(3, canvas.px(5)))
    bar.midbottom = (home.centerx, home.bottom - canvas.px(8))
    pygame.draw.rect(canvas.surface, INK if enabled else MUTED, bar, border_radius=bar.h // 2)
    button(canvas, Element(Button.OK.value, "button", msg.text("common.ok"), grid[3][2],
                           Pressed(Button.OK)), Style.PRIMARY, enabled and ok_enabled)


def mask(canvas: Canvas, rect: Rect, entered: int, length: int) -> None:
    """One box per digit, a dot in each entered one: the count shows, the digits never."""
    gap = canvas.px(12)
    _, _, w, h = rect
    side = min(h, (w - gap * (length - 1)) // length)
    x, y, _, _ = rect
    for i in range(length):
        box = pygame.Rect(x + i * (side + gap), y + (h - side) // 2, side, side)
        pygame.draw.rect(canvas.surface, PAPER, box, border_radius=canvas.px(6))
        pygame.draw.rect(canvas.surface, INK, box, width=max(2, canvas.px(3)),
                         border_radius=canvas.px(6))
        if i < entered:
            pygame.draw.circle(canvas.surface, INK, box.center, side // 4)


def progress(canvas: Canvas, rect: Rect) -> None:
    """An indeterminate progress bar: a block that moves one step per animation frame."""
    steps = 8
    outer = pygame.Rect(rect)
    pygame.draw.rect(canvas.surface, INK, outer, width=max(2, canvas.px(3)),
                     border_radius=canvas.px(8))
    inner = pygame.Rect(inset(rect, canvas.px(6)))
    block = inner.w // 4
    offset = (canvas.anim % steps) * (inner.w - block) // (steps - 1)
    pygame.draw.rect(canvas.surface, ACCENT, (inner.x + offset, inner.y, block, inner.h),
                     border_radius=canvas.px(4))


def panel(canvas: Canvas, rect: Rect, color: tuple[int, int, int] = WARN) -> None:
    """A framed area that sets a message apart (the dialog of the error screen)."""
    pygame.draw.rect(canvas.surface, color, rect, width=max(3, canvas.px(4)),
                     border_radius=canvas.px(12))


def card_pictogram(canvas: Canvas, rect: Rect) -> None:
    """A card going down onto the reader: shows without words where the card goes."""
    x, y, w, h = rect
    side = min(w, h)
    cx = x + w // 2
    reader = pygame.Rect(0, 0, side * 9 // 10, side * 3 // 10)
    reader.midbottom = (cx, y + (h + side) // 2)
    pygame.draw.rect(canvas.surface, MUTED, reader, border_radius=canvas.px(8))
    card = pygame.Rect(0, 0, side * 7 // 10, side * 44 // 100)
    card.midbottom = (cx, reader.top - side // 12)
    pygame.draw.rect(canvas.surface, KEY, card, border_radius=canvas.px(8))
    pygame.draw.rect(canvas.surface, HEADER, card, width=max(2, canvas.px(3)),
                     border_radius=canvas.px(8))
    chip = pygame.Rect(card.x + card.w // 8, card.y + card.h // 3, card.w // 5, card.h // 4)
    pygame.draw.rect(canvas.surface, (200, 160, 40), chip, border_radius=canvas.px(3))
    arrow_top = card.bottom + side // 100
    pygame.draw.polygon(canvas.surface, ACCENT, [
        (cx - side // 12, arrow_top), (cx + side // 12, arrow_top),
        (cx, reader.top + side // 20)])
