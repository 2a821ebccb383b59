"""`myna-reader status`: what the running reader shows and knows, asked over its control socket.

Screen, mode, reader, terminal link, staff passcode and lock, the latest errors. Read-only: it
connects to the daemon (daemon/runtime/control.py) and writes nothing anywhere.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from myna_reader.daemon.runtime.control import DEFAULT_RUNTIME_DIR, SOCKET_NAME, query


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="the running reader: screen, mode, reader, terminal, "
                       "lock, last errors")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--socket", type=Path, metavar="PATH",
                       help=f"the control socket (default {DEFAULT_RUNTIME_DIR / SOCKET_NAME})")
    where.add_argument("--state-dir", type=Path, metavar="DIR",
                       help="a daemon run by hand with --state-dir DIR listens in DIR")
    p.add_argument("--json", action="store_true", help="print the daemon's answer as JSON")
    p.set_defaults(handler=cmd_status)


def _when(wall: object) -> str:
    if not isinstance(wall, int | float):
        return "-"
    return datetime.fromtimestamp(wall, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _table(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _terminal(link: Mapping[str, object]) -> str:
    connected = link.get("connected")
    if connected is None:
        return "no link in this setup"
    since = f" since {_when(link.get('since'))}" if link.get("since") else ""
    state = "connected" if connected else "away: no unattended confirmation until it is back"
    return state + since


def _staff(staff: Mapping[str, object]) -> str:
    if not staff.get("provisioned"):
        return "no passcode: issue one from the terminal (or myna-reader passcode set)"
    if staff.get("locked_until"):
        return (f"locked until {_when(staff['locked_until'])} (a re-issue from the terminal "
                "or myna-reader passcode set ends it)")
    return "passcode set"


def describe(status: Mapping[str, object]) -> list[str]:
    """The lines `status` prints for the daemon's answer."""
    rows = [
        ("screen", str(status.get("screen", "-"))
         + (f" (countdown {status['countdown']} s)" if status.get("countdown") else "")),
        ("mode", str(status.get("mode", "-"))),
        ("language", str(status.get("language", "-"))),
        ("reader", str(status.get("reader") or "none attached")),
        ("terminal", _terminal(_table(status.get("terminal")))),
        ("staff mode", _staff(_table(status.get("staff")))),
        ("last ended", str(status.get("ended") or "-")),
        ("results sent", f"{status.get('results_sent', 0)} since {_when(status.get('started'))}"),
        ("version", f"{status.get('version', '-')} (pid {status.get('pid', '-')})"),
    ]
    lines = [f"{name:<13} {value}" for name, value in rows]
    errors = status.get("last_errors")
    if isinstance(errors, list) and errors:
        lines.append("last errors")
        lines += [f"  {_when(e.get('time'))}  {e.get('code')} {e.get('key', '')}"
                  for e in errors if isinstance(e, Mapping)]
    else:
        lines.append(f"{'last errors':<13} none since start")
    return lines


def cmd_status(args: argparse.Namespace) -> int:
    if args.socket is not None:
        path = args.socket
    elif args.state_dir is not None:
        path = args.state_dir / SOCKET_NAME
    else:
        path = DEFAULT_RUNTIME_DIR / SOCKET_NAME
    status = query(path)
    if args.json:
        print(json.dumps(status, ensure_ascii=False, sort_keys=True))
    else:
        print("\n".join(describe(status)))
    return 0
