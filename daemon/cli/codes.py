"""What `passcode` and `technician` share: their set/status/clear actions, a new code read
without echo and never from argv, refused when anyone would try it first, and times as a
person reads them."""

from __future__ import annotations

import argparse
import getpass
import itertools
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from myna_reader.daemon.cli.errors import CliError
from myna_reader.daemon.engine import Secret
from myna_reader.daemon.runtime.config import DEFAULT_STATE_DIR
from myna_reader.daemon.store.passcode import PasscodeFormatError, PasscodeState, parse_passcode

Action = tuple[str, Callable[[argparse.Namespace], int], str]  # name, handler, help


def add_actions(group: argparse.ArgumentParser, dest: str, actions: list[Action]) -> None:
    """The group's actions, each with --state-dir."""
    sub = group.add_subparsers(dest=dest, metavar="ACTION", required=True)
    for name, handler, text in actions:
        p = sub.add_parser(name, help=text)
        p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, metavar="DIR",
                       help=f"where the reader keeps its state (default {DEFAULT_STATE_DIR})")
        p.set_defaults(handler=handler)


def read_code(what: str = "staff passcode") -> Secret:
    """A new 4-digit code from stdin (not a terminal) or asked twice on the tty without echo;
    CliError for a malformed code or one anyone would try first (nothing is changed then)."""
    if not sys.stdin.isatty():
        text = sys.stdin.readline().strip()
    else:
        text = getpass.getpass(f"New {what} (4 digits, not shown): ")
        if getpass.getpass("Once more: ") != text:
            raise CliError("the two entries differ; nothing was changed")
    try:
        code = parse_passcode(text)
    except PasscodeFormatError:
        raise CliError(f"the {what} is 4 digits (0-9); nothing was changed") from None
    if guessable(code):
        raise CliError(f"that {what} is among the first anyone would try (a repeated digit, "
                       "a run up or down, a repeated pair); choose another; nothing was "
                       "changed")
    return code


def guessable(code: Secret) -> bool:
    """A code among the first an attacker types: aaaa, a run up or down, abab, aabb."""
    d = [int(c) for c in code.reveal()]
    steps = {b - a for a, b in itertools.pairwise(d)}
    return (steps in ({0}, {1}, {-1}) or (d[0] == d[2] and d[1] == d[3])
            or (d[0] == d[1] and d[2] == d[3]))


def when(wall: float | None) -> str:
    return "-" if wall is None else datetime.fromtimestamp(wall, UTC).astimezone().isoformat(
        timespec="seconds")


def owner_for(state_dir: Path) -> tuple[int, int] | None:
    """Whom a code file root writes belongs to: the state directory's owner (the service's
    user), so the running reader can read it; None when not root or the directory is new."""
    if os.geteuid() != 0:
        return None
    try:
        info = os.stat(state_dir)
    except FileNotFoundError:
        return None  # a directory the store makes now: root's, as the caller is
    return info.st_uid, info.st_gid


def print_status(state: PasscodeState, unset_hint: str) -> None:
    print(f"provisioned   {'yes' if state.provisioned else 'no'}")
    if state.provisioned:
        print(f"issued        {when(state.issued_at)}")
        print(f"failed tries  {state.failures}")
        print(f"locked until  {when(state.locked_until_wall) if state.locked_for_s else '-'}")
    else:
        print(unset_hint)
