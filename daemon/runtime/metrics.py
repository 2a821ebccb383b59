"""Fleet metrics in Prometheus's text format, for node_exporter's textfile collector.

What a clinic's fleet dashboard needs, and nothing personal: confirmations by method and
outcome, errors by code, staff entries and lockouts, updates by outcome and the release
running (all from the audit log, whose records hold no personal data by construction), the
terminal link's state and changes, and two latency histograms from the screens the patient
sees (card placed -> card read; card placed -> done). Every label value comes from a closed
set (the engine's enums, three-digit error codes); anything else is counted as "other".

A textfile rather than an HTTP endpoint: the reader then listens on nothing new (every
listener must authenticate, docs/security.md), and node_exporter, which a fleet runs anyway,
serves it. The file is replaced atomically, mode 0644, so node_exporter never reads half.
The daemon writes it when MYNA_METRICS_TEXTFILE names a path (the unit sets one); `myna-reader
metrics` prints the audit-derived part for a reader whose daemon is not running.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from myna_reader.daemon.engine import AuditEvent, AuditOutcome, Cue, Method, Screen, View
from myna_reader.daemon.store.audit import AUDIT_FILE
from myna_reader.daemon.store.files import write_atomic
from myna_reader.daemon.update.install import Layout, current_version, load_state

log = logging.getLogger(__name__)

TEXTFILE_ENV = "MYNA_METRICS_TEXTFILE"
WRITE_EVERY_S = 15.0  # node_exporter is scraped every 15-60 s in most fleets
PUBLIC_FILE = 0o644  # node_exporter runs as its own user
OTHER = "other"
NONE = "none"
_CODE = re.compile(r"\d{3}")
_VERSION = re.compile(r"\d+(\.\d+){0,3}")
# card placed -> first screen after reading; -> done. A PIN typed counts: what patients wait.
CARD_READ_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0)
CONFIRMATION_BUCKETS = (2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0)
_IDLE = frozenset({Screen.STANDBY, Screen.STAFF_STANDBY})
_SESSION_ENDS = _IDLE | {Screen.DONE, Screen.ERROR}
UPDATE_OUTCOMES = ("installed", "rolled-back", "rolled-back-unhealthy", "refused", "failed")


def _closed(value: object, allowed: Iterable[str]) -> str:
    """A label value from a closed set: never free text from a file."""
    if value is None:
        return NONE
    return value if isinstance(value, str) and value in set(allowed) else OTHER


class FleetMetrics:
    """The metric families and what feeds them (audit lines, views, link, update state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.confirmations = Counter(
            "myna_reader_confirmations", "Confirmation sessions by method and outcome",
            ["method", "outcome"], registry=r)
        self.errors = Counter("myna_reader_errors", "Sessions that ended with an error code",
                              ["code"], registry=r)
        self.staff_entries = Counter("myna_reader_staff_entries",
                                     "Entries into staff visual-check mode", registry=r)
        self.lockouts = Counter("myna_reader_staff_lockouts",
                                "Staff entry locked after too many wrong passcodes", registry=r)
        self.updates = Counter("myna_reader_updates", "Update installs and rollbacks by outcome",
                               ["outcome"], registry=r)
        self.card_read = Histogram("myna_reader_card_read_seconds",
                                   "Card placed to the card read (the next screen)",
                                   buckets=CARD_READ_BUCKETS, registry=r)
        self.confirmation = Histogram("myna_reader_confirmation_seconds",
                                      "Card placed to the done screen",
                                      buckets=CONFIRMATION_BUCKETS, registry=r)
        self.link_up = Gauge("myna_reader_link_up", "1 while the terminal is connected",
                             registry=r)
        self.link_changes = Counter("myna_reader_link_changes",
                                    "Terminal link going up or down", ["to"], registry=r)
        self.release = Gauge("myna_reader_release_info", "The release running (value 1)",
                             ["version"], registry=r)
        self.update_pending = Gauge("myna_reader_update_pending",
                                    "1 while an update waits for its health check", registry=r)
        self.good_releases = Gauge("myna_reader_good_releases",
                                   "Releases kept for rollback", registry=r)
        self._lock = threading.Lock()
        self._placed: float | None = None
        self._read_seen = False
        self._link: bool | None = None

    # --- feeding --------------------------------------------------------------------------

    def audit_line(self, line: Mapping[str, object]) -> None:
        event = line.get("event")
        outcome = _closed(line.get("outcome"), AuditOutcome)
        if event == AuditEvent.CONFIRMATION:
            method = _closed(line.get("method"), Method)
            self.confirmations.labels(method=method, outcome=outcome).inc()
            code = line.get("code")
            if code is not None:
                self.errors.labels(code=code if isinstance(code, str) and _CODE.fullmatch(code)
                                   else OTHER).inc()
        elif event == AuditEvent.STAFF_ENTER:
            self.staff_entries.inc()
        elif event == AuditEvent.STAFF_LOCKOUT:
            self.lockouts.inc()
        elif event == AuditEvent.UPDATE:
            self.updates.labels(outcome=_closed(line.get("outcome"), UPDATE_OUTCOMES)).inc()

    def view(self, view: View, at: float) -> None:
        """One screen shown (the engine thread): card placed is the first reading screen
        after standby; the card is read at the first screen after that; done ends it."""
        screen = view.screen
        with self._lock:
            if screen in _IDLE:
                self._placed, self._read_seen = None, False
            elif screen is Screen.READING and self._placed is None:
                self._placed = at
            elif self._placed is not None:
                if not self._read_seen and screen is not Screen.READING:
                    self._read_seen = True
                    self.card_read.observe(at - self._placed)
                if screen is Screen.DONE:
                    self.confirmation.observe(at - self._placed)
                    self._placed = None
                elif screen is Screen.ERROR:
                    self._placed = None

    def link(self, up: bool) -> None:
        self.link_up.set(1 if up else 0)
        if self._link is not None and up != self._link:
            self.link_changes.labels(to="up" if up else "down").inc()
        self._link = up

    def update_state(self, layout: Layout) -> None:
        state = load_state(layout)
        current = current_version(layout)
        self.release.clear()
        shown = current if current and _VERSION.fullmatch(current) else NONE
        self.release.labels(version=shown).set(1)
        self.update_pending.set(1 if state["pending"] else 0)
        self.good_releases.set(len(state["good"]))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class AuditTail:
    """New whole lines of the audit log since the last call (from the start the first time:
    counters then carry across restarts). A file that shrank was replaced: read it anew."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / AUDIT_FILE
        self._offset = 0

    def new_lines(self) -> list[dict[str, object]]:
        try:
            with self.path.open("rb") as f:
                if os.fstat(f.fileno()).st_size < self._offset:
                    self._offset = 0
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return []
        whole = data[:data.rfind(b"\n") + 1]
        self._offset += len(whole)
        lines = []
        for raw in whole.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # a damaged line is the audit's problem (doctor), not a metric
            if isinstance(line, dict):
                lines.append(line)
        return lines


def from_files(state_dir: Path, layout: Layout) -> FleetMetrics:
    """What the files say: the audit log's counters and the update state."""
    metrics = FleetMetrics()
    for line in AuditTail(state_dir).new_lines():
        metrics.audit_line(line)
    metrics.update_state(layout)
    return metrics


# --- in the daemon ---------------------------------------------------------------------------


class _Display(Protocol):
    def post_view(self, view: View) -> None: ...
    def post_cue(self, cue: Cue) -> None: ...


class _Runner(Protocol):
    display: _Display


class _Link(Protocol):
    @property
    def connected(self) -> bool: ...


class ObservedDisplay:
    """The runner's display, with every view also shown to the metrics; a screen that ends
    a session (done, error, standby) also has the audit's new lines counted at once."""

    def __init__(self, inner: _Display, metrics: FleetMetrics, on_session_end: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.inner, self.metrics, self.clock = inner, metrics, clock
        self.on_session_end = on_session_end

    def post_view(self, view: View) -> None:
        self.metrics.view(view, self.clock())
        self.inner.post_view(view)
        if view.screen in _SESSION_ENDS:
            self.on_session_end()

    def post_cue(self, cue: Cue) -> None:
        self.inner.post_cue(cue)


class TextfileWriter:
    """Every WRITE_EVERY_S: the audit's new lines, the link's state and the update state
    into the metrics, then the textfile replaced. A daemon thread: it ends with the process.
    A failed write is logged once per kind and retried next time; it never stops the reader."""

    def __init__(self, path: Path, metrics: FleetMetrics, state_dir: Path, link: _Link,
                 layout: Layout, interval_s: float = WRITE_EVERY_S) -> None:
        self.path, self.metrics, self.link, self.layout = path, metrics, link, layout
        self.audit = AuditTail(state_dir)
        self.interval_s = interval_s
        self._last_error = ""
        self._audit_lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, name="metrics", daemon=True)

    def count_audit(self) -> None:
        """The audit's new lines into the counters (any thread; a read error waits for the
        next call: the lines stay in the file)."""
        with self._audit_lock:
            try:
                lines = self.audit.new_lines()
            except OSError as exc:
                log.debug("metrics: audit log not read (%s)", exc)
                return
            for line in lines:
                self.metrics.audit_line(line)

    def write_once(self) -> None:
        self.count_audit()
        self.metrics.link(self.link.connected)
        self.metrics.update_state(self.layout)
        write_atomic(self.path, self.metrics.exposition(), mode=PUBLIC_FILE)

    def write_logged(self) -> None:
        try:
            self.write_once()
            self._last_error = ""
        except OSError as exc:
            if str(exc) != self._last_error:
                log.warning("metrics: %s not written (%s)", self.path, exc.strerror or exc)
            self._last_error = str(exc)

    def _loop(self) -> None:
        while True:
            self.write_logged()
            time.sleep(self.interval_s)


def start_metrics(state_dir: Path, runner: _Runner, link: _Link,
                  environ: Mapping[str, str] = os.environ) -> TextfileWriter | None:
    """Metrics for this daemon when MYNA_METRICS_TEXTFILE names a file; None otherwise."""
    target = environ.get(TEXTFILE_ENV)
    if not target:
        return None
    metrics = FleetMetrics()
    writer = TextfileWriter(Path(target), metrics, state_dir, link, Layout(Path("/")))
    runner.display = ObservedDisplay(runner.display, metrics, writer.count_audit)
    writer.thread.start()
    atexit.register(writer.write_logged)  # the last figures, when the daemon stops
    return writer
