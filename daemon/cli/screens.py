"""`myna-reader screens`: render every screen to DIR/<screen-id>.png and .json."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:  # noqa: ANN401  argparse's private type
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "screens", help="render every screen to PNG and JSON (the gallery)")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR")
    parser.add_argument("--size", default="800x480", metavar="WxH",
                        help="800x480 (default), 1024x600, 720x1280")
    parser.add_argument("--lang", choices=("ja", "en"), default="ja")
    parser.add_argument("--rotation", type=int, choices=(0, 180), default=0)
    parser.add_argument("--keypad", choices=("standard", "tactile"), default="standard",
                        help="the PIN pads' layout, as ui.keypad (docs/accessibility.md)")
    parser.set_defaults(handler=cmd_screens)
    return parser


def cmd_screens(args: argparse.Namespace) -> int:
    from myna_reader.daemon.cli.errors import CliError
    from myna_reader.ui.fonts import FontError
    from myna_reader.ui.gallery import export
    from myna_reader.ui.layout import SIZES, KeypadLayout, LayoutError, parse_size
    from myna_reader.ui.messages import Lang

    try:
        size = parse_size(args.size)
        if size not in SIZES:  # what `run` accepts, no more
            raise LayoutError(f"size {args.size}: use one of "
                              + ", ".join(f"{w}x{h}" for w, h in SIZES))
        written = export(args.out, size, Lang(args.lang), args.rotation,
                         KeypadLayout(args.keypad))
    except (LayoutError, FontError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write to {args.out}: {exc.strerror}") from None
    print(f"wrote {len(written) // 2} screens to {args.out}")
    return 0
