"""Fixtures for the simulated card: a powered card per profile and an APDU helper."""

from collections.abc import Callable

import pytest

from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import CardProfile, load_profile

Send = Callable[[str], tuple[bytes, int]]


@pytest.fixture(scope="session")
def profiles() -> Callable[[str], CardProfile]:
    cache: dict[str, CardProfile] = {}

    def get(name: str) -> CardProfile:
        if name not in cache:
            cache[name] = load_profile(name)
        return cache[name]

    return get


@pytest.fixture
def make_card(profiles: Callable[[str], CardProfile]) -> Callable[..., SimulatedCard]:
    def make(name: str = "standard", **kwargs: bool) -> SimulatedCard:
        card = SimulatedCard(profiles(name), **kwargs)
        card.power_on()
        return card

    return make


def sender(card: SimulatedCard) -> Send:
    """APDU as spaced hex in, (data, SW) out: tests read like the conversation."""

    def send(apdu_hex: str) -> tuple[bytes, int]:
        raw = card.process(bytes.fromhex(apdu_hex))
        return raw[:-2], int.from_bytes(raw[-2:], "big")

    return send


@pytest.fixture
def card(make_card: Callable[..., SimulatedCard]) -> SimulatedCard:
    return make_card("standard")


@pytest.fixture
def send(card: SimulatedCard) -> Send:
    return sender(card)


@pytest.fixture
def send_to() -> Callable[[SimulatedCard], Send]:
    return sender
