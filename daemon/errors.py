"""The daemon's exception root.

Every failure the daemon reports to a person derives from DaemonError (as every driver failure
derives from drivers' MynaError), so the command line turns each into one line. It sits at the
daemon's root, under every layer (docs/architecture.md), so that any part can raise it.
"""

from __future__ import annotations


class DaemonError(Exception):
    """A failure of the reader daemon that a person can act on; its text is that one line."""
