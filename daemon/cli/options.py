"""Options, argument types and prompts that several command groups share."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable


def read_pin(prompt: str, from_stdin: bool) -> str:
    """A PIN from standard input's first line, or typed on the terminal without echo (a
    secret never comes from argv)."""
    if from_stdin:
        return sys.stdin.readline().strip()
    return getpass.getpass(prompt)


def add_reader(parser: argparse.ArgumentParser, default: str = "pcsc") -> None:
    parser.add_argument(
        "--reader", default=default, metavar="SPEC",
        help="pcsc | pcsc:<name> | nfc:usb | nfc:tty:<port>:<driver> | nfc:udp:<host>:<port>"
        f" | sim:<profile> | replay:<file> (default: {default})")


def port(lowest: int) -> Callable[[str], int]:
    """An argparse type: a port number from `lowest` (0: any free port) to 65535."""
    def parse(text: str) -> int:
        if not text.isdigit() or not lowest <= int(text) <= 65535:
            raise argparse.ArgumentTypeError(f"{text!r} is not a port ({lowest}..65535)")
        return int(text)
    return parse
