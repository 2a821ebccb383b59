"""Where the voice prompts live and which ones a folder lacks: what the reader needs at run
time. Making them (ui/make_voice.py, with Open JTalk and Piper) happens at build time only, so
a release holds no text-to-speech engine and never imports that module."""

from __future__ import annotations

from pathlib import Path

from myna_reader.ui.messages import Lang, load_catalog_file


def assets_dir() -> Path:
    return Path(__file__).resolve().parent / "assets" / "voice"


def default_out() -> Path:
    """The folder that holds one folder of prompts per language."""
    return assets_dir()


def prompt_texts(lang: Lang = Lang.JA) -> dict[str, str]:
    """Prompt key -> text, from the language's voice catalog."""
    return {key.removeprefix("prompts."): text
            for key, text in load_catalog_file(f"voice-{lang.value}").items()}


def missing_prompts(root: Path) -> dict[Lang, list[str]]:
    """The prompt files absent under `root`/<lang>/, per language (empty lists: complete)."""
    return {lang: [k for k in prompt_texts(lang) if not (root / lang.value / f"{k}.wav").is_file()]
            for lang in Lang}
