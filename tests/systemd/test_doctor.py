"""`myna-reader doctor` on this bench: real pcscd with vpcd, real fonts, a real state dir.

The display and the sound card are absent on the CI machines (no DRM, no ALSA card), so their
lines are checked for form only; every other line is checked for its verdict.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from myna_reader.daemon.cli import doctor as cli_doctor
from myna_reader.daemon.runtime.config import DaemonConfig, LinkConfig
from myna_reader.daemon.runtime.doctor import check_link
from myna_reader.daemon.store.passcode import PasscodeStore, parse_passcode
from tests.support.pcscd import PcscdInstance

LINE = re.compile(r"^(OK   [a-z ]+: .+|FAIL [a-z ]+: .+ — fix: .+)$")
CHECKS = ["version", "config", "pcscd", "reader", "nfc devices", "display", "sdl video", "touch",
          "font", "sound", "voice", "terminal link", "state dir", "passcode"]
NO_HARDWARE = ("display", "touch", "sound")  # no DRM, input or ALSA device on these machines


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    parser = argparse.ArgumentParser()
    cli_doctor.add_parser(parser.add_subparsers())
    args = parser.parse_args(["doctor", "--config", str(config)])
    code = args.handler(args)
    lines = capsys.readouterr().out.splitlines()
    for line in lines:
        assert LINE.match(line), line
    by_name = {line[5:].split(":", 1)[0]: line for line in lines}
    assert list(by_name) == CHECKS
    return code, by_name


@pytest.mark.pcscd
def test_doctor_reports_each_check(tmp_path: Path, pcscd: PcscdInstance,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    config = tmp_path / "config.toml"
    config.write_text(f'reader = "pcsc:Virtual PCD"\nstate_dir = "{state}"\n'
                      '[ui]\nvoice = false\n')

    code, lines = doctor(config, capsys)
    assert code == 1  # no passcode yet
    assert lines["config"] == f"OK   config: {config} is valid"
    assert lines["pcscd"].startswith("OK   pcscd: reachable")
    assert lines["reader"] == f"OK   reader: pcsc:Virtual PCD: {pcscd.reader_name}"
    assert lines["font"].startswith("OK   font: ")
    assert lines["voice"] == "OK   voice: voice guidance is off (ui.voice = false)"
    assert lines["terminal link"] == "OK   terminal link: tcp://127.0.0.1:4730: loopback only"
    assert lines["state dir"] == f"OK   state dir: {state} writable"
    assert lines["passcode"].startswith("FAIL passcode: no staff passcode")

    PasscodeStore(state).set(parse_passcode("4821"))
    code, lines = doctor(config, capsys)
    assert lines["passcode"].startswith("OK   passcode: provisioned ")
    assert "4821" not in "\n".join(lines.values())
    others_ok = all(line.startswith("OK") for name, line in lines.items()
                    if name not in NO_HARDWARE)
    assert others_ok
    assert code == (0 if all(line.startswith("OK") for line in lines.values()) else 1)


def test_doctor_names_a_bad_config_key_and_a_missing_reader(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('reader = "nfc:tty:NOPE0:pn532"\nstate_dir = "/nonexistent/state"\n'
                      '[ui]\nsize = "640x480"\n')
    code, lines = doctor(config, capsys)
    assert code == 1
    assert lines["config"].startswith(
        'FAIL config: ui.size: "640x480" is not a supported size; use one of 800x480')
    # the other checks still run, on the keys that were right
    assert lines["state dir"].startswith("FAIL state dir: /nonexistent/state does not exist")

    config.write_text(f'reader = "nfc:tty:NOPE0:pn532"\nstate_dir = "{tmp_path}"\n')
    code, lines = doctor(config, capsys)
    assert lines["reader"] == ("FAIL reader: nfc:tty:NOPE0:pn532: /dev/ttyNOPE0 does not exist"
                               " — fix: check the PN532 wiring or adapter, and `ls /dev/tty*`")
    assert lines["pcscd"].startswith("OK   pcscd:")  # reachable, or not needed for nfc


def test_doctor_reports_every_config_problem_not_only_the_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('reader = "bogus"\nlog_level = "loud"\ncolour = 3\n'
                      f'state_dir = "{tmp_path}"\n[ui]\nsize = "640x480"\nvolume = 500\n'
                      '[link]\noutbox_ttl_s = 1\n')
    parser = argparse.ArgumentParser()
    cli_doctor.add_parser(parser.add_subparsers())
    args = parser.parse_args(["doctor", "--config", str(config)])
    assert args.handler(args) == 1
    lines = capsys.readouterr().out.splitlines()
    problems = [line for line in lines if line.startswith("FAIL config: ")]
    keys = sorted(line.removeprefix("FAIL config: ").split(":", 1)[0] for line in problems)
    assert keys == ["colour", "link.outbox_ttl_s", "log_level", "reader", "ui.size", "ui.volume"]
    for line in problems:  # each names its fix and the file, in words, no class names
        assert LINE.match(line), line
        assert f"fix: edit {config} " in line
        assert "Error" not in line
    # the keys that were right are used by the other checks: the state dir is this one
    assert f"OK   state dir: {tmp_path} writable" in lines


def test_the_link_line_never_shows_the_pairing_token() -> None:
    token = "a-synthetic-pairing-token-0123"
    check = check_link(DaemonConfig(link=LinkConfig("tcp://0.0.0.0:4730", pairing_token=token)))
    assert token not in check.line()
    assert check.line() == ("OK   terminal link: tcp://0.0.0.0:4730: reachable "
                            "from the network, pairing token set; allow the terminal's address "
                            "in the unit (IPAddressAllow=)")
