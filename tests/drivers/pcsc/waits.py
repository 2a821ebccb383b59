"""Event waits for the pcscd tests: bounded, so a missing event fails instead of hanging."""

from __future__ import annotations

import pytest

from myna_reader.drivers.backends.base import ReaderEvent, ReaderEventKind
from myna_reader.drivers.backends.pcsc import PcscReader
from myna_reader.drivers.sim.vpcd import VpcdBridge

# pcscd polls vpcd every 400 ms; this bound only turns a hang into a failure.
EVENT_TIMEOUT_S = 5.0


def wait_for(reader: PcscReader, kind: ReaderEventKind) -> ReaderEvent:
    """The next event of `kind` (other kinds are skipped); fails after EVENT_TIMEOUT_S."""
    seen: list[ReaderEvent] = []
    while (event := reader.wait_for_event(EVENT_TIMEOUT_S)) is not None:
        if event.kind is kind:
            return event
        seen.append(event)
    pytest.fail(f"no {kind.value} event within {EVENT_TIMEOUT_S} s (saw {seen})")


def wait_until_absent(reader: PcscReader) -> None:
    if reader.card_present():
        wait_for(reader, ReaderEventKind.CARD_REMOVED)


def insert_and_connect(bridge: VpcdBridge, reader: PcscReader, **options: bool) -> bytes:
    bridge.insert()
    wait_for(reader, ReaderEventKind.CARD_INSERTED)
    return reader.connect(**options)
