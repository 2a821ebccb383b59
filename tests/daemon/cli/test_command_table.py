"""The command table of daemon/cli/__init__.py: every command loads only its own group."""

from __future__ import annotations

import argparse
import subprocess
import sys

from myna_reader.daemon.cli import COMMANDS, build_parser


def _listed(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {choice.dest: choice.help for choice in sub._choices_actions}


def test_every_command_is_defined_by_its_group_with_the_tables_help() -> None:
    full = _listed(build_parser())
    assert full == {name: help_ for name, (_, help_) in COMMANDS.items()}


def test_each_command_loads_its_group_and_no_other() -> None:
    for name, (group, _) in COMMANDS.items():
        code = (f"import sys; from myna_reader.daemon.cli import build_parser;"
                f"build_parser({name!r}); print(' '.join(sorted(m for m in sys.modules"
                f" if m.startswith('myna_reader.daemon.cli.'))))")
        loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split()
        groups = {m.rsplit(".", 1)[1] for m in loaded} - {"errors", "options"}
        assert group in groups, name
        others = {g for n, (g, _) in COMMANDS.items() if g != group}
        assert not groups & others - {"soak"}, (name, groups)  # bench's parts include soak


def test_help_loads_no_command_group() -> None:
    code = ("import sys\nfrom myna_reader.daemon.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(len([m for m in sys.modules if m.startswith('myna_reader')]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    count = int(done.stdout.split()[-1])
    assert "readers" in done.stdout
    assert count <= 8, count  # the package roots, cli, its errors, daemon.errors, version
