"""The bounded soak CI runs: 1,000 confirmations through the whole daemon with every
fault kind (daemon/harness/soak_faults.py), brought on every carrier (cards, phones, expired
certificates). Duplicates, lost and stuck states are zero."""

from __future__ import annotations

from myna_reader.daemon.harness.soak import run_soak
from myna_reader.daemon.harness.soak_faults import ALL_CARRIERS, ALL_FAULTS

CONFIRMATIONS = 1000  # issue 7: CI soaks at least 1,000 confirmations
SEED = 7


def test_a_bounded_soak_with_every_fault_has_no_duplicate_loss_or_stuck_state() -> None:
    report = run_soak(CONFIRMATIONS, SEED, faults=ALL_FAULTS, fault_rate=0.3)
    print("\n".join(report.lines()))
    assert set(report.faults) == {f.value for f in ALL_FAULTS}  # each kind struck
    assert set(report.carriers) == {c.value for c in ALL_CARRIERS}  # on every carrier
    assert report.sessions == report.completed + report.aborted == CONFIRMATIONS
    assert report.completed >= CONFIRMATIONS // 2
    delivery = report.delivery
    assert delivery is not None
    assert (delivery.duplicates, delivery.lost, delivery.unaudited) == (0, 0, 0)
    assert delivery.delivered == report.completed
    assert report.stuck == 0, report.stuck_screens
    assert report.undelivered_at_exit == 0
    assert report.rss_end > 0 and report.cpu_s_per_confirmation is not None
    assert report.ok
