"""Logging: journald priorities when stderr is the journal stream, levels elsewhere, and the
redaction safety net."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from myna_reader.daemon.runtime.logs import (
    JournalHandler,
    fields,
    redact,
    setup_logging,
    stream_is_journal,
)


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def journal_env(path: Path) -> dict[str, str]:
    info = os.stat(path)
    return {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}


@pytest.mark.usefixtures("restore_root_logger")
def test_journal_stream_lines_carry_syslog_priorities(tmp_path: Path) -> None:
    # systemd hands the service a stream whose dev:ino it puts in JOURNAL_STREAM; a file
    # stands in for that socket: the check is on the descriptor's identity only
    path = tmp_path / "journal"
    with path.open("w") as stream:
        setup_logging("debug", stream=stream, environ=journal_env(path),
                      journal_socket=str(tmp_path / "no-journald"))  # the stream fallback
        log = logging.getLogger("myna_reader.test")
        log.debug("polling")
        log.info("reader attached", extra=fields(reader="ACS ACR39U", slot=0))
        log.warning("link dropped")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("card job failed")
    lines = path.read_text().splitlines()
    assert lines[:4] == [
        "<7>myna_reader.test: polling",
        '<6>myna_reader.test: reader attached reader="ACS ACR39U" slot=0',
        "<4>myna_reader.test: link dropped",
        "<3>myna_reader.test: card job failed",
    ]
    assert all(line.startswith("<3>") for line in lines[4:])  # the traceback stays an error
    assert lines[-1] == "<3>RuntimeError: boom"


@pytest.mark.usefixtures("restore_root_logger")
def test_other_streams_get_time_and_level_names(tmp_path: Path) -> None:
    path = tmp_path / "other"
    path.write_text("")
    stream = io.StringIO()
    # JOURNAL_STREAM inherited from a parent names another file: not the journal
    setup_logging("info", stream=stream, environ=journal_env(path))
    logging.getLogger("myna_reader.x").debug("hidden")
    logging.getLogger("myna_reader.x").error("shown")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(" ERROR myna_reader.x: shown")
    assert not line.startswith("<")


def test_stream_is_journal_requires_a_matching_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with path.open("w") as stream:
        assert stream_is_journal(stream, journal_env(path))
        assert not stream_is_journal(stream, {"JOURNAL_STREAM": "1:2"})
        assert not stream_is_journal(stream, {})
    assert not stream_is_journal(io.StringIO(), journal_env(path))


@pytest.mark.parametrize(("text", "expected"), [
    ("number 123456789012 read", "number ************ read"),
    ("1234567890123 is 13 digits", "1234567890123 is 13 digits"),
    ("id=123456789012 ok", "id=************ ok"),
    ("session 6a4e978238864625b2fe5fda56af6100", "session 6a4e978238864625b2fe5fda56af6100"),
    ("pin=1234 ok", "pin=*** ok"),
    ("PIN: 9876", "PIN: ***"),
    ('passcode="0000" set', "passcode=*** set"),
    ("password=ABC123", "password=***"),
    ("link tcp://0.0.0.0:4730?token=0123456789abcdef", "link tcp://0.0.0.0:4730?token=***"),
    ("pin_tries=3", "pin_tries=3"),
])
def test_redaction(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.usefixtures("restore_root_logger")
def test_redaction_covers_fields_and_tracebacks() -> None:
    stream = io.StringIO()
    setup_logging("info", stream=stream, environ={})
    log = logging.getLogger("myna_reader.y")
    log.info("job", extra=fields(note="pin=4321", id="123456789012"))
    try:
        raise ValueError("bad pin=5555")
    except ValueError:
        log.exception("failed")
    text = stream.getvalue()
    for secret in ("4321", "123456789012", "5555"):
        assert secret not in text


# --- the journal's native protocol, against a real AF_UNIX datagram socket ----------------

def parse_entry(data: bytes) -> dict[str, str]:
    """journald's reading of one native-protocol datagram (systemd.io/JOURNAL_NATIVE_PROTOCOL)."""
    entry: dict[str, str] = {}
    while data:
        line, sep, rest = data.partition(b"\n")
        assert sep, "every field ends in a newline"
        if b"=" in line:
            key, _, value = line.partition(b"=")
            data = rest
        else:  # binary form: name, newline, 64-bit little-endian length, data, newline
            key = line
            (size,) = struct.unpack("<Q", rest[:8])
            value, data = rest[8:8 + size], rest[8 + size:]
            assert data[:1] == b"\n"
            data = data[1:]
        entry[key.decode("ascii")] = value.decode("utf-8")
    return entry


def receive_entry(sock: socket.socket) -> dict[str, str]:
    """The next entry, whether sent inline or as a sealed memfd (SCM_RIGHTS)."""
    data, ancillary, flags, _addr = sock.recvmsg(1 << 20, socket.CMSG_SPACE(4))
    assert not flags & socket.MSG_TRUNC
    fds = [int.from_bytes(cdata[:4], sys.byteorder) for level, kind, cdata in ancillary
           if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS)]
    if fds:
        assert data == b""
        (fd,) = fds
        seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
        assert seals & fcntl.F_SEAL_WRITE and seals & fcntl.F_SEAL_SHRINK  # journald insists
        data = os.pread(fd, os.fstat(fd).st_size, 0)  # from 0, as journald maps it
        os.close(fd)
    return parse_entry(data)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    address = str(tmp_path / "journal.socket")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5.0)
    yield sock, address
    sock.close()


@pytest.mark.usefixtures("restore_root_logger")
def test_under_systemd_records_go_to_the_journal_with_fields(
        tmp_path: Path, journal: tuple[socket.socket, str]) -> None:
    sock, address = journal
    stderr = tmp_path / "stderr"
    with stderr.open("w") as stream:
        handler = setup_logging("info", stream=stream, environ=journal_env(stderr),
                                journal_socket=address)
        assert isinstance(handler, JournalHandler)
        log = logging.getLogger("myna_reader.daemon.runtime.runner")
        log.warning("PIN wrong", extra=fields(event="pin-wrong", session="s-1", tries_left=2,
                                              note="pin=4719"))
        entry = receive_entry(sock)
        try:
            raise RuntimeError("boom 123456789012")
        except RuntimeError:
            log.exception("card job failed")
        crash = receive_entry(sock)
    assert stderr.read_text() == ""  # nothing on the stream: the journal has it all
    assert entry["MESSAGE"] == 'PIN wrong event=pin-wrong session=s-1 tries_left=2 note="pin=***'
    assert entry["PRIORITY"] == "4"
    assert entry["SYSLOG_IDENTIFIER"] == "myna-reader"
    assert entry["LOGGER"] == "myna_reader.daemon.runtime.runner"
    assert (entry["MYNA_EVENT"], entry["MYNA_SESSION"], entry["MYNA_TRIES_LEFT"]) == (
        "pin-wrong", "s-1", "2")
    assert entry["MYNA_NOTE"] == "pin=***"
    assert entry["CODE_FUNC"] == "test_under_systemd_records_go_to_the_journal_with_fields"
    assert crash["PRIORITY"] == "3"
    assert crash["MESSAGE"].startswith("card job failed\nTraceback")  # the binary form
    assert "123456789012" not in crash["MESSAGE"]


@pytest.mark.usefixtures("restore_root_logger")
def test_an_entry_too_big_for_a_datagram_goes_as_a_sealed_memfd(
        journal: tuple[socket.socket, str]) -> None:
    sock, address = journal
    handler = JournalHandler(address)
    big = "x" * 300_000  # beyond the AF_UNIX datagram limit (net.core.wmem_max)
    handler.emit(logging.LogRecord("myna_reader.t", logging.INFO, __file__, 1, big, None, None))
    entry = receive_entry(sock)
    handler.close()
    assert entry["MESSAGE"] == big


@pytest.mark.usefixtures("restore_root_logger")
def test_libraries_stay_quiet_below_warning_at_every_level() -> None:
    stream = io.StringIO()
    setup_logging("debug", stream=stream, environ={})
    for name in ("fontTools.ttLib", "PIL.PngImagePlugin", "nfc.clf", "usb.core"):
        logging.getLogger(name).debug("chatter from %s", name)
        logging.getLogger(name).info("more chatter")
    logging.getLogger("fontTools").warning("a real problem")
    logging.getLogger("myna_reader.drivers.channel").debug("APDU 00A4...")
    lines = stream.getvalue().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "WARNING fontTools: a real problem", "DEBUG myna_reader.drivers.channel: APDU 00A4..."]


def test_the_cli_at_vv_keeps_fonttools_quiet(tmp_path: Path) -> None:
    # fontTools logs at debug while it parses a font: `-vv screens` printed pages of it
    code = ("import logging, sys\nfrom myna_reader.daemon.runtime.logs import setup_logging\n"
            "setup_logging('debug')\nimport fontTools.ttLib\n"
            "from fontTools.ttLib import TTFont\nfrom fontTools.fontBuilder import FontBuilder\n"
            "logging.getLogger('fontTools.ttLib.ttFont').debug('Reading table')\n"
            "logging.getLogger('myna_reader.x').debug('ours')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert "Reading table" not in done.stderr
    assert "ours" in done.stderr
