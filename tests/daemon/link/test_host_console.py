"""`myna-reader host` as a process: --json output, passcode issue, fixed challenge, signals."""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import pytest

from myna_reader.daemon.cli import host as cli_host
from myna_reader.daemon.cli.errors import CliError
from myna_reader.daemon.engine import ChallengeReceived, Mode, Screen, Secret, StatusMessage
from myna_reader.daemon.link.channel import SECRET_ENV
from tests.daemon.link.support import (
    SECRET,
    WAIT_S,
    Events,
    make_result,
    make_signer,
    open_outbox,
    running_link,
    tcp_url,
    wait_for,
)

SIGNER = make_signer()
CHALLENGE = bytes(range(100, 132))
# the console's parser as cli.py mounts it (the lead wires add_parser into `myna-reader`)
ENTRY = """
import argparse, sys
from myna_reader.daemon.cli import host as cli_host
parser = argparse.ArgumentParser(prog="myna-reader")
cli_host.add_parser(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.handler(args))
"""


class Process:
    def __init__(self, *args: str) -> None:
        # the secret through the environment: never on a command line
        env = {**os.environ, SECRET_ENV: SECRET.text()}
        self.proc = subprocess.Popen([sys.executable, "-c", ENTRY, "host", *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True).start()
        self.seen: list[str] = []

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def until(self, predicate: Any, what: str) -> str:
        while True:
            try:
                line = self.lines.get(timeout=WAIT_S)
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"no {what}; output so far: {self.seen}") from None
            self.seen.append(line)
            if predicate(line):
                return line

    def stop(self, signum: int) -> tuple[int, str]:
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=WAIT_S)
        finally:
            self.proc.kill()
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()


def test_json_console_issues_a_passcode_signs_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    events = Events()
    outbox = open_outbox(tmp_path)
    issued: list[Secret] = []
    with running_link("tcp://127.0.0.1:0", outbox, events,
                      issue_passcode=issued.append) as link:
        link.submit_result(make_result("s-visual", SIGNER))
        # a PIN session waits for the challenge: the console sends it for that session
        link.send_status(StatusMessage(Mode.UNATTENDED, Screen.PIN, "r", True, None,
                                       session_id="s-pin", challenge_wanted=True))
        console = Process("--link", tcp_url(link), "--json", "--issue-passcode",
                          "--challenge-hex", CHALLENGE.hex())
        objects: list[dict[str, Any]] = []

        def has(kind: str, value: str) -> bool:
            return any(o.get(kind) == value for o in objects)

        def take(line: str) -> bool:
            objects.append(json.loads(line))  # every line is one JSON object
            return has("event", "passcode-issued") and has("type", "result")

        console.until(take, "passcode event and result")
        code = next(o["passcode"] for o in objects if o.get("event") == "passcode-issued")
        assert issued == [Secret(code)]  # stored before the console heard the ack
        # the challenge went after the passcode (status follows hello): it may still be on its way
        wait_for(lambda: events.of(ChallengeReceived), "the console's challenge")
        assert events.of(ChallengeReceived)[0].challenge == CHALLENGE
        link.submit_result(make_result("s-pin", SIGNER, challenge=CHALLENGE))
        checked = json.loads(console.until(
            lambda line: '"result-checked"' in line and '"s-pin"' in line, "the PIN result"))
        assert checked["signature"] == "valid"
        wait_for(lambda: len(outbox) == 0, "the acks")
        status, stderr = console.stop(signal.SIGTERM)
    assert status == 0
    assert code not in stderr
    assert sum(o.get("event") == "passcode-issued" for o in objects) == 1


def test_human_console_shows_the_passcode_once_and_exits_0_on_ctrl_c(tmp_path: Path) -> None:
    with running_link("tcp://127.0.0.1:0", open_outbox(tmp_path),
                      issue_passcode=lambda code: None) as link:
        console = Process("--link", tcp_url(link), "--issue-passcode", "--no-ack")
        link.submit_result(make_result("s-1", SIGNER))
        console.until(lambda _: any(x.startswith("staff passcode issued:") for x in console.seen)
                      and any(x.startswith("result s-1: method visual") for x in console.seen),
                      "the passcode and the result")
        status, _ = console.stop(signal.SIGINT)
        assert status == 0
        shown = [x for x in console.seen if x.startswith("staff passcode issued:")]
        assert len(shown) == 1
        assert re.fullmatch(r"staff passcode issued: \d{4} .*", shown[0])
        der_b64 = base64.b64encode(SIGNER.der).decode()
        assert not any(der_b64[:40] in x for x in console.seen)  # no certificate bytes
        assert link.outbox.is_pending("s-1")  # --no-ack


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--link", "ftp://x", "use tcp://"),
    ("--challenge-hex", "zz", "hexadecimal"),
    ("--challenge-hex", "00", "16..512"),
    ("--link", "tcp://127.0.0.1:1?token=0123456789abcdef", "does not go in the URL"),
])
def test_bad_flags_are_one_clear_error(flag: str, value: str, message: str) -> None:
    args = {"link": "loop://", "json": False, "issue_passcode": False,
            "no_ack": False, "challenge_hex": None, "seen_file": None,
            "link_secret_file": None}
    args[flag.lstrip("-").replace("-", "_")] = value
    with pytest.raises(CliError, match=message):
        cli_host.cmd_host(__import__("argparse").Namespace(**args))
