"""`myna-reader passcode set|status|clear`: the staff passcode, set by a technician.

The code is read from standard input (when it is not a terminal) or asked twice on the tty
without echo; never from the command line, where `ps` and shell history would keep it.
`status` says whether one is provisioned, when, and any lock; never the code, and it writes
nothing (not even the store's lock file). A code anyone would try first (one digit repeated,
a run such as 1234 or 9876, a repeated pair such as 1212 or 1122) is refused: the lockout's
bound (docs/session.md) assumes a code that is not among the first guesses. The running
reader notices a set or a clear within a second (it watches the store's file).
"""

from __future__ import annotations

import argparse

from myna_reader.daemon.cli.codes import add_actions, owner_for, print_status, read_code
from myna_reader.daemon.store.passcode import PasscodeStore


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    passcode = sub.add_parser("passcode", help="the staff passcode (never shown)")
    add_actions(passcode, "passcode_command", [
        ("set", cmd_set, "provision a new passcode (stdin or tty; the old one fails at once)"),
        ("status", cmd_status, "provisioned or not, since when, locked until when"),
        ("clear", cmd_clear, "remove the passcode: 職員用 disappears"),
    ])


def _store(args: argparse.Namespace) -> PasscodeStore:
    """Run as root, what it writes goes to the state directory's owner (the service's user)."""
    return PasscodeStore(args.state_dir, owner=owner_for(args.state_dir))


def cmd_set(args: argparse.Namespace) -> int:
    code = read_code()
    _store(args).set(code)
    print("staff passcode set; the previous one no longer works, and any lock is lifted")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    print_status(PasscodeStore(args.state_dir).peek(),
                 "staff mode needs a passcode: issue one from the terminal, or "
                 "sudo myna-reader passcode set")
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    store = _store(args)
    removed = store.peek().provisioned and store.clear()
    print("staff passcode removed" if removed else "no staff passcode was set")
    return 0
