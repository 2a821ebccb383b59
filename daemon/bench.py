"""`myna-reader bench`: the card layer's figures, measured (docs/performance.md).

Every figure is a median of repeated runs, and each time is set against a baseline measured
in the same process, so the ratios hold from one machine to another:

- APDUs per flow on the `standard` card, short and extended length;
- in-process overhead per APDU on the sim backend: wall time of a whole flow minus the
  simulated card's own time (`SimulatedCard.process`), divided by the APDU count;
- a PIN-mode session with the timing model of a real card (106 kbps, ~0.3 s signature)
  against the model's own sum, the physical floor (target ratio <= 1.05).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from myna_reader.daemon.card_flows import FLOWS, run_flow
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import CardProfile, load_profile
from myna_reader.drivers.sim.timing import TimingModel

BENCH_PIN = "1234"  # the synthetic profiles' auth PIN (hw-fixtures/README.md)


class _TimedCard(SimulatedCard):
    """The simulated card, keeping the time it spends answering (the part that is not ours)."""

    card_seconds = 0.0

    def process(self, apdu: bytes) -> bytes:
        start = time.perf_counter()
        try:
            return super().process(apdu)
        finally:
            self.card_seconds += time.perf_counter() - start


@dataclass(frozen=True, slots=True)
class FlowRun:
    apdus: int
    wall_s: float
    card_s: float
    modelled_s: float


def run_once(profile: CardProfile, flow: str, *, extended: bool,
             timing: TimingModel | None = None) -> FlowRun:
    reader = SimReader(profile, present=False, timing=timing, supports_extended=extended)
    card_model = _TimedCard(profile)
    reader.insert(card_model)
    start = time.perf_counter()
    reader.connect()
    channel = CardChannel(reader)
    run_flow(flow, MyNumberCard(channel), pin=lambda: BENCH_PIN)
    reader.disconnect(unpower=True)
    wall = time.perf_counter() - start
    return FlowRun(channel.apdu_count, wall, card_model.card_seconds, reader.modelled_seconds)


def _median(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def measure(repeat: int) -> dict[str, object]:
    profile = load_profile("standard")
    counts = {
        f"{flow}/{'extended' if ext else 'short'}": run_once(profile, flow, extended=ext).apdus
        for flow in FLOWS for ext in (False, True)
    }
    for _ in range(3):  # warm caches and imports before timing anything
        run_once(profile, "pin", extended=False)

    def overhead() -> float:
        run = run_once(profile, "pin", extended=False)
        return (run.wall_s - run.card_s) / run.apdus

    def card_only() -> float:
        run = run_once(profile, "pin", extended=False)
        return run.card_s / run.apdus

    model = TimingModel()
    timed_runs = max(3, repeat // 6)  # each run lasts about half a second

    def timed_ratio(extended: bool) -> Callable[[], float]:
        def ratio() -> float:
            run = run_once(profile, "pin", extended=extended, timing=model)
            return run.wall_s / run.modelled_s
        return ratio

    floor = run_once(profile, "pin", extended=False, timing=model).modelled_s
    floor_ext = run_once(profile, "pin", extended=True, timing=model).modelled_s
    figures: dict[str, object] = {
        "apdus": counts,
        "overhead_us_per_apdu": round(_median(repeat, overhead) * 1e6, 1),
        "card_us_per_apdu": round(_median(repeat, card_only) * 1e6, 1),
        "pin_session_modelled_s": {"short": round(floor, 4), "extended": round(floor_ext, 4)},
        "pin_session_ratio_to_model": {
            "short": round(_median(timed_runs, timed_ratio(False)), 4),
            "extended": round(_median(timed_runs, timed_ratio(True)), 4),
        },
        "repeat": repeat,
    }
    return figures


def cmd_bench(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise ValueError("--repeat must be at least 1")
    figures = measure(args.repeat)
    if args.json:
        print(json.dumps(figures))
        return 0
    print("APDUs per flow (standard card):")
    apdus = figures["apdus"]
    assert isinstance(apdus, dict)
    for name, count in apdus.items():
        print(f"  {name:20} {count}")
    print(f"in-process overhead per APDU (sim):   {figures['overhead_us_per_apdu']} µs "
          f"(the simulated card itself: {figures['card_us_per_apdu']} µs)")
    print(f"PIN session, modelled card time:      {figures['pin_session_modelled_s']} s")
    print(f"PIN session, wall / model (<= 1.05):  {figures['pin_session_ratio_to_model']}")
    return 0
