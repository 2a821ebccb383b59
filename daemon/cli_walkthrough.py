"""`myna-reader run`, until the daemon lands: the card layer at work on simulated cards.

It places each simulated profile on a simulated reader and holds the conversations the reader
will hold (daemon/card_flows.py), printing what a technician would want to see. No personal
data is printed: certificates by fingerprint, PIN counters as numbers.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from myna_reader.daemon.card_flows import pin_confirmation, summarize, visual_check
from myna_reader.daemon.cli import CliError
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.errors import MynaError
from myna_reader.drivers.sim.profile import profile_names

DEMO_PIN = "1234"  # the synthetic profiles' auth PIN (hw-fixtures/README.md)
CHALLENGE = b"terminal challenge"


def _session(profile: str) -> None:
    reader = SimReader(profile)
    reader.connect()
    channel = CardChannel(reader)
    card = MyNumberCard(channel)
    print(f"\n■ {reader.name}: card placed")
    try:
        summary = summarize(card)
        cert = summary.certificate
        expiry = "" if cert is None else (
            f", certificate {cert.short_fingerprint} valid to {cert.not_after:%Y-%m-%d}"
            + (" (EXPIRED)" if cert.is_expired(datetime.now(UTC)) else ""))
        print(f"  card info: {summary.token.name}, auth PIN tries left "
              f"{summary.auth_pin.tries_left}{expiry}  [{channel.apdu_count} APDUs]")
        card.reset()
        reader.disconnect(unpower=True)
        reader.connect()
        before = channel.apdu_count
        der = visual_check(card)
        print(f"  staff visual check: certificate {parse_certificate(der).short_fingerprint}"
              f" read without PIN  [{channel.apdu_count - before} APDUs]")
    except MynaError as exc:
        print(f"  staff visual check: {type(exc).__name__}: {exc}")
    card.reset()
    reader.disconnect(unpower=True)
    reader.connect()
    before = channel.apdu_count
    try:
        confirmation = pin_confirmation(card, DEMO_PIN, CHALLENGE)
        cert = parse_certificate(confirmation.certificate)
        ok = cert.verifies(CHALLENGE, confirmation.signature)
        print(f"  PIN mode: PIN accepted, challenge signed, signature "
              f"{'verifies' if ok else 'FAILS'}  [{channel.apdu_count - before} APDUs]")
    except MynaError as exc:
        print(f"  PIN mode: {type(exc).__name__}: {exc}  [{channel.apdu_count - before} APDUs]")
    reader.disconnect(unpower=True)
    print("  card unpowered and removed")


def cmd_run(args: argparse.Namespace) -> int:
    if not args.simulate:
        raise CliError("the daemon is not built yet: use `myna-reader run --simulate`")
    print("myna-reader: the card layer on simulated My Number cards (synthetic data, PIN 1234)")
    for profile in profile_names():
        _session(profile)
    return 0
