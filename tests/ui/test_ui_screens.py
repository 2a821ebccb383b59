"""What each screen must show and offer (structure, per screen id), and the screens export."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from myna_reader.daemon.cli import screens as cli_screens
from myna_reader.daemon.engine import (
    Button,
    ConsentItem,
    ConsentView,
    DigitPressed,
    DoneView,
    ErrorView,
    Mode,
    PinView,
    Pressed,
    Screen,
    Sound,
    StaffPasscodeView,
    StaffStandbyView,
    StandbyView,
    TechnicianCodeView,
    TechnicianLockedView,
    TechnicianUnsetView,
    TechnicianView,
)
from myna_reader.ui.fonts import FontSet
from myna_reader.ui.layout import KeypadLayout
from myna_reader.ui.messages import Lang, Messages, load_catalog_file
from myna_reader.ui.samples import GALLERY
from myna_reader.ui.screens import Frame
from tests.support.repo import REPO
from tests.ui.ui_support import INFO, draw

STAFF_SENTENCE = "資格確認を開始します。目視で本人確認を行いマイナンバーカードを置いてください。"


def ids(frame: Frame) -> set[str]:
    return {e.id for e in frame.elements}


def texts(frame: Frame) -> list[str]:
    return [t.text for t in frame.texts]


def label(frame: Frame, element_id: str) -> str:
    return next(e.label for e in frame.elements if e.id == element_id)


def test_catalog_holds_the_procedure_sentences_exactly() -> None:
    ja = load_catalog_file("ja")
    assert ja["staff_standby.sentence"] == STAFF_SENTENCE
    assert ja["done.title"] == "確認が完了しました"
    assert ja["done.remove_card"] == "カードをお取りください"
    assert (ja["common.staff"], ja["common.cancel"]) == ("職員用", "中止")
    assert (ja["consent.agree"], ja["consent.disagree"]) == ("同意する", "同意しない")
    assert ja["common.delete"] == "訂正"


@pytest.mark.parametrize("staff", [True, False])
def test_standby_staff_button_only_when_provisioned(staff: bool, fonts: FontSet,
                                                    messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(StandbyView(staff_button=staff), fonts, messages)
    assert (Button.STAFF.value in ids(frame)) is staff
    if staff:
        assert label(frame, Button.STAFF.value) == "職員用"
    assert INFO.facility in texts(frame)
    gesture = next(e for e in frame.elements if e.id == Button.TECHNICIAN.value)
    assert gesture.hold_s > 0 and gesture.intent == Pressed(Button.TECHNICIAN)


@pytest.mark.parametrize("digits", [0, 3, 4])
def test_pin_pad(digits: int, fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(PinView(digits=digits, tries_left=2, back_button=True), fonts, messages)
    keys = {e.intent for e in frame.elements if isinstance(e.intent, DigitPressed)}
    assert keys == {DigitPressed(d) for d in range(10)}
    assert label(frame, Button.DELETE.value) == "訂正"
    assert label(frame, Button.CANCEL.value) == "中止"
    assert Button.BACK.value in ids(frame)
    assert (Button.OK.value in ids(frame)) is (digits == 4)  # 決定 only with four digits
    assert "あと 2 回入力できます。" in texts(frame)
    # the mask shows how many, never which: the only texts besides key labels are these
    free = {t.text for t in frame.texts if t.in_element is None}
    assert free == {"暗証番号の入力", "利用者証明用の暗証番号（数字4桁）を入力してください。",
                    "あと 2 回入力できます。"}


def test_pin_last_try_warning(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(PinView(digits=0, tries_left=1, one_try_left=True, wrong=True),
                    fonts, messages)
    assert "暗証番号が違います。" in texts(frame)
    assert any("次に間違えるとロックされます" in t for t in texts(frame))
    assert Button.BACK.value not in ids(frame)


def test_passcode_pad_locks_keys_while_checking(fonts: FontSet,
                                                messages: dict[Lang, Messages]) -> None:
    checking, _ = draw(StaffPasscodeView(digits=4, checking=True), fonts, messages)
    assert ids(checking) == {"language", Button.CANCEL.value}
    wrong, _ = draw(StaffPasscodeView(digits=1, wrong=True, failures_left=2), fonts, messages)
    assert {f"digit-{d}" for d in range(10)} <= ids(wrong)
    assert any("あと 2 回" in t for t in texts(wrong))


def test_staff_standby_sentence_and_cancel(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(StaffStandbyView(mode=Mode.STAFF), fonts, messages)
    assert STAFF_SENTENCE in texts(frame)
    assert label(frame, Button.CANCEL.value) == "中止"
    assert "職員モード（目視確認）" in texts(frame)


@pytest.mark.parametrize("page", [0, 1])
def test_consent_page(page: int, fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    view = ConsentView(page_index=page, page_count=3, page_id="p",
                       items=(ConsentItem.PHARMACEUTICAL, ConsentItem.OPERATION),
                       back_button=page > 0)
    frame, _ = draw(view, fonts, messages)
    assert label(frame, Button.AGREE.value) == "同意する"
    assert label(frame, Button.DISAGREE.value) == "同意しない"
    assert (Button.BACK.value in ids(frame)) is (page > 0)
    assert f"同意の確認（{page + 1}/3）" in texts(frame)
    assert "・薬剤情報\n・手術情報" in texts(frame)


def test_the_gallery_lock_screen_shows_a_time_of_day(fonts: FontSet,
                                                     messages: dict[Lang, Messages]) -> None:
    """The sample lock ends at 14:32 on the reader's clock, in whatever zone it renders."""
    frame, _ = draw(GALLERY[Screen.STAFF_LOCKED], fonts, messages)
    assert "14:32 まで使えません。" in texts(frame)
    assert any("passcode set" in t for t in texts(frame))  # and how to end the lock now


def test_done(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(DoneView(remove_card=True), fonts, messages)
    assert "確認が完了しました" in texts(frame)
    assert "カードをお取りください" in texts(frame)


def test_error_shows_code_and_next_step(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(ErrorView(code="002", ask_staff=True), fonts, messages)
    assert "【002:マイナンバーカードではありません】" in texts(frame)
    assert "受付にお声がけください。" in texts(frame)
    assert Button.OK.value in ids(frame)
    quiet, _ = draw(ErrorView(code="106", ask_staff=False), fonts, messages)
    assert "受付にお声がけください。" not in texts(quiet)


def test_technician_info_and_settings(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(TechnicianView(reader="Virtual PCD 00 00", passcode_provisioned=True),
                    fonts, messages)
    assert "カードリーダー：Virtual PCD 00 00" in texts(frame)
    assert "職員用パスコード：設定済み" in texts(frame)
    assert f"バージョン：{INFO.version}" in texts(frame)
    assert {"voice", "volume-down", "volume-up", Button.OK.value} <= ids(frame)


def test_technician_settings_are_engine_presses_showing_the_kept_sound(
        fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(TechnicianView(passcode_provisioned=True, sound=Sound(False, 30)), fonts,
                    messages)
    assert "音声案内：オフ　音量：30" in texts(frame)  # the view's, not the display's own
    intents = {e.id: e.intent for e in frame.elements}
    for button in (Button.VOICE, Button.VOLUME_DOWN, Button.VOLUME_UP):
        assert intents[button.value] == Pressed(button)


def test_technician_code_pad_is_the_staff_pad_with_its_own_words(
        fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(TechnicianCodeView(digits=1, wrong=True, failures_left=2), fonts, messages)
    assert "技術者コード" in texts(frame)
    assert "あと 2 回間違えると、技術者メニューがロックされます。" in texts(frame)
    assert {f"digit-{d}" for d in range(10)} | {Button.CANCEL.value} <= ids(frame)
    assert not {"voice", "volume-down", "volume-up"} & ids(frame)


@pytest.mark.parametrize("lang", list(Lang))
def test_unset_and_locked_say_how_and_offer_no_setting(
        lang: Lang, fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    for view in (TechnicianUnsetView(), TechnicianLockedView(locked_until_wall=None)):
        frame, _ = draw(view, fonts, messages, lang=lang)
        assert any("sudo myna-reader technician set" in t for t in texts(frame)), view
        assert Button.OK.value in ids(frame)
        assert not {"voice", "volume-down", "volume-up"} & ids(frame)


def test_a_fresh_readers_technician_screen_says_how_staff_mode_gets_a_passcode(
        fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(TechnicianView(passcode_provisioned=False), fonts, messages)
    hint = messages[Lang.JA].text("technician.provision_hint")
    assert "端末" in hint and "myna-reader passcode set" in hint
    assert hint in texts(frame)


def test_english_is_complete(fonts: FontSet, messages: dict[Lang, Messages]) -> None:
    frame, _ = draw(GALLERY[Screen.STAFF_STANDBY], fonts, messages, lang=Lang.EN)
    assert label(frame, "language") == "日本語"
    assert label(frame, Button.CANCEL.value) == "Cancel"


def test_screens_command_writes_every_screen(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    cli_screens.add_parser(parser.add_subparsers())
    args = parser.parse_args(["screens", "--out", str(tmp_path), "--size", "1024x600"])
    assert args.handler(args) == 0
    for screen in Screen:
        assert (tmp_path / f"{screen.value}.png").stat().st_size > 1000
        elements = json.loads((tmp_path / f"{screen.value}.json").read_text(encoding="utf-8"))
        for element in elements:
            assert set(element) == {"id", "role", "label", "rect"}
            assert len(element["rect"]) == 4
    standby = json.loads((tmp_path / "standby.json").read_text(encoding="utf-8"))
    assert {"id": "staff", "role": "button", "label": "職員用"}.items() <= next(
        e for e in standby if e["id"] == "staff").items()


def test_screens_command_refuses_what_run_refuses(tmp_path: Path) -> None:
    from myna_reader.daemon.cli.errors import CliError

    parser = argparse.ArgumentParser()
    cli_screens.add_parser(parser.add_subparsers())
    args = parser.parse_args(["screens", "--out", str(tmp_path), "--size", "640x480"])
    with pytest.raises(CliError, match="use one of 800x480, 1024x600, 720x1280"):
        args.handler(args)
    assert list(tmp_path.iterdir()) == []  # nothing written


# docs/screens: folder -> (size, language, keypad) of the `myna-reader screens` run that wrote it
DOC_GALLERIES = {
    "": ((800, 480), Lang.JA, KeypadLayout.STANDARD),
    "en": ((800, 480), Lang.EN, KeypadLayout.STANDARD),
    "720x1280-ja": ((720, 1280), Lang.JA, KeypadLayout.STANDARD),
    "720x1280-en": ((720, 1280), Lang.EN, KeypadLayout.STANDARD),
    "tactile": ((800, 480), Lang.JA, KeypadLayout.TACTILE),
    "tactile-720x1280-en": ((720, 1280), Lang.EN, KeypadLayout.TACTILE),
}


@pytest.mark.parametrize("folder", list(DOC_GALLERIES),
                         ids=[f or "800x480-ja" for f in DOC_GALLERIES])
def test_gallery_in_docs_is_current(folder: str, tmp_path: Path) -> None:
    """docs/screens holds what `myna-reader screens` writes today (element lists compared)."""
    from myna_reader.ui.gallery import export

    docs = REPO / "docs" / "screens"
    size, lang, keypad = DOC_GALLERIES[folder]
    export(tmp_path, size, lang, keypad=keypad)
    readme = (docs / "README.md").read_text(encoding="utf-8")
    assert not folder or f"({folder}/" in readme
    for screen in Screen:
        fresh = (tmp_path / f"{screen.value}.json").read_text(encoding="utf-8")
        assert (docs / folder / f"{screen.value}.json").read_text(encoding="utf-8") == fresh, (
            folder, screen)
        assert (docs / folder / f"{screen.value}.png").exists()
        assert f"{screen.value}.png" in readme
