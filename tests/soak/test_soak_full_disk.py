"""The soak with a disk that fills up half way (issue 12, point 6): the state directory is a
real tmpfs, filled to ENOSPC after half the visits and freed before the drain. The
whole daemon serves on: PIN confirmations are refused before the card signs (no room for the
signature's audit line), staff visual checks are kept in memory and stored and delivered once
there is room; none lost, none twice, the engine alive (run_soak raises if it dies)."""

from __future__ import annotations

import json
from pathlib import Path

from myna_reader.daemon.harness.soak import run_soak
from myna_reader.daemon.harness.soak_faults import Fault
from myna_reader.daemon.store.audit import AUDIT_FILE
from tests.crash.tmpfs import small_tmpfs

SESSIONS = 120
# room for the outbox's write-ahead log of 120 sessions once the filler is gone (on 2 MiB the
# log alone fills the disk again before the drain)
TMPFS_SIZE = "16m"
SEED = 12
CARD_IO_ERROR = "107"  # a PIN confirmation refused for want of its signature's audit line


def test_a_soak_whose_disk_fills_half_way_loses_and_repeats_nothing(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "state", TMPFS_SIZE) as state:
        # walk-aways only: the faults that need no disk are not what this soak is about
        report = run_soak(SESSIONS, SEED, faults=(Fault.WALK_AWAY,), fault_rate=0.1,
                          state_dir=state, fill_disk=True)
        lines = [json.loads(line) for line in
                 (state / AUDIT_FILE).read_text().splitlines()]
    print("\n".join(report.lines()))
    confirmations = [line for line in lines if line["event"] == "confirmation"]
    confirmed = [line for line in confirmations if line["outcome"] == "confirmed"]
    refused = [line for line in confirmations if line["code"] == CARD_IO_ERROR]
    print(f"figures: sessions {report.sessions}, confirmed {len(confirmed)}, refused "
          f"{len(refused)}, lost {report.delivery and report.delivery.lost}, duplicated "
          f"{report.delivery and report.delivery.duplicates}")
    assert report.disk_full_after == SESSIONS // 2
    assert report.sessions == SESSIONS
    delivery = report.delivery
    assert delivery is not None
    assert (delivery.duplicates, delivery.lost, delivery.unaudited) == (0, 0, 0)
    assert delivery.delivered == report.completed == len(confirmed)
    assert refused, "no PIN confirmation met the full disk"
    assert report.undelivered_at_exit == 0
    assert report.stuck == 0, report.stuck_screens
