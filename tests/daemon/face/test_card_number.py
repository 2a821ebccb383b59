"""照合番号B from the card face: the parser's checks (no OCR) and the real RapidOCR on synthetic
card faces rendered with BIZ UDGothic, clean and camera-degraded. Every read is the right
照合番号B or refused: never a wrong one (a wrong one would cost a try on the chip)."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from myna_reader.daemon.face.card_number import (
    CardNumber,
    Doubt,
    TextLine,
    Unsure,
    card_number_from_lines,
)
from myna_reader.daemon.face.ocr import CardOcr
from myna_reader.daemon.harness.face_samples import camera_shot, card_face
from tests.daemon.face.media import random_holders

TODAY = dt.date(2026, 6, 1)
CARDS = 10  # per variant; ~0.8 s of OCR each on the development machine


def lines(*texts: str, score: float = 0.99) -> list[TextLine]:
    return [TextLine(t, score) for t in texts]


def read(*texts: str, score: float = 0.99) -> CardNumber | Unsure:
    return card_number_from_lines(lines(*texts, score=score), TODAY, 0.9)


def test_the_reference_example() -> None:
    # docs/card-protocol.md §7.3: 1980-02-17 (昭和55), expiry 2035, code 2285
    assert read("氏名 見本 花子", "昭和55年 2月17日生", "２０３５年 ２月１７日まで有効",
                "セキュリティコード 2285") == CardNumber("55021720352285")


def test_label_and_code_on_two_lines_and_gannen() -> None:
    assert read("令和元年5月1日生", "2030年5月1日まで有効", "セキュリティコード",
                "0614") == CardNumber("01050120300614")


@pytest.mark.parametrize(("texts", "doubt"), [
    (("昭和55年2月17日生", "2035年2月17日まで有効"), Doubt.MISSING),
    (("昭和55年2月17日生", "2035年2月17日まで有効", "セキュリティコード 2285",
      "セキュリティコード 2265"), Doubt.AMBIGUOUS),
    (("昭和55年2月17日生", "2035年2月18日まで有効", "セキュリティコード 2285"), Doubt.INVALID),
    (("昭和65年2月17日生", "2035年2月17日まで有効", "セキュリティコード 2285"), Doubt.INVALID),
    (("平成1年1月7日生", "2035年1月7日まで有効", "セキュリティコード 2285"), Doubt.INVALID),
    (("昭和55年2月30日生", "2035年2月30日まで有効", "セキュリティコード 2285"), Doubt.INVALID),
    (("令和9年2月17日生", "2035年2月17日まで有効", "セキュリティコード 2285"), Doubt.INVALID),
    (("昭和55年2月17日生", "2099年2月17日まで有効", "セキュリティコード 2285"), Doubt.INVALID),
    (("1980年2月17日生", "2035年2月17日まで有効", "セキュリティコード 2285"), Doubt.MISSING),
])
def test_doubtful_faces_are_refused(texts: tuple[str, ...], doubt: Doubt) -> None:
    assert read(*texts) == Unsure(doubt)


def test_a_low_score_line_is_refused() -> None:
    assert read("昭和55年2月17日生", "2035年2月17日まで有効", "セキュリティコード 2285",
                score=0.8) == Unsure(Doubt.LOW_SCORE)


def test_a_leap_day_birthday_expires_on_a_neighbour() -> None:
    assert read("平成4年2月29日生", "2031年3月1日まで有効",
                "セキュリティコード 1111") == CardNumber("04022920311111")


def test_the_number_never_shows_in_a_repr() -> None:
    assert "5502" not in repr(CardNumber("55021720352285"))


@pytest.mark.parametrize("degraded", [False, True], ids=["clean", "camera"])
def test_ocr_on_synthetic_cards_is_right_or_refused(ocr: CardOcr, degraded: bool) -> None:
    rng = random.Random(7)
    right = refused = 0
    for holder in random_holders(CARDS, seed=11 if degraded else 5):
        card = card_face(holder)
        frame = camera_shot(card, rng) if degraded else np.asarray(card)
        found = card_number_from_lines(ocr.read(frame), TODAY, 0.9)
        if isinstance(found, CardNumber):
            assert found.digits == holder.number_b  # never a wrong number
            right += 1
        else:
            refused += 1
    print(f"{'camera' if degraded else 'clean'}: {right} right, {refused} refused, 0 wrong")
    assert right >= CARDS - 2  # a refusal costs a 'straighten the card', not a try
