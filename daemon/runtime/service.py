"""`myna-reader run`: the daemon. Wires the reader, engine, touchscreen, terminal link,
passcode store, audit log, hotplug and systemd's notify protocol, and runs until SIGTERM.

The pygame loop owns the main thread; the engine runs in its own thread (daemon/runtime/runner.py).
READY=1 goes out once the window, the engine and the link are up; the watchdog is pinged from
the engine loop, and only while the display loop has turned recently too, so a frozen screen
is restarted by systemd like a frozen engine. On SIGTERM: STOPPING=1, the card unpowered, the
link closed (results stay in the durable outbox until a terminal acks them).
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from myna_reader.daemon.engine import (
    Credential,
    Cue,
    Event,
    Language,
    SessionConfig,
    Sound,
    View,
)
from myna_reader.daemon.link.channel import LinkSecret, state_dir_secret
from myna_reader.daemon.link.protocol import hello_fields
from myna_reader.daemon.link.reader_end import HostLink
from myna_reader.daemon.link.transport import LinkEndpoint, TcpEndpoint, redact_url
from myna_reader.daemon.runtime.config import DaemonConfig
from myna_reader.daemon.runtime.control import ControlError, ControlServer, socket_path
from myna_reader.daemon.runtime.hotplug import Action, HotplugEvent, HotplugMonitor
from myna_reader.daemon.runtime.runner import Display, Runner
from myna_reader.daemon.runtime.sd_notify import Notifier, watchdog_interval
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.outbox import Outbox, OutboxError
from myna_reader.daemon.store.passcode import PasscodeStore
from myna_reader.daemon.store.sound import SoundStore
from myna_reader.drivers.backends.base import Reader
from myna_reader.drivers.readers import open_reader
from myna_reader.ui.app import App

if TYPE_CHECKING:
    from myna_reader.daemon.face.auth import FaceAuth

log = logging.getLogger(__name__)

CAPABILITIES = ("pin", "visual", "challenge", "passcode.issue")
UI_STALL_S = 10.0  # a display loop silent this long is stuck: stop vouching for it


@dataclass(slots=True)
class Watchdog:
    """Pings systemd at half of WatchdogSec, while both loops are alive."""

    notifier: Notifier
    interval: float | None
    ui_turn: float = 0.0
    last_ping: float = 0.0

    def beat(self) -> None:
        now = time.monotonic()
        if self.interval is None or now - self.last_ping < self.interval:
            return
        if now - self.ui_turn > UI_STALL_S:
            log.error("the display loop has not turned for %.0f s: no watchdog ping",
                      now - self.ui_turn)
            return
        self.last_ping = now
        self.notifier.watchdog()


class Tee:
    """A display that also tells observers (the simulated tour) what it shows."""

    def __init__(self, app: App, observers: list[Callable[[View], None]]) -> None:
        self.app = app
        self.observers = observers

    def post_view(self, view: View) -> None:
        self.app.post_view(view)
        for observer in self.observers:
            observer(view)

    def post_cue(self, cue: Cue) -> None:
        self.app.post_cue(cue)


@dataclass(slots=True)
class Daemon:
    config: DaemonConfig
    app: App
    runner: Runner
    link: HostLink
    notifier: Notifier
    watchdog: Watchdog


@contextmanager
def assemble(config: DaemonConfig, *, reader: Callable[[], Reader] | None = None,
             view_observers: list[Callable[[View], None]] | None = None,
             on_flip: Callable[[float], None] | None = None) -> Iterator[Daemon]:
    """Build the daemon's parts (window included) and take them down again afterwards."""
    notifier = Notifier()
    watchdog = Watchdog(notifier, watchdog_interval())
    store = PasscodeStore(config.state_dir, config.session.lockout)
    technician = PasscodeStore(config.state_dir, config.session.lockout,
                               credential=Credential.TECHNICIAN)
    # [ui] voice and volume until a technician changes them on the technician screen
    sound = SoundStore(config.state_dir, Sound(config.ui.voice, config.ui.volume))
    audit = AuditLog(config.state_dir)
    outbox = open_outbox(config, audit)
    events: queue.Queue[Event] = queue.Queue()  # touches, card, link: all into the engine
    # the technician screen shows the link: never its pairing token
    app = App(config.ui, events.put, link=redact_url(config.link.url), on_flip=on_flip)
    display: Display = Tee(app, view_observers) if view_observers else app
    # every session starts (and ends) in the facility's language: the [ui] table names it
    session_config, face = _face(dataclasses.replace(
        config.session, language=Language(config.ui.language.value)))
    runner = Runner(config=session_config, open_reader=reader or (lambda: open_reader(
        config.reader)), store=store, audit=audit, display=display, link=None,
        watchdog=watchdog.beat, events=events, face=face, technician=technician, sound=sound)
    endpoint = config.link.endpoint()
    link = HostLink(endpoint, outbox, runner.post,
                    hello=hello_fields(socket.gethostname(), CAPABILITIES),
                    secret=_link_secret(config, endpoint),
                    issue_passcode=runner.issue_passcode, apply_config=runner.apply_config)
    runner.link = link
    from myna_reader.daemon.runtime.metrics import start_metrics  # the one metrics hook

    start_metrics(config.state_dir, runner, link)  # only where MYNA_METRICS_TEXTFILE is set
    try:
        yield Daemon(config, app, runner, link, notifier, watchdog)
    finally:
        outbox.close()


def open_outbox(config: DaemonConfig, audit: AuditLog) -> Outbox:
    """The durable outbox. One whose file the reader cannot open (EACCES, EIO, a newer
    schema) is left untouched, and results wait in memory instead, delivered while the
    process lives: the reader still confirms, and what the file holds is not lost."""
    try:
        return Outbox.in_state_dir(config.state_dir, audit=audit,
                                   ttl_s=config.link.outbox_ttl_s)
    except OutboxError as exc:
        log.error("%s; results wait in memory until a restart can open it", exc)
        return Outbox(None, audit=audit, ttl_s=config.link.outbox_ttl_s)


def _link_secret(config: DaemonConfig, endpoint: LinkEndpoint) -> LinkSecret | None:
    """The configured pairing secret, else (a loopback listener) the reader's own."""
    if not isinstance(endpoint, TcpEndpoint):
        return None  # a serial cable is its own authentication (docs/security.md)
    if config.link.pairing_token is not None:
        return LinkSecret.from_text(config.link.pairing_token, "link.pairing_token")
    return state_dir_secret(config.state_dir)


def _face(session: SessionConfig) -> tuple[SessionConfig, FaceAuth | None]:
    """Load the cameras' models once; a reader whose face models fail offers PIN and staff."""
    if not session.face_available:
        return session, None
    try:
        from myna_reader.daemon.face.auth import FaceAuth as Loaded

        return session, Loaded(session.face)
    except (ImportError, OSError, RuntimeError) as exc:
        log.error("face authentication unavailable, offering PIN and staff only: %s", exc)
        return dataclasses.replace(session, face=dataclasses.replace(
            session.face, available=False)), None


def serve(daemon: Daemon, *, until: threading.Event | None = None) -> None:
    """Run the daemon until SIGTERM/SIGINT (or `until` is set). The caller's main thread."""
    stop = until or threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()
        daemon.app.stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    engine = threading.Thread(target=daemon.runner.run, name="engine", daemon=True)
    monitor = _hotplug(daemon.runner)
    control = _control(daemon)
    daemon.link.start()
    engine.start()
    daemon.notifier.ready(f"myna-reader on {daemon.config.reader}, link {daemon.link.address}")
    try:
        while not stop.is_set() and daemon.app.step():
            daemon.watchdog.ui_turn = time.monotonic()
    finally:
        daemon.notifier.stopping("unpowering the card, closing the link")
        daemon.runner.stop()
        engine.join(timeout=10)
        daemon.link.stop()
        if control is not None:
            control.stop()
        if monitor is not None:
            monitor.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _control(daemon: Daemon) -> ControlServer | None:
    """`myna-reader status`'s socket; a reader that cannot offer it still serves patients."""
    control = ControlServer(socket_path(daemon.config.state_dir), daemon.runner.status)
    try:
        control.start()
    except ControlError as exc:
        log.error("no control socket (myna-reader status will not answer): %s", exc)
        return None
    return control


def _hotplug(runner: Runner) -> HotplugMonitor | None:
    def on_event(event: HotplugEvent) -> None:
        log.info("hotplug: %s %s", event.action.value, event.device.kind.value)
        if event.action is Action.ADD:
            runner.look_for_reader()

    try:
        monitor = HotplugMonitor(on_event)
        monitor.start()
    except (OSError, ImportError) as exc:  # no udev (containers, CI): the 2 s poll remains
        log.info("hotplug monitor unavailable: %s", exc)
        return None
    return monitor
