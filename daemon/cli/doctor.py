"""`myna-reader doctor [--config PATH]`: one OK/FAIL line per check, exit 1 on any FAIL."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from myna_reader.daemon.runtime.doctor import run_checks


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check the reader, display, sound, link, passcode, config")
    p.add_argument("--config", type=Path, default=None, metavar="PATH",
                   help="the config file to check (default /etc/myna-reader/config.toml)")
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    # the font and sound checks import pygame, whose greeting would break the one-line format
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    checks = run_checks(args.config)
    for check in checks:
        print(check.line(), flush=True)
    return 0 if all(check.ok for check in checks) else 1
