"""nfcpy's real reader stack (its `udp` driver) against the simulated card in a Type B responder.

Nothing here is mocked: nfcpy senses, sends ATTRIB, chains ISO-DEP blocks and checks presence
exactly as it does with an RC-S380; the responder answers as a Type B PICC; the simulated card
answers the APDUs. Every UDP port is picked by the kernel (bind to port 0). A missing nfcpy
FAILS these tests, it never skips them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from myna_reader.drivers.backends.base import ReaderEvent, ReaderEventKind
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.nfc_udp import CardResponder
from myna_reader.drivers.sim.profile import CardProfile, load_profile

EVENT_TIMEOUT_S = 5.0
HANG_GUARD_S = 20.0  # not a speed limit: only a bound that turns a hang into a failure


@pytest.fixture(scope="session", autouse=True)
def nfcpy_stack() -> None:
    try:
        import nfc.clf.udp  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"nfcpy is not installed ({exc}): `pip install nfcpy`", pytrace=False)


@pytest.fixture
def profile() -> CardProfile:
    return load_profile("standard")


@pytest.fixture
def card(profile: CardProfile) -> SimulatedCard:
    return SimulatedCard(profile)


@pytest.fixture
def make_responder(card: SimulatedCard) -> Iterator[Callable[..., CardResponder]]:
    started: list[CardResponder] = []

    def make(**options: Any) -> CardResponder:
        responder = CardResponder(options.pop("card", card), **options).start()
        started.append(responder)
        return responder

    yield make
    for responder in started:
        responder.close()


@pytest.fixture
def make_reader() -> Iterator[Callable[..., Any]]:
    """NfcReader on a responder's port; waits for the card unless `wait_card=False`."""
    from myna_reader.drivers.backends.nfc import NfcReader

    opened: list[NfcReader] = []

    def make(responder: CardResponder, *, wait_card: bool = True, **options: Any) -> NfcReader:
        options.setdefault("poll_interval", 0.05)
        options.setdefault("presence_interval", 0.1)
        reader = NfcReader(f"udp:127.0.0.1:{responder.port}", **options)
        opened.append(reader)
        if wait_card:
            _expect_event(reader, ReaderEventKind.CARD_INSERTED)
        return reader

    yield make
    for reader in opened:
        reader.close()


def _expect_event(reader: Any, kind: ReaderEventKind) -> ReaderEvent:
    event = reader.wait_for_event(EVENT_TIMEOUT_S)
    assert event is not None, f"no {kind.value} event within {EVENT_TIMEOUT_S} s"
    assert event.kind is kind
    return event  # type: ignore[no-any-return]


def _bounded(action: Callable[[], Any]) -> tuple[Any, Exception | None]:
    """Run `action` in a thread; fail the test if it has not returned after HANG_GUARD_S."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except Exception as exc:  # noqa: BLE001 - handed back to the test, which checks it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_S)
    if thread.is_alive():
        pytest.fail(f"the call did not return within {HANG_GUARD_S} s")
    return outcome.get("value"), outcome.get("error")


@pytest.fixture
def expect_event() -> Callable[[Any, ReaderEventKind], ReaderEvent]:
    """`expect_event(reader, kind)`: the reader's next event, which must be of that kind."""
    return _expect_event


@pytest.fixture
def bounded() -> Callable[[Callable[[], Any]], tuple[Any, Exception | None]]:
    """`bounded(action)` -> (result, error): a hang becomes a failure, not a stuck run."""
    return _bounded
