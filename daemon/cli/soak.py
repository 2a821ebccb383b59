"""`myna-reader bench soak`: N simulated confirmations through the whole daemon, with random faults
(daemon/harness/soak.py). Exit 0 when duplicates, lost and stuck states are all zero, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from myna_reader.daemon.cli.errors import CliError
from myna_reader.daemon.harness.soak_faults import ALL_FAULTS, Fault
from myna_reader.daemon.runtime.config import ConfigError, DaemonConfig

PROGRESS_EVERY = 100


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("soak", help="simulated confirmations through the whole daemon, with "
                       "faults; reports duplicates, lost and stuck states")
    p.add_argument("--sessions", type=int, default=100, metavar="N",
                   help="confirmations to attempt, alternating staff and PIN (default 100)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="the faults' RNG seed")
    p.add_argument("--faults", nargs="?", const="all", default="none", metavar="KINDS",
                   help="inject faults: all (the default with the flag alone) or a comma list "
                   f"of {', '.join(f.value for f in Fault)}")
    p.add_argument("--fault-rate", type=float, default=0.3, metavar="SHARE",
                   help="share of visits that meet a fault (default 0.3)")
    p.add_argument("--state-dir", type=Path, metavar="DIR",
                   help="passcode, outbox and audit here (default: a temporary directory)")
    p.add_argument("--link", metavar="URL",
                   help="listen here and leave the terminal to another process (e.g. "
                   "`myna-reader host`); without it an own terminal acks through a relay")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(handler=cmd_soak)


def parse_faults(text: str) -> tuple[Fault, ...]:
    if text == "all":
        return ALL_FAULTS
    if text == "none":
        return ()
    try:
        return tuple(Fault(name.strip()) for name in text.split(","))
    except ValueError:
        raise CliError(f"--faults: all, none, or a comma list of "
                       f"{', '.join(f.value for f in Fault)}") from None


def cmd_soak(args: argparse.Namespace) -> int:
    from myna_reader.daemon.harness.soak import run_soak

    if args.sessions < 1:
        raise CliError("--sessions must be at least 1")
    if not 0.0 <= args.fault_rate <= 1.0:
        raise CliError("--fault-rate must be between 0 and 1")
    if args.link is not None:  # checked as `run --link` is, before the daemon starts
        try:
            DaemonConfig().with_overrides(link=args.link)
        except ConfigError as exc:
            raise CliError(str(exc)) from None

    def progress(done: int, completed: int) -> None:
        if done % PROGRESS_EVERY == 0:
            print(f"soak: {done}/{args.sessions} visits, {completed} confirmed",
                  file=sys.stderr, flush=True)

    report = run_soak(args.sessions, args.seed, faults=parse_faults(args.faults),
                      fault_rate=args.fault_rate, state_dir=args.state_dir, link_url=args.link,
                      progress=progress)
    if args.json:
        print(json.dumps(report.to_dict()), flush=True)
    else:
        print("\n".join(report.lines()), flush=True)
    return 0 if report.ok else 1
