"""`myna-reader technician set|status|clear`: the technician code, on the device, as root.

The technician code guards the technician screen's settings (voice guidance, volume). It is
provisioned only here: never over the link, never on the touchscreen. It is kept like the
staff passcode (a salted scrypt hash, its own failure counter and lock, docs/session.md) in
its own file, read the same way (stdin, or twice on the tty without echo; never argv) and
refused the same way when anyone would try it first. `set` and `clear` need root; the file
root writes is handed to the owner of the state directory (the service's user) by
descriptor, so the running reader can read it, and it sees the change within a second (it
watches the file). `status` writes nothing.
"""

from __future__ import annotations

import argparse
import os

from myna_reader.daemon.cli.codes import add_actions, owner_for, print_status, read_code
from myna_reader.daemon.cli.errors import CliError
from myna_reader.daemon.engine import Credential
from myna_reader.daemon.store.passcode import PasscodeStore

WHAT = "technician code"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    technician = sub.add_parser(
        "technician", help="the technician code, on the device as root (never shown)")
    add_actions(technician, "technician_command", [
        ("set", cmd_set, "provision a new technician code (root; stdin or tty)"),
        ("status", cmd_status, "provisioned or not, since when, locked until when"),
        ("clear", cmd_clear, "remove the technician code: the technician menu closes (root)"),
    ])


def _as_root(args: argparse.Namespace) -> PasscodeStore:
    """The store, for a root process: what it writes goes to the state directory's owner."""
    if os.geteuid() != 0:
        raise CliError(f"the {WHAT} is set on the device as root: "
                       f"sudo myna-reader technician {args.technician_command}")
    return PasscodeStore(args.state_dir, credential=Credential.TECHNICIAN,
                         owner=owner_for(args.state_dir))


def cmd_set(args: argparse.Namespace) -> int:
    store = _as_root(args)
    store.set(read_code(WHAT))
    print(f"{WHAT} set; the previous one no longer works, and any lock is lifted")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    print_status(PasscodeStore(args.state_dir, credential=Credential.TECHNICIAN).peek(),
                 "the technician menu needs a code: sudo myna-reader technician set")
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    store = _as_root(args)
    removed = store.peek().provisioned and store.clear()
    print(f"{WHAT} removed" if removed else f"no {WHAT} was set")
    return 0
