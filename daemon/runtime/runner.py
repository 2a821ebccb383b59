"""The runner: executes what the pure engine decides, with threads that post to one queue.

    reader watcher (thread) --CardPlaced/CardRemoved/ReaderAttached/Detached--+
    card worker (thread)    --job results-----------------------------------+--> queue -->
    store worker (thread)   --passcode answers------------------------------+    engine thread:
    host link (threads)     --challenge, passcode.issue---------------------+    step() and
    display (main thread)   --touch intents---------------------------------+    its effects

The engine thread is the only one that touches the engine state; every other thread only
posts events. Deadlines are polled, never slept on: the queue wait ends at the next one.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Protocol

from myna_reader.daemon.engine import (
    CardJob,
    CardJobFailed,
    CardPlaced,
    CardRemoved,
    CheckPasscode,
    Cue,
    Effect,
    ErrorMessage,
    Event,
    Ignored,
    PasscodeStatus,
    PlayCue,
    ProbeCard,
    ReaderAttached,
    ReaderDetached,
    ResultMessage,
    Secret,
    SendToHost,
    SessionConfig,
    SetDeadline,
    Show,
    State,
    StatusMessage,
    StorePasscode,
    Tick,
    View,
    WriteAudit,
    kind_of_exception,
    start,
    step,
)
from myna_reader.daemon.runtime.card_jobs import CardJobs
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import PasscodeStore, PasscodeStoreError
from myna_reader.drivers.backends.base import Reader, ReaderEventKind
from myna_reader.drivers.card import MyNumberCard

if TYPE_CHECKING:
    from myna_reader.daemon.face.auth import FaceAuth
from myna_reader.drivers.channel import CardChannel, trace_to_log
from myna_reader.drivers.errors import MynaError, TransportError

log = logging.getLogger(__name__)

READER_POLL_S = 0.5  # how long the watcher blocks in wait_for_event
REOPEN_S = 2.0  # how often a lost reader is looked for again
IDLE_WAKE_S = 1.0  # the engine loop wakes at least this often (watchdog, stop)
STORE_WAIT_S = 10.0  # a terminal's passcode.issue waits this long for the store
StoreJob = tuple[CheckPasscode | StorePasscode, "Future[None] | None"]


class Display(Protocol):
    def post_view(self, view: View) -> None: ...
    def post_cue(self, cue: Cue) -> None: ...


class Link(Protocol):
    def send_status(self, message: StatusMessage) -> None: ...
    def submit_result(self, message: ResultMessage) -> None: ...
    def send_error(self, message: ErrorMessage) -> None: ...


class Runner:
    def __init__(self, *, config: SessionConfig, open_reader: Callable[[], Reader],
                 store: PasscodeStore, audit: AuditLog, display: Display, link: Link | None,
                 watchdog: Callable[[], None] = lambda: None,
                 events: queue.Queue[Event] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time,
                 face: FaceAuth | None = None) -> None:
        self.config = config
        self.face = face  # cameras + models, loaded once (None: no face authentication)
        self._open_reader = open_reader
        self.store = store
        self.audit = audit
        self.display = display
        self.link = link
        self._watchdog = watchdog
        self._clock = clock
        self._wall = wall
        self.events: queue.Queue[Event] = events if events is not None else queue.Queue()
        self._card_jobs: queue.Queue[CardJob | None] = queue.Queue()
        self._store_jobs: queue.Queue[StoreJob | None] = queue.Queue()
        self._stop = threading.Event()
        self._look = threading.Event()  # hotplug: a reader may have appeared
        self._reader: Reader | None = None
        self._deadline: float | None = None
        self.state: State | None = None
        self.results_sent = 0

    # --- posting (any thread) ------------------------------------------------------------

    def post(self, event: Event) -> None:
        self.events.put(event)

    def stop(self) -> None:
        self._stop.set()
        self._look.set()
        self.events.put(Tick())  # wake the engine loop

    def look_for_reader(self) -> None:
        """A device was plugged in: try to open the reader now, not at the next poll."""
        self._look.set()

    # --- the engine thread -----------------------------------------------------------------

    def run(self) -> None:
        """Run until `stop()`; start the worker threads first. Blocks (call it in a thread)."""
        threads = [threading.Thread(target=f, name=n, daemon=True) for f, n in (
            (self._watch_reader, "reader"), (self._card_worker, "card"),
            (self._store_worker, "store"))]
        for thread in threads:
            thread.start()
        self.state, effects = start(self.config)
        self._execute(effects)
        self.post(self._passcode_status())
        try:
            while not self._stop.is_set():
                self._turn()
        finally:
            self._card_jobs.put(None)
            self._store_jobs.put(None)
            self._release_reader()
            for thread in threads:
                thread.join(timeout=5)

    def _turn(self) -> None:
        now = self._clock()
        wait = IDLE_WAKE_S if self._deadline is None else min(IDLE_WAKE_S, self._deadline - now)
        try:
            event: Event = self.events.get(timeout=max(wait, 0.0))
        except queue.Empty:
            event = Tick()
        if isinstance(event, Tick) and (self._deadline is None or self._clock() < self._deadline):
            self._beat()
            return
        assert self.state is not None
        self.state, effects = step(self.state, event, self._clock())
        self._execute(effects)
        self._beat()

    def _beat(self) -> None:
        self._watchdog()

    def _execute(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Show):
                self.display.post_view(effect.view)
            elif isinstance(effect, PlayCue):
                self.display.post_cue(effect.cue)
            elif isinstance(effect, SetDeadline):
                self._deadline = effect.at
            elif isinstance(effect, SendToHost):
                self._send(effect)
            elif isinstance(effect, WriteAudit):
                self.audit.append(effect.record)
            elif isinstance(effect, CardJob):
                self._card_jobs.put(effect)
            elif isinstance(effect, CheckPasscode | StorePasscode):
                self._store_jobs.put((effect, None))
            elif isinstance(effect, Ignored):
                log.warning("ignored %s in %s: %s", effect.event, effect.phase.value,
                            effect.reason)

    def _send(self, effect: SendToHost) -> None:
        message = effect.message
        if isinstance(message, ResultMessage):
            self.results_sent += 1
            log.info("confirmation %s (%s, certificate %s)", message.id, message.method.value,
                     message.certificate_fingerprint)
        if self.link is None:
            return
        if isinstance(message, StatusMessage):
            self.link.send_status(message)
        elif isinstance(message, ResultMessage):
            self.link.submit_result(message)
        else:
            self.link.send_error(message)

    # --- the reader watcher ------------------------------------------------------------------

    def _watch_reader(self) -> None:
        while not self._stop.is_set():
            reader = self._reader
            if reader is None:
                reader = self._try_open()
                if reader is None:
                    self._look.wait(REOPEN_S)
                    self._look.clear()
                    continue
            try:
                event = reader.wait_for_event(READER_POLL_S)
            except TransportError as exc:  # the reader (or pcscd) went away
                log.warning("reader lost: %s", exc)
                self._drop_reader()
                self.post(ReaderDetached())
                continue
            if event is None:
                continue
            if event.kind is ReaderEventKind.CARD_INSERTED:
                self.post(CardPlaced(uuid.uuid4().hex, self._wall()))
            elif event.kind is ReaderEventKind.CARD_REMOVED:
                self.post(CardRemoved())
            elif event.kind is ReaderEventKind.READER_DETACHED:
                self._drop_reader()
                self.post(ReaderDetached())

    def _try_open(self) -> Reader | None:
        try:
            reader = self._open_reader()
        except MynaError as exc:
            log.debug("no reader yet: %s", exc)
            return None
        self._reader = reader
        log.info("reader attached: %s", reader.name)
        self.post(ReaderAttached(reader.name))
        return reader

    def _drop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            try:
                reader.close()
            except MynaError as exc:
                log.debug("closing a lost reader: %s", exc)

    def _release_reader(self) -> None:
        """On the way out: unpower any card, so no verified PIN outlives the daemon."""
        reader = self._reader
        if reader is not None:
            try:
                reader.disconnect(unpower=True)
            except MynaError as exc:
                log.debug("unpowering at exit: %s", exc)
            self._drop_reader()

    # --- workers -------------------------------------------------------------------------------

    def _card_worker(self) -> None:
        jobs: CardJobs | None = None
        while (job := self._card_jobs.get()) is not None:
            reader = self._reader
            if reader is None:
                continue  # the engine hears of the lost reader from the watcher
            if isinstance(job, ProbeCard) or jobs is None or jobs.reader is not reader:
                jobs = self._connect(reader, job)
                if jobs is None:
                    continue
            answer = jobs.execute(job)
            if answer is not None:
                self.post(answer)

    def _connect(self, reader: Reader, job: CardJob) -> CardJobs | None:
        """A fresh card session for a new card: power it, forget the last card's files."""
        try:
            reader.connect()
        except MynaError as exc:
            self.post(CardJobFailed(job.session_id, kind_of_exception(exc)))
            return None
        return CardJobs(reader, MyNumberCard(CardChannel(reader, (trace_to_log,))),
                        face=self.face, progress=self.post)

    def issue_passcode(self, code: Secret) -> None:
        """The terminal's passcode.issue (a host link thread): returns once the store holds
        it, so the link's ack means stored; PasscodeStoreError when it does not."""
        done: Future[None] = Future()
        self._store_jobs.put((StorePasscode(code), done))
        try:
            done.result(timeout=STORE_WAIT_S)
        except TimeoutError:
            raise PasscodeStoreError("the passcode store did not answer in time") from None

    def _store_worker(self) -> None:
        while (item := self._store_jobs.get()) is not None:
            job, done = item
            try:
                answer = self.store.answer(job)
            except PasscodeStoreError as exc:
                log.error("passcode store: %s", exc)
                if done is not None:
                    done.set_exception(exc)
                self.post(self._passcode_status())
                continue
            if done is not None:
                done.set_result(None)
            self.post(answer)

    def _passcode_status(self) -> PasscodeStatus:
        try:
            return self.store.status().as_event()
        except PasscodeStoreError as exc:
            log.error("passcode store unreadable, staff mode off: %s", exc)
            return PasscodeStatus(provisioned=False)
