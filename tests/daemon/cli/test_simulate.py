"""The README's run command, `myna-reader run --simulate`: the whole tour, headless, exit 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TOUR_BOUND_S = 180  # turns a hang into a failure; not a speed target


def test_the_simulated_tour_confirms_twice_and_saves_every_screen(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["SDL_AUDIODRIVER"] = "dummy"
    shots = tmp_path / "shots"
    done = subprocess.run(
        [sys.executable, "-m", "myna_reader.daemon.cli", "run", "--simulate",
         "--screenshots", str(shots)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=TOUR_BOUND_S, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "tour    done: 2 results at the terminal" in out
    assert "method visual" in out and "method pin" in out
    assert "signature=valid" in out
    # a simulation: the issued passcode is printed, so whoever tries the reader can use it
    assert re.search(r"terminal staff passcode issued: \d{4} \(simulation only\)", out)
    assert "keys    in the window: P places the simulated card, R takes it away" in out
    saved = {p.name.split("-", 1)[1] for p in shots.glob("*.png")}
    assert {"standby.png", "staff-passcode.png", "staff-standby.png", "consent.png",
            "done.png", "pin.png"} <= saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shots"]  # nothing else written


def test_without_screenshots_the_tour_writes_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["SDL_AUDIODRIVER"] = "dummy"
    done = subprocess.run([sys.executable, "-m", "myna_reader.daemon.cli", "run", "--simulate"],
                          env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=TOUR_BOUND_S, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "tour    done: 2 results at the terminal\n" in done.stdout
    assert list(tmp_path.iterdir()) == []  # no myna-reader-tour/ in the working directory
