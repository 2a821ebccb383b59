"""Reader spec strings (DESIGN.md) to backends, imported lazily so that a machine without
pyscard's libpcsclite or nfcpy's USB stack can still use the other backends.

    pcsc | pcsc:<name substring> | nfc:usb | nfc:usb:054c:06c1 | nfc:tty:AMA0:pn532
    nfc:udp:<host>:<port> | sim:<profile> | replay:<transcript path>
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from myna_reader.drivers.backends.base import Reader
from myna_reader.drivers.errors import FormatError

SPEC_FORMS = (
    "pcsc", "pcsc:<name substring>", "nfc:usb", "nfc:usb:<vid>:<pid>", "nfc:tty:<port>:<driver>",
    "nfc:udp:<host>:<port>", "sim:<profile>", "replay:<transcript path>",
)

#: nfcpy device path kinds after `nfc:` (drivers/backends/nfc.py checks paths with it too).
NFC_PATH_KINDS = ("usb", "tty", "udp")


class ReaderSpecError(FormatError):
    """A reader spec string that names no backend."""


@dataclass(frozen=True, slots=True)
class ReaderSpec:
    backend: str  # pcsc | nfc | sim | replay
    argument: str  # what follows the first colon ("" when nothing does)

    def __str__(self) -> str:
        return f"{self.backend}:{self.argument}" if self.argument else self.backend


def parse_spec(text: str) -> ReaderSpec:
    backend, _, argument = text.strip().partition(":")
    hint = f"reader spec {text!r} is not one of: {', '.join(SPEC_FORMS)}"
    if backend == "pcsc":
        return ReaderSpec(backend, argument)
    if backend == "nfc":
        kind = argument.split(":", 1)[0]
        if kind not in NFC_PATH_KINDS:
            raise ReaderSpecError(hint)
        if kind == "udp":
            host_port = argument.split(":")
            if len(host_port) != 3 or not host_port[2].isdigit():
                raise ReaderSpecError(f"{hint} (nfc:udp needs a host and a port)")
        if kind == "tty" and argument.count(":") < 1:
            raise ReaderSpecError(f"{hint} (nfc:tty needs a port name)")
        return ReaderSpec(backend, argument)
    if backend in ("sim", "replay"):
        if not argument:
            raise ReaderSpecError(f"{hint} ({backend} needs an argument)")
        return ReaderSpec(backend, argument)
    raise ReaderSpecError(hint)


def open_reader(spec: str | ReaderSpec) -> Reader:
    """The backend a spec names, ready for `wait_for_event` / `connect`."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    reader: Reader
    if parsed.backend == "pcsc":
        from myna_reader.drivers.backends.pcsc import PcscReader

        reader = PcscReader(parsed.argument or None)
    elif parsed.backend == "nfc":
        from myna_reader.drivers.backends.nfc import NfcReader

        reader = NfcReader(parsed.argument)
    elif parsed.backend == "sim":
        from myna_reader.drivers.backends.sim import SimReader

        reader = SimReader(parsed.argument)
    else:
        from myna_reader.drivers.backends.replay import ReplayReader

        reader = ReplayReader(Path(parsed.argument))
    reader.spec = str(parsed)
    return reader
