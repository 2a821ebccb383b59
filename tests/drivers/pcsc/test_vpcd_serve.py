"""`myna-reader sim serve --vpcd`: the card placed and removed from outside by signals."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from typing import IO

import pytest

from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.pcsc import PcscReader
from myna_reader.drivers.card import MyNumberCard, TokenKind
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.jpki import PhoneNotAuthenticatedError
from myna_reader.drivers.sim.profile import load_profile
from tests.drivers.pcsc.waits import EVENT_TIMEOUT_S, wait_for, wait_until_absent
from tests.support.pcscd import PcscdInstance

pytestmark = pytest.mark.pcscd

CLI = "import sys; from myna_reader.daemon.cli import main; sys.exit(main(sys.argv[1:]))"


def test_signals_remove_and_place_the_served_card(
    pcscd: PcscdInstance, reader: PcscReader
) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", CLI, "sim", "serve", "--vpcd", str(pcscd.port),
         "--host", pcscd.host, "--profile", "standard"],
    )
    try:
        wait_for(reader, ReaderEventKind.CARD_INSERTED)  # the card starts placed
        server.send_signal(signal.SIGUSR1)
        wait_for(reader, ReaderEventKind.CARD_REMOVED)
        server.send_signal(signal.SIGUSR1)  # idempotent: still out
        server.send_signal(signal.SIGUSR2)
        wait_for(reader, ReaderEventKind.CARD_INSERTED)
        assert reader.connect() == load_profile("standard").atr
        reader.disconnect()
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
    wait_until_absent(reader)


def _lines(stream: IO[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line.strip())

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _said(lines: queue.Queue[str], wanted: str) -> None:
    """Wait (bounded) for the server's stderr line `wanted`."""
    seen = []
    try:
        while (line := lines.get(timeout=EVENT_TIMEOUT_S)) != wanted:
            seen.append(line)
    except queue.Empty:
        pytest.fail(f"the server never said {wanted!r} (said {seen})")


def test_an_iphone_served_to_pcscd_signs_after_sighup(
    pcscd: PcscdInstance, reader: PcscReader
) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", CLI, "sim", "serve", "--vpcd", str(pcscd.port),
         "--host", pcscd.host, "--profile", "iphone"], stderr=subprocess.PIPE, text=True,
    )
    assert server.stderr is not None
    lines = _lines(server.stderr)
    try:
        wait_for(reader, ReaderEventKind.CARD_INSERTED)
        _said(lines, "vpcd accepted the card")
        assert reader.connect() == load_profile("iphone").atr == bytes.fromhex("3B80800101")
        jpki = MyNumberCard(CardChannel(reader)).jpki()
        assert jpki.token_kind() is TokenKind.IPHONE
        with pytest.raises(PhoneNotAuthenticatedError):
            jpki.sign_with_auth_key(b"nonce")
        reader.disconnect()
        server.send_signal(signal.SIGHUP)  # the holder authenticates on the phone
        _said(lines, "holder authenticated on the phone")
        server.send_signal(signal.SIGUSR1)  # and holds it to the reader again
        wait_for(reader, ReaderEventKind.CARD_REMOVED)
        server.send_signal(signal.SIGUSR2)
        wait_for(reader, ReaderEventKind.CARD_INSERTED)
        reader.connect()
        jpki = MyNumberCard(CardChannel(reader)).jpki()
        certificate = parse_certificate(jpki.read_auth_certificate())
        assert certificate.verifies(b"nonce", jpki.sign_with_auth_key(b"nonce"))
        reader.disconnect()
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
    wait_until_absent(reader)
