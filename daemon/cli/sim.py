"""`myna-reader sim serve` and `sim profiles`: the simulated card behind real reader stacks.

Placing and removing the card from outside: SIGUSR1 takes the card out of the reader,
SIGUSR2 puts it back (the same card: its PIN counters carry over, its verified state does
not). SIGTERM or Ctrl-C ends the server.

    myna-reader sim serve --vpcd 35963 --profile one-try-left &
    kill -USR1 $!    # card removed
    kill -USR2 $!    # card placed again
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from typing import Protocol

from myna_reader.daemon.cli.options import port
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import load_profile, profile_names


class _Placement(Protocol):
    def insert(self) -> None: ...
    def remove(self) -> None: ...


def cmd_profiles(args: argparse.Namespace) -> int:
    for name in profile_names():
        print(f"{name:14} {load_profile(name).description}")
    return 0


def _serve(bridge: _Placement, stop: threading.Event, *, present: bool) -> None:
    wanted = {"present": present}

    def placing(present: bool) -> Callable[[int, object], None]:
        def handler(_signum: int, _frame: object) -> None:
            wanted["present"] = present  # acted on by the loop, never inside the handler
        return handler

    signal.signal(signal.SIGUSR1, placing(False))
    signal.signal(signal.SIGUSR2, placing(True))
    signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
    shown: bool | None = None
    while not stop.is_set():
        if wanted["present"] != shown:
            shown = wanted["present"]
            if shown:
                bridge.insert()
            else:
                bridge.remove()
            print(f"card {'placed' if shown else 'removed'}", file=sys.stderr, flush=True)
        stop.wait(0.05)
    bridge.remove()


def cmd_serve(args: argparse.Namespace) -> int:
    card = SimulatedCard(load_profile(args.profile))
    stop = threading.Event()
    try:
        if args.vpcd is not None:
            from myna_reader.drivers.sim.vpcd import VpcdBridge

            print(f"simulated card {args.profile!r} for vpcd at {args.host}:{args.vpcd}; "
                  "SIGUSR1 removes it, SIGUSR2 places it", file=sys.stderr, flush=True)
            _serve(VpcdBridge(card, args.host, args.vpcd), stop, present=not args.absent)
        else:
            from myna_reader.drivers.sim.nfc_udp import CardResponder

            responder = CardResponder(card, args.nfc_udp, args.host, present=not args.absent)
            responder.start()
            print(f"simulated card {args.profile!r} in nfcpy's udp field at "
                  f"{args.host}:{responder.port}; SIGUSR1 removes it, SIGUSR2 places it",
                  file=sys.stderr, flush=True)
            try:
                _serve(responder, stop, present=not args.absent)
            finally:
                responder.close()
    except KeyboardInterrupt:
        stop.set()
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser("sim", help="the simulated card")
    sim_sub = sim.add_subparsers(dest="sim_command", metavar="ACTION", required=True)
    p = sim_sub.add_parser("serve", help="put a simulated card behind pcscd (vpcd) or nfcpy (udp)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--vpcd", type=port(1), metavar="PORT",
                       help="vpcd's port (35963 by default)")
    where.add_argument("--nfc-udp", type=port(0), metavar="PORT",
                       help="UDP port for nfcpy's udp (0: any free port)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--profile", default="standard", help="card profile (see hw-fixtures/)")
    p.add_argument("--absent", action="store_true", help="start with the card out of the reader")
    p.set_defaults(handler=cmd_serve)
    p = sim_sub.add_parser("profiles", help="list the simulated card profiles")
    p.set_defaults(handler=cmd_profiles)
