"""`myna-reader run --simulate`, until the daemon lands: whole confirmations on simulated cards.

Each simulated profile is placed on a simulated reader twice: once for a staff visual-check
confirmation, once for a PIN-mode confirmation, each through the real session engine and card
jobs (daemon/scenarios.py). What the terminal would receive is printed without personal data:
certificates by fingerprint, consents as flags.
"""

from __future__ import annotations

import argparse

from myna_reader.daemon import scenarios
from myna_reader.daemon.cli import CliError
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.sim.profile import profile_names

DEMO_ANSWERS = scenarios.Answers(pin="1234")  # the synthetic profiles' auth PIN


def _describe(kind: str, profile: str) -> str:
    outcome, channel = scenarios.run(kind, SimReader(profile), DEMO_ANSWERS,
                                     session_id=f"{profile}-{kind}")
    screens = " → ".join(dict.fromkeys(screen.value for screen in outcome.screens))
    if outcome.results:
        result = outcome.results[0]
        agreed = sum(a.agreed for a in result.consents)
        told = (f"result {result.method.value}, certificate {result.certificate_fingerprint}, "
                f"{'signed' if result.signature else 'no signature'}, "
                f"{agreed}/{len(result.consents)} consents")
    else:
        told = f"error {', '.join(outcome.error_codes) or '-'}"
    return f"  {kind:5} [{channel.apdu_count:2} APDUs] {screens}\n        terminal: {told}"


def cmd_run(args: argparse.Namespace) -> int:
    if not args.simulate:
        raise CliError("the daemon is not built yet: use `myna-reader run --simulate`")
    print("myna-reader: whole confirmations on simulated My Number cards "
          "(synthetic data, PIN 1234)")
    for profile in profile_names():
        print(f"\n■ card {profile}")
        for kind in scenarios.KINDS:
            print(_describe(kind, profile))
    return 0
