"""The soak: N simulated confirmations through the whole daemon, with random faults.

The real parts run headless (SDL's dummy driver) as `myna-reader run` assembles them
(daemon/runtime/service.py): the runner and its engine thread, the touchscreen loop in the
main thread, the host link on TCP 127.0.0.1, the durable outbox, the passcode store and the
audit log. A scripted visitor (soak_visitor.py) does the confirmations, alternating a staff
visual check and a PIN-mode one (the card, an Android phone, an iPhone with Face ID before or
only after a 112, a card in its grace, a long-expired card turned away with 006: `carriers`),
and the reference terminal acks the results through a relay
that cuts the connection when the link fault strikes (link_fault.py). Faults come from a
seeded RNG (soak_faults.py); the screens have short deadlines so walking away costs seconds,
not minutes.

At the end every confirmed line of the audit log is checked against what the terminal took:
duplicates, lost and stuck states must be 0 (soak_report.py). With `fill_disk` the state
directory (a small file system of the caller's, such as a tmpfs) is filled to ENOSPC after
half the visits and freed again before the drain: what was kept in memory while it was full
must arrive then, nothing twice. With `link_url` the soak
listens there and leaves the terminal to another process (the SIGKILL test holds it), which
then does that check itself.
"""

from __future__ import annotations

import errno
import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from myna_reader.daemon.engine import SessionConfig, StaffModeConfig, StandbyView, Timeouts
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.harness.link_fault import FaultProxy
from myna_reader.daemon.harness.soak_faults import (
    ALL_CARRIERS,
    ALL_FAULTS,
    Carrier,
    Fault,
    FaultyReader,
    Plan,
    draw_plan,
)
from myna_reader.daemon.harness.soak_report import (
    MIB,
    Delivery,
    SoakReport,
    cpu_seconds,
    latency_summary,
    rss_bytes,
)
from myna_reader.daemon.harness.soak_visitor import GRACE_S, SoakVisitor, VisitEnded
from myna_reader.daemon.harness.visitor import TourFailedError
from myna_reader.daemon.link.terminal import Terminal
from myna_reader.daemon.link.transport import TcpEndpoint
from myna_reader.daemon.runtime.config import DaemonConfig, LinkConfig
from myna_reader.daemon.runtime.service import Daemon, assemble, serve
from myna_reader.daemon.store.passcode import PasscodeStore

# Deadlines short enough that a walk-away costs little, long enough for a slow card's
# signature (~0.3 s) and a loaded CI machine.
PERSON_S = 1.0  # the shortest deadline the config accepts
SOAK_SESSION = SessionConfig(
    timeouts=Timeouts(method_s=PERSON_S, pin_s=PERSON_S, passcode_s=PERSON_S,
                      consent_page_s=PERSON_S, done_s=PERSON_S, error_s=PERSON_S,
                      staff_locked_s=PERSON_S, technician_s=PERSON_S, card_job_s=5.0,
                      challenge_s=3.0, store_job_s=5.0),
    staff=StaffModeConfig(idle_s=PERSON_S))
DRAIN_S = 30.0  # the outbox emptying at the end
FILLER = "soak-filler"  # the file that fills the state directory's file system
FILL_CHUNK = 64 * 1024


class SoakError(DaemonError, RuntimeError):
    """The soak could not go on (the reader stuck for good, the daemon not starting)."""


class Tally:
    """The terminal's output, counted: results taken (by id) and repeats it dropped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.taken: Counter[str] = Counter()
        self.repeats = 0

    def __call__(self, message: Mapping[str, Any]) -> None:
        with self._lock:
            if message.get("type") == "result":
                self.taken[str(message["id"])] += 1
            elif message.get("event") == "duplicate-result":
                self.repeats += 1


def fill_to_enospc(path: Path) -> int:
    """Write `path` until its file system says ENOSPC; the bytes written (unbuffered, so
    nothing is left to fail at close)."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            try:
                written += os.write(fd, bytes(FILL_CHUNK))
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return written
    finally:
        os.close(fd)


class _Soak:
    """The visitor thread's work, and what it found."""

    def __init__(self, daemon: Daemon, visitor: SoakVisitor, plans: list[Plan],
                 external: bool, rss_at: Sequence[int],
                 progress: Callable[[int, int], None] | None,
                 fill_disk: bool = False) -> None:
        self.daemon = daemon
        self.visitor = visitor
        self.plans = plans
        self.external = external
        self.rss_at = set(rss_at)
        self.progress = progress
        self.stop = threading.Event()
        self.tally = Tally()
        self.proxy: FaultProxy | None = None
        self.error: BaseException | None = None
        self.completed = 0
        self.stuck_screens: list[str] = []
        self.hiccups = 0
        self.rss_start = self.rss_end = 0
        self.rss_after: dict[int, int] = {}
        self.cpu_s = 0.0
        self.wall_s = 0.0
        self.undelivered = 0
        self.link_cuts = 0
        self.filler = daemon.config.state_dir / FILLER if fill_disk else None
        self.disk_full_after: int | None = None  # visits done when the disk filled

    def run(self) -> None:
        try:
            self._connect_terminal()
            self.visitor.wait("standby with the 職員用 button", lambda: isinstance(
                self.visitor.view, StandbyView) and self.visitor.view.staff_button)
            self.rss_start = rss_bytes()
            cpu0, t0 = cpu_seconds(), time.monotonic()
            for index, plan in enumerate(self.plans, 1):
                self._visit(plan)
                if index in self.rss_at:
                    self.rss_after[index] = rss_bytes()
                if self.filler is not None and index == len(self.plans) // 2:
                    fill_to_enospc(self.filler)
                    self.disk_full_after = index
                if self.progress is not None:
                    self.progress(index, self.completed)
            self.cpu_s, self.wall_s = cpu_seconds() - cpu0, time.monotonic() - t0
            self.rss_end = rss_bytes()
            self._drain()
        except BaseException as exc:  # noqa: BLE001  (re-raised in the main thread)
            self.error = exc
        finally:
            self.stop.set()
            self.daemon.app.stop()

    def _connect_terminal(self) -> None:
        link = self.daemon.link
        self.visitor.wait("the link's listener", lambda: link.address is not None)
        self.visitor.look_for_reader = self.daemon.runner.look_for_reader
        if self.external:
            return
        assert link.address is not None
        self.proxy = FaultProxy(link.address)
        self.visitor.proxy = self.proxy
        terminal = Terminal(TcpEndpoint("127.0.0.1", self.proxy.port), self.tally,
                            secret=link.secret)
        threading.Thread(target=terminal.run, args=(self.stop,), name="soak-terminal",
                         daemon=True).start()

    def _visit(self, plan: Plan) -> None:
        runner = self.daemon.runner
        before = runner.results_sent
        walked_away, grace_s = False, 0.0
        try:
            self.visitor.visit(plan)
        except VisitEnded as end:
            walked_away, grace_s = end.walked_away, GRACE_S
        except TourFailedError:
            self.hiccups += 1
            grace_s = GRACE_S
        if not self.visitor.settle(walked_away, grace_s):
            view = self.visitor.view
            self.stuck_screens.append("none" if view is None else view.screen.value)
            if not self.visitor.settle(grace_s=GRACE_S):
                raise SoakError(f"the reader stays on {self.stuck_screens[-1]}")
        self.completed += runner.results_sent > before

    def _drain(self) -> None:
        """Wait (bounded) for the terminal to ack every result still in the outbox."""
        outbox = self.daemon.link.outbox
        if self.filler is not None:
            self.filler.unlink(missing_ok=True)  # room again: every engine turn writes what
            # it kept meanwhile, in order
        deadline = time.monotonic() + DRAIN_S
        runner = self.daemon.runner
        while (len(outbox) or runner.kept_in_memory) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.undelivered = len(outbox)
        if self.proxy is not None:
            self.link_cuts = self.proxy.cuts
            self.proxy.close()


def _confirmed_ids(lines: list[dict[str, object]]) -> set[str]:
    return {str(line["session"]) for line in lines
            if line["event"] == "confirmation" and line["outcome"] == "confirmed"}


def run_soak(sessions: int, seed: int, *, faults: Sequence[Fault] = ALL_FAULTS,
             fault_rate: float = 0.3, state_dir: Path | None = None,
             link_url: str | None = None, rss_at: Sequence[int] = (),
             progress: Callable[[int, int], None] | None = None,
             fill_disk: bool = False,
             carriers: Sequence[Carrier] = ALL_CARRIERS) -> SoakReport:
    """Run `sessions` visits (seeded by `seed`) and report. Call it from the main thread: the
    display loop runs there. `state_dir` defaults to a fresh temporary directory; with
    `link_url` the link listens there and another process is the terminal."""
    if sessions < 1:
        raise ValueError("a soak needs at least one session")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    rng = random.Random(seed)  # noqa: S311  (reproducible faults; no secret comes of it)
    kinds = tuple(faults)
    plans = [draw_plan(rng, index, kinds, fault_rate, tuple(carriers))
             for index in range(sessions)]
    passcode = f"{rng.randrange(10_000):04d}"
    with tempfile.TemporaryDirectory(prefix="myna-reader-soak-") as tmp:
        state = Path(tmp) if state_dir is None else Path(state_dir)
        config = DaemonConfig(reader="sim:standard",
                              link=LinkConfig(link_url or "tcp://127.0.0.1:0"),
                              state_dir=state, session=SOAK_SESSION)
        PasscodeStore(state, SOAK_SESSION.lockout).set(passcode)
        reader = FaultyReader()
        visitor = SoakVisitor(reader, passcode)
        with assemble(config, reader=reader.open, view_observers=[visitor.on_view]) as daemon:
            visitor.post = daemon.runner.post
            audit_before = len(daemon.runner.audit.read())
            soak = _Soak(daemon, visitor, plans, link_url is not None, rss_at, progress,
                         fill_disk)
            threading.Thread(target=soak.run, name="soak-visitor", daemon=True).start()
            serve(daemon, until=soak.stop)
            if soak.error is not None:
                raise soak.error
            confirmed = _confirmed_ids(daemon.runner.audit.read()[audit_before:])
    return _report(seed, sessions, soak, visitor, confirmed)


def _report(seed: int, sessions: int, soak: _Soak, visitor: SoakVisitor,
            confirmed: set[str]) -> SoakReport:
    delivery = None
    if not soak.external:
        taken = soak.tally.taken
        delivery = Delivery(
            delivered=len(taken), duplicates=sum(n - 1 for n in taken.values()),
            repeats_ignored=soak.tally.repeats, lost=len(confirmed - taken.keys()),
            unaudited=len(taken.keys() - confirmed))
    return SoakReport(
        seed=seed, sessions=sessions, completed=soak.completed,
        aborted=sessions - soak.completed, faults=dict(visitor.struck),
        link_cuts=soak.link_cuts, delivery=delivery,
        undelivered_at_exit=soak.undelivered, stuck=len(soak.stuck_screens),
        stuck_screens=soak.stuck_screens, hiccups=soak.hiccups, rss_start=soak.rss_start,
        rss_end=soak.rss_end, rss_after=soak.rss_after,
        cpu_s_per_confirmation=soak.cpu_s / soak.completed if soak.completed else None,
        wall_s=round(soak.wall_s, 3),
        placed_to_screen_ms=latency_summary(visitor.placed_to_screen),
        disk_full_after=soak.disk_full_after, carriers=dict(visitor.carriers),
        turned_away=dict(visitor.turned_away))


def daemon_figures(*, confirmations: int = 1000, cold_starts: int = 5,
                   seed: int = 0) -> dict[str, object]:
    """The daemon's bench figures (issue 5): cold start to READY=1 (median of `cold_starts`
    spawns of `myna-reader run`), RSS after 10 and after `confirmations` simulated
    confirmations, and card placed to first screen change (the engine's view posted), from a
    fault-free soak. Call it from the main thread."""
    from myna_reader.daemon.harness.cold_start import measure_cold_start

    checkpoints = sorted({min(10, confirmations), confirmations})
    # the card alone: every visit confirms, and the figures stay comparable across releases
    report = run_soak(confirmations, seed, faults=(), rss_at=checkpoints,
                      carriers=(Carrier.CARD,))
    if not report.ok or report.completed != confirmations:
        raise SoakError(f"the fault-free soak did not complete: {report.to_dict()}")
    return {
        "cold_start_to_ready": measure_cold_start(cold_starts),
        "rss_mib_after_confirmations": {
            str(n): round(rss / MIB, 1) for n, rss in sorted(report.rss_after.items())},
        "card_placed_to_first_screen_ms": report.placed_to_screen_ms,
        "cpu_ms_per_confirmation": round((report.cpu_s_per_confirmation or 0.0) * 1000, 2),
        "confirmations": confirmations,
    }
