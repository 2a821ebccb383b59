"""Synthesises the voice prompts offline: `python -m myna_reader.ui.make_voice [--out DIR]`.

Run at build or install time (.ci/bootstrap, the device installer), never on the reader at
run time: the texts are fixed (ui/catalog/voice-ja.toml), so the reader only plays files.

Engine: Debian's Open JTalk (`open_jtalk`, packages open-jtalk + open-jtalk-mecab-naist-jdic)
with the MMDAgent "Mei" HTS voice shipped in ui/assets/voice/ (CC BY 3.0, Nagoya Institute
of Technology; see LICENSE-mei_normal.txt there). Fallback: espeak-ng's Japanese voice (much
lower quality), used only when open_jtalk is missing or when asked for.

Writes DIR/<key>.wav and DIR/manifest.json ({"engine", "prompts": {key: text}}): the text
that was synthesised, for the tests. A second run with the same texts and engine does nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from myna_reader.daemon.errors import DaemonError
from myna_reader.ui.messages import load_catalog_file

DEBIAN_DICT = "/var/lib/mecab/dic/open-jtalk/naist-jdic"  # open-jtalk-mecab-naist-jdic
ENGINES = ("open-jtalk", "espeak-ng")


class VoiceBuildError(DaemonError):
    """No usable text-to-speech engine, or a synthesis that failed (the message says why)."""


def assets_dir() -> Path:
    return Path(__file__).resolve().parent / "assets" / "voice"


def default_out() -> Path:
    return assets_dir() / "ja"


def prompt_texts() -> dict[str, str]:
    """Prompt key -> text, from the voice catalog."""
    return {key.removeprefix("prompts."): text
            for key, text in load_catalog_file("voice-ja").items()}


def _synthesise(engine: str, text: str, out: Path, dict_dir: str) -> None:
    if engine == "open-jtalk":
        voice = assets_dir() / "mei_normal.htsvoice"
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as source:
            source.write(text)
            source.flush()
            command = ["open_jtalk", "-x", dict_dir, "-m", str(voice), "-ow", str(out),
                       source.name]
            done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    else:
        command = ["espeak-ng", "-v", "ja", "-w", str(out), text]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
        raise VoiceBuildError(f"{engine} failed on {out.name}: {done.stderr.strip()[:200]}")


def choose_engine(wanted: str | None, dict_dir: str) -> str:
    engines = [wanted] if wanted is not None else list(ENGINES)
    for engine in engines:
        binary = "open_jtalk" if engine == "open-jtalk" else engine
        if shutil.which(binary) and (engine != "open-jtalk" or Path(dict_dir).is_dir()):
            return engine
    raise VoiceBuildError("no text-to-speech engine: apt-get install open-jtalk "
                          "open-jtalk-mecab-naist-jdic (or espeak-ng as a fallback)")


def build(out: Path, engine: str | None = None, dict_dir: str = DEBIAN_DICT) -> dict[str, str]:
    """Synthesise every prompt into `out` (skipped when the manifest is already current)."""
    chosen = choose_engine(engine, dict_dir)
    texts = prompt_texts()
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
    for key, text in texts.items():
        _synthesise(chosen, text, out / f"{key}.wav", dict_dir)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                             encoding="utf-8")
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_out())
    parser.add_argument("--engine", choices=ENGINES)
    parser.add_argument("--dict", default=DEBIAN_DICT, help="Open JTalk dictionary directory")
    args = parser.parse_args()
    try:
        build(args.out, args.engine, args.dict)
    except VoiceBuildError as exc:
        sys.exit(f"make_voice: {exc}")


if __name__ == "__main__":
    main()
