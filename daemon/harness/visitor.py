"""A scripted person at the counter: watches the screens the engine posts, touches buttons,
types on the keypad and places the simulated card. `run --simulate`'s tour and the soak
(daemon/harness/soak.py) are both made of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from myna_reader.daemon.engine import (
    Button,
    ConsentView,
    DigitPressed,
    Event,
    Pressed,
    Screen,
    View,
)
from myna_reader.daemon.errors import DaemonError
from myna_reader.drivers.backends.sim import SimReader

TOUR_PIN = "1234"  # the synthetic profiles' auth PIN (hw-fixtures/README.md)
STEP_WAIT_S = 30.0  # a screen that does not come within this is a failure of the visit

Say = Callable[[str], None]


class TourFailedError(DaemonError, RuntimeError):
    """The product did not do what the visitor expected."""


def _silent(_text: str) -> None:
    pass


class Visitor:
    """`on_view` is the daemon's view observer; the rest is called from the visitor's thread."""

    def __init__(self, reader: SimReader, post: Callable[[Event], None], *, pace_s: float = 0.0,
                 step_wait_s: float = STEP_WAIT_S, say: Say = _silent) -> None:
        self.reader = reader
        self.post = post
        self.pace_s = pace_s
        self.step_wait_s = step_wait_s
        self.say = say
        self.view: View | None = None
        self.changed = threading.Condition()

    # --- what the visitor observes ---------------------------------------------------------

    def on_view(self, view: View) -> None:
        with self.changed:
            if self.view is None or view.screen is not self.view.screen:
                self.say(f"screen  {view.screen.value}")
            self.view = view
            self.changed.notify_all()

    def wait(self, what: str, ready: Callable[[], bool], timeout_s: float | None = None) -> None:
        limit = self.step_wait_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + limit
        with self.changed:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TourFailedError(f"{what} did not happen within {limit:.0f} s")
                self.changed.wait(left)
        if self.pace_s:
            time.sleep(self.pace_s)

    def wait_screen(self, screen: Screen) -> None:
        self.wait(f"screen {screen.value}",
                  lambda: self.view is not None and self.view.screen is screen)

    # --- what the visitor does -------------------------------------------------------------

    def press(self, button: Button) -> None:
        self.say(f"touch   {button.value}")
        self.post(Pressed(button))

    def digits(self, code: str, what: str) -> None:
        self.say(f"touch   {len(code)} digits of the {what}")
        for digit in code:
            self.post(DigitPressed(int(digit)))
            if self.pace_s:
                time.sleep(self.pace_s / 4)

    def enter(self, code: str, what: str) -> None:
        """Type `code` on the keypad and touch 決定."""
        self.digits(code, what)
        self.press(Button.OK)

    def answer_page(self) -> bool:
        """Agree on the consent page shown; False when the done screen came instead."""
        self.wait("a consent page or the done screen", lambda: self.view is not None and
                  self.view.screen in (Screen.CONSENT, Screen.DONE))
        if not isinstance(self.view, ConsentView):
            return False
        self.agree()
        return True

    def agree(self) -> None:
        """同意する on the page shown, then wait for what follows it."""
        page = self.view
        self.press(Button.AGREE)
        self.wait("the next page", lambda: self.view != page)

    def answer_consents(self) -> None:
        while self.answer_page():
            pass
