"""A real pcscd with vpcd, and the project's simulated card behind it through VpcdBridge.

Nothing is mocked: pcscd loads the vpcd driver from a private reader.conf.d, polls the card,
and pyscard talks to pcscd over its socket. pcscd's socket path is fixed, so one pcscd serves
the whole session (the `pcscd` fixture of tests/conftest.py). A missing pcscd or vpcd
driver FAILS these tests, it never skips them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from myna_reader.drivers.backends.pcsc import PcscReader
from myna_reader.drivers.sim.card import CardModel, SimulatedCard
from myna_reader.drivers.sim.profile import load_profile
from myna_reader.drivers.sim.vpcd import VpcdBridge
from tests.drivers.pcsc.waits import wait_until_absent
from tests.support.pcscd import PcscdInstance


@pytest.fixture
def card() -> SimulatedCard:
    return SimulatedCard(load_profile("standard"))


@pytest.fixture
def make_bridge(pcscd: PcscdInstance) -> Iterator[Callable[..., VpcdBridge]]:
    """Bridges to the first vpcd reader; each is removed, and seen gone by pcscd, at the end."""
    made: list[VpcdBridge] = []

    def make(card: CardModel, **options: bool) -> VpcdBridge:
        bridge = VpcdBridge(card, pcscd.host, pcscd.port, **options)
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        bridge.remove()
    with PcscReader(pcscd.reader_name) as watcher:
        wait_until_absent(watcher)


@pytest.fixture
def bridge(make_bridge: Callable[..., VpcdBridge], card: SimulatedCard) -> VpcdBridge:
    return make_bridge(card)


@pytest.fixture
def make_reader(pcscd: PcscdInstance) -> Iterator[Callable[[], PcscReader]]:
    opened: list[PcscReader] = []

    def make() -> PcscReader:
        reader = PcscReader(pcscd.reader_name)
        opened.append(reader)
        return reader

    yield make
    for reader in opened:
        reader.close()


@pytest.fixture
def reader(make_reader: Callable[[], PcscReader]) -> PcscReader:
    return make_reader()
