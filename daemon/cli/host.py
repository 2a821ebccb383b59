"""`myna-reader host`: the reference terminal console, the 資格確認端末's end of the host link.

The logic is daemon/link/terminal.py's `Terminal`; this module is its command line and its
printing. Over TCP the pairing secret comes from --link-secret-file or MYNA_LINK_SECRET, never
from the command line (where `ps` shows it); the file is read again at each connection.

Output: one line per message and event; with --json one JSON object per line: every message
from the reader as received (a result carries the certificate, whose subject is personal
data: send this output to the system that needs it, not to a log), and the console's own
events as {"event": ...}. A repeated result prints as a `duplicate-result` event, so each
result id appears once. The passcode event is the one place a passcode is printed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from myna_reader.daemon.cli.errors import CliError
from myna_reader.daemon.engine import CHALLENGE_MAX_BYTES, CHALLENGE_MIN_BYTES
from myna_reader.daemon.link.channel import (
    LinkSecret,
    LinkSecretError,
    read_secret_file,
    secret_from_environment,
)
from myna_reader.daemon.link.terminal import Emit, SecretSource, SeenResults, Terminal
from myna_reader.daemon.link.transport import (
    LinkUrlError,
    TcpEndpoint,
    parse_link_url,
    refuse_url_secret,
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("host", help="the reference terminal console for the host link")
    p.add_argument("--link", required=True, metavar="URL",
                   help="the reader: tcp://HOST:PORT (its listener), "
                   "serial:///dev/DEVICE?baudrate=N, or a pyserial URL")
    p.add_argument("--link-secret-file", type=Path, metavar="FILE",
                   help="the pairing secret for a tcp:// link (or set MYNA_LINK_SECRET)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per line: every message received, every own event")
    p.add_argument("--issue-passcode", action="store_true",
                   help="send a random 4-digit staff passcode and show it once")
    p.add_argument("--no-ack", action="store_true",
                   help="do not ack results (they stay in the reader's outbox)")
    p.add_argument("--challenge-hex", metavar="HEX",
                   help=f"send this challenge ({CHALLENGE_MIN_BYTES}..{CHALLENGE_MAX_BYTES} "
                   "bytes) instead of fresh random ones")
    p.add_argument("--seen-file", type=Path, metavar="FILE",
                   help="remember acked result ids here, so a restarted console drops repeats")
    p.set_defaults(handler=cmd_host)


# --- the command ---------------------------------------------------------------------------


def describe(obj: Mapping[str, Any]) -> str:
    """One human line for a message or an event (no certificate bytes)."""
    if "event" in obj:
        if obj["event"] == "passcode-issued":
            return (f"staff passcode issued: {obj['passcode']}  (show it to the staff; it is "
                    "not shown again)")
        rest = " ".join(f"{k}={v}" for k, v in obj.items() if k != "event")
        return f"{obj['event']}: {rest}".rstrip(": ")
    kind = obj["type"]
    if kind == "hello":
        return (f"reader {obj.get('device')} (myna-reader {obj.get('version')}, "
                f"capabilities {', '.join(obj.get('capabilities', []))})")
    if kind == "status":
        return (f"status: mode {obj.get('mode')}, screen {obj.get('screen')}, "
                f"reader {obj.get('reader')}")
    if kind == "result":
        agreed = [c.get("item") for c in obj.get("consents", []) if c.get("agreed")]
        return (f"result {obj['id']}: method {obj.get('method')}, consents agreed: "
                f"{', '.join(agreed) or 'none'}")
    details = " ".join(f"{k}={v}" for k, v in obj.items() if k not in ("type", "v"))
    return f"{kind}: {details}"


def _printer(as_json: bool) -> Emit:
    def emit(obj: Mapping[str, Any]) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) if as_json else (
            describe(obj))
        print(line, flush=True)
    return emit


def _challenge(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        challenge = bytes.fromhex(text)
    except ValueError:
        raise CliError("--challenge-hex: hexadecimal digits only") from None
    if not CHALLENGE_MIN_BYTES <= len(challenge) <= CHALLENGE_MAX_BYTES:
        raise CliError(f"--challenge-hex: {CHALLENGE_MIN_BYTES}..{CHALLENGE_MAX_BYTES} bytes")
    return challenge


def _secret(path: Path | None) -> SecretSource | LinkSecret | None:
    """The file (read at each connection, so a secret made after the console started is
    found) or the environment's secret."""
    if path is not None:
        return lambda: read_secret_file(path)
    try:
        return secret_from_environment()
    except LinkSecretError as exc:
        raise CliError(str(exc)) from None


def cmd_host(args: argparse.Namespace) -> int:
    try:
        refuse_url_secret(args.link, "--link")
        endpoint = parse_link_url(args.link)
    except LinkUrlError as exc:
        raise CliError(str(exc)) from None
    secret = _secret(args.link_secret_file)
    if isinstance(endpoint, TcpEndpoint) and secret is None:
        raise CliError("--link: a tcp:// link needs the pairing secret: --link-secret-file "
                       "FILE or MYNA_LINK_SECRET")
    try:
        seen = SeenResults(args.seen_file)
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"--seen-file: {exc}") from None
    terminal = Terminal(endpoint, _printer(args.json), secret=secret, ack=not args.no_ack,
                        issue_passcode=args.issue_passcode,
                        challenge=_challenge(args.challenge_hex), seen=seen)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    terminal.run(stop)
    sys.stdout.flush()
    return 0
