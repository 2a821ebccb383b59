"""`myna-reader bench`: the reader's figures, measured (docs/performance.md).

Every time is a median of repeated runs and is set against a baseline measured in the same
process, so the ratios hold from one machine to another:

- APDUs: the bare certificate read of the card layer, and whole staff and PIN confirmations
  through the engine, short and extended length, on the `standard` card;
- in-process overhead per APDU: a whole PIN confirmation (engine, card jobs, driver, sim
  backend) minus the simulated card's own time (`SimulatedCard.process`), per APDU;
- a PIN confirmation with the timing model of a real card (106 kbps, ~0.3 s signature)
  against the model's own sum, the physical floor (target ratio <= 1.05);
- the engine's time per event (target <= 20 µs);
- the touchscreen: touch-to-frame latency p50/p99 (target p99 <= 50 ms) and the idle loop's
  CPU share (target <= 1 % of a core), with the SDL driver of the environment (dummy unless
  SDL_VIDEODRIVER says otherwise, e.g. x11 under Xvfb).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from myna_reader.daemon.harness import scenarios
from myna_reader.daemon.harness.replay import bench_engine
from myna_reader.daemon.harness.visitor import TOUR_PIN
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import CardProfile, load_profile
from myna_reader.drivers.sim.timing import TimingModel
from myna_reader.ui import bench as ui_bench

BENCH_ANSWERS = scenarios.Answers(pin=TOUR_PIN)
CARD_KINDS = ("staff", "pin")  # the flows of the standard card (a phone is another profile)


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
class Run:
    apdus: int
    wall_s: float
    card_s: float
    modelled_s: float


def _reader(profile: CardProfile, extended: bool,
            timing: TimingModel | None = None) -> tuple[SimReader, _TimedCard]:
    reader = SimReader(profile, present=False, timing=timing, supports_extended=extended)
    card = _TimedCard(profile)
    reader.insert(card)
    return reader, card


def confirmation(profile: CardProfile, kind: str, *, extended: bool,
                 timing: TimingModel | None = None) -> Run:
    reader, card = _reader(profile, extended, timing)
    start = time.perf_counter()
    outcome, channel = scenarios.run(kind, reader, BENCH_ANSWERS)
    wall = time.perf_counter() - start
    if len(outcome.results) != 1:
        raise RuntimeError(f"the {kind} confirmation did not complete: {outcome.summary()}")
    return Run(channel.apdu_count, wall, card.card_seconds, reader.modelled_seconds)


def certificate_read(profile: CardProfile, *, extended: bool) -> int:
    reader, _ = _reader(profile, extended)
    reader.connect()
    channel = CardChannel(reader)
    MyNumberCard(channel).jpki().read_auth_certificate()
    return channel.apdu_count


def _median(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def measure(repeat: int) -> dict[str, object]:
    profile = load_profile("standard")
    apdus: dict[str, int] = {}
    for ext, length in ((False, "short"), (True, "extended")):
        apdus[f"certificate-read/{length}"] = certificate_read(profile, extended=ext)
        for kind in CARD_KINDS:
            apdus[f"{kind}-confirmation/{length}"] = confirmation(
                profile, kind, extended=ext).apdus
    for _ in range(3):  # warm caches and imports before timing anything
        confirmation(profile, "pin", extended=False)

    def overhead() -> float:
        run = confirmation(profile, "pin", extended=False)
        return (run.wall_s - run.card_s) / run.apdus

    def card_only() -> float:
        run = confirmation(profile, "pin", extended=False)
        return run.card_s / run.apdus

    model = TimingModel()
    timed_runs = max(3, repeat // 6)  # each lasts about half a second

    def ratio(extended: bool) -> Callable[[], float]:
        def one() -> float:
            run = confirmation(profile, "pin", extended=extended, timing=model)
            return run.wall_s / run.modelled_s
        return one

    lengths = ((False, "short"), (True, "extended"))
    floor = {length: round(confirmation(profile, "pin", extended=ext, timing=model).modelled_s, 4)
             for ext, length in lengths}
    return {
        "apdus": apdus,
        "overhead_us_per_apdu": round(_median(repeat, overhead) * 1e6, 1),
        "card_us_per_apdu": round(_median(repeat, card_only) * 1e6, 1),
        "pin_confirmation_modelled_s": floor,
        "pin_confirmation_ratio_to_model": {
            "short": round(_median(timed_runs, ratio(False)), 4),
            "extended": round(_median(timed_runs, ratio(True)), 4),
        },
        "engine_us_per_event": round(bench_engine() * 1e6, 2),
        "ui": ui_bench.measure(repeat=max(repeat, 50), idle_s=3.0),
        "repeat": repeat,
    }
