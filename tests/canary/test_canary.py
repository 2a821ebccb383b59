"""Personal-data canaries: every flow run with canary values, every byte written searched.

The canary PIN, passcode (right and wrong ones), My Number, name and address go through the
real parts: the daemon headless (touchscreen, engine, runner with DEBUG APDU traces, passcode
store, audit, outbox, terminal link and the reference terminal), the CLI (`passcode set`,
`card info`, `record`, `replay`, all at -vv), a recording of the text AP, and a traceback
raised inside the VERIFY job. Then the logs, stdout/stderr, state files (audit, outbox with
its WAL, passcode file), transcripts and crash output are searched: zero hits.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.canary import canary_run
from tests.canary import canary_values as canary

CANARIES = (*canary.CODES, canary_run.my_number(), canary.FAMILY, canary.GIVEN,
            f"{canary.FAMILY}\u3000{canary.GIVEN}", canary.ADDRESS)


def _cli(out: Path, name: str, *args: str, stdin: str = "") -> None:
    """One `myna-reader -vv ...` run; its stdout and stderr are kept for the search."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run([sys.executable, "-m", "myna_reader.daemon.cli", "-vv", *args],
                          input=stdin, capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    (out / f"{name}.stdout").write_text(done.stdout, encoding="utf-8")
    (out / f"{name}.stderr").write_text(done.stderr, encoding="utf-8")
    assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"


@dataclass(frozen=True)
class Run:
    written: dict[str, bytes]  # every file the flows wrote, by path
    tap: canary_run.WireTap  # the APDUs the daemon sent the card


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    profile = canary_run.make_profile(tmp_path_factory.mktemp("card"))  # the card: not output
    out = tmp_path_factory.mktemp("written")
    transcripts, cli = out / "transcripts", out / "cli"
    transcripts.mkdir()
    cli.mkdir()
    with (out / "daemon.stdout").open("w") as stdout, (out / "daemon.stderr").open("w") as err, \
            contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
        tap = canary_run.run_daemon(profile, out / "state", out / "daemon.log",
                                    out / "terminal.jsonl")
        canary_run.crash_in_verify(profile, out / "crash.log")
    canary_run.record_text_ap(profile, transcripts / "text-ap.jsonl")
    sim = f"sim:{profile}"
    _cli(cli, "passcode-set", "passcode", "set", "--state-dir", str(out / "cli-state"),
         stdin=canary.PASSCODE + "\n")
    _cli(cli, "passcode-status", "passcode", "status", "--state-dir", str(out / "cli-state"))
    _cli(cli, "card-info", "card", "info", "--reader", sim)
    for flow, pin in (("pin", canary.PIN), ("staff", ""), ("info", "")):
        _cli(cli, f"record-{flow}", "record", "--flow", flow, "--reader", sim,
             "--out", str(transcripts / f"{flow}.jsonl"), "--pin-stdin", stdin=pin + "\n")
        _cli(cli, f"replay-{flow}", "replay", str(transcripts / f"{flow}.jsonl"))
    _cli(cli, "record-wrong-pin", "record", "--flow", "pin", "--reader", sim, "--out",
         str(transcripts / "pin-wrong.jsonl"), "--pin-stdin", stdin=canary.WRONG_PIN + "\n")
    return Run(written=canary.files_under(out), tap=tap)


def test_the_canaries_really_went_through(run: Run) -> None:
    """Positive control: the canary PINs reached the card, the records hold the canaries."""
    tap = run.tap
    verified = [c[5:] for c in tap.commands if c[1] == 0x20 and len(c) > 5]
    assert canary.PIN.encode() in verified and canary.WRONG_PIN.encode() in verified
    written = run.written
    logs = b"".join(data for name, data in written.items() if name.endswith(".log"))
    assert b"> 00 20 00 80 04 XX XX XX XX" in logs  # DEBUG APDU traces were on, VERIFY masked
    assert b"FirmwareFault" in written[next(n for n in written if n.endswith("daemon.stderr"))]
    assert any(name.endswith("outbox.sqlite3") for name in written)
    assert any(name.endswith("audit.jsonl") for name in written)
    assert sum(len(data) for data in written.values()) > 10_000


def test_the_search_finds_every_form_of_a_planted_canary() -> None:
    for value in CANARIES:
        raw = value.encode()
        planted = {"text": b"x " + raw + b" y", "hex": b"cmd=" + raw.hex().upper().encode(),
                   "spaced": b"> 00 20 00 81 04 " + raw.hex(" ").upper().encode()}
        found = {hit.source for hit in canary.search(planted, (value,))}
        assert found == set(planted), value


def test_nothing_written_holds_a_canary(run: Run) -> None:
    written = run.written
    hits = canary.search(written, CANARIES)
    assert not hits, "canaries found:\n" + "\n".join(map(str, hits[:40]))
    size = sum(len(data) for data in written.values())
    print(f"canary search: {len(written)} files, {size} bytes, {len(CANARIES)} canaries, "
          f"0 hits")
