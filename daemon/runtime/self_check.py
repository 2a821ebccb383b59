"""The self-check a new release runs on itself before the updater marks it good.

The installer (daemon/update/install.py) runs `myna-reader update self-check` with the new
release's interpreter; this is what that command checks: the version it claims, that the
modules the service needs import, and that the config on the device still loads.
"""

from __future__ import annotations

import importlib
from importlib.metadata import version as installed_version

from myna_reader.daemon.runtime.checks import Check, check_config
from myna_reader.daemon.update.install import Layout

SELF_CHECK_MODULES = ("myna_reader.daemon.runtime.runner", "myna_reader.daemon.cli.run",
                      "myna_reader.ui.app", "myna_reader.drivers.backends.pcsc",
                      "myna_reader.drivers.backends.nfc")


def self_check(layout: Layout, expected: str) -> list[Check]:
    """Run inside the new release: what it must pass before it is marked good."""
    mine = installed_version("myna-reader")
    checks = [Check("version", mine == expected, f"myna-reader {mine} (expected {expected})",
                    "the bundle's wheel is not the release it names")]
    for module in SELF_CHECK_MODULES:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001  (any import failure is the finding)
            checks.append(Check("import", False, f"{module}: {type(exc).__name__}: {exc}",
                                "the bundle lacks a dependency; rebuild it"))
    if layout.config.is_file():
        checks.append(check_config(layout.config)[0])
    return checks
