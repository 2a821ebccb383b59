"""A card model that hands every call to a simulated card: what a bridge (vpcd, nfc-udp) serves
when a test watches or changes the card under it (drivers/sim/card.py `CardModel`)."""

from __future__ import annotations

from myna_reader.drivers.sim.card import SimulatedCard


class ServedCard:
    """Serves `card`, which a test may swap (a phone held instead); a subclass overrides the
    call it watches (the commands received, a removal in the middle of an answer)."""

    def __init__(self, card: SimulatedCard) -> None:
        self.card = card

    @property
    def atr(self) -> bytes:
        return self.card.atr

    def power_on(self) -> bytes:
        return self.card.power_on()

    def power_off(self) -> None:
        self.card.power_off()

    def process(self, apdu: bytes) -> bytes:
        return self.card.process(apdu)
