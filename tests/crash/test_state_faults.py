"""EACCES and EIO in every state file (issue 12, point 6; docs/reliability.md, "Faults the
reader survives"): the reader starts over the broken file, shows an error code where a
patient waits for what the file holds, logs the fault, keeps serving the rest, and no worker
thread fails.

EACCES for real: the reader runs as a real second, unprivileged user (a forked child that
became that user, tests/attack/second_user.py) over a state directory of its own, and root
makes one file root's, 0600 (chown, chmod). EIO for real: the file lives on an ext4 file
system that the kernel shut down (tests/crash/failing_disk.py), the other files on a healthy
one. Real parts: the runner and its workers, the stores on disk, the simulated card's key.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import myna_reader.daemon.cli.run  # noqa: F401  imported by root: the child cannot import it
from myna_reader.daemon.cli import main
from myna_reader.daemon.engine import (
    AuditEvent,
    AuditOutcome,
    AuditRecord,
    Button,
    ChallengeReceived,
    DigitPressed,
    ErrorView,
    Mode,
    Pressed,
    ResultMessage,
    Screen,
    SessionConfig,
    StandbyView,
)
from myna_reader.daemon.runtime.config import DaemonConfig
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.runtime.service import open_outbox
from myna_reader.daemon.store.audit import AUDIT_FILE, AuditLog
from myna_reader.daemon.store.outbox import OUTBOX_FILE, Outbox
from myna_reader.daemon.store.passcode import PASSCODE_FILE, PasscodeStore, ScryptParams
from myna_reader.drivers.backends.sim import SimReader
from tests.attack.paired_terminal import WAIT_S, Screens
from tests.attack.second_user import Rogue, SecondUserError, second_user, service_dir
from tests.crash.failing_disk import ext4_disk, fail
from tests.daemon.link.support import make_result, make_signer

PASSCODE = "2580"
CARD_IO_ERROR = "107"  # a signature refused for want of its audit line
FAST_SCRYPT = ScryptParams(n=2**8)  # the file is under test, not the KDF
STORES = ("audit", "outbox", "passcode")
FILES = {"audit": AUDIT_FILE, "outbox": OUTBOX_FILE, "passcode": PASSCODE_FILE}
STORED_ID = "stored-before"


class StoringLink:
    """The terminal's side: durable first, like the real link (daemon/link/reader_end.py),
    so an OutboxError reaches the runner."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def send_status(self, message: object) -> None:
        pass

    def submit_result(self, message: ResultMessage) -> None:
        self.outbox.put(message)

    def send_error(self, message: object) -> None:
        pass


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _wait_any(screens: Screens, wanted: set[Screen]) -> Screen:
    with screens.changed:
        assert screens.changed.wait_for(
            lambda: bool(screens.views) and screens.views[-1].screen in wanted, WAIT_S), (
            f"none of {wanted}; last {screens.views[-1:]}")
        return screens.views[-1].screen


def visit(dirs: dict[str, str], reader: SimReader) -> dict[str, object]:
    """A reader started over the state files as they are: a PIN confirmation, then 職員用.
    What it saw, as JSON (it may run in the second user's child, so `reader` is made before
    the fork: its profile is read from files that user cannot read)."""
    kept = Kept()
    root = logging.getLogger()
    root.addHandler(kept)
    fatal: list[str] = []
    audit = AuditLog(Path(dirs["audit"]))
    outbox = open_outbox(DaemonConfig(state_dir=Path(dirs["outbox"])), audit)
    screens = Screens()
    runner = Runner(config=SessionConfig(), open_reader=lambda: reader,
                    store=PasscodeStore(Path(dirs["passcode"]), scrypt=FAST_SCRYPT),
                    audit=audit, display=screens, link=StoringLink(outbox),
                    fatal=lambda reason, _exc: fatal.append(reason))
    engine = threading.Thread(target=runner.run, daemon=True)
    engine.start()
    seen: dict[str, object] = {}
    try:
        screens.wait(Screen.STANDBY)
        standby = screens.views[-1]
        assert isinstance(standby, StandbyView)
        seen["staff_button"] = standby.staff_button
        reader.insert()
        screens.wait(Screen.PIN)
        for d in "1234":
            runner.post(DigitPressed(int(d)))
        runner.post(Pressed(Button.OK))
        runner.post(ChallengeReceived(b"c" * 32))
        if _wait_any(screens, {Screen.CONSENT, Screen.ERROR}) is Screen.CONSENT:
            for _ in SessionConfig().consent_pages:
                runner.post(Pressed(Button.AGREE))
            screens.wait(Screen.DONE)
            seen["pin"] = "done"
        else:
            shown = screens.views[-1]
            assert isinstance(shown, ErrorView)
            seen["pin"] = shown.code
        reader.remove()
        runner.post(Pressed(Button.OK))
        screens.wait(Screen.STANDBY)
        seen["staff_entered"] = False
        if standby.staff_button:
            runner.post(Pressed(Button.STAFF))
            screens.wait(Screen.STAFF_PASSCODE)
            for d in PASSCODE:
                runner.post(DigitPressed(int(d)))
            runner.post(Pressed(Button.OK))
            seen["staff_entered"] = _wait_any(screens, {Screen.STAFF_STANDBY, Screen.ERROR,
                                                        Screen.STANDBY}) is Screen.STAFF_STANDBY
        seen["engine_alive"] = engine.is_alive()
        seen["kept_in_memory"] = runner.kept_in_memory
        seen["outbox_pending"] = [item.id for item in outbox.pending()]
    finally:
        runner.stop()
        engine.join(WAIT_S)
        outbox.close()
        root.removeHandler(kept)
    seen["fatal"] = fatal
    seen["errors"] = [r.getMessage() for r in kept.records if r.levelno >= logging.ERROR]
    seen["tracebacks"] = [r.getMessage() for r in kept.records if r.exc_info]
    return seen


def _seed(dirs: dict[str, Path]) -> None:
    """What a reader that ran before left: a passcode, an audit line, a stored result."""
    PasscodeStore(dirs["passcode"], scrypt=FAST_SCRYPT).set(PASSCODE)
    AuditLog(dirs["audit"]).append(AuditRecord(AuditEvent.STAFF_ENTER, Mode.STAFF,
                                               AuditOutcome.ENTERED))
    outbox = Outbox(dirs["outbox"] / OUTBOX_FILE)
    outbox.put(make_result(STORED_ID, make_signer()))
    outbox.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check(broken: str, seen: dict[str, object]) -> None:
    """The table of docs/reliability.md: what each broken file costs, and only that."""
    assert seen["engine_alive"] and not seen["fatal"], seen
    assert not seen["tracebacks"], seen  # no worker failed, no error escaped
    errors = seen["errors"]
    assert isinstance(errors, list) and any(broken in e.lower() for e in errors), errors
    if broken == "audit":  # no signature without its audit line; staff entry goes on
        assert seen["pin"] == CARD_IO_ERROR
        assert seen["staff_entered"] is True
        assert isinstance(seen["kept_in_memory"], int) and seen["kept_in_memory"] >= 2
    elif broken == "outbox":  # confirmed; the result waits in memory, the file untouched
        assert seen["pin"] == "done" and seen["staff_entered"] is True
        pending = seen["outbox_pending"]
        assert isinstance(pending, list) and len(pending) == 1 and STORED_ID not in pending
    else:  # staff entry closes; PIN confirmations go on; said once
        assert seen["pin"] == "done" and seen["staff_button"] is False
        assert len([e for e in errors if "passcode" in e.lower()]) == 1, errors


def _sim_reader() -> SimReader:
    return SimReader("standard", present=False, supports_extended=False)


def _as_strings(dirs: dict[str, Path]) -> dict[str, str]:
    return {store: str(path) for store, path in dirs.items()}


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The control, as root on healthy files: confirmed, staff let in, nothing logged. It
    also loads, before any fork, what the flow imports lazily."""
    dirs = dict.fromkeys(STORES, tmp_path_factory.mktemp("healthy"))
    _seed(dirs)
    return visit(_as_strings(dirs), _sim_reader())


def test_the_control_a_healthy_reader_confirms_and_lets_staff_in(
        healthy: dict[str, object]) -> None:
    assert healthy["pin"] == "done" and healthy["staff_entered"] is True
    assert healthy["errors"] == [] and healthy["kept_in_memory"] == 0
    assert healthy["outbox_pending"] and STORED_ID in healthy["outbox_pending"]  # type: ignore[operator]


@pytest.fixture(scope="module")
def service_user(healthy: dict[str, object]) -> Rogue:
    try:
        return second_user()
    except SecondUserError as exc:
        pytest.fail(str(exc))


def _chown_tree(path: Path, user: Rogue) -> None:
    for child in (path, *path.iterdir()):
        os.chown(child, user.uid, user.gid)


@pytest.mark.parametrize("broken", STORES)
def test_a_state_file_the_service_user_cannot_open(broken: str, service_user: Rogue) -> None:
    state = Path(service_dir(service_user))
    dirs = dict.fromkeys(STORES, state)
    _seed(dirs)
    _chown_tree(state, service_user)
    target = state / FILES[broken]
    os.chown(target, 0, 0)  # root's now, 0600: EACCES to the service's user
    os.chmod(target, 0o600)
    before = _digest(target)
    seen = service_user.call(visit, _as_strings(dirs), _sim_reader())
    assert isinstance(seen, dict)
    _check(broken, seen)
    assert _digest(target) == before  # nothing stored is lost or rewritten


def test_a_state_directory_the_service_user_cannot_enter(service_user: Rogue) -> None:
    """Every file at once, and the passcode file's stat fails too (the store worker's watch
    raised there and the worker was restarted in a loop, then the process ended)."""
    state = Path(service_dir(service_user))
    dirs = dict.fromkeys(STORES, state)
    _seed(dirs)
    _chown_tree(state, service_user)
    os.chown(state, 0, 0)
    seen = service_user.call(visit, _as_strings(dirs), _sim_reader())
    assert isinstance(seen, dict)
    assert seen["engine_alive"] and not seen["fatal"] and not seen["tracebacks"], seen
    assert seen["pin"] == CARD_IO_ERROR and seen["staff_button"] is False


@pytest.fixture
def failed_disk(tmp_path: Path) -> Iterator[Path]:
    with ext4_disk(tmp_path / "disk") as disk:
        yield disk


@pytest.mark.parametrize("broken", STORES)
def test_a_state_file_on_a_disk_that_answers_eio(broken: str, tmp_path: Path,
                                                 failed_disk: Path) -> None:
    healthy = tmp_path / "state"
    healthy.mkdir(mode=0o700)
    dirs = {store: failed_disk if store == broken else healthy for store in STORES}
    _seed(dirs)
    fail(failed_disk)
    with pytest.raises(OSError) as really:
        (failed_disk / FILES[broken]).read_bytes()
    assert really.value.errno == 5  # EIO, from the kernel
    _check(broken, visit(_as_strings(dirs), _sim_reader()))


def _run_cli(config: str) -> list[object]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["run", "--config", config])
    return [status, err.getvalue()]


def test_a_config_file_the_service_user_cannot_read(service_user: Rogue) -> None:
    state = Path(service_dir(service_user))
    config = state / "config.toml"
    config.write_text(f'state_dir = "{state}"\n')
    os.chmod(config, 0o600)  # root's, as written
    _run_cli(str(state / "absent.toml"))  # the CLI's lazy imports, loaded before the fork
    answer = service_user.call(_run_cli, str(config))
    assert isinstance(answer, list)
    status, err = answer
    assert status == 2 and isinstance(err, str)
    assert len(err.splitlines()) == 1 and "Permission denied" in err and "permissions" in err


def test_a_config_file_on_a_disk_that_answers_eio(failed_disk: Path) -> None:
    config = failed_disk / "config.toml"
    config.write_text('reader = "pcsc"\n')
    fail(failed_disk)
    status, err = _run_cli(str(config))
    assert status == 2 and isinstance(err, str) and len(err.splitlines()) == 1, err
    assert "Input/output error" in err and "storage" in err and "permissions" not in err
