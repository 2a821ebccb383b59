"""One render function per screen id: (view, canvas, info) -> drawing + interactive elements.

Pure in the view model: what a screen shows depends on the view, the language's catalog and
the display's own settings (ScreenInfo); it decides nothing about the flow. Every text comes
from the catalog. Landscape screens put the keypad beside the text, portrait ones below it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pygame

from myna_reader.daemon.engine import (
    BY_CODE,
    PASSCODE_LENGTH,
    PIN_LENGTH,
    Button,
    CertificateLife,
    ConsentView,
    DoneView,
    ErrorView,
    MethodView,
    Mode,
    NoReaderView,
    PinView,
    PrescriptionView,
    Pressed,
    ReadingView,
    Screen,
    StaffLockedView,
    StaffPasscodeView,
    StaffStandbyView,
    StandbyView,
    TechnicianCodeView,
    TechnicianUnsetView,
    TechnicianView,
    TokenKind,
    View,
)
from myna_reader.ui.fonts import Weight
from myna_reader.ui.intents import UiAction, UiIntent
from myna_reader.ui.layout import (
    KeypadLayout,
    Rect,
    columns,
    cut_bottom,
    cut_left,
    cut_right,
    cut_top,
    inset,
    rows,
    tactile_keypad,
)
from myna_reader.ui.messages import Lang
from myna_reader.ui.widgets import (
    HEADER,
    INK,
    PAPER,
    SIZE_BODY,
    SIZE_BUTTON,
    SIZE_HERO,
    SIZE_SMALL,
    SIZE_TITLE,
    STAFF_HEADER,
    WARN,
    Canvas,
    DrawnText,
    Element,
    Paragraph,
    Style,
    button,
    card_pictogram,
    keypad,
    mask,
    panel,
    progress,
    text_block,
    text_stack,
)

TECHNICIAN_HOLD_S = 3.0  # press and hold the facility name on standby


@dataclass(frozen=True, slots=True)
class ScreenInfo:
    """What the display knows besides the view: its own settings and the device's facts."""

    facility: str = ""
    version: str = ""
    link: str = ""
    voice_on: bool = True
    volume: int = 80  # percent
    keypad: KeypadLayout = KeypadLayout.STANDARD


@dataclass(frozen=True, slots=True)
class Frame:
    elements: tuple[Element, ...]
    texts: tuple[DrawnText, ...]


# --- the parts every screen shares --------------------------------------------------------


def _header(c: Canvas, view: View, title: str, gesture: bool = False) -> Rect:
    """The title bar with the language switch; returns the content area below it."""
    layout = c.layout
    bar, rest = cut_top(layout.screen, c.px(84))
    color = STAFF_HEADER if view.mode is Mode.STAFF else HEADER
    pygame.draw.rect(c.surface, color, bar)
    inner = inset(bar, c.px(10))
    title_area, toggle = cut_right(inner, c.px(180), c.px(12))
    title_area = inset(title_area, c.px(6), 0)
    if gesture:  # the hidden technician entry: press and hold the title
        c.elements.append(Element(Button.TECHNICIAN.value, "gesture", title, title_area,
                                  Pressed(Button.TECHNICIAN), hold_s=TECHNICIAN_HOLD_S))
    if not _title_band(c, view, title_area):
        # the standby title is the facility's name from the config: any break as a last resort
        text_block(c, title, title_area, SIZE_TITLE, Weight.BOLD, PAPER, middle=True,
                   anywhere=gesture)
    # the patient's language belongs to the session: the engine switches it (and back after)
    button(c, Element(Button.LANGUAGE.value, "button", c.msg.text("common.language"), toggle,
                      Pressed(Button.LANGUAGE), repeatable=True), Style.TOGGLE,
           size=SIZE_BODY)
    return inset(rest, c.px(16))


def _title_band(c: Canvas, view: View, area: Rect) -> bool:
    """In place of the title, what must be read first: a deadline's countdown with 続ける,
    why the last screen ended, staff standby's absent terminal. False: nothing to say."""
    m = c.msg
    notes = []
    if isinstance(view, StaffStandbyView) and view.terminal_away:
        notes.append(m.text("staff_standby.terminal_away"))
    if isinstance(view, StandbyView | StaffStandbyView) and view.ended is not None:
        notes.append(m.text(f"ended.{view.ended.screen.value}"))
    if view.countdown is None and not notes:
        return False
    band = inset(area, -c.px(6), 0)
    pygame.draw.rect(c.surface, WARN, band, border_radius=c.px(8))
    words = band
    if view.countdown is not None:
        words, cell = cut_right(band, c.px(130), c.px(8))
        button(c, Element(view.countdown.continue_button.value, "button",
                          m.text("countdown.continue"), cell,
                          Pressed(view.countdown.continue_button)), Style.PRIMARY,
               size=SIZE_BODY)
        notes = [m.text("countdown.message", seconds=view.countdown.seconds_left)]
    text_block(c, "\n".join(notes), inset(words, c.px(8), c.px(2)), SIZE_BODY, Weight.BOLD,
               PAPER, middle=True)
    return True


def _action_row(c: Canvas, area: Rect, buttons: list[tuple[Button, str, Style]],
                align_right: bool = True) -> None:
    """Buttons of equal width along the bottom; a lone button sits at the far side."""
    if not buttons:
        return
    slots = max(len(buttons), 2)
    cells = columns(area, slots, c.px(16))
    if align_right:
        cells = cells[slots - len(buttons):]
    for (button_id, key, style), cell in zip(buttons, cells, strict=False):
        button(c, Element(button_id.value, "button", c.msg.text(key), cell, Pressed(button_id)),
               style)


def _split(c: Canvas, content: Rect) -> tuple[Rect, Rect]:
    """(text area, side area): side by side in landscape, stacked in portrait."""
    if c.layout.portrait:
        x, y, w, h = content
        side_h = h * 9 // 20
        return (x, y, w, h - side_h - c.px(24)), (x, y + h - side_h, w, side_h)
    return cut_right(content, c.px(330), c.px(24))


def _button_height(c: Canvas) -> int:
    return c.px(80)


# --- screens -------------------------------------------------------------------------------


def no_reader(c: Canvas, view: NoReaderView, info: ScreenInfo) -> None:
    m = c.msg
    content = _header(c, view, m.text("no_reader.title"))
    top, bottom = cut_bottom(content, c.px(110), c.px(16))
    text_block(c, m.text("no_reader.message"), top, SIZE_HERO - 8, Weight.BOLD, middle=True)
    text_block(c, m.text("no_reader.technician"), bottom, SIZE_SMALL, middle=True)


def standby(c: Canvas, view: StandbyView, info: ScreenInfo) -> None:
    m = c.msg
    facility = info.facility or m.text("common.default_facility")
    content = _header(c, view, facility, gesture=True)
    main, actions = cut_bottom(content, _button_height(c), c.px(12))
    if view.remove_card:
        text_block(c, m.text("standby.remove_card"), main, SIZE_HERO, Weight.BOLD,
                   center=True, middle=True)
    elif view.terminal_away:  # no confirmation is possible: no invitation to place a card
        text_block(c, m.text("standby.terminal_away"), main, SIZE_HERO - 8, Weight.BOLD, WARN,
                   center=True, middle=True)
    else:
        if c.layout.portrait:
            picture, words = cut_top(main, main[3] * 2 // 5, c.px(16))
        else:
            picture, words = cut_left(main, main[2] * 2 // 5, c.px(16))
        card_pictogram(c, picture)
        hero, hint = cut_top(words, words[3] * 3 // 5, c.px(8))
        text_block(c, m.text("standby.instruction"), hero, SIZE_HERO, Weight.BOLD, middle=True)
        text_block(c, m.text("standby.hint"), hint, SIZE_BODY)
    if view.staff_button:
        _action_row(c, actions, [(Button.STAFF, "common.staff", Style.SECONDARY)])


def reading(c: Canvas, view: ReadingView, info: ScreenInfo) -> None:
    m = c.msg
    face = view.face_prompt
    content = _header(c, view, m.text("face.title" if face else "reading.title"))
    main, actions = cut_bottom(content, _button_height(c), c.px(12))
    words, bar = cut_bottom(main, c.px(44), c.px(16))
    phone = view.token is not None and view.token.phone
    message = (m.text(f"face.{face.value}") if face
               else m.text("reading.phone_message" if phone else "reading.message"))
    text_block(c, message, words, SIZE_HERO - 4, Weight.BOLD, center=True, middle=True)
    progress(c, inset(bar, main[2] // 8, 0))
    if view.cancel_button:
        _action_row(c, actions, [(Button.CANCEL, "common.cancel", Style.SECONDARY)],
                    align_right=False)


def method(c: Canvas, view: MethodView, info: ScreenInfo) -> None:
    m = c.msg
    content = _header(c, view, m.text("method.title"))
    main, actions = cut_bottom(content, _button_height(c), c.px(12))
    prompt = m.text("method.face_failed") if view.face_failed else m.text("method.prompt")
    words, choices = cut_top(main, c.px(80), c.px(16))
    text_block(c, prompt, words, SIZE_BODY, Weight.BOLD, color=WARN if view.face_failed else INK)
    offered = [(Button.METHOD_FACE, "method.face")] if view.face else []
    offered += [(Button.METHOD_PIN, "method.pin")] if view.pin else []
    cells = (rows if c.layout.portrait else columns)(choices, max(len(offered), 1), c.px(24))
    for (button_id, key), cell in zip(offered, cells, strict=False):
        button(c, Element(button_id.value, "button", m.text(key), cell, Pressed(button_id)),
               Style.PRIMARY, size=SIZE_HERO)
    _action_row(c, actions, [(Button.CANCEL, "common.cancel", Style.SECONDARY)],
                align_right=False)


def _repeat(c: Canvas, cell: Rect) -> None:
    """もう一度聞く: says the screen's prompt again (the display's own action)."""
    button(c, Element(UiAction.REPEAT.value, "voice", c.msg.text("common.repeat"), cell,
                      UiIntent(UiAction.REPEAT), repeatable=True), Style.SECONDARY)


def _keypad_screen(c: Canvas, view: View, info: ScreenInfo, title: str, entered: int,
                   length: int, paragraphs: list[Paragraph], back: bool,
                   keys_enabled: bool) -> None:
    """The PIN and passcode pads: what happened and the prompt (one size: a warning is never
    smaller than the prompt), the masked boxes, the keypad, 中止 (and 戻る, もう一度聞く)."""
    content = _header(c, view, title)
    gap = c.px(12)
    buttons: list[tuple[Button, str, Style]] = [(Button.CANCEL, "common.cancel",
                                                  Style.SECONDARY)]
    if back:
        buttons.append((Button.BACK, "common.back", Style.SECONDARY))
    if info.keypad is KeypadLayout.TACTILE:
        pad = tactile_keypad(c.layout)
        px, py, pw, ph = pad
        x, y, w, h = content
        if c.layout.portrait:
            words = (x, y, w, py - gap - y)
            below = (x, py + ph + gap, w, y + h - py - ph - gap)
            boxes, actions = cut_top(below, c.px(52), c.px(12))
            cells = columns(actions, len(buttons) + info.voice_on, c.px(16))
        else:
            words = (x, y, px - gap - x, h)
            side = (px + pw + gap, y, x + w - px - pw - gap, h)
            boxes, stack = cut_top(side, c.px(56), gap)
            count = len(buttons) + info.voice_on
            # 中止 at the top, away from 決定; もう一度聞く last, next to it (harmless if hit)
            cells = rows(cut_top(stack, count * _button_height(c) + (count - 1) * c.px(12))[0],
                         count, c.px(12))
        keypad(c, pad, ok_enabled=entered == length, enabled=keys_enabled)
        text_stack(c, paragraphs, words, gap=c.px(8))
        mask(c, boxes, entered, length)
        for (button_id, key, style), cell in zip(buttons, cells, strict=False):
            button(c, Element(button_id.value, "button", c.msg.text(key), cell,
                              Pressed(button_id)), style)
        if info.voice_on:
            _repeat(c, cells[-1])
        return
    words, pad = _split(c, content)
    keypad(c, pad, ok_enabled=entered == length, enabled=keys_enabled)
    words, actions = cut_bottom(words, _button_height(c), c.px(12))
    words, boxes = cut_bottom(words, c.px(64), c.px(12))
    text_stack(c, paragraphs, words, gap=c.px(8))
    mask(c, boxes, entered, length)
    _action_row(c, actions, buttons, align_right=False)


def pin(c: Canvas, view: PinView, info: ScreenInfo) -> None:
    """What went wrong and what is at stake first, in the warning colour, then the prompt."""
    m = c.msg
    said: list[Paragraph] = []
    if view.wrong:
        said.append((m.text("pin.wrong"), Weight.BOLD, WARN))
    if view.one_try_left:
        said.append((m.text("pin.one_try_left"), Weight.BOLD, WARN))
    elif view.tries_left is not None:
        said.append((m.text("pin.tries_left", tries=view.tries_left), Weight.REGULAR, INK))
    prompt = "pin.prompt_phone" if view.token is TokenKind.ANDROID else "pin.prompt"
    said.append((m.text(prompt), Weight.BOLD, INK))
    _keypad_screen(c, view, info, m.text("pin.title"), view.digits, PIN_LENGTH, said,
                   view.back_button, keys_enabled=True)


def staff_passcode(c: Canvas, view: StaffPasscodeView, info: ScreenInfo) -> None:
    """The staff pad; the technician code's pad is the same with its own words."""
    m = c.msg
    words = "technician_code" if isinstance(view, TechnicianCodeView) else "staff_passcode"
    said: list[Paragraph] = []
    if view.checking:
        said.append((m.text("staff_passcode.checking"), Weight.REGULAR, INK))
    elif view.wrong:
        said.append((m.text(f"{words}.wrong"), Weight.BOLD, WARN))
        if view.failures_left is not None:
            said.append((m.text(f"{words}.failures_left", count=view.failures_left),
                         Weight.BOLD, WARN))
    said.append((m.text(f"{words}.prompt"), Weight.BOLD, INK))
    _keypad_screen(c, view, info, m.text(f"{words}.title"), view.digits,
                   PASSCODE_LENGTH, said, back=False, keys_enabled=not view.checking)


def staff_locked(c: Canvas, view: StaffLockedView, info: ScreenInfo,
                 words: str = "staff_locked") -> None:
    """The staff lock notice; the technician menu's lock says its own title and way out."""
    m = c.msg
    content = _header(c, view, m.text(f"{words}.title"))
    main, actions = cut_bottom(content, _button_height(c), c.px(12))
    first, second = cut_top(main, main[3] // 2, c.px(12))
    text_block(c, m.text(f"{words}.message"), first, SIZE_BODY, middle=True)
    if view.locked_until_wall is None:
        until = m.text("staff_locked.until_unknown")
    else:
        until = m.text("staff_locked.until",
                       time=time.strftime("%H:%M", time.localtime(view.locked_until_wall)))
    until_area, unlock = cut_bottom(second, second[3] // 2, c.px(8))
    text_block(c, until, until_area, SIZE_HERO - 4, Weight.BOLD, center=True, middle=True)
    text_block(c, m.text(f"{words}.unlock"), unlock, SIZE_SMALL, middle=True)
    _action_row(c, actions, [(Button.OK, "common.close", Style.PRIMARY)])


def technician_locked(c: Canvas, view: StaffLockedView, info: ScreenInfo) -> None:
    staff_locked(c, view, info, "technician_locked")


def technician_unset(c: Canvas, view: TechnicianUnsetView, info: ScreenInfo) -> None:
    """No technician code: what it is for and the one way to set it; no setting here."""
    m = c.msg
    content = _header(c, view, m.text("technician_unset.title"))
    main, actions = cut_bottom(content, _button_height(c), c.px(12))
    first, second = cut_top(main, main[3] // 2, c.px(12))
    text_block(c, m.text("technician_unset.message"), first, SIZE_BODY, middle=True)
    text_block(c, m.text("technician_unset.how"), second, SIZE_BODY, Weight.BOLD, middle=True)
    _action_row(c, actions, [(Button.OK, "common.close", Style.PRIMARY)])


def staff_standby(c: Canvas, view: StaffStandbyView, info: ScreenInfo) -> None:
    m = c.msg
    content = _header(c, view, m.text("common.staff_mode"))
    main, actions = cut_bottom(content, _button_height(c), c.px(12))
    # a card still on the reader: take it first; "place the card" comes once it is off
    if view.remove_card:
        text_block(c, m.text("staff_standby.remove_card"), main, SIZE_HERO, Weight.BOLD, WARN,
                   center=True, middle=True)
    else:
        text_block(c, m.text("staff_standby.sentence"), main, SIZE_HERO - 4, Weight.BOLD,
                   middle=True)
    _action_row(c, actions, [(Button.CANCEL, "common.cancel", Style.PRIMARY)],
                align_right=False)


def consent(c: Canvas, view: ConsentView, info: ScreenInfo) -> None:
    m = c.msg
    title = m.text("consent.title", page=view.page_index + 1, count=view.page_count)
    content = _header(c, view, title)
    tall = c.layout.portrait and view.mode is Mode.STAFF  # four buttons: two rows
    main, actions = cut_bottom(content, _button_height(c) * (1 + tall) + c.px(12) * tall,
                               c.px(12))
    question, items = cut_top(main, c.px(80), c.px(12))
    text_block(c, m.text("consent.question"), question, SIZE_BODY)
    panel(c, items, HEADER)
    lines = "\n".join("・" + m.text(f"consent.items.{item.value}") for item in view.items)
    # the items are terms (限度額適用認定証関連): each kept on one line
    text_block(c, lines, inset(items, c.px(20)), SIZE_TITLE, Weight.BOLD, middle=True,
               whole=c.msg.lang is Lang.JA)
    # staff mode: 中止 returns to unattended mode at any time (docs/session.md), consent pages too
    buttons = [(Button.CANCEL, "common.cancel", Style.SECONDARY)] if view.mode is Mode.STAFF else []
    buttons += [(Button.BACK, "common.back", Style.SECONDARY)] if view.back_button else []
    answers = [(Button.DISAGREE, "consent.disagree", Style.SECONDARY),
               (Button.AGREE, "consent.agree", Style.PRIMARY)]
    if tall:
        upper, lower = rows(actions, 2, c.px(12))
        _action_row(c, upper, buttons, align_right=False)
        _action_row(c, lower, answers)
    else:
        _action_row(c, actions, buttons + answers)


def prescription(c: Canvas, view: PrescriptionView, info: ScreenInfo) -> None:
    """処方箋の発行方法: two equal choices, as the method screen offers its two."""
    m = c.msg
    content = _header(c, view, m.text("prescription.title"))
    main, actions = cut_bottom(content, _button_height(c), c.px(12))
    words, choices = cut_top(main, c.px(80), c.px(16))
    text_block(c, m.text("prescription.question"), words, SIZE_BODY, Weight.BOLD)
    offered = [(Button.PRESCRIPTION_ELECTRONIC, "prescription.electronic"),
               (Button.PRESCRIPTION_PAPER, "prescription.paper")]
    cells = (rows if c.layout.portrait else columns)(choices, len(offered), c.px(24))
    for (button_id, key), cell in zip(offered, cells, strict=True):
        button(c, Element(button_id.value, "button", m.text(key), cell, Pressed(button_id)),
               Style.PRIMARY, size=SIZE_HERO - 8)
    buttons = [(Button.CANCEL, "common.cancel", Style.SECONDARY)] if view.mode is Mode.STAFF else []
    buttons += [(Button.BACK, "common.back", Style.SECONDARY)] if view.back_button else []
    _action_row(c, actions, buttons, align_right=False)


def _day(c: Canvas, day: date) -> str:
    return c.msg.text("done.date", year=day.year, month=day.month, day=day.day,
                      month_name=day.strftime("%B"))


def certificate_notice(c: Canvas, view: DoneView) -> str | None:
    """The done screen's line about an expiring (or, in its grace, expired) certificate."""
    if view.certificate_expiry is None:
        return None
    expiry = _day(c, view.certificate_expiry)
    if view.certificate_life is CertificateLife.GRACE and view.grace_until is not None:
        return c.msg.text("done.qualification_only", date=expiry,
                          until=_day(c, view.grace_until))
    return c.msg.text("done.expiring", date=expiry)


def done(c: Canvas, view: DoneView, info: ScreenInfo) -> None:
    m = c.msg
    content = _header(c, view, m.text("done.title"))
    main, actions = cut_bottom(content, _button_height(c), c.px(12))
    notice = certificate_notice(c, view)
    if notice is not None:  # told after the confirmation, never in its way
        main, note = cut_bottom(main, main[3] * 2 // 5, c.px(12))
        panel(c, note)
        text_block(c, notice, inset(note, c.px(16)), SIZE_BODY - 2, Weight.BOLD, WARN,
                   middle=True)
    hero, rest = cut_top(main, main[3] // 2, c.px(12))
    text_block(c, m.text("done.title"), hero, SIZE_HERO + 8, Weight.BOLD, center=True,
               middle=True)
    follow = m.text("done.remove_card") if view.remove_card else m.text("done.next")
    text_block(c, follow, rest, SIZE_HERO - 4, Weight.BOLD, WARN if view.remove_card else INK,
               center=True, middle=True)
    _action_row(c, actions, [(Button.OK, "common.close", Style.SECONDARY)])


def error(c: Canvas, view: ErrorView, info: ScreenInfo) -> None:
    m = c.msg
    content = _header(c, view, m.text("error.title"))
    main, actions = cut_bottom(content, _button_height(c), c.px(12))
    key = view.code if view.code in BY_CODE else "unknown"
    panel(c, main)
    inner = inset(main, c.px(20))
    code_line, rest = cut_top(inner, c.px(56), c.px(8))
    text_block(c, m.text("error.code", code=view.code or "---",
                         short=m.text(f"error.short.{key}")), code_line, SIZE_TITLE, Weight.BOLD,
               WARN)
    if view.ask_staff:
        rest, ask = cut_bottom(rest, c.px(48), c.px(8))
        text_block(c, m.text("error.ask_staff"), ask, SIZE_TITLE, Weight.BOLD)
    phone_key = f"error.next_phone.{key}"
    phone = view.token is not None and view.token.phone and m.has(phone_key)
    text_block(c, m.text(phone_key if phone else f"error.next.{key}"), rest, SIZE_BODY,
               middle=True)
    _action_row(c, actions, [(Button.OK, "common.close", Style.SECONDARY)])


def technician(c: Canvas, view: TechnicianView, info: ScreenInfo) -> None:
    m = c.msg
    content = _header(c, view, m.text("technician.title"))
    tall = c.layout.portrait  # portrait: the four buttons in two rows
    main, actions = cut_bottom(content, _button_height(c) * (2 if tall else 1) + c.px(12) * tall,
                               c.px(12))
    if view.passcode_provisioned:
        state = m.text("technician.locked" if view.staff_locked else "technician.provisioned")
    else:
        state = m.text("technician.not_provisioned")
    voice = m.text("technician.voice_on" if view.sound.voice else "technician.voice_off")
    lines = [
        m.text("technician.version", version=info.version),
        m.text("technician.reader", reader=view.reader or m.text("technician.reader_none")),
        m.text("technician.link", link=info.link or m.text("technician.link_none")),
        m.text("technician.passcode", state=state),
        m.text("technician.terminal", state=m.text(
            "technician.terminal_away" if view.terminal_away else "technician.terminal_connected")),
        m.text("technician.voice", state=voice) + "　"
        + m.text("technician.volume", volume=view.sound.volume),
    ]
    if not view.passcode_provisioned:  # a fresh reader: why 職員用 is absent, and the way on
        main, hint = cut_bottom(main, main[3] // 4, c.px(4))
        text_block(c, m.text("technician.provision_hint"), hint, SIZE_SMALL, Weight.BOLD, WARN)
    for line, cell in zip(lines, rows(main, len(lines), c.px(4)), strict=True):
        text_block(c, line, cell, SIZE_BODY - 4, middle=True)
    if tall:
        cells = [cell for row in rows(actions, 2, c.px(12)) for cell in columns(row, 2, c.px(12))]
    else:
        cells = columns(actions, 4, c.px(12))
    # engine presses: a setting is kept and audited, and reachable only behind the code
    settings = [(Button.VOICE, "technician.voice_toggle"),
                (Button.VOLUME_DOWN, "technician.volume_down"),
                (Button.VOLUME_UP, "technician.volume_up")]
    for (setting, key), cell in zip(settings, cells, strict=False):
        button(c, Element(setting.value, "toggle", m.text(key), cell, Pressed(setting),
                          repeatable=True), Style.TOGGLE, size=SIZE_BUTTON - 6)
    button(c, Element(Button.OK.value, "button", m.text("common.back"), cells[3],
                      Pressed(Button.OK)), Style.PRIMARY)


Renderer = Callable[[Canvas, View, ScreenInfo], None]
RENDERERS: dict[Screen, Renderer] = {
    Screen.NO_READER: no_reader,  # type: ignore[dict-item]  # each takes its own View subclass
    Screen.STANDBY: standby,  # type: ignore[dict-item]
    Screen.READING: reading,  # type: ignore[dict-item]
    Screen.METHOD: method,  # type: ignore[dict-item]
    Screen.PIN: pin,  # type: ignore[dict-item]
    Screen.STAFF_PASSCODE: staff_passcode,  # type: ignore[dict-item]
    Screen.STAFF_LOCKED: staff_locked,  # type: ignore[dict-item]
    Screen.STAFF_STANDBY: staff_standby,  # type: ignore[dict-item]
    Screen.CONSENT: consent,  # type: ignore[dict-item]
    Screen.PRESCRIPTION: prescription,  # type: ignore[dict-item]
    Screen.DONE: done,  # type: ignore[dict-item]
    Screen.ERROR: error,  # type: ignore[dict-item]
    Screen.TECHNICIAN: technician,  # type: ignore[dict-item]
    Screen.TECHNICIAN_CODE: staff_passcode,  # type: ignore[dict-item]
    Screen.TECHNICIAN_LOCKED: technician_locked,  # type: ignore[dict-item]
    Screen.TECHNICIAN_UNSET: technician_unset,  # type: ignore[dict-item]
}


def render(view: View, canvas: Canvas, info: ScreenInfo) -> Frame:
    """Draw `view` on the canvas; returns what was drawn and what can be touched."""
    canvas.surface.fill(PAPER)
    RENDERERS[view.screen](canvas, view, info)
    return Frame(tuple(canvas.elements), tuple(canvas.texts))


def animated(view: View) -> bool:
    """Screens with a running animation (redrawn on a timer; all others only on change)."""
    return isinstance(view, ReadingView) or (isinstance(view, StaffPasscodeView)
                                             and view.checking)
