"""`myna-reader bench`: the reader's figures, measured (docs/performance.md), and its parts.

The measuring lives in daemon/harness/; this module parses, validates and prints.
"""

from __future__ import annotations

import argparse
import json

from myna_reader.daemon.cli import soak
from myna_reader.daemon.cli.errors import CliError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="measure the reader (see docs/performance.md)")
    p.add_argument("--repeat", type=int, default=30, help="runs per measurement (median)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(handler=cmd_bench)
    parts = p.add_subparsers(dest="bench_part", metavar="PART")
    d = parts.add_parser("daemon", help="cold start to READY=1, RSS after 10 and 1,000 "
                         "confirmations, card placed to first screen change (about a minute)")
    d.add_argument("--confirmations", type=int, default=1000, metavar="N")
    d.add_argument("--json", action="store_true", help="print the figures as JSON")
    d.set_defaults(handler=cmd_bench_daemon)
    f = parts.add_parser("face", help="card placed to face decision on the simulated face card, "
                         "by stage, and CPU per frame (needs the face extra; about a minute)")
    f.add_argument("--runs", type=int, default=5, metavar="N", help="attempts (median)")
    f.add_argument("--json", action="store_true", help="print the figures as JSON")
    f.set_defaults(handler=cmd_bench_face)
    soak.add_parser(parts)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise CliError("--repeat must be at least 1")
    from myna_reader.daemon.harness.bench import measure

    figures = measure(args.repeat)
    if args.json:
        print(json.dumps(figures))
        return 0
    print("APDUs (standard card):")
    apdus = figures["apdus"]
    assert isinstance(apdus, dict)
    for name, count in apdus.items():
        print(f"  {name:32} {count}")
    print(f"in-process overhead per APDU (sim):  {figures['overhead_us_per_apdu']} µs "
          f"(the simulated card itself: {figures['card_us_per_apdu']} µs)")
    print(f"PIN confirmation, modelled card time: {figures['pin_confirmation_modelled_s']} s")
    print(f"PIN confirmation, wall / model:       {figures['pin_confirmation_ratio_to_model']}"
          " (target <= 1.05)")
    print(f"engine time per event:               {figures['engine_us_per_event']} µs"
          " (target <= 20)")
    print(f"touchscreen:                         {json.dumps(figures['ui'])}")
    return 0


def cmd_bench_daemon(args: argparse.Namespace) -> int:
    """The whole daemon: cold start to READY=1, memory over many confirmations, reaction time."""
    from myna_reader.daemon.harness.soak import daemon_figures

    if args.confirmations < 10:
        raise CliError("--confirmations must be at least 10")
    figures = daemon_figures(confirmations=args.confirmations)
    print(json.dumps(figures) if args.json else json.dumps(figures, indent=2))
    return 0


def cmd_bench_face(args: argparse.Namespace) -> int:
    if args.runs < 1:
        raise CliError("--runs must be at least 1")
    from myna_reader.daemon.harness.face_bench import face_figures

    figures = face_figures(args.runs)
    print(json.dumps(figures) if args.json else json.dumps(figures, indent=2))
    return 0
