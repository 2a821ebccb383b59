"""`myna-reader update build|install|status|rollback|keygen|self-check`: signed updates.

Vendor side: `keygen` once, `build` per release. Technician side, offline: `install FILE`
(from a USB stick), `status`, `rollback`. `self-check` is run by the installer inside a new
release; it is the contract between releases (exit 0 and READY=1 on NOTIFY_SOCKET).
Refusals and failures print one line and exit 1; see docs/updates.md for each message.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from myna_reader.daemon.cli.errors import CliError
from myna_reader.daemon.update import bundle as update_bundle
from myna_reader.daemon.update import install as update_install
from myna_reader.daemon.update.bundle import BundleError
from myna_reader.daemon.update.install import Layout, UpdateError

EXIT_REFUSED = 1
BAR_WIDTH = 30


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    update = sub.add_parser("update", help="signed application updates (build, install, "
                            "status, rollback)")
    actions = update.add_subparsers(dest="update_command", metavar="ACTION", required=True)

    p = actions.add_parser("build", help="(vendor) sign the wheels into a bundle")
    p.add_argument("--key", required=True, type=Path, help="the Ed25519 private key (keygen)")
    p.add_argument("--out", required=True, type=Path, metavar="FILE")
    p.add_argument("--wheel-dir", type=Path, metavar="DIR",
                   help="prebuilt wheels (project + every dependency); default: build them "
                   "from --source with pip wheel")
    p.add_argument("--source", type=Path, default=Path("."), metavar="DIR",
                   help="the source tree to build when no --wheel-dir (default .)")
    p.add_argument("--min-version", default=None, metavar="V",
                   help="the oldest installed version this bundle may replace (default any)")
    p.add_argument("--downgrade-from", metavar="V",
                   help="sign this bundle as a downgrade that replaces version V only")
    p.set_defaults(handler=cmd_build)

    p = actions.add_parser("install", help="verify and install a bundle, roll back if unhealthy")
    p.add_argument("bundle", type=Path, metavar="FILE")
    _add_root(p)
    p.add_argument("--keep", type=int, default=update_install.DEFAULT_KEEP, metavar="N",
                   help=f"releases kept for rollback (default {update_install.DEFAULT_KEEP})")
    p.add_argument("--deadline", type=float, default=update_install.DEFAULT_DEADLINE_S,
                   metavar="S", help="seconds the new release has to report READY and pass its "
                   f"self-check (default {update_install.DEFAULT_DEADLINE_S:.0f})")
    p.set_defaults(handler=cmd_install)

    p = actions.add_parser("status", help="installed releases, the last update, trusted keys")
    _add_root(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_status)

    p = actions.add_parser("rollback", help="go back to the previous good release")
    _add_root(p)
    p.add_argument("--deadline", type=float, default=update_install.DEFAULT_DEADLINE_S,
                   metavar="S")
    p.set_defaults(handler=cmd_rollback)

    p = actions.add_parser("keygen", help="(vendor) make a signing key PREFIX and PREFIX.pub")
    p.add_argument("--out", required=True, type=Path, metavar="PREFIX")
    p.set_defaults(handler=cmd_keygen)

    p = actions.add_parser("self-check", help="(run by the installer in a new release)")
    _add_root(p)
    p.add_argument("--expect", required=True, metavar="VERSION")
    p.set_defaults(handler=cmd_self_check)


def _add_root(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", type=Path, default=Path("/"), metavar="DIR",
                   help="the reader's file system root (default /; tests and images)")


class ProgressBar:
    """A one-line bar on a terminal's stderr; silent when stderr is not a terminal."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._last = ""

    def __call__(self, label: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        share = done / total if total else 1.0
        filled = int(share * BAR_WIDTH)
        line = f"\r{label:<7}[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%}"
        if line != self._last:
            self.stream.write(line)
            self.stream.flush()
            self._last = line

    def finish(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()


def _refused(exc: Exception) -> int:
    print(f"myna-reader: {exc}", file=sys.stderr)
    return EXIT_REFUSED


def cmd_keygen(args: argparse.Namespace) -> int:
    try:
        private, public, kid = update_bundle.generate_key(args.out)
    except BundleError as exc:
        return _refused(exc)
    print(f"private key {private} (keep it offline), public key {public}, key id {kid}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    bar = ProgressBar()
    start = time.monotonic()
    try:
        if args.wheel_dir is not None:
            manifest = update_bundle.build_bundle(args.wheel_dir, args.out, args.key,
                                                  min_version=args.min_version,
                                                  downgrade_from=args.downgrade_from,
                                                  progress=bar)
        else:
            with tempfile.TemporaryDirectory(prefix="myna-wheels-") as tmp:
                _pip_wheel(args.source, Path(tmp))
                manifest = update_bundle.build_bundle(Path(tmp), args.out, args.key,
                                                      min_version=args.min_version,
                                                      downgrade_from=args.downgrade_from,
                                                      progress=bar)
    except BundleError as exc:
        bar.finish()
        return _refused(exc)
    bar.finish()
    size = args.out.stat().st_size
    print(f"{args.out}: myna-reader {manifest.version}, {len(manifest.files)} wheels, "
          f"{size / 1e6:.1f} MB, key {manifest.key_id}, {time.monotonic() - start:.1f} s")
    return 0


def _pip_wheel(source: Path, out: Path) -> None:
    """The project's wheel and every dependency's, for this machine's platform."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(out),  # noqa: S603
                           str(source)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no output"]
        raise update_bundle.BuildError(f"pip wheel failed: {lines[-1]}")


def _check_limits(args: argparse.Namespace) -> None:
    # --keep 0 would slice good[-0:], every release; a deadline of nan or 0 never passes
    if getattr(args, "keep", 1) < 1:
        raise CliError("--keep must be at least 1")
    if not (math.isfinite(args.deadline) and args.deadline > 0):
        raise CliError("--deadline must be a positive number of seconds")


def cmd_install(args: argparse.Namespace) -> int:
    _check_limits(args)
    bar = ProgressBar()
    start = time.monotonic()
    try:
        result = update_install.install(args.bundle, Layout(args.root), keep=args.keep,
                                        deadline_s=args.deadline, progress=bar)
    except (BundleError, UpdateError) as exc:
        bar.finish()
        return _refused(exc)
    bar.finish()
    if result.recovered:
        print(f"first, an interrupted update: {result.recovered}")
    print(f"{result.message} ({time.monotonic() - start:.1f} s)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = update_install.status(Layout(args.root))
    if args.json:
        print(json.dumps(state, sort_keys=True))
        return 0
    print(f"current:  {state['current'] or 'none (no complete release is linked)'}")
    print(f"releases: {', '.join(state['releases']) or 'none'}")
    pending = state["pending"]
    if pending:
        print(f"pending:  {pending['version']} was not confirmed (installer interrupted); "
              "run the install again or `update rollback`")
    last = state["last"]
    if last:
        print(f"last:     {last['time']} {last['action']} {last['outcome']}: {last['message']}")
    print(f"keys:     {', '.join(state['trusted_keys']) or 'none trusted (see docs/updates.md)'}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    _check_limits(args)
    try:
        print(update_install.rollback(Layout(args.root), args.deadline))
    except UpdateError as exc:
        return _refused(exc)
    return 0


def cmd_self_check(args: argparse.Namespace) -> int:
    from myna_reader.daemon.runtime import sd_notify
    from myna_reader.daemon.runtime.self_check import self_check

    checks = self_check(Layout(args.root), args.expect)
    for check in checks:
        print(check.line(), flush=True)
    if not all(check.ok for check in checks):
        return 1
    sd_notify.ready(f"self-check of {args.expect} passed")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m myna_reader.daemon.cli.update ACTION`: the update commands alone.

    The installer runs a new release's self-check this way, and a technician can update a
    release whose other commands fail to import: the way out must not depend on them.
    """
    parser = argparse.ArgumentParser(prog="myna-reader")
    add_parser(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
