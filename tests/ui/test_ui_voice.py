"""Voice guidance: every screen has its prompt files; keypad prompts never carry a digit."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import wave
from dataclasses import replace
from pathlib import Path

import pytest

from myna_reader.daemon.engine import Cue, PinView, StaffPasscodeView
from myna_reader.ui.make_sounds import write_cues
from myna_reader.ui.make_voice import BUILD_EXTRA, build_requirements
from myna_reader.ui.messages import Lang
from myna_reader.ui.samples import ALL_VIEWS
from myna_reader.ui.sound import Audio, play_cue, sounds_dir
from myna_reader.ui.voice import SPOKEN_TRIES, VoicePlayer, prompts_for, screen_prompts
from myna_reader.ui.voice_prompts import missing_prompts, prompt_texts
from tests.support.repo import REPO

DIGIT = re.compile(r"[0-9０-９]")
KEYPAD_VIEWS = [v for v in ALL_VIEWS if isinstance(v, PinView | StaffPasscodeView)]


def keypad_prompt_keys() -> set[str]:
    keys = {k for v in KEYPAD_VIEWS for k in screen_prompts(v)}
    for view in KEYPAD_VIEWS:
        for digits in range(5):
            keys |= set(prompts_for(view, replace(view, digits=digits)))
    return keys


@pytest.mark.parametrize("lang", list(Lang))
def test_every_screen_state_has_its_prompt_files(lang: Lang, voice_dir: Path) -> None:
    for view in ALL_VIEWS:
        keys = screen_prompts(view)
        assert keys, view
        for key in keys:
            with wave.open(str(voice_dir / lang.value / f"{key}.wav"), "rb") as audio:
                assert audio.getnframes() > audio.getframerate() // 4, key  # real speech
    assert missing_prompts(voice_dir) == {lang: [] for lang in Lang}


@pytest.mark.parametrize(("lang", "engine"), [(Lang.JA, "open-jtalk"), (Lang.EN, "piper")])
def test_keypad_prompts_carry_no_digit_in_the_synthesised_text(lang: Lang, engine: str,
                                                               voice_dir: Path) -> None:
    manifest = json.loads((voice_dir / lang.value / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == engine
    spoken = manifest["prompts"]
    keys = keypad_prompt_keys() | {f"pin-tries-left-{n}" for n in SPOKEN_TRIES}
    assert {"pin", "pin-wrong", "pin-one-try-left", "count-0", "count-4"} <= keys
    for key in keys:
        assert not DIGIT.search(spoken[key]), (key, spoken[key])


def test_piper_is_a_build_extra_the_release_does_not_depend_on() -> None:
    """Piper and its voice (onnxruntime with them) only make the English prompts: they are the
    voice-build extra, which make_voice --piper-venv installs from the release's metadata."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = project["optional-dependencies"][BUILD_EXTRA]
    assert build_requirements() == extra
    assert any(req.startswith("piper-tts") for req in extra)
    assert not [req for req in project["dependencies"] if req.startswith(("piper", "onnx"))]


def test_the_run_time_never_imports_the_voice_builder() -> None:
    """The daemon, its screens' voice and doctor's voice check run without Piper installed."""
    code = ("import sys\n"
            "import myna_reader.daemon.runtime.runner, myna_reader.daemon.runtime.doctor\n"
            "import myna_reader.ui.app, myna_reader.ui.voice\n"
            "print(sorted(m for m in sys.modules\n"
            "             if m.split('.')[0] in {'piper', 'onnxruntime'}\n"
            "             or m == 'myna_reader.ui.make_voice'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_voice_catalogs_hold_the_same_prompts() -> None:
    assert set(prompt_texts(Lang.JA)) == set(prompt_texts(Lang.EN))


def test_digit_changes_speak_the_count_only() -> None:
    for view in (PinView(digits=1, tries_left=3), StaffPasscodeView(digits=1)):
        assert prompts_for(view, replace(view, digits=2)) == ["count-2"]
        assert prompts_for(view, replace(view, digits=0)) == ["count-0"]
        assert prompts_for(view, view) == []
    # a wrong PIN is a new state of the pad, not a count: the screen prompt again
    assert prompts_for(PinView(digits=4), PinView(digits=0, wrong=True)) == ["pin-wrong"]


def test_every_prompt_used_is_in_the_catalog() -> None:
    texts = prompt_texts(Lang.JA)
    used = {k for v in ALL_VIEWS for k in screen_prompts(v)} | keypad_prompt_keys()
    assert used <= set(texts)


def test_cue_files_are_the_scripts_output(tmp_path: Path) -> None:
    for path in write_cues(tmp_path):
        assert path.read_bytes() == (sounds_dir() / path.name).read_bytes(), path.name
    assert {p.stem for p in sounds_dir().glob("*.wav")} == {c.value for c in Cue}


def test_cues_and_voice_play_through_the_mixer(voice_dir: Path) -> None:
    """SDL's dummy audio driver: a real mixer with a silent device."""
    audio = Audio(volume=50)
    assert audio.ok
    assert play_cue(audio, Cue.DONE)
    player = VoicePlayer(audio, voice_dir)
    player.say(["consent", "consent-item-pharmaceutical"], Lang.EN)
    assert player.speaking
    player.stop()
    assert not player.speaking
    player.enabled = False
    player.say(["standby"])
    assert not player.speaking
