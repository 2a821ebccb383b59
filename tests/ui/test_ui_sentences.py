"""Each screen's sentences as a set: shown and spoken, no two instructions that contradict;
warnings as large as the prompt, in the warning colour, and spoken; the tactile keypad."""

from __future__ import annotations

from dataclasses import replace

import pygame
import pytest

from myna_reader.daemon.engine import (
    PinView,
    StaffPasscodeView,
    StaffStandbyView,
    View,
)
from myna_reader.ui.fonts import FontSet
from myna_reader.ui.layout import SIZES, KeypadLayout, Layout, contains, overlaps
from myna_reader.ui.messages import Lang, Messages
from myna_reader.ui.samples import ALL_VIEWS
from myna_reader.ui.screens import ScreenInfo, render
from myna_reader.ui.voice import screen_prompts
from myna_reader.ui.voice_prompts import prompt_texts
from myna_reader.ui.widgets import INK, WARN, Canvas
from tests.ui.ui_support import INFO, draw

# what a sentence tells the person to do with the card, by the words that say it
ACTS: dict[str, dict[Lang, tuple[str, ...]]] = {
    "place": {Lang.JA: ("置いてください", "置き直してください"), Lang.EN: ("place",)},
    "take": {Lang.JA: ("お取りください",), Lang.EN: ("take your card", "take the card")},
    "keep": {Lang.JA: ("動かさないでください",), Lang.EN: ("do not move",)},
}
CONTRADICT = {frozenset({"place", "take"}), frozenset({"keep", "take"})}
TACTILE = replace(INFO, keypad=KeypadLayout.TACTILE)


def rect_of(rect: pygame.Rect) -> tuple[int, int, int, int]:
    return rect.x, rect.y, rect.w, rect.h
KEYPAD_VIEWS = [v for v in ALL_VIEWS if isinstance(v, PinView | StaffPasscodeView)]


def acts(sentences: list[str], lang: Lang) -> set[str]:
    found = set()
    for sentence in sentences:
        for act, words in ACTS.items():
            if any(word in sentence.lower() for word in words[lang]):
                found.add(act)
    return found


def sentences_of(view: View, lang: Lang, fonts: FontSet, messages: dict[Lang, Messages],
                 size: tuple[int, int] = (800, 480)) -> list[str]:
    """What the screen shows outside its buttons, and what it says when it appears."""
    frame, _ = draw(view, fonts, messages, size, lang)
    shown = [t.text for t in frame.texts if t.in_element is None]
    spoken = prompt_texts(lang)
    return shown + [spoken[key] for key in screen_prompts(view)]


@pytest.mark.parametrize("lang", list(Lang))
def test_no_screen_tells_two_contradicting_things(lang: Lang, fonts: FontSet,
                                                  messages: dict[Lang, Messages]) -> None:
    checked = 0
    for view in ALL_VIEWS:
        for size in SIZES:
            found = acts(sentences_of(view, lang, fonts, messages, size), lang)
            clash = [pair for pair in CONTRADICT if pair <= found]
            assert not clash, (view, clash)
            checked += 1
    assert checked == len(ALL_VIEWS) * len(SIZES)


def test_the_check_sees_the_staff_standby_contradiction() -> None:
    """The sentences the issue found together on one screen are reported."""
    both = ["資格確認を開始します。目視で本人確認を行いマイナンバーカードを置いてください。",
            "カードをお取りください"]
    assert frozenset({"place", "take"}) <= acts(both, Lang.JA)


@pytest.mark.parametrize("lang", list(Lang))
def test_staff_standby_with_a_card_left_asks_only_for_the_card(
        lang: Lang, fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    found = acts(sentences_of(StaffStandbyView(remove_card=True), lang, fonts, messages), lang)
    assert found == {"take"}
    assert acts(sentences_of(StaffStandbyView(), lang, fonts, messages), lang) == {"place"}


@pytest.mark.parametrize("info", [INFO, TACTILE], ids=["standard", "tactile"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("lang", list(Lang))
def test_warnings_are_as_large_as_the_prompt_and_in_the_warning_colour(
        lang: Lang, size: tuple[int, int], info: ScreenInfo, fonts: FontSet,
        messages: dict[Lang, Messages]) -> None:
    m = messages[lang]
    last_try = PinView(digits=0, tries_left=1, one_try_left=True, wrong=True)
    canvas = Canvas(pygame.Surface(size), Layout(*size), fonts, m)
    texts = {t.text: t for t in render(last_try, canvas, info).texts}
    prompt = texts[m.text("pin.prompt")]
    for key in ("pin.wrong", "pin.one_try_left"):
        warning = texts[m.text(key)]
        assert warning.size >= prompt.size, (key, warning.size, prompt.size)
        assert warning.color == WARN and prompt.color == INK
        assert warning.rect[1] < prompt.rect[1]  # read first
    assert screen_prompts(last_try) == ["pin-wrong", "pin-one-try-left"]
    wrong = StaffPasscodeView(digits=0, wrong=True, failures_left=2)
    canvas = Canvas(pygame.Surface(size), Layout(*size), fonts, m)
    texts = {t.text: t for t in render(wrong, canvas, info).texts}
    note = texts[m.text("staff_passcode.failures_left", count=2)]
    assert note.size >= texts[m.text("staff_passcode.prompt")].size and note.color == WARN


def test_tries_left_are_spoken_after_a_wrong_pin_as_a_count() -> None:
    assert screen_prompts(PinView(tries_left=2, wrong=True)) == ["pin-wrong", "pin-tries-left-2"]
    assert screen_prompts(PinView(tries_left=3)) == ["pin"]
    for lang in Lang:
        spoken = prompt_texts(lang)["pin-tries-left-2"]
        assert not any(c.isdigit() for c in spoken), spoken


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_tactile_keypad_has_its_five_at_the_panel_centre_on_every_pad(
        size: tuple[int, int], fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    places: set[tuple[tuple[int, int, int, int], ...]] = set()
    for view in KEYPAD_VIEWS:
        for lang in Lang:
            canvas = Canvas(pygame.Surface(size), Layout(*size), fonts, messages[lang])
            frame = render(view, canvas, TACTILE)
            keys = {e.id: e.rect for e in frame.elements if e.role == "key"}
            if not keys:  # the passcode pad while checking: keys off
                continue
            x, y, w, h = keys["digit-5"]
            assert abs(x + w // 2 - size[0] // 2) <= 1 and abs(y + h // 2 - size[1] // 2) <= 1
            places.add(tuple(keys[f"digit-{d}"] for d in range(10)))
            ids = {e.id for e in frame.elements}
            assert "repeat" in ids  # voice on: the prompt can be heard again
            pad = pygame.Rect(keys["digit-1"]).unionall([pygame.Rect(r) for r in keys.values()])
            for element in frame.elements:
                if element.role not in ("key", "gesture", "toggle") and element.id != "ok":
                    assert not overlaps(element.rect, rect_of(pad.inflate(16, 16))), element.id
            for text in frame.texts:
                if text.in_element is None:
                    assert not overlaps(text.rect, rect_of(pad)), text.text
                    assert contains(Layout(*size).screen, text.rect)
    assert len(places) == 1  # the same keys in the same place on every pad, in both languages
