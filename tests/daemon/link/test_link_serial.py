"""HostLink over serial: pyserial on both ends of a pty null-modem, and pyserial's loop://."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from myna_reader.daemon.engine import ChallengeReceived, Mode, Screen, StatusMessage
from myna_reader.daemon.link.transport import SerialEndpoint, parse_link_url
from tests.daemon.link.support import (
    HELLO,
    Console,
    Events,
    PtyBridge,
    make_result,
    make_signer,
    open_outbox,
    running_link,
    wait_for,
)

SIGNER = make_signer()


@pytest.fixture
def bridge() -> Iterator[PtyBridge]:
    cable = PtyBridge()
    try:
        yield cable
    finally:
        cable.close()


def test_serial_url_forms() -> None:
    assert parse_link_url("serial:///dev/ttyGS0?baudrate=9600") == SerialEndpoint(
        "/dev/ttyGS0", 9600)
    assert parse_link_url("/dev/ttyUSB0") == SerialEndpoint("/dev/ttyUSB0", 115200)
    assert parse_link_url("socket://127.0.0.1:7000") == SerialEndpoint("socket://127.0.0.1:7000")


def test_results_flow_over_a_pty_pair(bridge: PtyBridge, tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path)
    events = Events()
    reader_end, terminal_end = bridge.paths
    with running_link(f"serial://{reader_end}?baudrate=115200", outbox, events) as link:
        assert link.wait_connected(15)
        with Console(f"serial://{terminal_end}?baudrate=115200") as console:
            # the console sends a challenge to the session whose status asks for one
            link.send_status(StatusMessage(Mode.UNATTENDED, Screen.PIN, "r", True, None,
                                           session_id="s-pin", challenge_wanted=True))
            wait_for(lambda: events.of(ChallengeReceived), "the console's challenge")
            challenge = events.of(ChallengeReceived)[-1].challenge
            link.submit_result(make_result("s-pin", SIGNER, challenge=challenge))
            link.submit_result(make_result("s-visual", SIGNER))
            wait_for(lambda: len(outbox) == 0, "both acks over serial")
            checked = {e["id"]: e["signature"] for e in console.events("result-checked")}
            assert checked == {"s-pin": "valid", "s-visual": "none"}
            assert console.messages("hello")[0]["device"] == HELLO["device"]


def test_a_lossy_line_delivers_exactly_once(bridge: PtyBridge, tmp_path: Path) -> None:
    """Bytes lost both ways (results, acks); the link resends unacked results and a
    restarted console pairs again; the console reports each id once."""
    outbox = open_outbox(tmp_path)
    reader_end, terminal_end = bridge.paths
    with running_link(f"serial://{reader_end}", outbox, resend_after_s=0.3) as link:
        with Console(f"serial://{terminal_end}") as console:
            wait_for(lambda: console.messages("hello"), "the session")
            bridge.dropping.set()
            for i in range(10):
                link.submit_result(make_result(f"s-{i}", SIGNER))
            bridge.dropping.clear()
            for i in range(10, 20):
                link.submit_result(make_result(f"s-{i}", SIGNER))
            wait_for(lambda: len(outbox) == 0, "every result acked after the loss")
            ids = [m["id"] for m in console.messages("result")]
        assert sorted(ids) == sorted(f"s-{i}" for i in range(20))
        assert len(ids) == len(set(ids))


def test_an_echoing_line_does_not_bounce_errors_forever(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # pyserial's loop:// echoes every byte: the reader reads back its own hello and result,
    # refuses each with an error reply, and reads those back without replying again
    caplog.set_level(logging.WARNING, logger="myna_reader.daemon.link.reader_end")
    outbox = open_outbox(tmp_path)
    with running_link("loop://", outbox) as link:
        assert link.wait_connected(15)
        link.submit_result(make_result("s-1", SIGNER))

        def refusals() -> int:
            return sum("refused a line" in r.getMessage() for r in caplog.records)

        wait_for(lambda: refusals() >= 4, "the echoes refused")
    assert refusals() == 4  # hello, result, and the two error replies: then silence
    assert len(outbox) == 1  # an echo is no ack


def test_an_error_from_the_terminal_gets_no_error_reply(
        bridge: PtyBridge, tmp_path: Path) -> None:
    with running_link(f"serial://{bridge.paths[0]}", open_outbox(tmp_path),
                      issue_passcode=lambda code: None) as link:
        assert link.wait_connected(15)
        with serial.serial_for_url(bridge.paths[1], timeout=5) as port:
            port.write(b'{"type":"error","id":"e1","v":1,"code":"protocol"}\n'
                       b'{"type":"passcode.issue","id":"c1","v":1,"passcode":"1357"}\n')
            seen = [json.loads(port.readline())]
            while seen[-1].get("ref") != "c1":  # lines are handled in order: any reply to
                seen.append(json.loads(port.readline()))  # e1 would come before c1's ack
            assert seen[-1]["type"] == "ack"
            assert [m for m in seen if m["type"] == "error"] == []


def test_a_missing_device_is_retried_until_it_appears(
        bridge: PtyBridge, tmp_path: Path) -> None:
    link_path = tmp_path / "ttyGS0"  # like a gadget port that shows up late
    outbox = open_outbox(tmp_path)
    with running_link(f"serial://{link_path}", outbox) as link:
        assert not link.wait_connected(0.5)
        link_path.symlink_to(bridge.paths[0])
        assert link.wait_connected(15)
        with serial.serial_for_url(bridge.paths[1], timeout=5) as port:
            port.write(b'{"type":"pair","id":"p","v":1}\n')
            hello = json.loads(port.readline())
            assert hello["type"] == "hello"
