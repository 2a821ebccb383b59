"""The card's key (issue 12, point 2): the paired terminal's challenge is taken only by the PIN
session that waits for it, once, of the protocol's length; anything else is refused with error
114 naming the line and an audit line `challenge-refused`.

Real parts: the runner's engine, the simulated card's real RSA key (SimReader), the audit log
and passcode store on disk, and the real host link on a loopback socket, reached through the
real handshake with the pairing secret: the terminal here IS the paired one, which is the point
(an unpaired process is kept out by tests/attack/test_link_attack.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from myna_reader.daemon.engine import Button, DigitPressed, Pressed, Screen, SessionConfig
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.outbox import Outbox
from myna_reader.daemon.store.passcode import PasscodeStore
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.certificate import parse_certificate
from tests.attack.paired_terminal import PairedTerminal, Screens, linked_runner

REFUSED = "114"


@dataclass
class Rig:
    runner: Runner
    reader: SimReader
    screens: Screens
    terminal: PairedTerminal
    audit: AuditLog

    def refusals(self) -> list[dict[str, object]]:
        return [line for line in self.audit.read() if line["event"] == "challenge-refused"]

    def pin_pad(self) -> str | None:
        """A card on the reader, its PIN pad shown: the session id the status announced."""
        self.reader.insert()
        self.screens.wait(Screen.PIN)
        status = self.terminal.wait_for(
            lambda m: m["type"] == "status" and m["screen"] == "pin", "PIN status")
        assert status.get("challenge_wanted") in (True, None)  # None: a reader before v1.1
        session = status.get("session")
        return session if isinstance(session, str) else None

    def type_pin(self) -> None:
        for d in "1234":
            self.runner.post(DigitPressed(int(d)))
        self.runner.post(Pressed(Button.OK))

    def finish(self) -> dict[str, Any]:
        self.screens.wait(Screen.CONSENT)
        for _ in SessionConfig().consent_pages:
            self.runner.post(Pressed(Button.AGREE))
        return self.terminal.wait_for(lambda m: m["type"] == "result", "result")

    def refused(self, ref: str) -> dict[str, Any]:
        return self.terminal.wait_for(
            lambda m: m["type"] == "error" and m.get("ref") == ref, f"refusal of {ref}")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    reader = SimReader("standard", present=False, supports_extended=False)
    audit = AuditLog(tmp_path)
    screens = Screens()
    outbox = Outbox.in_state_dir(tmp_path, audit=audit)
    with linked_runner(reader, PasscodeStore(tmp_path), audit, outbox, screens) as linked:
        runner, terminal, _ = linked
        yield Rig(runner, reader, screens, terminal, audit)


def _signed_over(result: dict[str, Any], challenge: bytes) -> bool:
    cert = parse_certificate(base64.b64decode(result["certificate"]))
    return (base64.b64decode(result["challenge"]) == challenge
            and cert.verifies(challenge, base64.b64decode(result["signature"])))


def test_a_challenge_pushed_at_the_wrong_time_is_refused_and_audited(rig: Rig) -> None:
    early = rig.terminal.challenge(b"E" * 32)  # no session waits: standby
    assert rig.refused(early)["code"] == REFUSED
    session = rig.pin_pad()
    rig.type_pin()
    good = b"G" * 32
    rig.terminal.challenge(good, session)
    rig.screens.wait(Screen.CONSENT)
    late = rig.terminal.challenge(b"L" * 32, session)  # the card's part is over
    error = rig.refused(late)
    assert (error["code"], error["session"]) == (REFUSED, session)
    result = rig.finish()
    assert _signed_over(result, good)  # the session signed the awaited one, nothing else
    reasons = [(line["reason"], line["session"], line["code"]) for line in rig.refusals()]
    assert reasons == [("not-awaited", None, REFUSED), ("not-awaited", session, REFUSED)]


def test_a_second_challenge_in_one_session_is_refused(rig: Rig) -> None:
    session = rig.pin_pad()
    first, second = b"1" * 32, b"2" * 32
    rig.terminal.challenge(first, session)
    ref = rig.terminal.challenge(second, session)
    assert rig.refused(ref)["code"] == REFUSED
    rig.type_pin()
    result = rig.finish()
    assert _signed_over(result, first)
    assert [line["reason"] for line in rig.refusals()] == ["second"]
    audit_text = json.dumps(rig.audit.read())
    assert base64.b64encode(second).decode() not in audit_text  # a hash, never the bytes


@pytest.mark.parametrize("size", [8, 15, 513])
def test_a_challenge_of_the_wrong_length_is_refused(rig: Rig, size: int) -> None:
    session = rig.pin_pad()
    ref = rig.terminal.challenge(b"x" * size, session)
    assert rig.refused(ref)["code"] == REFUSED
    other = rig.terminal.challenge(b"o" * 32, "another-session")  # bound to its own session
    assert rig.refused(other)["code"] == REFUSED
    good = b"g" * 16
    rig.terminal.challenge(good, session)
    rig.type_pin()
    assert _signed_over(rig.finish(), good)
    assert [line["reason"] for line in rig.refusals()] == ["length", "other-session"]
