"""Issue 5's link fault: the terminal's connection cut several times in the middle of 100
confirmations (a relay that shuts both sockets, daemon/harness/link_fault.py) and restored by the
terminal's reconnect. Every confirmed line of the audit log reaches the terminal exactly once;
repeats after a cut are dropped by id at the terminal, counted and reported apart.

The whole daemon runs (runner, headless touchscreen, host link on TCP, outbox, passcode store,
audit log) with the real reference terminal; only the card is simulated.
"""

from __future__ import annotations

from myna_reader.daemon.harness.soak import run_soak
from myna_reader.daemon.harness.soak_faults import Fault

CONFIRMATIONS = 100
SEED = 5


def test_link_cuts_in_the_middle_of_100_confirmations_lose_and_repeat_nothing() -> None:
    report = run_soak(CONFIRMATIONS, SEED, faults=(Fault.LINK,), fault_rate=0.12)
    print("\n".join(report.lines()))  # the figures, in the test log
    assert report.link_cuts >= 3
    assert report.faults == {"link": report.link_cuts}
    delivery = report.delivery
    assert delivery is not None
    assert delivery.lost == 0
    assert delivery.duplicates == 0
    assert delivery.unaudited == 0
    # every confirmation the runner sent is a confirmed audit line the terminal took once
    assert delivery.delivered == report.completed
    assert report.completed >= CONFIRMATIONS // 2  # a cut alone aborts no visit, or few
    assert report.undelivered_at_exit == 0
    assert report.stuck == 0
    assert report.ok
