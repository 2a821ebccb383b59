"""The runner: executes what the pure engine decides, with threads that post to one queue.

    reader watcher (thread) --CardPlaced/CardRemoved/ReaderAttached/Detached--+
    card worker (thread)    --job results-----------------------------------+--> queue -->
    store worker (thread)   --passcode answers------------------------------+    engine thread:
    host link (threads)     --challenge, config-----------------------------+    step() and
    display (main thread)   --touch intents---------------------------------+    its effects

The engine thread is the only one that touches the engine state; every other thread only
posts events. Deadlines are polled, never slept on: the queue wait ends at the next one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Protocol, assert_never

from myna_reader.daemon.engine import (
    BY_CODE,
    DEFAULT_SOUND,
    AuditEvent,
    AuditOutcome,
    AuditRecord,
    CardErrorKind,
    CardJob,
    CardJobFailed,
    CardPlaced,
    CardRemoved,
    CertificateRead,
    CheckPasscode,
    ConfigError,
    Credential,
    Cue,
    Effect,
    ErrorMessage,
    Event,
    Ignored,
    Method,
    Mode,
    Note,
    NoteEvent,
    PasscodeStatus,
    PlayCue,
    ProbeCard,
    ReaderAttached,
    ReaderDetached,
    ResultMessage,
    SaveSound,
    Secret,
    SendToHost,
    SessionConfig,
    SetDeadline,
    Show,
    Sign,
    Sound,
    State,
    StatusMessage,
    Tick,
    View,
    WriteAudit,
    kind_of_exception,
    start,
    step,
)
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.link.limits import WarningThrottle
from myna_reader.daemon.runtime import session_log
from myna_reader.daemon.runtime.card_jobs import CardJobs
from myna_reader.daemon.runtime.link_config import keys_reason, named_keys, terminal_settings
from myna_reader.daemon.store.audit import AuditError, AuditLog
from myna_reader.daemon.store.outbox import OutboxError
from myna_reader.daemon.store.passcode import PasscodeStore, PasscodeStoreError, StorePasscode
from myna_reader.daemon.store.sound import SoundStore, SoundStoreError
from myna_reader.daemon.version import __version__
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
LAST_ERRORS = 5  # error codes `myna-reader status` shows
MAX_RESTARTS = 5  # restarts of one worker within RESTART_WINDOW_S before the process ends
RESTART_WINDOW_S = 60.0
EXIT_SOFTWARE = 70  # sysexits(3) EX_SOFTWARE: systemd restarts the unit, the journal says why
StoreJob = tuple[CheckPasscode | StorePasscode, "Future[None] | None"]
ConfigJob = tuple[Mapping[str, object], "Future[None]"]


class SettingsNotAppliedError(DaemonError):
    """The terminal's settings could not be applied (no audit room, no answer in time)."""


def exit_process(reason: str, exc: BaseException) -> None:
    """End the whole process with a clear last line: a half-dead reader helps no one."""
    log.critical("myna-reader stops: %s", reason, exc_info=exc)
    logging.shutdown()
    os._exit(EXIT_SOFTWARE)


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
                 fatal: Callable[[str, BaseException], None] = exit_process,
                 face: FaceAuth | None = None, technician: PasscodeStore | None = None,
                 sound: SoundStore | None = None) -> None:
        self.config = config
        self.face = face  # cameras + models, loaded once (None: no face authentication)
        self._open_reader = open_reader
        self.store = store
        # the technician code and the sound settings it guards (None: no technician screen)
        self.stores = {Credential.STAFF: store} | (
            {} if technician is None else {Credential.TECHNICIAN: technician})
        self.sound = sound
        self.audit = audit
        self.display = display
        self.link = link
        self._watchdog = watchdog
        self._clock = clock
        self._wall = wall
        self.events: queue.Queue[Event] = events if events is not None else queue.Queue()
        self._card_jobs: queue.Queue[CardJob | None] = queue.Queue()
        self._store_jobs: queue.Queue[StoreJob | None] = queue.Queue()
        self._config_jobs: queue.SimpleQueue[ConfigJob] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._look = threading.Event()  # hotplug: a reader may have appeared
        self._reader: Reader | None = None
        self._deadline: float | None = None
        self.state: State | None = None
        self.results_sent = 0
        self._fatal = fatal
        self.ignored = WarningThrottle(log)  # a touch flood must not flood the journal
        self._unwritten_audit: list[AuditRecord] = []  # (engine thread only)
        self._unstored_results: list[ResultMessage] = []
        self._certificate: tuple[str, str] = ("", "")  # (session, fingerprint) last read
        self._started = wall()
        self._errors: tuple[dict[str, object], ...] = ()  # the latest, for `status`
        self._terminal_since: float | None = None
        # each code store's file identity
        self._passcode_seen: dict[Credential, tuple[int, int, int] | None] = {}

    @property
    def kept_in_memory(self) -> int:
        """Audit lines and results waiting for room on disk (read from any thread: a count)."""
        return len(self._unwritten_audit) + len(self._unstored_results)

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
        """Run until `stop()`; start the worker threads first. Blocks (call it in a thread).
        A worker that fails is restarted (a few times a minute at most); the engine loop that
        fails, or a worker that keeps failing, ends the process through `fatal`."""
        threads = [threading.Thread(target=self._supervised, args=(f, n), name=n, daemon=True)
                   for f, n in ((self._watch_reader, "reader"), (self._card_worker, "card"),
                                (self._store_worker, "store"))]
        for thread in threads:
            thread.start()
        self.state, effects = start(self.config, self._kept_sound())
        self._execute(effects)
        for credential in self.stores:
            self.post(self._passcode_status(credential))
        try:
            while not self._stop.is_set():
                self._turn()
        except Exception as exc:  # a bug in the engine or an effect: never a silent death
            self._fatal(f"the engine loop failed: {type(exc).__name__}: {exc}", exc)
            raise
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
        self._take_configs()
        if isinstance(event, Tick) and (self._deadline is None or self._clock() < self._deadline):
            self._beat()
            return
        assert self.state is not None
        self._between_sessions()
        self.state, effects = step(self.state, event, self._clock())
        self._between_sessions()
        self._execute(effects)
        self._beat()

    def _between_sessions(self) -> None:
        """The terminal's settings reach the engine only while no card session runs."""
        if self.state is not None and self.state.session is None and (
                self.state.config is not self.config):
            self.state = dataclasses.replace(self.state, config=self.config)

    def _beat(self) -> None:
        self._retry_unstored()
        self._watchdog()

    def _supervised(self, target: Callable[[], None], name: str) -> None:
        """Run a worker loop; restart it after a failure, unless it failed too often."""
        failures: list[float] = []
        while not self._stop.is_set():
            try:
                target()
                return
            except Exception as exc:  # a bug: logged with its traceback, then restarted
                now = self._clock()
                failures = [t for t in failures if now - t < RESTART_WINDOW_S] + [now]
                log.exception("the %s worker failed (%d in the last %.0f s)", name,
                              len(failures), RESTART_WINDOW_S)
                if len(failures) > MAX_RESTARTS:
                    self._fatal(f"the {name} worker keeps failing: {type(exc).__name__}: {exc}",
                                exc)
                    return

    def _execute(self, effects: list[Effect]) -> None:
        for effect in effects:
            match effect:
                case Show():
                    self.display.post_view(effect.view)
                case PlayCue():
                    self.display.post_cue(effect.cue)
                case SetDeadline():
                    self._deadline = effect.at
                case SendToHost():
                    self._send(effect)
                case WriteAudit():
                    self._journal_audit(effect.record)
                    self._write_audit(effect.record)
                case Note():
                    self._journal_note(effect)
                case Sign():
                    self._sign(effect)
                case CardJob():
                    self._card_jobs.put(effect)
                case CheckPasscode():
                    self._store_jobs.put((effect, None))
                case SaveSound():
                    self._save_sound(effect)
                case Ignored():
                    self.ignored.warn("ignored %s in %s: %s", effect.event, effect.phase.value,
                                      effect.reason)
                case _:
                    assert_never(effect)

    # --- what a technician sees: the journal and the control socket's status -------------------

    def _journal_audit(self, record: AuditRecord) -> None:
        session_log.audited(record)
        if record.error_code is not None:
            error = {"time": self._wall(), "code": record.error_code,
                     "key": BY_CODE[record.error_code].key, "session": record.session_id}
            self._errors = (*self._errors[-(LAST_ERRORS - 1):], error)

    def _journal_note(self, note: Note) -> None:
        session_log.noted(note)
        if note.event is NoteEvent.TERMINAL:
            self._terminal_since = self._wall()

    def status(self) -> dict[str, object]:
        """The live state for `myna-reader status` (read from the control socket's thread:
        the engine state is an immutable value, swapped whole by the engine thread)."""
        state = self.state
        if state is None:
            return {"screen": None, "started": self._started, "pid": os.getpid(),
                    "version": __version__}
        view = state.shown
        linked = self.link is not None
        return {
            "version": __version__, "pid": os.getpid(), "started": self._started,
            "screen": None if view is None else view.screen.value, "phase": state.phase.value,
            "mode": state.mode.value, "language": (state.language or state.config.language).value,
            "reader": state.reader, "countdown": state.countdown,
            "ended": None if state.ended is None else
            f"{state.ended.screen.value} {state.ended.reason.value}",
            "terminal": {"connected": (not state.terminal_away) if linked else None,
                         "since": self._terminal_since},
            "staff": {"provisioned": state.staff_provisioned,
                      "locked_until": state.staff_locked_until_wall},
            "results_sent": self.results_sent, "last_errors": list(self._errors),
        }

    def _sign(self, job: Sign) -> None:
        """Every signature of the card's key is audited before it is made (a hash of the
        challenge, the certificate, the session); with no room for that line, no signature:
        the session fails with an error the patient sees."""
        session, fingerprint = self._certificate
        record = AuditRecord(AuditEvent.SIGNATURE, Mode.UNATTENDED, AuditOutcome.SIGNING,
                             session_id=job.session_id, method=Method.PIN,
                             cert_fingerprint=fingerprint if session == job.session_id else None,
                             challenge_sha256=hashlib.sha256(job.challenge).hexdigest())
        try:
            self._append_in_order(record)
        except AuditError as exc:
            log.error("no signature without its audit line: %s", exc)
            self.post(CardJobFailed(job.session_id, CardErrorKind.IO_ERROR))
            return
        self._card_jobs.put(job)

    def _write_audit(self, record: AuditRecord) -> None:
        """An audit line that cannot be written now (a full disk) is kept and tried again at
        every turn, in order, so none is lost while the reader runs."""
        if self._unwritten_audit:
            self._unwritten_audit.append(record)
            return
        try:
            self.audit.append(record)
        except AuditError as exc:
            log.error("%s; the line is kept and retried", exc)
            self._unwritten_audit.append(record)

    def _send(self, effect: SendToHost) -> None:
        message = effect.message
        if isinstance(message, ResultMessage):
            self.results_sent += 1  # its journal line is the audit record's (session_log.py)
        if self.link is None:
            return
        if isinstance(message, StatusMessage):
            self.link.send_status(message)
        elif isinstance(message, ResultMessage):
            self._submit(message)
        else:
            self.link.send_error(message)

    def _submit(self, result: ResultMessage) -> None:
        assert self.link is not None
        if self._unstored_results:
            self._unstored_results.append(result)
            return
        try:
            self.link.submit_result(result)
        except OutboxError as exc:  # kept in memory and retried: the result is not lost
            log.error("result %s not stored yet: %s", result.id, exc)
            self._unstored_results.append(result)

    def _retry_unstored(self) -> None:
        while self._unstored_results and self.link is not None:
            try:
                self.link.submit_result(self._unstored_results[0])
            except OutboxError:
                break
            self._unstored_results.pop(0)
        while self._unwritten_audit:
            try:
                self.audit.append(self._unwritten_audit[0])
            except AuditError:
                break
            self._unwritten_audit.pop(0)

    def _append_in_order(self, record: AuditRecord) -> None:
        """Append `record` now, after every line still waiting, or AuditError: for what may
        happen only once its line is written (a signature, the terminal's settings)."""
        self._retry_unstored()
        if self._unwritten_audit:
            raise AuditError("earlier audit lines are still unwritten")
        self.audit.append(record)

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
            if isinstance(answer, CertificateRead):
                self._certificate = (answer.session_id, answer.fingerprint)
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

    def apply_config(self, settings: Mapping[str, object]) -> None:
        """The terminal's `config` (a host link thread): returns once the runner holds the
        settings for the card sessions that start from now on (the one running keeps its
        own); ConfigError with the schema's problems, or SettingsNotAppliedError."""
        done: Future[None] = Future()
        self._config_jobs.put((settings, done))
        self.post(Tick())  # wake the engine thread
        try:
            done.result(timeout=STORE_WAIT_S)
        except TimeoutError:
            if done.cancel():
                raise SettingsNotAppliedError("the engine did not take the settings in "
                                              "time") from None
            done.result()  # taken meanwhile: its answer comes at once

    def _take_configs(self) -> None:
        """The engine thread: check, audit, then hold each terminal's settings."""
        while True:
            try:
                settings, done = self._config_jobs.get_nowait()
            except queue.Empty:
                return
            if done.set_running_or_notify_cancel():
                try:
                    self.config = self._configured(settings)
                except DaemonError as exc:
                    done.set_exception(exc)
                else:
                    done.set_result(None)

    def _configured(self, settings: Mapping[str, object]) -> SessionConfig:
        """Audited before it holds: settings that cannot be audited are not applied."""
        try:
            config = terminal_settings(settings, self.config)
        except ConfigError as exc:
            refused = AuditRecord(AuditEvent.CONFIG, None, AuditOutcome.REFUSED,
                                  reason=keys_reason([p.key for p in exc.problems]))
            session_log.audited(refused)
            self._write_audit(refused)
            raise
        record = AuditRecord(AuditEvent.CONFIG, None, AuditOutcome.APPLIED,
                             reason=keys_reason(named_keys(settings)))
        try:
            self._append_in_order(record)
        except AuditError as exc:
            raise SettingsNotAppliedError(f"settings not applied without their audit line: "
                                          f"{exc}") from None
        session_log.audited(record)
        return config

    def _passcode_file(self, credential: Credential) -> tuple[int, int, int] | None:
        """A store file's identity: a set or clear by another process (the terminal's
        re-issue, `myna-reader passcode set`, `technician set`) replaces it (rename) or
        removes it."""
        try:
            info = os.stat(self.stores[credential].path)
        except OSError:  # gone, or EACCES/EIO: the status read that follows logs which
            return None
        return info.st_ino, info.st_mtime_ns, info.st_size

    def _watch_passcode(self) -> None:
        """Tell the engine a store's status whenever its file changed (own writes too:
        the engine takes a status it already knows as nothing new)."""
        for credential in self.stores:
            seen = self._passcode_file(credential)
            if seen != self._passcode_seen.get(credential):
                self._passcode_seen[credential] = seen
                self.post(self._passcode_status(credential))

    def _store_worker(self) -> None:
        # run() posts the statuses at start
        self._passcode_seen = {c: self._passcode_file(c) for c in self.stores}
        while True:
            try:
                item = self._store_jobs.get(timeout=IDLE_WAKE_S)
            except queue.Empty:
                self._watch_passcode()
                continue
            if item is None:
                return
            job, done = item
            credential = job.credential if isinstance(job, CheckPasscode) else Credential.STAFF
            try:
                answer = self.stores[credential].answer(job)
            except PasscodeStoreError as exc:
                log.error("passcode store: %s", exc)
                if done is not None:
                    done.set_exception(exc)
                self.post(self._passcode_status(credential))
                continue
            if done is not None:
                done.set_result(None)
            self.post(answer)
            self._watch_passcode()

    def _passcode_status(self, credential: Credential = Credential.STAFF) -> PasscodeStatus:
        try:
            return self.stores[credential].status().as_event(credential)
        except PasscodeStoreError as exc:
            log.error("%s code store unreadable, its entry is off: %s", credential.value, exc)
            return PasscodeStatus(provisioned=False, credential=credential)

    # --- the technician's sound settings -----------------------------------------------------

    def _kept_sound(self) -> Sound:
        """What the last technician set (else the configured settings)."""
        if self.sound is None:
            return DEFAULT_SOUND
        try:
            return self.sound.load()
        except SoundStoreError as exc:
            log.error("sound settings: %s; starting with the configured ones", exc)
            return self.sound.default

    def _save_sound(self, effect: SaveSound) -> None:
        if self.sound is None:
            return
        try:
            self.sound.save(effect.sound)
        except SoundStoreError as exc:  # in effect until the next start
            log.error("sound settings not kept: %s", exc)
