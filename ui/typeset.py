"""Line breaking: Japanese by phrase (BudouX), Latin by word, kinsoku at every break.

Break opportunities come from BudouX's phrase boundaries (bunsetsu: "カードを|読み取って
います。") and from spaces between Latin words; nothing else, so a word is never split
mid-way (nor a number, where BudouX would). Kinsoku (JIS X 4051 line-start and line-end
rules) then removes the opportunities that would start a line with 。、」） or small kana, or
end one with 「（. The breaker fills
lines greedily and then balances each paragraph (the narrowest width that needs no more
lines), so a paragraph never ends on a lone line of one or two characters when the phrase
before it could keep it company. Pure: the caller passes how wide a string is drawn.

BudouX: https://github.com/google/budoux (Apache-2.0); kinsoku classes: JIS X 4051 and the
W3C note "Requirements for Japanese Text Layout" (https://www.w3.org/TR/jlreq/), section 3.1.7.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache

import budoux

# characters that may not begin a line: closing brackets, punctuation, iteration marks,
# prolonged sound mark, small kana (jlreq classes cl-02, cl-03, cl-04, cl-05, cl-06, cl-07, cl-11)
NO_LINE_START = frozenset(
    "、。，．・：；？！ー）」』】〕〉》｝］…‥ゝゞ々"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ"
    ",.:;!?)]}%")
# characters that may not end a line: opening brackets (jlreq class cl-01)
NO_LINE_END = frozenset("（「『【〔〈《｛［([{")
LONE_LINE_MAX = 2  # a last line of this many characters or fewer stands alone

Measure = Callable[[str], int]  # the drawn width of a string, in px
_SENTENCE_END = re.compile(r"。(?=[^\n])|(?<=[.!?])[ ]+(?=\S)")
_LATIN = re.compile(r"[\x21-\x7e\u00a0-\u024f\u2010-\u2027]")


@cache
def _parser() -> budoux.Parser:
    return budoux.load_default_japanese_parser()


def _is_latin(char: str) -> bool:
    return bool(_LATIN.fullmatch(char))


@cache
def units(paragraph: str) -> tuple[str, ...]:
    """The unbreakable pieces of one paragraph, in order; joined they give it back.

    A break may fall between two units and nowhere else: BudouX phrase boundaries, plus the
    spaces between Latin words (a space stays at the end of the unit before it), minus the
    boundaries kinsoku forbids.
    """
    pieces = [word for phrase in (_parser().parse(paragraph) if paragraph else [])
              # Latin words inside one phrase ("Please place your card."): spaces break
              for word in re.findall(r"\S+\s*|\s+", phrase)]
    glued: list[str] = []
    for piece in pieces:
        if glued and not _may_break(glued[-1], piece):
            glued[-1] += piece
        else:
            glued.append(piece)
    return tuple(glued)


def _may_break(before: str, after: str) -> bool:
    """May a line end after `before` and the next begin with `after`?"""
    last, first = before.rstrip()[-1:], after[:1]
    if not last or first.isspace() or last in NO_LINE_END or first in NO_LINE_START:
        return False  # spaces stay at the end of the line they follow
    touching = before[-1]  # no space between: one word or number
    if touching.isascii() and touching.isalnum() and first.isascii() and first.isalnum():
        return False  # inside a number or a word ("（202|6年": BudouX splits digits at times)
    if before.endswith(" "):
        # a space breaks between Latin words, not inside a Japanese sentence ("あと 2 回")
        return _is_latin(last) and _is_latin(first)
    return True


def by_sentence(text: str) -> str:
    """`text` with a forced break after each sentence that has another after it."""
    return _SENTENCE_END.sub(lambda m: m.group(0).rstrip() + "\n", text)


def _greedy(pieces: Sequence[str], width: int, measure: Measure) -> list[str] | None:
    """First-fit lines of `pieces`, or None when one piece alone is wider than `width`."""
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if measure((line + piece).rstrip()) <= width:
            line += piece
            continue
        if not line or measure(piece.rstrip()) > width:
            return None
        lines.append(line.rstrip())
        line = piece
    lines.append(line.rstrip())
    return lines


def _balanced(pieces: Sequence[str], width: int, measure: Measure) -> list[str] | None:
    """The greedy lines at the narrowest width that needs no more lines than `width` does."""
    lines = _greedy(pieces, width, measure)
    if lines is None or len(lines) == 1:
        return lines
    low, high = 1, width  # greedy at `high` fits in len(lines) lines
    while low < high:
        middle = (low + high) // 2
        trial = _greedy(pieces, middle, measure)
        if trial is not None and len(trial) <= len(lines):
            high = middle
        else:
            low = middle + 1
    return _greedy(pieces, high, measure)


def lone_last_line(lines: Sequence[str]) -> bool:
    """A paragraph of several lines whose last holds only one or two characters."""
    return len(lines) > 1 and len(lines[-1].strip()) <= LONE_LINE_MAX


def break_lines(text: str, width: int, measure: Measure, whole: bool = False) -> list[str] | None:
    """The lines of `text` within `width` px (each "\\n" a forced break), or None when it
    cannot be set there: a unit wider than the line, or a paragraph that would end on a lone
    line. `whole`: no breaks but the forced ones (terms such as "限度額適用認定証関連")."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        pieces = (paragraph,) if whole else units(paragraph)
        if not pieces:
            lines.append("")
            continue
        set_lines = _balanced(pieces, width, measure)
        if set_lines is None or lone_last_line(set_lines):
            return None
        lines += set_lines
    return lines


def break_chars(text: str, width: int, measure: Measure) -> list[str] | None:
    """The last resort for text no catalog controls (a long facility name): between any two
    characters, kinsoku still kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        pieces: list[str] = []
        for char in paragraph:
            if pieces and not _may_break(pieces[-1], char):
                pieces[-1] += char
            else:
                pieces.append(char)
        set_lines = _greedy(pieces, width, measure) if pieces else [""]
        if set_lines is None:
            return None
        lines += set_lines
    return lines
