"""`myna-reader record` and `replay`: APDU transcripts of whole confirmations.

`record` runs a scripted confirmation (daemon/harness/scenarios.py) through the real engine on any
reader and writes what crossed the wire, scrubbed; `replay` runs the same script on the
transcript and prints the outcome. The flows `staff`, `pin` and `phone` are engine scenarios;
`info` is the technician's `card info`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from myna_reader.daemon.cli.errors import CliError
from myna_reader.daemon.cli.options import add_reader, read_pin
from myna_reader.daemon.engine import SessionConfig
from myna_reader.daemon.harness import scenarios
from myna_reader.daemon.runtime.card_info import summarize
from myna_reader.drivers.backends.base import Reader, ReaderEventKind
from myna_reader.drivers.backends.replay import ReplayReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.channel import CardChannel, Observer
from myna_reader.drivers.readers import open_reader, parse_spec
from myna_reader.drivers.recorder import Recorder
from myna_reader.drivers.transcript import Header, load, write

FLOWS = (*scenarios.KINDS, "info")
#: Where a transcript masks the PIN any 4 digits match; this one only has the right shape.
REPLAY_PIN = "0000"


def add_answer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--disagree", metavar="PAGES", default="",
                        help="consent pages (1-based, comma-separated) answered 同意しない")


def _agree(text: str) -> tuple[bool, ...]:
    pages = len(SessionConfig().consent_pages)  # the scenarios run the default pages
    try:
        disagree = {int(p) for p in text.split(",") if p.strip()}
    except ValueError as exc:
        raise CliError(f"--disagree takes page numbers like 1,3 (got {text!r})") from exc
    if not disagree <= set(range(1, pages + 1)):
        raise CliError(f"--disagree: the pages are numbered 1 to {pages} (got {text!r})")
    return tuple(i not in disagree for i in range(1, pages + 1))


def _info(reader: Reader, observers: tuple[Observer, ...]) -> dict[str, object]:
    reader.connect()
    summary = summarize(MyNumberCard(CardChannel(reader, observers)))
    reader.disconnect(unpower=True)
    tries = None if summary.auth_pin is None else summary.auth_pin.tries_left
    return {"token": summary.token.name, "auth_pin_tries_left": tries,
            "sign_certificate": summary.availability.sign,
            "certificate": summary.certificate and summary.certificate.short_fingerprint}


def play(flow: str, reader: Reader, answers: scenarios.Answers,
         observers: tuple[Observer, ...] = ()) -> dict[str, object]:
    """Run one flow on `reader` and return its outcome as plain data (no secrets)."""
    if flow == "info":
        return _info(reader, observers)
    try:
        outcome, channel = scenarios.run(flow, reader, answers, observers=observers,
                                         session_id=f"{flow}-1")
    except scenarios.ScenarioError as exc:  # a PIN or passcode typed in the wrong shape
        raise CliError(str(exc)) from None
    summary = outcome.summary()
    summary["apdus"] = channel.apdu_count
    return summary


def cmd_record(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise CliError(f"--out {out} is a directory")
    if not out.parent.is_dir():  # found before the card is read, not after
        raise CliError(f"--out {out}: no directory {out.parent}")
    spec = parse_spec(args.reader)
    pin = read_pin("Auth PIN (4 digits, not shown): ", args.pin_stdin) if args.flow == "pin" else ""
    answers = scenarios.Answers(pin=pin, agree=_agree(args.disagree))
    reader = open_reader(spec)
    recorder = Recorder()
    try:
        reader.check_attached()  # a reader that is not there fails now, not after a wait
        recorder.card_event(ReaderEventKind.CARD_INSERTED)
        summary = play(args.flow, reader, answers, (recorder,))
    finally:
        reader.close()
    recorder.card_event(ReaderEventKind.CARD_REMOVED)
    header = Header(scenario=args.scenario or args.flow, flow=args.flow,
                    profile=spec.argument if spec.backend == "sim" else "", reader=spec.backend,
                    supports_extended=reader.supports_extended)
    with out.open("w", encoding="utf-8") as fh:
        write(recorder.transcript(header), fh)
    print(json.dumps({"recorded": str(out), **summary}, ensure_ascii=False))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    path = Path(args.transcript)
    transcript = load(path)
    flow = transcript.header.flow
    if flow not in FLOWS:
        raise CliError(f"{path}: the header names no known flow ({', '.join(FLOWS)})")
    reader = ReplayReader(transcript)
    answers = scenarios.Answers(pin=args.pin or REPLAY_PIN, passcode=args.passcode or "",
                                agree=_agree(args.disagree))
    summary = play(flow, reader, answers)
    if reader.divergence is not None:  # even where the engine made an error screen of it
        raise reader.divergence
    if not reader.finished:
        raise CliError(f"{path}: the confirmation ended before the transcript did")
    print(json.dumps({"scenario": transcript.header.scenario, **summary}, ensure_ascii=False))
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("record", help="record a card session as a scrubbed APDU transcript")
    add_reader(p)
    p.add_argument("--flow", choices=FLOWS, default="staff",
                   help="staff: visual-check confirmation; pin: PIN-mode confirmation; "
                   "info: card info")
    p.add_argument("--scenario", help="name written into the transcript (default: the flow)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--pin-stdin", action="store_true",
                   help="read the auth PIN from standard input (pin flow; else asked on the tty)")
    add_answer_options(p)
    p.set_defaults(handler=cmd_record)

    p = sub.add_parser("replay", help="drive the engine through a recorded confirmation")
    p.add_argument("transcript", metavar="FILE")
    p.add_argument("--pin", default=None,
                   help="the PIN typed where the transcript masks one (any 4 digits match)")
    p.add_argument("--passcode", default=None,
                   help="the staff passcode typed (a throwaway store is made for the replay)")
    add_answer_options(p)
    p.set_defaults(handler=cmd_replay)
