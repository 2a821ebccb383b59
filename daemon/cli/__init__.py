"""`myna-reader`: the command line. It parses, prompts and prints; the work lives elsewhere.

Every command exits non-zero with one clear line on bad input and never prints a PIN, a
passcode or personal data unless asked with an explicit flag.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from myna_reader.daemon.cli.errors import EXIT_FAILURE, EXIT_USAGE, CliError
from myna_reader.daemon.errors import DaemonError
from myna_reader.daemon.version import __version__
from myna_reader.drivers.errors import MynaError

Handler = Callable[[argparse.Namespace], int]


# Every command, the module of its group and its one-line help. A group's module is imported
# only when one of its commands is parsed, so `--help` and each command load what they use.
COMMANDS: dict[str, tuple[str, str]] = {
    "readers": ("card", "list the readers this machine can use"),
    "card": ("card", "read a card (technician diagnostics)"),
    "sim": ("sim", "the simulated card"),
    "record": ("transcripts", "record a card session as a scrubbed APDU transcript"),
    "replay": ("transcripts", "drive the engine through a recorded confirmation"),
    "passcode": ("passcode", "the staff passcode (never shown)"),
    "technician": ("technician", "the technician code, on the device as root (never shown)"),
    "screens": ("screens", "render every screen to PNG and JSON (the gallery)"),
    "bench": ("bench", "measure the reader (see docs/performance.md)"),
    "run": ("run", "run the reader (--simulate: on the simulated card)"),
    "host": ("host", "the reference terminal console for the host link"),
    "doctor": ("doctor", "check the reader, display, sound, link, passcode, config"),
    "update": ("update", "signed application updates (build, install, status, rollback)"),
    "status": ("status", "the running reader: screen, mode, reader, terminal, lock, last errors"),
    "audit": ("audit", "the audit log: confirmations, staff mode, lockouts, updates"),
    "metrics": ("metrics",
                "fleet metrics from the audit log and the update state (Prometheus text format)"),
}


class Parser(argparse.ArgumentParser):
    """argparse, with an unknown option named as such, by the parser of the (sub)command it
    was given to. argparse alone reports a missing COMMAND before an unknown option, and an
    unknown option of a subcommand with the top level's usage."""

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            _innermost(self, parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def error(self, message: str) -> NoReturn:
        unknown = [word for word in getattr(self, "_given", []) if not self._knows(word)]
        if unknown and message.startswith("the following arguments are required"):
            message = f"unrecognized arguments: {' '.join(unknown)}"
        super().error(message)

    def _knows(self, word: str) -> bool:
        """False for an option word this parser has no option for (`-vv` is `-v` twice)."""
        if not word.startswith("-") or word in ("-", "--"):
            return True
        name = word.split("=", 1)[0] if word.startswith("--") else word[:2]
        return name in self._option_string_actions


def _innermost(parser: argparse.ArgumentParser, args: argparse.Namespace
               ) -> argparse.ArgumentParser:
    """The parser of the deepest subcommand named in `args`."""
    while True:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, subs[0].dest, None) if subs else None
        if chosen not in (subs[0].choices if subs else {}):
            return parser
        parser = subs[0].choices[chosen]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with `command`'s group in full and the others by name (all when None)."""
    parser = Parser(
        prog="myna-reader",
        description="Firmware for the My Number health-insurance card reader.")
    parser.add_argument("--version", action="version", version=f"myna-reader {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-vv traces APDUs, with PINs masked)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = {group for name, (group, _) in COMMANDS.items() if command in (None, name)}
    loaded: set[str] = set()
    for name, (group, help_) in COMMANDS.items():
        if group not in wanted:
            sub.add_parser(name, help=help_, add_help=False)  # listed; parsed only when named
        elif group not in loaded:
            importlib.import_module(f"{__name__}.{group}").add_parser(sub)
            loaded.add(group)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command word: the first argument that is not an option (the top level's options
    take no value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's banner is not ours
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_of(words) or "").parse_args(words)
    from myna_reader.daemon.runtime.logs import setup_logging  # after parsing: --help stays light

    setup_logging(("warning", "info", "debug")[min(args.verbose, 2)])
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

