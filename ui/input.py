"""Touch, mouse and USB keypad, normalised to one set of intents before the engine sees them.

- A tap fires on release over the element it started on (slide off to take it back); a
  press-and-hold element fires only after its hold time.
- FINGERDOWN/FINGERUP carry x, y in 0..1 of the window: scaled to pixels, then mapped back
  through the panel's rotation. The mouse events SDL synthesises from touches are dropped,
  so one tap is one intent.
- Keys: digits, Enter (決定), Backspace (訂正), Esc (中止, else 戻る) map to what the current
  screen offers, and nothing else: a key can never reach a button that is not shown. The
  numeric keypad is read by position (scancode), so it works with Num Lock off too: its
  digits, Enter, "." (訂正), "*" (中止, else 戻る) and "+" (say the prompt again, on every
  screen). docs/accessibility.md draws it.
- Debounce: the same element within DEBOUNCE_S is a bounce. No double submit: a button that
  moves on (決定, 同意する, ...) fires once per screen; only keypad keys and toggles repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygame

from myna_reader.daemon.engine import Button, DigitPressed, Pressed
from myna_reader.ui.intents import Intent, UiAction, UiIntent
from myna_reader.ui.layout import Layout
from myna_reader.ui.widgets import Element

DEBOUNCE_S = 0.15

_DIGIT_KEYS = {getattr(pygame, f"K_{d}"): d for d in range(10)}  # the row above the letters
_BUTTON_KEYS: dict[int, tuple[Button, ...]] = {
    pygame.K_RETURN: (Button.CONTINUE, Button.OK),  # a countdown shown: more time first
    pygame.K_BACKSPACE: (Button.DELETE,),
    pygame.K_ESCAPE: (Button.CANCEL, Button.BACK),
}
# the numeric keypad by physical key: the same with Num Lock on or off
_PAD_DIGITS = {getattr(pygame, f"KSCAN_KP_{d}"): d for d in range(10)}
_PAD_BUTTONS: dict[int, tuple[Button, ...]] = {
    pygame.KSCAN_KP_ENTER: (Button.CONTINUE, Button.OK),
    pygame.KSCAN_KP_PERIOD: (Button.DELETE,),
    pygame.KSCAN_KP_MULTIPLY: (Button.CANCEL, Button.BACK),
}
PAD_REPEAT = pygame.KSCAN_KP_PLUS
_PAD_KEYS = frozenset({*_PAD_DIGITS, *_PAD_BUTTONS, PAD_REPEAT})
SAY_AGAIN = UiIntent(UiAction.REPEAT)


def guided_by_voice(event: pygame.event.Event, intent: Intent | None) -> bool:
    """The patient asked for the prompt again or used the USB keypad (any key it reads, even
    one the screen has no use for): they are guided by voice (docs/accessibility.md)."""
    if intent == SAY_AGAIN:
        return True
    return event.type == pygame.KEYDOWN and getattr(event, "scancode", 0) in _PAD_KEYS


@dataclass
class _Press:
    element: Element
    since: float
    finger: int | None  # None: the mouse


@dataclass
class InputMapper:
    layout: Layout
    elements: tuple[Element, ...] = ()
    _press: _Press | None = None
    _fired: set[str] = field(default_factory=set)
    _last: dict[str, float] = field(default_factory=dict)

    def set_elements(self, elements: tuple[Element, ...], new_screen: bool) -> None:
        """The elements now drawn; `new_screen` re-arms the once-per-screen buttons."""
        self.elements = elements
        if new_screen:
            self._fired.clear()
        if self._press is not None and self._press.element not in elements:
            self._press = None

    @property
    def pressed(self) -> str | None:
        """The element under a finger right now (drawn pressed)."""
        return None if self._press is None else self._press.element.id

    def hit(self, x: int, y: int) -> Element | None:
        lx, ly = self.layout.to_logical(x, y)
        for element in self.elements:
            ex, ey, ew, eh = element.rect
            if ex <= lx < ex + ew and ey <= ly < ey + eh:
                return element
        return None

    def handle(self, event: pygame.event.Event, now: float) -> Intent | None:
        """The intent an input event makes, if any. `now`: monotonic seconds."""
        kind = event.type
        if kind in (pygame.FINGERDOWN, pygame.FINGERUP):
            x = int(event.x * self.layout.width)
            y = int(event.y * self.layout.height)
            if kind == pygame.FINGERUP:
                return self._up(x, y, now, event.finger_id)
            self._down(x, y, now, event.finger_id)
            return None
        if kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
            if getattr(event, "touch", False) or event.button != 1:
                return None
            x, y = event.pos
            if kind == pygame.MOUSEBUTTONUP:
                return self._up(x, y, now, None)
            self._down(x, y, now, None)
            return None
        if kind == pygame.KEYDOWN:
            return self._key(event.key, getattr(event, "scancode", 0), now)
        return None

    def _down(self, x: int, y: int, now: float, finger: int | None) -> None:
        if self._press is not None:
            return  # a second finger while one is down: ignored
        element = self.hit(x, y)
        if element is not None:
            self._press = _Press(element, now, finger)

    def _up(self, x: int, y: int, now: float, finger: int | None) -> Intent | None:
        press = self._press
        if press is None or press.finger != finger:
            return None
        self._press = None
        if self.hit(x, y) != press.element:
            return None  # slid off: taken back
        if now - press.since < press.element.hold_s:
            return None
        return self._fire(press.element, now)

    def _key(self, key: int, scancode: int, now: float) -> Intent | None:
        if scancode == PAD_REPEAT:
            return SAY_AGAIN
        wanted: list[Intent] = []
        if scancode in _PAD_DIGITS:
            wanted.append(DigitPressed(_PAD_DIGITS[scancode]))
        elif key in _DIGIT_KEYS:
            wanted.append(DigitPressed(_DIGIT_KEYS[key]))
        buttons = _PAD_BUTTONS.get(scancode) or _BUTTON_KEYS.get(key, ())
        wanted += [Pressed(b) for b in buttons]
        for intent in wanted:
            for element in self.elements:
                if element.intent == intent and element.hold_s == 0:
                    return self._fire(element, now)
        return None

    def _fire(self, element: Element, now: float) -> Intent | None:
        if now - self._last.get(element.id, float("-inf")) < DEBOUNCE_S:
            return None
        if not element.repeatable and element.id in self._fired:
            return None
        self._last[element.id] = now
        if not element.repeatable:
            self._fired.add(element.id)
        return element.intent
