"""`myna-reader sim serve` and `sim profiles`: the simulated card behind real reader stacks.

Placing and removing the card from outside: SIGUSR1 takes the card out of the reader,
SIGUSR2 puts it back (the same card: its PIN counters carry over, its verified state does
not). SIGHUP is the holder authenticating on the phone (Face ID on an `iphone` profile: the
next signature is allowed). SIGTERM or Ctrl-C ends the server. On nfcpy's udp driver the card
answers as the profile's ISO/IEC 14443 type: Type B for the plastic card, Type A for phones.

    myna-reader sim serve --vpcd 35963 --profile one-try-left &
    kill -USR1 $!    # card removed
    kill -USR2 $!    # card placed again
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol

from myna_reader.daemon.cli.options import port
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import load_profile, profile_names

LINK_PATIENCE_S = 2.0  # how long vpcd may take to accept the card before the user is told


class _Placement(Protocol):
    def insert(self) -> None: ...
    def remove(self) -> None: ...


def cmd_profiles(args: argparse.Namespace) -> int:
    for name in profile_names():
        print(f"{name:14} {load_profile(name).description}")
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _serve(bridge: _Placement, card: SimulatedCard, stop: threading.Event, *, present: bool,
           connected: Callable[[float], bool] | None = None) -> None:
    """Act on the placement signals until `stop`; `connected` reports vpcd's link."""
    wanted = {"present": present, "authenticate": False}

    def setting(key: str, value: bool) -> Callable[[int, object], None]:
        def handler(_signum: int, _frame: object) -> None:
            wanted[key] = value  # acted on by the loop, never inside the handler
        return handler

    signal.signal(signal.SIGUSR1, setting("present", False))
    signal.signal(signal.SIGUSR2, setting("present", True))
    signal.signal(signal.SIGHUP, setting("authenticate", True))
    signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
    shown: bool | None = None
    placed_at = 0.0
    link_told = True
    while not stop.is_set():
        if wanted["present"] != shown:
            shown = wanted["present"]
            if shown:
                bridge.insert()
                placed_at, link_told = time.monotonic(), connected is None
            else:
                bridge.remove()
            _say(f"card {'placed' if shown else 'removed'}")
        if wanted["authenticate"]:
            wanted["authenticate"] = False
            card.authenticate_holder()
            _say("holder authenticated on the phone")
        if shown and not link_told and connected is not None:
            if connected(0):
                link_told = True
                _say("vpcd accepted the card")
            elif time.monotonic() - placed_at > LINK_PATIENCE_S:
                link_told = True
                _say("vpcd does not answer yet (is pcscd running with vpcd?); still trying")
        stop.wait(0.05)
    bridge.remove()


def cmd_serve(args: argparse.Namespace) -> int:
    card = SimulatedCard(load_profile(args.profile))
    stop = threading.Event()
    signals = "SIGUSR1 removes it, SIGUSR2 places it, SIGHUP authenticates the holder"
    try:
        if args.vpcd is not None:
            from myna_reader.drivers.sim.vpcd import VpcdBridge

            _say(f"simulated card {args.profile!r} for vpcd at {args.host}:{args.vpcd}; "
                 f"{signals}")
            bridge = VpcdBridge(card, args.host, args.vpcd)
            _serve(bridge, card, stop, present=not args.absent, connected=bridge.wait_connected)
        else:
            from myna_reader.drivers.sim.nfc_udp import CardResponder, Technology

            responder = CardResponder(card, args.nfc_udp, args.host,
                                      technology=Technology[card.profile.rf],
                                      present=not args.absent)
            responder.start()
            _say(f"simulated card {args.profile!r} (Type {card.profile.rf}) in nfcpy's udp "
                 f"field at {args.host}:{responder.port}; {signals}")
            try:
                _serve(responder, card, stop, present=not args.absent)
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
