"""The command line's own error and exit codes (in a module of their own so that every
command module can raise it without importing the parser that imports them all)."""

from __future__ import annotations

from myna_reader.daemon.errors import DaemonError

EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(DaemonError):
    """A failure the user can fix, reported as one line (bad input, missing device)."""
