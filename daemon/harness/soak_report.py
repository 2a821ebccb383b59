"""What a soak (daemon/harness/soak.py) reports, and the process figures it samples (RSS, CPU)."""

from __future__ import annotations

import os
import resource
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

MIB = 1024 * 1024


def rss_bytes() -> int:
    """This process's resident set size now (not the peak)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds() -> float:
    """User plus system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Delivery:
    """The terminal's side, checked against the audit log's confirmed lines of the soak."""

    delivered: int  # distinct results the terminal took
    duplicates: int  # results the terminal took a second time (must be 0)
    repeats_ignored: int  # results sent again after a cut and dropped by id at the terminal
    lost: int  # confirmed in the audit log, never taken by the terminal (must be 0)
    unaudited: int  # taken by the terminal with no confirmed line in the audit log (must be 0)

    @property
    def ok(self) -> bool:
        return self.duplicates == self.lost == self.unaudited == 0


@dataclass(frozen=True, slots=True)
class SoakReport:
    seed: int
    sessions: int
    completed: int  # visits whose confirmation reached the done screen (a result was sent)
    aborted: int
    faults: dict[str, int]  # faults that struck, by kind
    link_cuts: int
    delivery: Delivery | None  # None when the terminal is another process's
    undelivered_at_exit: int  # results still in the outbox when the soak ended
    stuck: int  # visits after which the reader did not return to standby in time
    stuck_screens: list[str]
    hiccups: int  # visits where a screen the visitor expected did not come (recovered)
    rss_start: int
    rss_end: int
    rss_after: dict[int, int]  # RSS after that many visits
    cpu_s_per_confirmation: float | None
    wall_s: float
    placed_to_screen_ms: dict[str, float] = field(default_factory=dict)  # p50, p99
    disk_full_after: int | None = None  # visits done when the state directory filled up
    carriers: dict[str, int] = field(default_factory=dict)  # visits by card / phone kind
    turned_away: dict[str, int] = field(default_factory=dict)  # planned 006 / 112 seen

    @property
    def ok(self) -> bool:
        """Duplicates, lost and stuck are zero."""
        return self.stuck == 0 and (self.delivery is None or self.delivery.ok)

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}

    def lines(self) -> list[str]:
        d = self.delivery
        delivered = "(the terminal is another process)" if d is None else (
            f"{d.delivered} delivered, {d.duplicates} duplicates, {d.lost} lost, "
            f"{d.unaudited} unaudited; {d.repeats_ignored} repeats dropped by id")
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        cpu = ("-" if self.cpu_s_per_confirmation is None
               else f"{self.cpu_s_per_confirmation * 1000:.1f} ms")
        latency = ", ".join(f"{k} {v:.2f} ms" for k, v in self.placed_to_screen_ms.items())
        carriers = ", ".join(f"{k} {v}" for k, v in sorted(self.carriers.items())) or "-"
        refused = ", ".join(f"{k} {v}" for k, v in sorted(self.turned_away.items())) or "none"
        verdict = "OK" if self.ok else "FAIL"
        return [
            f"sessions            {self.sessions} (seed {self.seed})",
            f"completed           {self.completed}",
            f"aborted             {self.aborted}",
            f"faults              {faults}; link cuts {self.link_cuts}",
            f"brought             {carriers}; turned away as planned: {refused}",
            f"results             {delivered}",
            f"left in the outbox  {self.undelivered_at_exit}",
            f"stuck states        {self.stuck} {' '.join(self.stuck_screens)}".rstrip(),
            f"visitor hiccups     {self.hiccups}",
            f"RSS                 {self.rss_start / MIB:.1f} MiB at start, "
            f"{self.rss_end / MIB:.1f} MiB at end",
            f"CPU per confirmation {cpu} (the whole process: daemon, visitor, terminal)",
            f"card placed -> first screen change: {latency or '-'}",
            f"wall time           {self.wall_s:.1f} s",
            *([] if self.disk_full_after is None else
              [f"disk full           after visit {self.disk_full_after}, freed before the drain"]),
            f"duplicates, lost, stuck: {verdict}",
        ]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    if not seconds:
        return {}
    return {"p50": round(statistics.median(seconds) * 1000, 3),
            "p99": round(percentile(seconds, 0.99) * 1000, 3)}
