"""The faults the soak (daemon/harness/soak.py) injects, and the simulated reader that suffers them.

Each visit draws at most one fault from a seeded RNG, so a soak is reproducible from its seed
(up to thread timing). Card-side faults strike at a random APDU of the card session; person-
and link-side faults strike at a random step of the visit. The PIN-mode visits also rotate
through what the patient brings (`Carrier`): the card, an Android phone, an iPhone (with Face
ID done before, or only after a first 112), a card in its grace and a long-expired one.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from enum import StrEnum

from myna_reader.drivers.backends.base import Reader, ReaderEvent, ReaderEventKind
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.errors import ReaderGoneError
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import CardProfile, load_profile
from myna_reader.drivers.sim.timing import TimingModel
from myna_reader.fixtures.redate import JST, with_auth_validity


class Fault(StrEnum):
    PULL = "pull"  # the card taken off the reader at a random APDU
    GARBLED = "garbled"  # a garbled or unknown status word at a random APDU
    SLOW = "slow"  # a card as slow as a real one (timing model: 106 kbps, ~0.3 s signature)
    DETACH = "detach"  # the reader unplugged and plugged back in
    LINK = "link"  # the terminal's connection cut (it reconnects)
    WRONG_CODE = "wrong-code"  # a wrong PIN (PIN mode) or staff passcode first
    CANCEL = "cancel"  # 中止 pressed
    WALK_AWAY = "walk-away"  # the person stops: the screen's deadline has to end it


CARD_FAULTS = frozenset({Fault.PULL, Fault.GARBLED, Fault.SLOW})
ALL_FAULTS = tuple(Fault)
MAX_APDU = 14  # a PIN confirmation on the standard card with extended length: 12 APDUs
VISIT_POINTS = 8  # the steps of a visit a person-side fault can strike at (soak.py)
GARBLED_RESPONSES = (b"\x6f\x00", b"\x12\x34", b"\x90", b"", b"\x6a\x82", b"\x6d\x00")
SLOW_CARD = TimingModel()


class Carrier(StrEnum):
    """What the patient of a PIN-mode visit brings (a staff visit brings the card)."""

    CARD = "card"
    ANDROID = "android"  # the PIN on the reader, the certificate after VERIFY
    IPHONE = "iphone"  # Face ID done before the phone is held
    IPHONE_LATE = "iphone-face-id-late"  # held first: 112, Face ID, held again
    GRACE = "card-in-grace"  # expired 20 days ago: 資格情報のみ
    EXPIRED = "card-expired"  # expired in 2020: 006, no PIN asked

    @property
    def confirms(self) -> bool:
        return self is not Carrier.EXPIRED


ALL_CARRIERS = tuple(Carrier)
GRACE_DAYS = 20  # how long ago the grace card's certificate expired


def grace_profile(today: dt.date) -> CardProfile:
    """The standard card with its auth certificate expired GRACE_DAYS before `today`."""
    return with_auth_validity("standard", today - dt.timedelta(days=GRACE_DAYS),
                              name="standard-in-grace")


@dataclass(frozen=True, slots=True)
class Plan:
    """One visit: staff or PIN mode, what the patient brings, and the fault it meets (if any)
    and where."""

    staff: bool
    carrier: Carrier = Carrier.CARD
    fault: Fault | None = None
    point: int = 0  # the visit step a person- or link-side fault strikes at
    apdu: int = 0  # the APDU (1-based) a card-side fault strikes at
    garbled: bytes = b""


def draw_plan(rng: random.Random, index: int, faults: tuple[Fault, ...],
              rate: float, carriers: tuple[Carrier, ...] = ALL_CARRIERS) -> Plan:
    """Visits alternate staff and PIN mode, the PIN-mode ones rotating through `carriers`;
    a share `rate` of them meets one fault."""
    staff = index % 2 == 0
    carrier = Carrier.CARD if staff else carriers[(index // 2) % len(carriers)]
    if not faults or rng.random() >= rate:
        return Plan(staff, carrier)
    return Plan(staff, carrier, rng.choice(faults), point=rng.randrange(VISIT_POINTS),
                apdu=rng.randint(1, MAX_APDU), garbled=rng.choice(GARBLED_RESPONSES))


class FaultyReader(SimReader):
    """The sim reader, with the card-side fault of the next card session armed by `arm`, and
    an unplug / plug-in pair. `open` is the daemon's reader factory: it fails while unplugged,
    like a reader that is not on the bus."""

    def __init__(self, today: dt.date | None = None) -> None:
        super().__init__("standard", present=False)
        day = dt.datetime.now(JST).date() if today is None else today
        profiles = {Carrier.CARD: self.profile, Carrier.ANDROID: load_profile("android-phone"),
                    Carrier.IPHONE: load_profile("iphone"), Carrier.GRACE: grace_profile(day),
                    Carrier.EXPIRED: load_profile("expired")}
        profiles[Carrier.IPHONE_LATE] = profiles[Carrier.IPHONE]  # another patient's iPhone
        # one card or phone per carrier, kept across visits as a patient keeps theirs
        self.cards = {carrier: SimulatedCard(profile) for carrier, profile in profiles.items()}
        self.plugged = True
        self._apdus = 0
        self._pull_at = 0
        self._garble_at = 0
        self._garbled = b""

    def arm(self, plan: Plan) -> None:
        """Set the card-side fault for the session about to start (none unless planned)."""
        self._apdus = 0
        self._pull_at = plan.apdu if plan.fault is Fault.PULL else 0
        self._garble_at = plan.apdu if plan.fault is Fault.GARBLED else 0
        self._garbled = plan.garbled
        self.timing = SLOW_CARD if plan.fault is Fault.SLOW else None

    def transmit(self, apdu: bytes) -> bytes:
        self._apdus += 1  # only the runner's card worker transmits
        if self._apdus == self._pull_at:
            self.remove()  # the APDU meets an empty field: CardRemovedError below
        if self._apdus == self._garble_at:
            return self._garbled  # what a broken card or a bad RF frame could answer
        return super().transmit(apdu)

    def open(self) -> Reader:
        if not self.plugged:
            raise ReaderGoneError("the simulated reader is unplugged")
        return self

    def unplug(self) -> None:
        """The card (if any) loses power with the reader; the watcher hears of both."""
        self.remove()
        self.plugged = False
        self._events.put(ReaderEvent(ReaderEventKind.READER_DETACHED, self.name))

    def plug_in(self) -> None:
        self.plugged = True
