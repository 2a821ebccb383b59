"""`myna-reader run --simulate`: the whole product on the simulated card, with a local terminal.

The real daemon runs (engine, touchscreen, terminal link, passcode store, audit, outbox) with a
simulated card reader, and the reference terminal (`myna-reader host`) connects to its link and
issues a staff passcode. A scripted visitor then does what people at the counter do: a staff
visual-check confirmation, then a PIN-mode confirmation. Each step, each screen and everything
the terminal receives is printed, and every screen is saved as a PNG.

Without a display the tour runs headless (SDL's dummy driver) and the command exits 0 when it is
done. With one, the window shows the tour at a watchable pace and then stays up: place and
remove the simulated card with the keys P and R in the window (its title says so) or with
`kill -USR2 <pid>` / `kill -USR1 <pid>`, Ctrl-C to end. The staff passcode the local terminal
issues is printed: it is a simulation, and whoever tries the reader needs it for 職員用.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pygame

from myna_reader.daemon.cli.host import describe
from myna_reader.daemon.engine import Button, Event, Screen, StandbyView
from myna_reader.daemon.harness.visitor import TOUR_PIN, TourFailedError, Visitor
from myna_reader.daemon.link.channel import LinkSecret
from myna_reader.daemon.link.terminal import Terminal
from myna_reader.daemon.link.transport import TcpEndpoint
from myna_reader.daemon.runtime.config import DaemonConfig, LinkConfig
from myna_reader.daemon.runtime.service import Daemon, assemble, serve
from myna_reader.drivers.backends.sim import SimReader


class Tour(Visitor):
    """The two confirmations of the tour, told step by step, with the terminal's side."""

    def __init__(self, reader: SimReader, post: Callable[[Event], None], pace_s: float) -> None:
        super().__init__(reader, post, pace_s=pace_s, say=say)
        self.passcode: str | None = None
        self.results: list[Mapping[str, Any]] = []

    def on_terminal(self, message: Mapping[str, Any]) -> None:
        with self.changed:
            if message.get("event") == "passcode-issued":
                self.passcode = str(message["passcode"])
                # a simulation: the code opens nothing real, and the person trying the reader
                # needs it to try 職員用 (a real terminal shows it to its staff only)
                say(f"terminal staff passcode issued: {self.passcode} (simulation only)")
            else:
                say(f"terminal {describe(message)}")
            if message.get("event") == "result-checked":
                self.results.append(message)
            self.changed.notify_all()

    def confirmation(self, staff: bool) -> None:
        before = len(self.results)
        if staff:
            say("-- a staff visual-check confirmation --")
            self.wait("the 職員用 button", lambda: isinstance(self.view, StandbyView)
                      and self.view.staff_button and self.passcode is not None)
            self.press(Button.STAFF)
            self.wait_screen(Screen.STAFF_PASSCODE)
            assert self.passcode is not None
            self.enter(self.passcode, "staff passcode")
            self.wait_screen(Screen.STAFF_STANDBY)
        else:
            say("-- a PIN-mode confirmation --")
            self.wait_screen(Screen.STANDBY)
        say("card    placed on the reader")
        self.reader.insert()
        if not staff:
            self.wait_screen(Screen.PIN)
            self.enter(TOUR_PIN, "PIN")
        self.answer_consents()
        self.wait_screen(Screen.DONE)
        self.wait("the terminal's result", lambda: len(self.results) > before)
        say("card    taken off the reader")
        self.reader.remove()
        self.wait_screen(Screen.STANDBY)

    def run(self) -> None:
        self.confirmation(staff=True)
        self.confirmation(staff=False)


SIMULATION_KEYS = "P places the simulated card, R takes it away"
SIMULATION_CAPTION = f"myna-reader simulation: {SIMULATION_KEYS}"


def say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class Screenshots:
    """Saves the window after each flip that shows a new screen (on the display thread)."""

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self.count = 0
        self.last: Screen | None = None
        self.daemon: Daemon | None = None
        if out is not None:  # only when asked: the tour writes nothing else
            out.mkdir(parents=True, exist_ok=True)

    def on_flip(self, _when: float) -> None:
        view = self.daemon.app.view if self.daemon else None
        if self.out is None or view is None or view.screen is self.last:
            return
        self.last = view.screen
        self.count += 1
        surface = pygame.display.get_surface()
        if surface is not None:
            pygame.image.save(surface, str(self.out / f"{self.count:02d}-{view.screen.value}.png"))


def run_simulated(config: DaemonConfig, *, explicit_state_dir: bool, explicit_link: bool,
                  screenshots: Path | None) -> int:
    headless = not _has_display()
    if headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    with tempfile.TemporaryDirectory(prefix="myna-reader-sim-") as tmp:
        if not explicit_state_dir:
            config = dataclasses.replace(config, state_dir=Path(tmp))
        if not explicit_link:  # a private loopback port: never clash with a real reader
            config = dataclasses.replace(config, link=LinkConfig("tcp://127.0.0.1:0"))
        if config.link.pairing_token is None:  # its own secret, for its own terminal only
            config = dataclasses.replace(config, link=dataclasses.replace(
                config.link, pairing_token=LinkSecret.generate().text()))
        reader = SimReader("standard", present=False)
        shots = Screenshots(screenshots)
        tour = Tour(reader, lambda e: None, pace_s=0.2 if headless else 1.0)
        with assemble(config, reader=lambda: reader, view_observers=[tour.on_view],
                      on_flip=shots.on_flip) as daemon:
            shots.daemon = daemon
            tour.post = daemon.runner.post
            return _play(daemon, tour, reader, headless, screenshots)


def _play(daemon: Daemon, tour: Tour, reader: SimReader, headless: bool,
          out: Path | None) -> int:
    stop = threading.Event()
    outcome: dict[str, BaseException | None] = {"error": None}

    def visitor() -> None:
        try:
            while daemon.link.address is None and not stop.is_set():
                time.sleep(0.05)
            host, port = daemon.link.address  # type: ignore[misc]
            secret = daemon.link.secret
            terminal = Terminal(TcpEndpoint(host, port), tour.on_terminal, secret=secret,
                                issue_passcode=True)
            threading.Thread(target=terminal.run, args=(stop,), name="terminal",
                             daemon=True).start()
            tour.run()
            saved = "" if out is None else f", screens saved in {out}"
            say(f"tour    done: {len(tour.results)} results at the terminal{saved}")
        except TourFailedError as exc:
            outcome["error"] = exc
            say(f"tour    FAILED: {exc}")
        if headless or outcome["error"] is not None:
            stop.set()
            daemon.app.stop()
        else:
            say(f"the reader keeps running: kill -USR2 {os.getpid()} places the card, "
                f"kill -USR1 {os.getpid()} removes it, Ctrl-C ends")

    signal.signal(signal.SIGUSR1, lambda _s, _f: reader.remove())
    signal.signal(signal.SIGUSR2, lambda _s, _f: _insert(reader))
    daemon.app.keys.update({pygame.K_p: lambda: _insert(reader), pygame.K_r: reader.remove})
    pygame.display.set_caption(SIMULATION_CAPTION)
    say(f"keys    in the window: {SIMULATION_KEYS}")
    threading.Thread(target=visitor, name="visitor", daemon=True).start()
    serve(daemon, until=stop)
    stop.set()
    if outcome["error"] is not None:
        print(f"myna-reader: the simulated tour failed: {outcome['error']}", file=sys.stderr)
        return 1
    return 0


def _insert(reader: SimReader) -> None:
    if not reader.card_present():
        reader.insert()
