"""`myna-reader sim serve --vpcd`: the card placed and removed from outside by signals."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from support.pcscd import PcscdInstance

from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.pcsc import PcscReader
from myna_reader.drivers.sim.profile import load_profile

from .waits import wait_for, wait_until_absent

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
