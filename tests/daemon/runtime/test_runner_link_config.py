"""The terminal's `config` message end to end: the real runner, the TCP host link with its
handshake, a hand-driven terminal (tests/daemon/link/support.SealedClient), the sim reader,
the audit log on a temp dir. Settings are checked as config.toml is, applied for the card
sessions that start later (not the one running), acked only once the runner holds them,
refused with the schema's problems otherwise, rate limited, and audited either way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from myna_reader.daemon.engine import Screen, SessionConfig, StaffScope, StandbyView
from myna_reader.daemon.link.reader_end import HostLink
from myna_reader.daemon.runtime.runner import Runner
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import PasscodeStore
from myna_reader.drivers.backends.sim import SimReader
from tests.daemon.link.support import HELLO, SECRET, SealedClient, open_outbox, wait_for
from tests.daemon.runtime.test_runner import WAIT_S, Recorder


@dataclass
class Rig:
    runner: Runner
    reader: SimReader
    seen: Recorder
    terminal: SealedClient
    audit: AuditLog

    def config(self, message_id: str, settings: dict[str, Any]) -> dict[str, Any]:
        """Send a `config`; the reader's answer to it (status lines in between are skipped)."""
        self.terminal.send_messages({"type": "config", "id": message_id, "v": 1,
                                     "settings": settings})
        while True:
            line = self.terminal.read_lines(1)[0]
            if line.get("ref") == message_id:
                return line

    def config_lines(self) -> list[tuple[str, str]]:
        return [(str(a["outcome"]), str(a.get("reason"))) for a in self.audit.read()
                if a["event"] == "config"]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    reader = SimReader("standard", present=False, supports_extended=False)
    seen = Recorder()
    audit = AuditLog(tmp_path)
    runner = Runner(config=SessionConfig(), open_reader=lambda: reader,
                    store=PasscodeStore(tmp_path), audit=audit, display=seen, link=None)
    link = HostLink("tcp://127.0.0.1:0", open_outbox(tmp_path), runner.post, HELLO,
                    secret=SECRET, apply_config=runner.apply_config)
    runner.link = link
    link.start()
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    terminal = SealedClient(link)
    try:
        assert terminal.read_lines(1)[0]["type"] == "hello"
        wait_for(lambda: bool(seen.views) and isinstance(seen.views[-1], StandbyView) and
                 not seen.views[-1].terminal_away, "standby with the terminal there")
        yield Rig(runner, reader, seen, terminal, audit)
    finally:
        terminal.close()
        runner.stop()
        thread.join(WAIT_S)
        link.stop()
    assert not thread.is_alive()


def test_settings_hold_for_the_next_session_not_the_running_one(rig: Rig) -> None:
    default_pin_s = SessionConfig().timeouts.pin_s
    rig.reader.insert()
    rig.seen.wait_screen(Screen.PIN)  # a card session runs
    answer = rig.config("c1", {"timeouts": {"pin_s": 45},
                               "staff_mode": {"scope": "until-cancel"}})
    assert (answer["type"], answer["ref"]) == ("ack", "c1")
    # the ack comes once the runner holds them, and audited
    assert rig.runner.config.timeouts.pin_s == 45
    assert rig.runner.config.staff.scope is StaffScope.UNTIL_CANCEL
    assert rig.config_lines() == [("applied", "timeouts.pin_s, staff_mode.scope")]
    state = rig.runner.state
    assert state is not None and state.session is not None
    assert state.config.timeouts.pin_s == default_pin_s  # the running session keeps its own
    rig.reader.remove()
    wait_for(lambda: rig.runner.state is not None and rig.runner.state.session is None and
             rig.runner.state.config.timeouts.pin_s == 45, "the settings once the session ended")
    rig.reader.insert()
    rig.seen.wait_screen(Screen.PIN)
    state = rig.runner.state
    assert state is not None and state.session is not None
    assert state.config.timeouts.pin_s == 45
    assert state.config.timeouts.method_s == SessionConfig().timeouts.method_s  # unnamed: kept


def test_bad_settings_are_refused_with_the_schemas_problems_and_change_nothing(
        rig: Rig) -> None:
    answer = rig.config("c1", {"timeouts": {"pin_s": 1e400}, "reader": "sim:x"})
    assert (answer["type"], answer["fault"], answer["ref"]) == ("error", "refused", "c1")
    assert answer["problems"] == [
        {"key": "reader", "value": None, "fix": "unknown key; remove it (known keys: timeouts, "
         "staff_mode, consent, face, certificate, prescription)"},
        {"key": "timeouts.pin_s", "value": "inf",
         "fix": "set a number of seconds between 1 and 3600"},
    ]
    # what the engine cannot take while it runs is refused like a bad value, naming the key
    held = rig.config("c2", {"face": {"available": True},
                             "staff_mode": {"lockout_failures": 3}})
    assert [p["key"] for p in held["problems"]] == ["face.available",
                                                   "staff_mode.lockout_failures"]
    assert all("config.toml" in p["fix"] for p in held["problems"])
    assert rig.runner.config == SessionConfig()
    assert rig.config_lines() == [("refused", "reader, timeouts.pin_s"),
                                  ("refused", "face.available, staff_mode.lockout_failures")]


def test_config_messages_are_rate_limited(rig: Rig) -> None:
    rig.terminal.send_messages(*({"type": "config", "id": f"c{n}", "v": 1,
                                  "settings": {"timeouts": {"pin_s": 30 + n}}}
                                 for n in range(8)))
    answers: dict[str, dict[str, Any]] = {}
    while len(answers) < 8:
        line = rig.terminal.read_lines(1)[0]
        if str(line.get("ref", "")).startswith("c"):
            answers[line["ref"]] = line
    limited = [a for a in answers.values() if a.get("fault") == "rate-limited"]
    acked = [ref for ref, a in answers.items() if a["type"] == "ack"]
    assert limited and acked[:3] == ["c0", "c1", "c2"]
    assert all(a["retry_after_s"] > 0 for a in limited)
    assert len(rig.config_lines()) == len(acked)  # each applied one audited, nothing else
    assert rig.runner.config.timeouts.pin_s == 30 + int(acked[-1][1:])
