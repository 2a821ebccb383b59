"""The soak's visitor (daemon/harness/soak.py): one person's visit with its planned fault, and the
way back to standby people take afterwards (the card taken, OK or 中止 tapped)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from myna_reader.daemon.engine import (
    Button,
    ErrorView,
    Event,
    Mode,
    PinView,
    Screen,
    StaffPasscodeView,
    StandbyView,
    View,
)
from myna_reader.daemon.harness.link_fault import FaultProxy
from myna_reader.daemon.harness.soak_faults import (
    CARD_FAULTS,
    Carrier,
    Fault,
    FaultyReader,
    Plan,
)
from myna_reader.daemon.harness.visitor import TOUR_PIN, Visitor
from myna_reader.drivers.sim.card import SimulatedCard

STEP_WAIT_S = 10.0  # a screen the visitor waits for longer than this: a hiccup, recovered
SETTLE_S = 20.0  # a visit's end to standby: longer than this is a stuck state
RETRY_S = 0.5  # how long the settling visitor waits between taps on an unmoving screen
GRACE_S = 0.05  # standby after a visit cut short must hold this long (touches in flight)
END_SCREENS = frozenset({Screen.ERROR, Screen.NO_READER, Screen.STAFF_LOCKED})
CANCELLABLE = frozenset({Screen.STAFF_STANDBY, Screen.STAFF_PASSCODE, Screen.STAFF_LOCKED,
                         Screen.PIN, Screen.METHOD, Screen.CONSENT, Screen.READING,
                         Screen.TECHNICIAN})
POINT_FAULTS = frozenset({Fault.LINK, Fault.CANCEL, Fault.WALK_AWAY, Fault.DETACH})
PIN_CARRIERS = frozenset({Carrier.CARD, Carrier.ANDROID, Carrier.GRACE})
EXPIRED_CODE = "006"  # docs/error-codes.md
FACE_ID_FIRST_CODE = "112"


class VisitEnded(Exception):  # noqa: N818  (control flow, not an error)
    """A fault ended the visit early."""

    def __init__(self, walked_away: bool = False) -> None:
        super().__init__("walked away" if walked_away else "ended by a fault")
        self.walked_away = walked_away


def _no_post(_event: Event) -> None:
    raise RuntimeError("the visitor acted before the daemon was assembled")


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


class SoakVisitor(Visitor):
    """The visits of the soak, each with its planned fault, and the way back to standby."""

    def __init__(self, reader: FaultyReader, passcode: str) -> None:
        super().__init__(reader, _no_post, step_wait_s=STEP_WAIT_S)
        self.faulty = reader
        self.passcode = passcode
        self.proxy: FaultProxy | None = None
        self.look_for_reader: Callable[[], None] = lambda: None
        self.struck: Counter[str] = Counter()
        self.carriers: Counter[str] = Counter()  # visits by what the patient brought
        self.turned_away: Counter[str] = Counter()  # the planned refusals seen (006, 112)
        self.placed_to_screen: list[float] = []
        self._placed_at: float | None = None
        self._plan = Plan(staff=False)
        self._points = 0

    def on_view(self, view: View) -> None:
        placed, self._placed_at = self._placed_at, None
        if placed is not None and view.screen is Screen.READING:
            self.placed_to_screen.append(time.perf_counter() - placed)
        super().on_view(view)

    # --- a visit ---------------------------------------------------------------------------

    def visit(self, plan: Plan) -> None:
        """Raises VisitEnded when its fault ends it, TourFailedError when a screen the person
        waits for does not come."""
        self._plan, self._points = plan, 0
        if plan.staff:
            self._point()
            self.press(Button.STAFF)
            self._expect(Screen.STAFF_PASSCODE)
            self._point()
            if plan.fault is Fault.WRONG_CODE:
                self._strike()
                self.enter(_wrong(self.passcode), "staff passcode")
                self._expect_view(lambda v: isinstance(v, StaffPasscodeView) and v.wrong
                                  and not v.checking)
            self.enter(self.passcode, "staff passcode")
            self._expect(Screen.STAFF_STANDBY)
        self._point()
        self.faulty.arm(plan)
        if plan.fault in CARD_FAULTS:
            self._strike()
        self.carriers[plan.carrier.value] += 1
        card = self.faulty.cards[plan.carrier]
        if plan.carrier is Carrier.IPHONE:
            card.authenticate_holder()  # Face ID on the phone before holding it
        self._place(card)
        self._point()
        if plan.carrier is Carrier.EXPIRED:
            self._turned_away(EXPIRED_CODE)
            raise VisitEnded  # refused, as it must be: no PIN, no result
        if plan.carrier is Carrier.IPHONE_LATE:
            self._turned_away(FACE_ID_FIRST_CODE)
            self.reader.remove()
            card.authenticate_holder()  # Face ID now, on the phone
            self._place(card)
        if not plan.staff and plan.carrier in PIN_CARRIERS:
            self._expect(Screen.PIN)
            self._point()
            pin_view = self.view
            if plan.fault is Fault.WRONG_CODE and isinstance(pin_view, PinView) and (
                    pin_view.tries_left or 0) >= 2:  # never the last try: the card would block
                self._strike()
                self.enter(_wrong(TOUR_PIN), "PIN")
                self._expect_view(lambda v: isinstance(v, PinView) and v.wrong and not v.digits)
            self.enter(TOUR_PIN, "PIN")
        while self._expect(Screen.CONSENT, Screen.DONE) is Screen.CONSENT:
            self._point()
            self.agree()
        self._point()

    def _place(self, card: SimulatedCard) -> None:
        waiting = self.view
        self._placed_at = time.perf_counter()
        self.reader.insert(card)
        self.wait("the card noticed", lambda: self.view != waiting)

    def _turned_away(self, code: str) -> None:
        """The error screen with `code` (a fault may show another and end the visit)."""
        self._expect_view(lambda v: isinstance(v, ErrorView) and v.code == code)
        self.turned_away[code] += 1

    def _expect(self, *screens: Screen) -> Screen:
        """Wait for one of `screens`; an error (or the reader gone) ends the visit."""
        self._expect_view(lambda v: v.screen in screens)
        assert self.view is not None
        return self.view.screen

    def _expect_view(self, ready: Callable[[View], bool]) -> None:
        self.wait("the next screen", lambda: self.view is not None and (
            ready(self.view) or self.view.screen in END_SCREENS))
        assert self.view is not None
        if not ready(self.view):
            raise VisitEnded

    def _strike(self) -> None:
        assert self._plan.fault is not None
        self.struck[self._plan.fault.value] += 1

    def _point(self) -> None:
        """A step of the visit where a person- or link-side fault may strike."""
        point, self._points = self._points, self._points + 1
        fault = self._plan.fault
        if point != self._plan.point or fault not in POINT_FAULTS:
            return
        if fault is Fault.LINK:
            if self.proxy is not None:
                self._strike()
                self.proxy.cut()
            return
        self._strike()
        if fault is Fault.CANCEL:
            self.press(Button.CANCEL)
            raise VisitEnded
        if fault is Fault.DETACH:
            self.faulty.unplug()
            self.wait_screen(Screen.NO_READER)
            self.faulty.plug_in()
            self.look_for_reader()  # what the hotplug monitor does on the reader's return
            raise VisitEnded
        raise VisitEnded(walked_away=True)

    # --- back to standby -------------------------------------------------------------------

    def at_rest(self) -> bool:
        view = self.view
        return (isinstance(view, StandbyView) and view.mode is Mode.UNATTENDED
                and not view.remove_card and not self.reader.card_present())

    def _wait_change(self, shown: View | None, until: float) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.view != shown, max(until - time.monotonic(), 0))

    def settle(self, walked_away: bool = False, grace_s: float = 0.0) -> bool:
        """Back to standby as people get there: the card taken, OK or 中止 tapped. False if
        the reader is not there within SETTLE_S. `grace_s`: how long standby must hold, for a
        visit cut short while the engine may still have the person's last touches to take."""
        deadline = time.monotonic() + SETTLE_S
        if walked_away and not self.at_rest():
            self._wait_change(self.view, deadline)  # the screen's deadline has to act
        while True:
            view = self.view
            if self.at_rest():
                if not grace_s:
                    return True
                self._wait_change(view, time.monotonic() + grace_s)
                if self.view == view:
                    return True
                continue
            if time.monotonic() >= deadline:
                return False
            if self.reader.card_present():
                self.reader.remove()
                continue
            if view is not None and view.screen in (Screen.ERROR, Screen.DONE):
                self.press(Button.OK)
            elif view is not None and view.screen in CANCELLABLE:
                self.press(Button.CANCEL)
            self._wait_change(view, min(deadline, time.monotonic() + RETRY_S))
