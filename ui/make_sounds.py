"""Writes the cue sounds (ui/assets/sounds/<cue>.wav): `python -m myna_reader.ui.make_sounds`.

Short sine tones with soft edges, 22.05 kHz mono 16-bit: a few kilobytes each, deterministic
(the same bytes on every run, so the committed files can be checked against this script).
Rising tones for good news, low ones for trouble, as people expect from other machines.
"""

from __future__ import annotations

import argparse
import math
import struct
import wave
from pathlib import Path

from myna_reader.daemon.engine import Cue

RATE = 22050
FADE_S = 0.01

# cue: the notes as (frequency Hz, seconds); 0 Hz is a pause
CUES: dict[Cue, tuple[tuple[float, float], ...]] = {
    Cue.CARD_DETECTED: ((1320.0, 0.08),),
    Cue.DONE: ((784.0, 0.12), (0.0, 0.03), (1046.5, 0.12), (0.0, 0.03), (1318.5, 0.22)),
    Cue.ERROR: ((330.0, 0.18), (0.0, 0.06), (262.0, 0.3)),
    Cue.ONE_TRY_LEFT: ((660.0, 0.12), (0.0, 0.06), (660.0, 0.12)),
}


def samples(notes: tuple[tuple[float, float], ...], level: float = 0.5) -> bytes:
    out = bytearray()
    for freq, seconds in notes:
        count = round(seconds * RATE)
        fade = round(FADE_S * RATE)
        for i in range(count):
            envelope = min(1.0, i / fade, (count - 1 - i) / fade) if fade else 1.0
            value = math.sin(2 * math.pi * freq * i / RATE) * level * envelope if freq else 0.0
            out += struct.pack("<h", round(value * 32767))
    return bytes(out)


def write_cues(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for cue, notes in CUES.items():
        path = directory / f"{cue.value}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(samples(notes))
        written.append(path)
    return written


def default_dir() -> Path:
    return Path(__file__).resolve().parent / "assets" / "sounds"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_dir())
    args = parser.parse_args()
    write_cues(args.out)


if __name__ == "__main__":
    main()
