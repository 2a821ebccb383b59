"""A real X server (Xvfb) for tests, and what a person does with it: click, look.

Missing Xvfb or xdotool raises `XServerUnavailableError`: the fixtures turn it into a failure,
never a skip. The pygame window opens at (0, 0) without a window manager.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageGrab

START_TIMEOUT_S = 10.0


class XServerUnavailableError(RuntimeError):
    """Xvfb or xdotool is not installed, or Xvfb did not come up."""


def _free_display() -> int:
    for number in range(90, 200):
        if not (Path(f"/tmp/.X{number}-lock").exists()
                or Path(f"/tmp/.X11-unix/X{number}").exists()):
            return number
    raise XServerUnavailableError("no free X display number")


@contextmanager
def running_xvfb(size: str = "800x480") -> Iterator[str]:
    """An Xvfb on a free display for the block; yields the DISPLAY value (":N")."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        raise XServerUnavailableError(
            "Xvfb and xdotool are needed: apt-get install xvfb xdotool xauth")
    number = _free_display()
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", f"{size}x24",
                               "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + START_TIMEOUT_S
    while not socket.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise XServerUnavailableError(f"Xvfb :{number} did not start")
        time.sleep(0.05)
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def click(display: str, rect: list[int] | tuple[int, int, int, int]) -> None:
    """A left click at the centre of `rect` ([x, y, w, h] in screen pixels)."""
    x, y, w, h = rect
    # move away first: a click where the pointer already is does not reach the window
    subprocess.run(["xdotool", "mousemove", "--sync", "1", "1", "mousemove", "--sync",
                    str(x + w // 2), str(y + h // 2), "click", "1"],
                   env=dict(os.environ, DISPLAY=display), check=True, timeout=10)


def grab(display: str) -> Image.Image:
    """What the screen shows now."""
    return ImageGrab.grab(xdisplay=display)
