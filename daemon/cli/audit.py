"""`myna-reader audit [--since WHEN]`: the audit log, one readable line per record.

The log is `audit.jsonl` in the state directory (docs/session.md, "Audit log"): confirmations
with their outcome, method and error code, staff-mode entries, exits and lockouts, updates.
It holds no personal data. Read-only: the file is opened for reading and nothing is repaired
(a line torn by a crash is skipped here; the daemon cuts it at its next start).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from myna_reader.daemon.cli.errors import CliError
from myna_reader.daemon.runtime.config import DEFAULT_STATE_DIR
from myna_reader.daemon.store.audit import AUDIT_FILE

_AGO = re.compile(r"(\d+)\s*([mhd])")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400}
SINCE_FORMS = "YYYY-MM-DD, 'YYYY-MM-DD HH:MM', today, yesterday, or an age such as 30m, 2h, 7d"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="the audit log: confirmations, staff mode, lockouts, "
                       "updates")
    p.add_argument("--since", metavar="WHEN", type=parse_since,
                   help=f"only records from then on: {SINCE_FORMS}")
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, metavar="DIR",
                   help=f"where the reader keeps its state (default {DEFAULT_STATE_DIR})")
    p.add_argument("--json", action="store_true", help="print the records as JSON lines")
    p.set_defaults(handler=cmd_audit)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An aware datetime for `--since` (local time where no zone is given)."""
    now = now or datetime.now(UTC).astimezone()
    word = text.strip().lower()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if word == "today":
        return midnight
    if word == "yesterday":
        return midnight - timedelta(days=1)
    if ago := _AGO.fullmatch(word):
        return now - timedelta(seconds=int(ago.group(1)) * _UNIT_S[ago.group(2)])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time; use {SINCE_FORMS}") from None
    return when if when.tzinfo is not None else when.astimezone()


def read_records(path: Path) -> tuple[list[Mapping[str, object]], int]:
    """The records of the log at `path` and the number of damaged lines skipped."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise CliError(f"{path}: no audit log (nothing audited yet, or give --state-dir)") \
            from None
    except PermissionError:
        raise CliError(f"{path}: permission denied; run as root (sudo myna-reader audit)") \
            from None
    with os.fdopen(fd, "rb") as f:
        data = f.read()
    records: list[Mapping[str, object]] = []
    damaged = 0
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            damaged += 1
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            damaged += 1
    return records, damaged


def _time(record: Mapping[str, object]) -> datetime | None:
    text = record.get("time")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def describe(record: Mapping[str, object]) -> str:
    when = _time(record)
    stamp = "-" if when is None else when.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    parts = [stamp, f"{record.get('event', '-')!s:<14}", f"{record.get('outcome', '-')!s:<12}"]
    for key in ("mode", "method", "code", "session", "release"):
        value = record.get(key)
        if value is not None:
            parts.append(f"{key}={value}")
    return "  ".join(parts)


def selected(records: list[Mapping[str, object]], since: datetime | None
             ) -> Iterator[Mapping[str, object]]:
    for record in records:
        when = _time(record)
        if since is None or (when is not None and when >= since):
            yield record


def cmd_audit(args: argparse.Namespace) -> int:
    records, damaged = read_records(args.state_dir / AUDIT_FILE)
    for record in selected(records, args.since):
        print(json.dumps(record, sort_keys=True) if args.json else describe(record))
    if damaged:
        print(f"myna-reader: {damaged} damaged line(s) skipped", file=sys.stderr)
    return 0
