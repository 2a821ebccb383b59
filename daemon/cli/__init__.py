"""`myna-reader`: the command line. It parses, prompts and prints; the work lives elsewhere.

Every command exits non-zero with one clear line on bad input and never prints a PIN, a
passcode or personal data unless asked with an explicit flag.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from myna_reader.daemon.cli.errors import EXIT_FAILURE, EXIT_USAGE, CliError
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.version import __version__
from myna_reader.drivers.errors import MynaError

Handler = Callable[[argparse.Namespace], int]


def _add_reader(parser: argparse.ArgumentParser, default: str = "sim:standard") -> None:
    parser.add_argument(
        "--reader", default=default, metavar="SPEC",
        help="pcsc | pcsc:<name> | nfc:usb | nfc:tty:<port>:<driver> | nfc:udp:<host>:<port>"
        f" | sim:<profile> | replay:<file> (default: {default})")


def _port(lowest: int) -> Callable[[str], int]:
    """An argparse type: a port number from `lowest` (0: any free port) to 65535."""
    def parse(text: str) -> int:
        if not text.isdigit() or not lowest <= int(text) <= 65535:
            raise argparse.ArgumentTypeError(f"{text!r} is not a port ({lowest}..65535)")
        return int(text)
    return parse


def build_parser() -> argparse.ArgumentParser:
    from myna_reader.daemon.cli import bench as cli_bench
    from myna_reader.daemon.cli import card as cli_card
    from myna_reader.daemon.cli import doctor as cli_doctor
    from myna_reader.daemon.cli import host as cli_host
    from myna_reader.daemon.cli import passcode as cli_passcode
    from myna_reader.daemon.cli import run as cli_run
    from myna_reader.daemon.cli import screens as cli_screens
    from myna_reader.daemon.cli import sim as cli_sim
    from myna_reader.daemon.cli import transcripts as cli_transcripts
    from myna_reader.daemon.cli import update as cli_update

    parser = argparse.ArgumentParser(
        prog="myna-reader",
        description="Firmware for the My Number health-insurance card reader.")
    parser.add_argument("--version", action="version", version=f"myna-reader {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-vv traces APDUs, with PINs masked)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("readers", help="list the readers this machine can use")
    p.set_defaults(handler=cli_card.cmd_readers)

    card = sub.add_parser("card", help="read a card (technician diagnostics)")
    card_sub = card.add_subparsers(dest="card_command", metavar="ACTION", required=True)
    p = card_sub.add_parser("info", help="token kind, certificates, PIN tries; no personal data")
    _add_reader(p)
    p.add_argument("--show-personal", action="store_true",
                   help="also print the certificate subject (personal data)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cli_card.cmd_card_info)
    p = card_sub.add_parser("read-cert", help="write the auth certificate (or its CA) as DER/PEM")
    _add_reader(p)
    p.add_argument("--ca", action="store_true", help="the CA certificate instead")
    p.add_argument("--pem", action="store_true", help="PEM instead of DER")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    p.set_defaults(handler=cli_card.cmd_read_cert)

    sim = sub.add_parser("sim", help="the simulated card")
    sim_sub = sim.add_subparsers(dest="sim_command", metavar="ACTION", required=True)
    p = sim_sub.add_parser("serve", help="put a simulated card behind pcscd (vpcd) or nfcpy (udp)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--vpcd", type=_port(1), metavar="PORT",
                       help="vpcd's port (35963 by default)")
    where.add_argument("--nfc-udp", type=_port(0), metavar="PORT",
                       help="UDP port for nfcpy's udp (0: any free port)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--profile", default="standard", help="card profile (see hw-fixtures/)")
    p.add_argument("--absent", action="store_true", help="start with the card out of the reader")
    p.set_defaults(handler=cli_sim.cmd_serve)
    p = sim_sub.add_parser("profiles", help="list the simulated card profiles")
    p.set_defaults(handler=cli_sim.cmd_profiles)

    p = sub.add_parser("record", help="record a card session as a scrubbed APDU transcript")
    _add_reader(p)
    p.add_argument("--flow", choices=cli_transcripts.FLOWS, default="staff",
                   help="staff: visual-check confirmation; pin: PIN-mode confirmation; "
                   "info: card info")
    p.add_argument("--scenario", help="name written into the transcript (default: the flow)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--pin-stdin", action="store_true",
                   help="read the auth PIN from standard input (pin flow; else asked on the tty)")
    cli_transcripts.add_answer_options(p)
    p.set_defaults(handler=cli_transcripts.cmd_record)

    p = sub.add_parser("replay", help="drive the engine through a recorded confirmation")
    p.add_argument("transcript", metavar="FILE")
    p.add_argument("--pin", default=None,
                   help="the PIN typed where the transcript masks one (any 4 digits match)")
    p.add_argument("--passcode", default=None,
                   help="the staff passcode typed (a throwaway store is made for the replay)")
    cli_transcripts.add_answer_options(p)
    p.set_defaults(handler=cli_transcripts.cmd_replay)

    cli_passcode.add_parser(sub)
    cli_screens.add_parser(sub)

    cli_bench.add_parser(sub)
    cli_run.add_parser(sub)
    cli_host.add_parser(sub)
    cli_doctor.add_parser(sub)
    cli_update.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's banner is not ours
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s")
    handler: Handler = args.handler
    try:
        return handler(args)
    except CliError as exc:
        print(f"myna-reader: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (DaemonError, MynaError) as exc:  # the two roots: every failure a person can act on
        logging.getLogger(__name__).debug("the failure in full", exc_info=True)
        print(f"myna-reader: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:  # a path given that cannot be used, a device or service gone
        logging.getLogger(__name__).debug("the failure in full", exc_info=True)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"myna-reader: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130

