"""`myna-reader record` and `replay`: APDU transcripts of the reader's card conversations."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from myna_reader.daemon.card_flows import FLOWS, CardSummary, PinConfirmation, run_flow
from myna_reader.daemon.cli import CliError
from myna_reader.daemon.cli_card import card_session
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.replay import ReplayReader, TranscriptDivergenceError
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.errors import MynaError
from myna_reader.drivers.recorder import Recorder
from myna_reader.drivers.transcript import Header, load, write

__all__ = ["FLOWS", "cmd_record", "cmd_replay"]

#: Where the PIN is masked in a transcript any 4 digits match; this one is only a shape.
REPLAY_PLACEHOLDER_PIN = "0000"


def _ask_pin(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    return getpass.getpass("Auth PIN (4 digits, not shown): ")


def _outcome(result: object) -> str:
    if isinstance(result, bytes):
        return f"auth certificate {parse_certificate(result).short_fingerprint} ({len(result)} B)"
    if isinstance(result, PinConfirmation):
        cert = parse_certificate(result.certificate)
        verified = cert.verifies(b"myna-reader challenge", result.signature)
        return (f"PIN verified; certificate {cert.short_fingerprint}; signature "
                f"{'verifies' if verified else 'DOES NOT verify'} with the certificate")
    if isinstance(result, CardSummary):
        return (f"token {result.token.name}, auth PIN tries left {result.auth_pin.tries_left}, "
                f"sign certificate {'present' if result.availability.sign else 'absent'}")
    return repr(result)


def cmd_record(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise CliError(f"--out {out} is a directory")
    recorder = Recorder()
    recorder.card_event(ReaderEventKind.CARD_INSERTED)
    error: MynaError | None = None
    with card_session(args.reader) as card:
        card.channel.add_observer(recorder)
        try:
            result = run_flow(args.flow, card, pin=lambda: _ask_pin(args.pin_stdin))
        except MynaError as exc:  # a failing session is worth recording too
            error, result = exc, None
        atr_reader = card.channel.reader
    recorder.card_event(ReaderEventKind.CARD_REMOVED)
    profile = args.reader.split(":", 1)[1] if args.reader.startswith("sim:") else ""
    header = Header(scenario=args.scenario or args.flow, flow=args.flow, profile=profile,
                    reader=args.reader.split(":", 1)[0],
                    supports_extended=atr_reader.supports_extended)
    with out.open("w", encoding="utf-8") as fh:
        write(recorder.transcript(header), fh)
    outcome = f"error {type(error).__name__}: {error}" if error else _outcome(result)
    print(f"recorded {args.flow} ({outcome}) to {out}")
    return 1 if error else 0


def cmd_replay(args: argparse.Namespace) -> int:
    path = Path(args.transcript)
    transcript = load(path)
    flow = transcript.header.flow
    if flow not in FLOWS:
        raise CliError(f"{path}: the header names no known flow ({', '.join(FLOWS)})")
    reader = ReplayReader(transcript)
    reader.connect()
    card = MyNumberCard(CardChannel(reader))
    pin = args.pin or REPLAY_PLACEHOLDER_PIN
    try:
        result = run_flow(flow, card, pin=lambda: pin)
        outcome = _outcome(result)
    except TranscriptDivergenceError:
        raise  # the live conversation left the recording: that is the replay's failure
    except MynaError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    if not reader.finished:
        raise CliError(f"{path}: the flow ended before the transcript did ({outcome})")
    print(f"{transcript.header.scenario}: {outcome}")
    return 0
