"""Panel sizes, orientation and the 180° rotation; the grid units every screen lays out in.

Screens draw in logical coordinates (upright). A panel mounted upside down shows the frame
rotated by 180°, and touches are mapped back (`to_logical`), so no screen knows about it.
Sizes scale with the short side: one unit is 1 px at 800x480, so the 64 px minimum target
(about 10 mm on a 7-inch 800x480 panel) holds at every size.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from myna_reader.daemon.errors import DaemonError

# the panels the reader supports: 7" 800x480, 7" 1024x600, Touch Display 2 portrait
SIZES: tuple[tuple[int, int], ...] = ((800, 480), (1024, 600), (720, 1280))
ROTATIONS = (0, 180)
MIN_TARGET_PX = 64  # touch targets, at 800x480


class KeypadLayout(StrEnum):
    """Where the PIN and passcode pads sit (setting `ui.keypad`)."""

    STANDARD = "standard"  # beside the text (landscape) or below it (portrait)
    TACTILE = "tactile"  # fixed on the panel, the 5 key at its centre (docs/accessibility.md)


class LayoutError(DaemonError, ValueError):
    """A size or rotation the UI cannot lay out, or content that does not fit."""


def parse_size(text: str) -> tuple[int, int]:
    """`"800x480"` -> (800, 480)."""
    try:
        width_text, height_text = text.lower().split("x")
        width, height = int(width_text), int(height_text)
    except ValueError:
        raise LayoutError(f"size {text!r}: write WIDTHxHEIGHT, e.g. 800x480") from None
    if min(width, height) < 480 or max(width, height) > 4096:
        raise LayoutError(f"size {text!r}: the short side must be at least 480 px, "
                          "the long side at most 4096 px")
    return width, height


Rect = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True, slots=True)
class Layout:
    width: int
    height: int
    rotation: int = 0

    def __post_init__(self) -> None:
        if self.rotation not in ROTATIONS:
            raise LayoutError(f"rotation {self.rotation}: use 0 or 180")

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    @property
    def unit(self) -> float:
        return min(self.width, self.height) / 480

    def px(self, value: float) -> int:
        return round(value * self.unit)

    @property
    def screen(self) -> Rect:
        return (0, 0, self.width, self.height)

    def to_logical(self, x: int, y: int) -> tuple[int, int]:
        """A panel point (touch, mouse) in the upright frame's coordinates."""
        if self.rotation == 180:
            return self.width - 1 - x, self.height - 1 - y
        return x, y

    def to_panel(self, rect: Rect) -> Rect:
        """A logical rect where it appears on the panel (for clicking it from outside)."""
        x, y, w, h = rect
        if self.rotation == 180:
            return self.width - x - w, self.height - y - h, w, h
        return rect


# --- rect arithmetic ---------------------------------------------------------------------


def inset(rect: Rect, dx: int, dy: int | None = None) -> Rect:
    dy = dx if dy is None else dy
    x, y, w, h = rect
    return x + dx, y + dy, w - 2 * dx, h - 2 * dy


def cut_top(rect: Rect, height: int, gap: int = 0) -> tuple[Rect, Rect]:
    """(the top `height` px, the rest below it after `gap`)."""
    x, y, w, h = rect
    return (x, y, w, height), (x, y + height + gap, w, h - height - gap)


def cut_bottom(rect: Rect, height: int, gap: int = 0) -> tuple[Rect, Rect]:
    """(the rest above, the bottom `height` px)."""
    x, y, w, h = rect
    return (x, y, w, h - height - gap), (x, y + h - height, w, height)


def cut_left(rect: Rect, width: int, gap: int = 0) -> tuple[Rect, Rect]:
    """(the left `width` px, the rest right of it after `gap`)."""
    x, y, w, h = rect
    return (x, y, width, h), (x + width + gap, y, w - width - gap, h)


def cut_right(rect: Rect, width: int, gap: int = 0) -> tuple[Rect, Rect]:
    x, y, w, h = rect
    return (x, y, w - width - gap, h), (x + w - width, y, width, h)


def columns(rect: Rect, count: int, gap: int) -> list[Rect]:
    x, y, w, h = rect
    each = (w - gap * (count - 1)) // count
    return [(x + i * (each + gap), y, each, h) for i in range(count)]


def rows(rect: Rect, count: int, gap: int) -> list[Rect]:
    x, y, w, h = rect
    each = (h - gap * (count - 1)) // count
    return [(x, y + i * (each + gap), w, each) for i in range(count)]


def overlaps(a: Rect, b: Rect) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def contains(outer: Rect, inner: Rect) -> bool:
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    return ox <= ix and oy <= iy and ix + iw <= ox + ow and iy + ih <= oy + oh


# the tactile keypad, in units: keys of about 15 mm on a 7-inch 800x480 panel; a portrait
# panel has the width for larger ones
TACTILE_KEY = 80
TACTILE_KEY_PORTRAIT = 96
TACTILE_GAP = 10


def tactile_keypad(layout: Layout) -> Rect:
    """The 3x4 keypad with the centre of its 5 key at the centre of the panel, on every
    screen that has a keypad: a finger finds the home key from the panel's edges, and a
    raised dot stuck on the glass there marks it (as on a phone's or an ATM's 5)."""
    key = layout.px(TACTILE_KEY_PORTRAIT if layout.portrait else TACTILE_KEY)
    gap = layout.px(TACTILE_GAP)
    cx, cy = layout.width // 2, layout.height // 2
    left = cx - key // 2 - gap - key
    top = cy - key // 2 - gap - key
    return left, top, 3 * key + 2 * gap, 4 * key + 3 * gap
