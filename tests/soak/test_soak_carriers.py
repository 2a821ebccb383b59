"""The soak's visitors bring phones and expired certificates too (daemon/harness/soak_faults.py
`Carrier`): every kind confirms through the whole daemon, or is turned away exactly as planned,
with no duplicate, loss or stuck state. Under every fault kind they are part of the bounded
soak (tests/soak/test_soak_bounded.py), whose visitors bring every carrier."""

from __future__ import annotations

from myna_reader.daemon.harness.soak import run_soak
from myna_reader.daemon.harness.soak_faults import ALL_CARRIERS, Carrier

VISITS = 120  # 60 PIN-mode visits: ten of each carrier
SEED = 13


def test_every_carrier_confirms_or_is_turned_away_as_planned() -> None:
    report = run_soak(VISITS, SEED, faults=(), carriers=ALL_CARRIERS)
    print("\n".join(report.lines()))
    per_carrier = VISITS // 2 // len(ALL_CARRIERS)
    assert report.carriers == {Carrier.CARD.value: VISITS // 2 + per_carrier,
                               **{c.value: per_carrier for c in ALL_CARRIERS
                                  if c is not Carrier.CARD}}
    # the expired card never confirms (006, no PIN asked); the late iPhone shows 112 first
    assert report.turned_away == {"006": per_carrier, "112": per_carrier}
    assert report.completed == VISITS - per_carrier
    assert report.hiccups == 0 and report.stuck == 0, report.stuck_screens
    delivery = report.delivery
    assert delivery is not None and delivery.ok
    assert delivery.delivered == report.completed
    assert report.ok

