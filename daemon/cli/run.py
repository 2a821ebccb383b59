"""`myna-reader run`: the daemon (daemon/runtime/service.py), or with `--simulate` the whole
product on the simulated card with a local terminal (daemon/cli/simulate.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from myna_reader.daemon.runtime.config import ConfigError, load_config
from myna_reader.daemon.runtime.logs import setup_logging


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the reader (--simulate: on the simulated card)")
    p.add_argument("--config", type=Path, default=None, metavar="PATH",
                   help="config file (default /etc/myna-reader/config.toml, if present)")
    p.add_argument("--reader", metavar="SPEC", help="reader spec, overrides the config")
    p.add_argument("--link", metavar="URL", help="terminal link, e.g. tcp://127.0.0.1:4730")
    p.add_argument("--link-secret-file", type=Path, metavar="FILE",
                   help="the link's pairing secret (or MYNA_LINK_SECRET; never in the URL)")
    p.add_argument("--state-dir", type=Path, metavar="DIR", help="passcode, outbox, audit")
    p.add_argument("--size", metavar="WxH", help="800x480, 1024x600 or 720x1280")
    p.add_argument("--simulate", action="store_true",
                   help="the simulated card and a local terminal; a scripted tour")
    p.add_argument("--screenshots", type=Path, default=None, metavar="DIR",
                   help="with --simulate: save a PNG of every screen in DIR (none unless given)")
    p.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from myna_reader.daemon.cli.errors import CliError
    from myna_reader.daemon.link.channel import (
        LinkSecretError,
        read_secret_file,
        secret_from_environment,
    )

    try:
        secret = (read_secret_file(args.link_secret_file) if args.link_secret_file
                  else secret_from_environment())
        config = load_config(args.config).with_overrides(
            reader=args.reader, link=args.link, link_secret=secret, state_dir=args.state_dir,
            size=args.size)
    except (ConfigError, LinkSecretError) as exc:
        raise CliError(str(exc)) from None
    setup_logging(config.log_level)
    if args.simulate:
        from myna_reader.daemon.cli.simulate import run_simulated

        return run_simulated(config, explicit_state_dir=args.state_dir is not None,
                             explicit_link=args.link is not None, screenshots=args.screenshots)
    from myna_reader.daemon.runtime.service import assemble, serve

    with assemble(config) as daemon:
        serve(daemon)
    return 0
