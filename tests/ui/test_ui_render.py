"""Every screen state at every size and language: glyphs, bounds, target size, no overlaps."""

from __future__ import annotations

import os
from itertools import combinations

import pygame
import pytest

from myna_reader.daemon.engine import Screen
from myna_reader.ui.fonts import FontCoverageError, FontSet, choose_fonts, missing_chars
from myna_reader.ui.layout import MIN_TARGET_PX, SIZES, Layout, contains, overlaps
from myna_reader.ui.messages import Lang, Messages
from myna_reader.ui.samples import ALL_VIEWS, GALLERY
from tests.ui.ui_support import draw

CASES = [(size, lang, index) for size in SIZES for lang in Lang for index in range(len(ALL_VIEWS))]


def _default_font_path() -> str:
    return os.path.join(os.path.dirname(pygame.__file__), pygame.font.get_default_font())


@pytest.mark.parametrize(("size", "lang", "index"), CASES,
                         ids=[f"{s[0]}x{s[1]}-{lang}-{i}" for s, lang, i in CASES])
def test_screen_is_drawn_whole(size: tuple[int, int], lang: Lang, index: int, fonts: FontSet,
                               messages: dict[Lang, Messages]) -> None:
    view = ALL_VIEWS[index]
    frame, _ = draw(view, fonts, messages, size, lang)
    screen = Layout(*size).screen
    assert frame.texts, "every screen says something"
    # every glyph drawn exists in the font file that drew it
    assert fonts.missing(t.text for t in frame.texts) == set()
    for element in frame.elements:
        assert contains(screen, element.rect), element
        assert element.rect[2] >= MIN_TARGET_PX and element.rect[3] >= MIN_TARGET_PX, element
        assert element.label.strip(), element
    for a, b in combinations(frame.elements, 2):
        assert not overlaps(a.rect, b.rect), (a.id, b.id)
    labels = {e.id: e for e in frame.elements}
    for text in frame.texts:
        assert contains(screen, text.rect), text
        if text.in_element in labels:
            assert contains(labels[text.in_element].rect, text.rect), text
    free = [t for t in frame.texts if t.in_element is None]
    for one, other in combinations(free, 2):
        assert not overlaps(one.rect, other.rect), (one.text, other.text)
    for text in free:
        for element in frame.elements:
            if element.role != "gesture":  # the hold area is the header title itself
                assert not overlaps(text.rect, element.rect), (text.text, element.id)


def test_coverage_check_sees_missing_glyphs(messages: dict[Lang, Messages]) -> None:
    """pygame's own font has no kanji: the file-based check must say so, and refuse it."""
    texts = [t for catalog in messages.values() for t in catalog.all_texts()]
    default = _default_font_path()
    lacking = missing_chars(default, texts)
    assert {"確", "認", "職", "員", "用"} <= lacking
    with pytest.raises(FontCoverageError, match="lacks"):
        choose_fonts(texts, families=(), paths=(default,))


def test_missing_glyph_shows_as_a_box_that_metrics_do_not_reveal(fonts: FontSet) -> None:
    """Why the check reads the cmap: pygame's default font draws the same box for any kanji."""
    default = pygame.font.Font(_default_font_path(), 40)
    assert default.metrics("確")[0] is not None  # metrics() pretends the glyph is there

    def pixels(font: pygame.font.Font, char: str) -> bytes:
        return pygame.image.tobytes(font.render(char, True, (0, 0, 0), (255, 255, 255)), "RGB")

    assert pixels(default, "確") == pixels(default, "職")  # both the same tofu box
    chosen = fonts.get(40)
    assert pixels(chosen, "確") != pixels(chosen, "職")


def test_chosen_fonts_are_biz_ud_gothic(fonts: FontSet) -> None:
    """Proportional BIZ UDPGothic for text, fixed-width BIZ UDGothic for the keypad digits."""
    assert fonts.family == "BIZ UDPGothic"
    assert all("BIZUDPGothic" in path for path in fonts.files.values())
    assert fonts.mono_family == "BIZ UDGothic"
    assert all("BIZUDGothic" in path for path in fonts.mono_files.values())


def test_rotation_maps_touches_back(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    layout = Layout(800, 480, rotation=180)
    frame, _ = draw(GALLERY[Screen.PIN], fonts, messages, rotation=180)
    for element in frame.elements:
        x, y, w, h = layout.to_panel(element.rect)
        assert pygame.Rect(element.rect).collidepoint(layout.to_logical(x + w // 2, y + h // 2))
        assert (x, y) != element.rect[:2]  # it really moved
