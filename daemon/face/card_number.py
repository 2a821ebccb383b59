"""照合番号B from the text read off the card face, and the checks before it may reach the chip.

照合番号B = era birth date YYMMDD + expiry year YYYY + security code NNNN
(docs/card-protocol.md §7.3). The
OCR lines carry the holder's name and address too: they stay in memory, are never logged,
and only the three fields below are taken from them. A field missing, found twice with two
values, read with a low score or failing a check gives `Unsure`: the patient is asked to
straighten the card; nothing is ever guessed or corrected.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

# era name -> (first day, last day, Gregorian year of 元年 minus 1)
ERAS: dict[str, tuple[dt.date, dt.date, int]] = {
    "大正": (dt.date(1912, 7, 30), dt.date(1926, 12, 24), 1911),
    "昭和": (dt.date(1926, 12, 25), dt.date(1989, 1, 7), 1925),
    "平成": (dt.date(1989, 1, 8), dt.date(2019, 4, 30), 1988),
    "令和": (dt.date(2019, 5, 1), dt.date.max, 2018),
}
FIRST_EXPIRY_YEAR = 2016  # the first cards were issued in 2016
MAX_VALIDITY_YEARS = 11  # 10 birthdays after issue, issued up to a year before one

_BIRTH = re.compile(r"(大正|昭和|平成|令和)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日生")
_EXPIRY = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日まで有効")
_CODE = re.compile(r"セキュリティコード\n?(\d{4})(?!\d)")


class Doubt(StrEnum):
    """Why a card face was not read with confidence (a log word; never the values)."""

    MISSING = "missing"  # a field was not found
    AMBIGUOUS = "ambiguous"  # a field was found with two different values
    LOW_SCORE = "low-score"  # the OCR engine was not sure of a line
    INVALID = "invalid"  # the era, a date or the birthday rule does not hold


@dataclass(frozen=True, slots=True)
class CardNumber:
    """A checked 照合番号B. The digits never go into a repr, a log or a transcript."""

    digits: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Unsure:
    doubt: Doubt


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str = field(repr=False)
    score: float


def _normalise(text: str) -> str:
    return re.sub(r"[ \t\u3000]", "", unicodedata.normalize("NFKC", text))


def _one(pattern: re.Pattern[str], lines: Sequence[TextLine],
         min_score: float) -> tuple[str, ...] | Unsure:
    """The groups of the pattern's one value in the lines (a label and its digits may be on
    two consecutive lines), or why not."""
    texts = [_normalise(line.text) for line in lines]
    found: dict[tuple[str, ...], float] = {}
    for i, text in enumerate(texts):
        for window, score in ((text, lines[i].score),
                              (text + "\n" + texts[i + 1] if i + 1 < len(texts) else "",
                               min(lines[i].score, lines[i + 1].score) if i + 1 < len(lines)
                               else 0.0)):
            match = pattern.search(window)
            if match is not None:
                groups = match.groups()
                found[groups] = max(found.get(groups, 0.0), score)
    if not found:
        return Unsure(Doubt.MISSING)
    if len(found) > 1:
        return Unsure(Doubt.AMBIGUOUS)
    groups, score = next(iter(found.items()))
    return groups if score >= min_score else Unsure(Doubt.LOW_SCORE)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _birthday_in(year: int, birth: dt.date) -> set[tuple[int, int]]:
    """The (month, day) the card of someone born on `birth` expires on in `year`."""
    if (birth.month, birth.day) == (2, 29) and _date(year, 2, 29) is None:
        return {(2, 28), (3, 1)}  # no 29 February that year: either neighbour is legal
    return {(birth.month, birth.day)}


def card_number_from_lines(lines: Sequence[TextLine], today: dt.date,
                           min_score: float) -> CardNumber | Unsure:
    """照合番号B from OCR lines, or why it cannot be trusted."""
    birth = _one(_BIRTH, lines, min_score)
    expiry = _one(_EXPIRY, lines, min_score)
    code = _one(_CODE, lines, min_score)
    if isinstance(birth, Unsure):
        return birth
    if isinstance(expiry, Unsure):
        return expiry
    if isinstance(code, Unsure):
        return code
    era, era_year_text, month, day = birth
    first, last, offset = ERAS[era]
    era_year = 1 if era_year_text == "元" else int(era_year_text)
    born = _date(offset + era_year, int(month), int(day))
    expiry_year, expiry_month, expiry_day = (int(x) for x in expiry)
    if (born is None or not first <= born <= last or born > today or era_year < 1
            or not FIRST_EXPIRY_YEAR <= expiry_year <= today.year + MAX_VALIDITY_YEARS
            or expiry_year <= born.year
            or (expiry_month, expiry_day) not in _birthday_in(expiry_year, born)):
        return Unsure(Doubt.INVALID)
    return CardNumber(f"{era_year:02d}{born:%m%d}{expiry_year:04d}{code[0]}")
