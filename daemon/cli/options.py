"""Options and argument types that several command groups share."""

from __future__ import annotations

import argparse
from collections.abc import Callable


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
