"""`myna-reader metrics [--state-dir DIR] [--root DIR] [--out FILE]`: the fleet metrics that
the files hold (audit log counters, the update state) in Prometheus's text format.

The running daemon writes the full set itself (link state and latencies included) where
MYNA_METRICS_TEXTFILE points; this command is for a reader whose daemon is stopped, and for
checking what a dashboard will see (docs/install.md, fleet metrics).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from myna_reader.daemon.runtime.config import DEFAULT_STATE_DIR
from myna_reader.daemon.runtime.metrics import PUBLIC_FILE, from_files
from myna_reader.daemon.store.files import write_atomic
from myna_reader.daemon.update.install import Layout


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("metrics", help="fleet metrics from the audit log and the update state "
                       "(Prometheus text format)")
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, metavar="DIR",
                   help=f"where the audit log is (default {DEFAULT_STATE_DIR})")
    p.add_argument("--root", type=Path, default=Path("/"), metavar="DIR",
                   help="the reader's file system root, for the update state (default /)")
    p.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="replace FILE atomically (a node_exporter textfile) instead of printing")
    p.set_defaults(handler=cmd_metrics)


def cmd_metrics(args: argparse.Namespace) -> int:
    text = from_files(args.state_dir, Layout(args.root)).exposition()
    if args.out is None:
        sys.stdout.write(text.decode())
    else:
        write_atomic(args.out, text, mode=PUBLIC_FILE)
    return 0
