"""The flows of the canary test, run with the canary values through the product's own parts.

- `make_profile`: a synthetic card (hw-fixtures/generate.py) whose holder and auth PIN are
  the canaries;
- `run_daemon`: the whole daemon in this process (service.assemble/serve, headless window,
  engine, runner with its DEBUG APDU trace, passcode store, audit, outbox, terminal link) with
  the reference terminal issuing the canary passcode, and a visitor at the touchscreen: a
  wrong passcode, a staff confirmation, a wrong PIN, a PIN confirmation, a card pulled early;
- `crash_in_verify`: an unexpected exception inside the VERIFY job, its traceback logged
  through daemon/runtime/logs.py and also left to escape a thread (Python's own crash output);
- `record_text_ap`: the recorder on a session that reads the text AP (My Number, name,
  address): the transcript must come out scrubbed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from myna_reader.daemon.engine import (
    Button,
    PinView,
    ProbeCard,
    ReadPinCounter,
    Screen,
    Secret,
    StaffPasscodeView,
    StandbyView,
    VerifyPin,
)
from myna_reader.daemon.harness.visitor import Visitor
from myna_reader.daemon.link import terminal as link_terminal
from myna_reader.daemon.link.transport import TcpEndpoint
from myna_reader.daemon.runtime.card_jobs import CardJobs
from myna_reader.daemon.runtime.config import DaemonConfig, LinkConfig
from myna_reader.daemon.runtime.logs import setup_logging
from myna_reader.daemon.runtime.service import assemble, serve
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.channel import CardChannel, trace_to_log
from myna_reader.drivers.recorder import Recorder
from myna_reader.drivers.transcript import Header, write
from myna_reader.fixtures import generate
from tests.canary import canary_values as canary

log = logging.getLogger("myna_reader.daemon.runtime.runner")


def my_number() -> str:
    return canary.MY_NUMBER_BODY + str(generate.my_number_check_digit(canary.MY_NUMBER_BODY))


def make_profile(out: Path) -> Path:
    """A profile like `standard` whose holder, auth PIN and text-AP PIN are canaries."""
    holder = dataclasses.replace(generate.HOLDERS["standard"], family=canary.FAMILY,
                                 given=canary.GIVEN, address=canary.ADDRESS,
                                 number_body=canary.MY_NUMBER_BODY)
    cas = {kind: generate.make_ca(kind) for kind in ("auth", "sign")}
    # generate.py has no holder parameter: register the canary holder under a profile name
    with mock.patch.dict(generate.HOLDERS, {"canary": holder}), \
            mock.patch.dict(generate.VARIANTS, {"canary": generate.VARIANTS["standard"]}), \
            mock.patch.object(generate, "AUTH_PIN", canary.PIN), \
            mock.patch.object(generate, "TEXT_PIN", canary.PIN):
        doc = generate.make_profile("canary", cas, serial=0xCA11)
    path = out / "canary.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


class WireTap(SimReader):
    """The simulated card, remembering (in memory only) every command it was sent: the
    positive control that the canary PIN really crossed the wire."""

    def __init__(self, profile: Path, *, present: bool) -> None:
        super().__init__(str(profile), present=present)
        self.commands: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.commands.append(apdu)
        return super().transmit(apdu)


@contextmanager
def debug_log(path: Path) -> Iterator[None]:
    """The daemon's own logging setup at DEBUG (APDU traces on), into `path`."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    with path.open("w", encoding="utf-8") as stream:
        setup_logging("debug", stream=stream)
        try:
            yield
        finally:
            root.handlers[:] = saved[1]
            root.setLevel(saved[0])


class CanaryVisitor(Visitor):
    def __init__(self, reader: WireTap, terminal_out: Path) -> None:
        super().__init__(reader, lambda _e: None, step_wait_s=20.0)
        self.terminal_out = terminal_out
        self.passcode_issued = 0
        self.results = 0

    def on_terminal(self, message: Mapping[str, Any]) -> None:
        with self.changed:
            if message.get("event") == "passcode-issued":
                self.passcode_issued += 1  # the console's one display of the code, by design
            else:  # what `myna-reader host --json` prints
                with self.terminal_out.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(message, ensure_ascii=False) + "\n")
            if message.get("event") == "result-checked":
                self.results += 1
            self.changed.notify_all()

    def _after_ok(self, view_type: type, wrong: bool) -> None:
        self.press(Button.OK)
        self.wait("the answer to the code", lambda: (isinstance(self.view, view_type)
                  and getattr(self.view, "wrong", False) == wrong) or (
                      not wrong and not isinstance(self.view, view_type)))

    def run(self) -> None:
        reader = self.reader
        self.wait("the passcode from the terminal", lambda: self.passcode_issued == 1
                  and isinstance(self.view, StandbyView) and self.view.staff_button)
        # staff: a wrong passcode, then the canary one, then a visual-check confirmation
        self.press(Button.STAFF)
        self.wait_screen(Screen.STAFF_PASSCODE)
        self.digits(canary.WRONG_PASSCODE, "passcode")
        self._after_ok(StaffPasscodeView, wrong=True)
        self.digits(canary.PASSCODE, "passcode")
        self.press(Button.OK)
        self.wait_screen(Screen.STAFF_STANDBY)
        self._confirm(pin=False)
        # PIN mode: a wrong PIN, then the canary PIN
        self.wait_screen(Screen.STANDBY)
        reader.insert()
        self.wait_screen(Screen.PIN)
        self.digits(canary.WRONG_PIN, "PIN")
        self._after_ok(PinView, wrong=True)
        self.digits(canary.PIN, "PIN")
        self.press(Button.OK)
        self._confirm(pin=True)
        # an error: the card pulled while the PIN is being typed
        self.wait_screen(Screen.STANDBY)
        reader.insert()
        self.wait_screen(Screen.PIN)
        self.digits(canary.PIN[:2], "PIN")
        reader.remove()
        self.wait("the card's removal handled", lambda: self.view is not None
                  and self.view.screen is not Screen.PIN)

    def _confirm(self, pin: bool) -> None:
        before = self.results
        if not pin:
            self.reader.insert()
        self.answer_consents()
        self.wait_screen(Screen.DONE)
        self.wait("the terminal's result", lambda: self.results > before)
        self.reader.remove()


def run_daemon(profile: Path, state_dir: Path, log_path: Path, terminal_out: Path) -> WireTap:
    """The canary tour through the whole daemon; returns the reader (its wire tap)."""
    reader = WireTap(profile, present=False)
    visitor = CanaryVisitor(reader, terminal_out)
    base = DaemonConfig()
    config = dataclasses.replace(base, reader="sim:standard", state_dir=state_dir,
                                 link=LinkConfig("tcp://127.0.0.1:0"),
                                 ui=dataclasses.replace(base.ui, voice=False))
    stop = threading.Event()
    failure: list[BaseException] = []
    # the reference terminal draws its passcode at random: make the draw the canary
    with debug_log(log_path), mock.patch(f"{link_terminal.__name__}.secrets.randbelow",
                                                return_value=int(canary.PASSCODE)), \
            assemble(config, reader=lambda: reader, view_observers=[visitor.on_view]) as daemon:
        visitor.post = daemon.runner.post

        def visit() -> None:
            try:
                while daemon.link.address is None:
                    stop.wait(0.05)
                host, port = daemon.link.address
                terminal = link_terminal.Terminal(TcpEndpoint(host, port), visitor.on_terminal,
                                                  secret=daemon.link.secret,
                                                  issue_passcode=True)
                threading.Thread(target=terminal.run, args=(stop,), daemon=True).start()
                visitor.run()
            except BaseException as exc:  # noqa: BLE001 - re-raised by the test below
                failure.append(exc)
            finally:
                stop.set()
                daemon.app.stop()

        threading.Thread(target=visit, name="visitor", daemon=True).start()
        serve(daemon, until=stop)
    if failure:
        raise failure[0]
    assert visitor.results == 2 and visitor.passcode_issued == 1
    return reader


class FirmwareFaultError(RuntimeError):
    """An exception the card layer never raises: it stands for a bug of ours mid-VERIFY."""


class FaultyReader(SimReader):
    def transmit(self, apdu: bytes) -> bytes:
        if apdu[1] == 0x20 and len(apdu) > 5:  # a VERIFY with data: the PIN is in flight
            raise FirmwareFaultError("reader firmware fault during VERIFY")
        return super().transmit(apdu)


def crash_in_verify(profile: Path, log_path: Path) -> None:
    """A traceback from inside the VERIFY job: logged by the daemon's formatter, and left to
    escape a worker thread as the runner's card worker would (threading.excepthook)."""

    def verify() -> None:
        reader = FaultyReader(str(profile))
        reader.connect()
        jobs = CardJobs(reader, MyNumberCard(CardChannel(reader, (trace_to_log,))))
        jobs.execute(ProbeCard("crash"))
        jobs.execute(ReadPinCounter("crash"))  # the retry query every VERIFY follows
        jobs.execute(VerifyPin("crash", Secret(canary.PIN)))

    with debug_log(log_path):
        try:
            verify()
        except FirmwareFaultError:
            log.exception("card worker: unexpected failure")
        # Python's own hook (pytest installs another): the traceback goes to sys.stderr
        with mock.patch.object(threading, "excepthook", threading.__excepthook__):
            thread = threading.Thread(target=verify, name="card")
            thread.start()
            thread.join()


def record_text_ap(profile: Path, out: Path) -> None:
    """A recording of a session that reads the My Number, name and address: scrubbed."""
    reader = SimReader(str(profile))
    recorder = Recorder()
    recorder.card_event(ReaderEventKind.CARD_INSERTED)
    reader.connect()
    text = MyNumberCard(CardChannel(reader, (recorder,))).text()
    text.pin_tries()
    text.verify_pin(canary.PIN)
    check = text.check_integrity()  # reads EF 0001-0004: the canaries and their digests
    assert check.my_number == my_number()  # the card really holds the canaries
    assert check.basic_four.address == canary.ADDRESS
    recorder.card_event(ReaderEventKind.CARD_REMOVED)
    with out.open("w", encoding="utf-8") as fh:
        write(recorder.transcript(Header(scenario="text-ap", profile="canary")), fh)
