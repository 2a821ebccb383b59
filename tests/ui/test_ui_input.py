"""Touch, mouse and keypad normalised to one set of intents; debounce; no double submit."""

from __future__ import annotations

import pygame
import pytest

from myna_reader.daemon.engine import (
    Button,
    ConsentView,
    DigitPressed,
    PinView,
    Pressed,
    Screen,
    StandbyView,
    View,
)
from myna_reader.ui.fonts import FontSet
from myna_reader.ui.input import DEBOUNCE_S, InputMapper
from myna_reader.ui.intents import Intent, UiAction, UiIntent
from myna_reader.ui.layout import Layout
from myna_reader.ui.messages import Lang, Messages
from myna_reader.ui.samples import GALLERY
from tests.ui.ui_support import draw


def mapper_for(view: View, fonts: FontSet, messages: dict[Lang, Messages],
               rotation: int = 0) -> InputMapper:
    frame, _ = draw(view, fonts, messages, rotation=rotation)
    mapper = InputMapper(Layout(800, 480, rotation))
    mapper.set_elements(frame.elements, new_screen=True)
    return mapper


def center(mapper: InputMapper, element_id: str) -> tuple[int, int]:
    element = next(e for e in mapper.elements if e.id == element_id)
    x, y, w, h = mapper.layout.to_panel(element.rect)
    return x + w // 2, y + h // 2


def finger(kind: int, x: int, y: int, finger_id: int = 0) -> pygame.event.Event:
    return pygame.event.Event(kind, x=x / 800, y=y / 480, dx=0.0, dy=0.0, finger_id=finger_id,
                              touch_id=1, pressure=1.0)


def tap(mapper: InputMapper, element_id: str, now: float) -> Intent | None:
    x, y = center(mapper, element_id)
    assert mapper.handle(finger(pygame.FINGERDOWN, x, y), now) is None
    assert mapper.pressed == element_id
    return mapper.handle(finger(pygame.FINGERUP, x, y), now + 0.05)


@pytest.mark.parametrize("rotation", [0, 180])
def test_finger_taps_become_engine_events(rotation: int, fonts: FontSet,
                                          messages: dict[Lang, Messages]) -> None:
    mapper = mapper_for(PinView(digits=4), fonts, messages, rotation)
    assert tap(mapper, "digit-7", 1.0) == DigitPressed(7)
    assert tap(mapper, Button.DELETE.value, 2.0) == Pressed(Button.DELETE)
    assert tap(mapper, Button.OK.value, 3.0) == Pressed(Button.OK)
    assert tap(mapper, "language", 4.0) == Pressed(Button.LANGUAGE)


def test_mouse_clicks_and_synthesised_touch_mouse(fonts: FontSet,
                                                  messages: dict[Lang, Messages]) -> None:
    mapper = mapper_for(PinView(), fonts, messages)
    x, y = center(mapper, "digit-3")
    down = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1, touch=False)
    up = pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x, y), button=1, touch=False)
    assert mapper.handle(down, 1.0) is None
    assert mapper.handle(up, 1.1) == DigitPressed(3)
    # SDL's mouse copy of a touch: dropped, the FINGER events already count
    copy_down = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1, touch=True)
    copy_up = pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x, y), button=1, touch=True)
    assert mapper.handle(copy_down, 2.0) is None
    assert mapper.handle(copy_up, 2.1) is None


def test_sliding_off_takes_the_tap_back(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    mapper = mapper_for(PinView(), fonts, messages)
    x, y = center(mapper, "digit-1")
    ox, oy = center(mapper, "digit-9")
    mapper.handle(finger(pygame.FINGERDOWN, x, y), 1.0)
    assert mapper.handle(finger(pygame.FINGERUP, ox, oy), 1.1) is None
    assert mapper.pressed is None


def test_second_finger_is_ignored(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    mapper = mapper_for(PinView(), fonts, messages)
    x, y = center(mapper, "digit-1")
    ox, oy = center(mapper, "digit-2")
    mapper.handle(finger(pygame.FINGERDOWN, x, y, 0), 1.0)
    mapper.handle(finger(pygame.FINGERDOWN, ox, oy, 1), 1.01)
    assert mapper.handle(finger(pygame.FINGERUP, ox, oy, 1), 1.02) is None
    assert mapper.handle(finger(pygame.FINGERUP, x, y, 0), 1.05) == DigitPressed(1)


def test_bounce_is_one_press(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    mapper = mapper_for(PinView(), fonts, messages)
    assert tap(mapper, "digit-5", 1.0) == DigitPressed(5)
    assert tap(mapper, "digit-5", 1.0 + DEBOUNCE_S / 3) is None
    assert tap(mapper, "digit-5", 1.0 + DEBOUNCE_S * 2) == DigitPressed(5)


def test_no_double_submit_until_the_screen_changes(fonts: FontSet,
                                                   messages: dict[Lang, Messages]) -> None:
    view = GALLERY[Screen.CONSENT]
    assert isinstance(view, ConsentView)
    mapper = mapper_for(view, fonts, messages)
    assert tap(mapper, Button.AGREE.value, 1.0) == Pressed(Button.AGREE)
    assert tap(mapper, Button.AGREE.value, 5.0) is None
    assert tap(mapper, Button.DISAGREE.value, 6.0) == Pressed(Button.DISAGREE)
    frame, _ = draw(view, fonts, messages)
    mapper.set_elements(frame.elements, new_screen=True)
    assert tap(mapper, Button.AGREE.value, 7.0) == Pressed(Button.AGREE)


def test_usb_keypad(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    """The numeric keypad by physical key (scancode): Num Lock on or off alike."""
    mapper = mapper_for(PinView(digits=4, back_button=True), fonts, messages)

    def key(k: int, now: float, scancode: int = 0) -> Intent | None:
        event = pygame.event.Event(pygame.KEYDOWN, key=k, scancode=scancode, mod=0, unicode="")
        return mapper.handle(event, now)

    assert key(pygame.K_KP4, 1.0, pygame.KSCAN_KP_4) == DigitPressed(4)
    assert key(pygame.K_LEFT, 1.5, pygame.KSCAN_KP_4) == DigitPressed(4)  # Num Lock off
    assert key(pygame.K_0, 2.0) == DigitPressed(0)
    assert key(pygame.K_DELETE, 3.0, pygame.KSCAN_KP_PERIOD) == Pressed(Button.DELETE)
    assert key(pygame.K_BACKSPACE, 3.5) == Pressed(Button.DELETE)
    assert key(pygame.K_KP_PLUS, 3.8, pygame.KSCAN_KP_PLUS) == UiIntent(UiAction.REPEAT)
    assert key(pygame.K_KP_ENTER, 4.0, pygame.KSCAN_KP_ENTER) == Pressed(Button.OK)
    assert key(pygame.K_RETURN, 5.0) is None  # 決定 already sent on this screen
    assert key(pygame.K_KP_MULTIPLY, 6.0, pygame.KSCAN_KP_MULTIPLY) == Pressed(Button.CANCEL)
    assert key(pygame.K_a, 7.0) is None


def test_keys_reach_only_what_is_shown(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    mapper = mapper_for(StandbyView(staff_button=False), fonts, messages)
    for number, k in enumerate((pygame.K_1, pygame.K_RETURN, pygame.K_ESCAPE, pygame.K_BACKSPACE)):
        event = pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode="")
        assert mapper.handle(event, float(number)) is None


def test_technician_gesture_needs_the_hold(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    mapper = mapper_for(StandbyView(), fonts, messages)
    x, y = center(mapper, Button.TECHNICIAN.value)
    mapper.handle(finger(pygame.FINGERDOWN, x, y), 10.0)
    assert mapper.handle(finger(pygame.FINGERUP, x, y), 10.5) is None
    mapper.handle(finger(pygame.FINGERDOWN, x, y), 20.0)
    assert mapper.handle(finger(pygame.FINGERUP, x, y), 23.5) == Pressed(Button.TECHNICIAN)
