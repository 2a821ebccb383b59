"""Japanese typesetting on every screen at every layout: every catalog string, as drawn.

The reference for "a phrase" is BudouX itself (called here, not through ui/typeset.py) plus
the spaces between Latin words; the kinsoku classes are written out again from JIS X 4051.
A drawn line may end only where the reference allows a break, never start with 。、」）…,
never end with 「（, and a paragraph never ends on a lone line of one or two characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import budoux
import pytest

from myna_reader.daemon.engine import PinView, StaffPasscodeView, StandbyView, View
from myna_reader.ui.fonts import Face, FontSet
from myna_reader.ui.layout import SIZES, KeypadLayout, Layout
from myna_reader.ui.messages import Lang, Messages, load_catalog_file
from myna_reader.ui.samples import ALL_VIEWS
from myna_reader.ui.screens import ScreenInfo, render
from myna_reader.ui.widgets import Canvas, DrawnText
from tests.ui.ui_support import INFO

PARSER = budoux.load_default_japanese_parser()
NO_START = set("、。，．・：；？！ー）」』】〕…‥ぁぃぅぇぉっゃゅょァィゥェォッャュョ,.:;!?)]")
NO_END = set("（「『【〔([")
LATIN = re.compile(r"[\x21-\x7e]")
ALNUM = re.compile(r"[A-Za-z0-9]")
BARE = ScreenInfo(voice_on=False)  # no facility, no link, voice off: the other texts
TACTILE = replace(INFO, keypad=KeypadLayout.TACTILE)
# the bad breaks the issue lists, each as (end of one line, start of the next)
KNOWN_BAD = [("同意しますか", "。"), ("か", "。"), ("数字4", "桁"), ("ロック", "されます"),
             ("くだ", "さい。"), ("クリ", "ニック"), ("読み取っていま", "す。"),
             ("完了しまし", "た"), ("同意し", "ない")]


def infos_for(view: View) -> list[ScreenInfo]:
    keypad = isinstance(view, PinView | StaffPasscodeView)
    return [INFO, BARE, TACTILE] if keypad else [INFO, BARE]


def views() -> list[View]:
    return [*ALL_VIEWS, StandbyView()]


def frames(size: tuple[int, int], lang: Lang, fonts: FontSet,
           messages: dict[Lang, Messages]) -> list[DrawnText]:
    import pygame

    drawn: list[DrawnText] = []
    for view in views():
        for info in infos_for(view):
            canvas = Canvas(pygame.Surface(size), Layout(*size), fonts, messages[lang])
            drawn += render(view, canvas, info).texts
    return drawn


def allowed_breaks(paragraph: str) -> set[int]:
    """Offsets in `paragraph` where a line may end: phrase ends and Latin word spaces."""
    offsets, at = set(), 0
    for phrase in PARSER.parse(paragraph):
        at += len(phrase)
        offsets.add(at)
    for match in re.finditer(r" +", paragraph):
        before, after = paragraph[match.start() - 1:match.start()], paragraph[match.end():][:1]
        if LATIN.fullmatch(before or "x") and LATIN.fullmatch(after or "x"):
            offsets |= {match.start(), match.end()}
    offsets.discard(len(paragraph))
    return offsets


def bad_breaks(text: DrawnText) -> list[str]:
    """What is wrong with how `text` was broken into its lines (empty: nothing)."""
    problems = []
    paragraphs = text.text.split("\n")
    lines = list(text.lines)
    for paragraph in paragraphs:
        allowed = allowed_breaks(paragraph) | {m.end() for m in re.finditer("。", paragraph)}
        at = 0
        while True:
            line = lines.pop(0)
            at = paragraph.index(line, at) if line else at
            end = at + len(line)
            rest = paragraph[end:].lstrip(" ")
            if not rest:
                break
            if end not in allowed and end + (len(paragraph[end:]) - len(rest)) not in allowed:
                problems.append(f"break inside a phrase: {line!r} | {rest[:8]!r}")
            if line and ALNUM.fullmatch(line[-1]) and ALNUM.fullmatch(paragraph[end:end + 1]):
                problems.append(f"break inside a number or word: {line!r} | {rest[:8]!r}")
            if rest[0] in NO_START:
                problems.append(f"line starts with {rest[0]!r}: {rest[:8]!r}")
            if line and line[-1] in NO_END:
                problems.append(f"line ends with {line[-1]!r}: {line!r}")
            if len(rest) <= 2:
                problems.append(f"lone last line {rest!r}")
            at = end
    return problems


def catalog_pieces(lang: Lang) -> dict[str, list[str]]:
    """Every catalog entry as the fixed pieces around its {fields} (line breaks aside)."""
    return {key: [p for p in re.split(r"\{[a-z_]+\}", value.replace("\n", "")) if p.strip()]
            for key, value in load_catalog_file(lang.value).items()}


def appears(pieces: list[str], drawn: set[str]) -> bool:
    return any(all(piece.strip() in text for piece in pieces) for text in drawn)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("lang", list(Lang))
def test_every_catalog_string_breaks_only_between_phrases(
        size: tuple[int, int], lang: Lang, fonts: FontSet, messages: dict[Lang, Messages],
        record_property: Callable[[str, object], None]) -> None:
    drawn = frames(size, lang, fonts, messages)
    problems = {f"{t.text!r}: {p}" for t in drawn for p in bad_breaks(t)}
    assert not problems, "\n".join(sorted(problems))
    # every catalog string was among them (the count goes in the report)
    flat = {t.text.replace("\n", "") for t in drawn}
    pieces = catalog_pieces(lang)
    unseen = sorted(key for key, parts in pieces.items() if parts and not appears(parts, flat))
    assert unseen == [], unseen
    record_property("catalog_strings_checked", len(pieces))
    print(f"\n{lang.value} {size[0]}x{size[1]}: {len(pieces)} catalog strings, "
          f"{len(drawn)} drawn texts checked")


def test_the_check_sees_bad_breaks() -> None:
    """The checker itself: each of the issue's bad breaks, and kinsoku, is reported."""
    def lines(*parts: str, sep: str = "") -> DrawnText:
        return DrawnText(sep.join(parts), (0, 0, 1, 1), 20, lines=parts)

    assert bad_breaks(lines("同意し", "ない"))
    assert bad_breaks(lines("読み取っていま", "す。"))
    assert bad_breaks(lines("次の情報を医師・薬剤師などが診療に使うことに同意します", "か。"))
    assert bad_breaks(lines("暗証番号が違います", "。次に"))
    assert bad_breaks(lines("利用者証明用の暗証番号（", "数字4桁）を"))
    assert bad_breaks(lines("Do not ag", "ree"))
    assert bad_breaks(lines("電子証明書の有効期限（202", "6年5月17日）が過ぎています。"))
    assert bad_breaks(lines("Please place your My Number Card on the reader", "ok", sep=" "))
    assert not bad_breaks(lines("カードを", "読み取っています。"))
    assert not bad_breaks(lines("Please place", "your card", sep=" "))


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_known_bad_breaks_are_gone(size: tuple[int, int], fonts: FontSet,
                                   messages: dict[Lang, Messages]) -> None:
    drawn = frames(size, Lang.JA, fonts, messages)
    for text in drawn:
        for first, second in zip(text.lines, text.lines[1:], strict=False):
            for end, start in KNOWN_BAD:
                assert not (first.endswith(end) and second.startswith(start)), (text.text,
                                                                                text.lines)


def test_latin_and_running_text_use_the_proportional_face(fonts: FontSet,
                                                          messages: dict[Lang, Messages]) -> None:
    """Only the keypad's digits are drawn in the fixed-width face."""
    assert fonts.family == "BIZ UDPGothic"
    assert fonts.mono_family == "BIZ UDGothic"
    for size in SIZES:
        for text in frames(size, Lang.EN, fonts, messages):
            if text.face is Face.MONO:
                assert text.in_element and text.in_element.startswith("digit-"), text
            else:
                assert not (text.in_element or "").startswith("digit-"), text
    proportional = fonts.get(40)
    assert proportional.size("iiii")[0] < proportional.size("MMMM")[0] / 2
    mono = fonts.get(40, face=Face.MONO)
    assert mono.size("1")[0] == mono.size("0")[0]
