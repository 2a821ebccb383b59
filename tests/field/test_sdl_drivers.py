"""The SDL inside the chosen pygame (pygame-ce) has the video drivers the units use: KMSDRM
for the service on a Pi without a desktop, Wayland for the cage kiosk unit; doctor fails
when the driver a unit (or a technician's drop-in) sets is missing. The list is read from the
SDL library pygame loaded, through SDL's own API, in a fresh process.

These machines have no /dev/dri, so KMSDRM can be checked as present but not driven; the
Wayland route is driven for real: the reader's window drawn through cage's headless backend.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from myna_reader.daemon.runtime.doctor import check_sdl_video
from tests.field.users import second_user
from tests.support.repo import REPO

NEEDED = {"kmsdrm", "wayland", "x11", "offscreen", "dummy", "evdev"}


def test_the_sdl_pygame_loads_has_kmsdrm_and_wayland() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import json; from myna_reader.daemon.runtime.doctor import "
         "sdl_video_drivers as d; print(json.dumps(d()))"], capture_output=True, text=True,
        timeout=120, check=True)
    version, drivers = json.loads(done.stdout.splitlines()[-1])
    assert {d.lower() for d in drivers} >= NEEDED, drivers
    assert tuple(map(int, version.split("."))) >= (2, 28)


def test_doctor_checks_the_driver_each_unit_sets(tmp_path: Path) -> None:
    units = tmp_path / "etc-systemd-system"
    units.mkdir()
    for unit in ("myna-reader.service", "myna-reader-cage.service"):
        shutil.copy(REPO / "systemd" / unit, units / unit)
    check = check_sdl_video([units])
    assert check.ok, check.line()
    assert "myna-reader.service uses kmsdrm" in check.detail
    assert "myna-reader-cage.service uses wayland" in check.detail

    dropin = units / "myna-reader.service.d"
    dropin.mkdir()
    (dropin / "override.conf").write_text("[Service]\nEnvironment=SDL_VIDEODRIVER=directfb\n")
    check = check_sdl_video([units])
    assert not check.ok
    assert "myna-reader.service uses directfb, which this SDL lacks" in check.line()
    assert "fix: install the release's pygame-ce" in check.line()


DRAW = """
import os, pygame
pygame.display.init()
surface = pygame.display.set_mode((800, 480))
surface.fill((0, 96, 0))
pygame.display.flip()
wayland = bool(os.environ.get("WAYLAND_DISPLAY"))
print("driver", pygame.display.get_driver(), surface.get_size(), wayland)
"""


def test_a_window_drawn_through_cage_with_sdls_wayland_driver() -> None:
    """cage refuses to run as root: a real second user runs it, with wlroots' headless
    backend and pixman renderer (no GPU here), and the reader's pygame as its only client."""
    assert shutil.which("cage"), "apt-get install cage xwayland libwayland-egl1"
    with second_user() as user:
        runtime = user.home / "xdg"
        made = user.run(["mkdir", "-m", "0700", runtime])
        assert made.returncode == 0, made.stderr
        done = user.run(["env", f"XDG_RUNTIME_DIR={runtime}", "WLR_BACKENDS=headless",
                         "WLR_RENDERER=pixman", "WLR_LIBINPUT_NO_DEVICES=1",
                         "SDL_VIDEODRIVER=wayland", "cage", "--", user.python, "-c", DRAW],
                        timeout=120)
    assert "driver wayland (800, 480) True" in done.stdout, done.stdout + done.stderr[-2000:]
