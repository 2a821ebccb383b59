"""pcscd's own reader list, compared before and after a hotplug event (real pcscd + vpcd)."""

from __future__ import annotations

import threading

import pytest

from myna_reader.daemon.runtime.hotplug import (
    ReaderListChange,
    await_pcsc_change,
    diff_readers,
    pcsc_reader_names,
)
from tests.support.pcscd import PcscdInstance

pytestmark = pytest.mark.pcscd


def test_diff_keeps_order_and_sees_both_directions() -> None:
    change = diff_readers(["A 00", "B 00"], ["B 00", "C 00", "D 00"])
    assert change == ReaderListChange(added=("C 00", "D 00"), removed=("A 00",))
    assert not diff_readers(["A"], ["A"])


def test_a_stale_list_is_answered_with_pcscds_readers(pcscd: PcscdInstance) -> None:
    readers = pcsc_reader_names()
    assert pcscd.reader_name in readers
    change = await_pcsc_change(["Gone Reader 00 00"], timeout=5.0)
    assert change == ReaderListChange(added=tuple(readers), removed=("Gone Reader 00 00",))


def test_no_change_within_the_timeout_is_an_empty_change(pcscd: PcscdInstance) -> None:
    assert not await_pcsc_change(pcsc_reader_names(), timeout=0.5)


def test_stop_ends_the_wait(pcscd: PcscdInstance) -> None:
    stop = threading.Event()
    stop.set()
    assert not await_pcsc_change(pcsc_reader_names(), timeout=60.0, stop=stop)
