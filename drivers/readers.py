"""The reader registry: one table from a spec's kind to its backend, one place that checks a spec.

    pcsc | pcsc:<name substring> | nfc:usb | nfc:usb:054c:06c1 | nfc:tty:AMA0:pn532
    nfc:udp:<host>:<port> | sim:<profile> | replay:<transcript path>

As python-can's `BACKENDS` does, each row names the module and class of its backend as text:
the module is imported only when a reader of that kind is opened, so a machine without
pyscard's libpcsclite or nfcpy's USB stack can still use the other backends, and no backend
module imports this one. Everything that takes a spec (the CLI, the config schema, doctor,
the service) goes through `parse_spec`; the backends trust the argument it let through.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from myna_reader.drivers.backends.base import Reader
from myna_reader.drivers.errors import FormatError

#: nfcpy device path kinds after `nfc:`.
NFC_PATH_KINDS = ("usb", "tty", "udp")


class ReaderSpecError(FormatError):
    """A reader spec string that names no backend, or names one with a bad argument."""


def _pcsc_problem(argument: str) -> str | None:
    return None  # any text is a reader-name substring; "" means the first reader


def _nfc_problem(argument: str) -> str | None:
    kind, _, rest = argument.partition(":")
    if kind not in NFC_PATH_KINDS:
        return f"nfc takes one of {', '.join(NFC_PATH_KINDS)} after the colon"
    if kind == "udp":
        host, _, port = rest.partition(":")
        if not host or not port.isdigit() or ":" in port:
            return "nfc:udp needs a host and a port"
    if kind == "tty" and not rest.split(":", 1)[0]:
        return "nfc:tty needs a port name"
    return None


def _named_problem(kind: str) -> Callable[[str], str | None]:
    return lambda argument: None if argument else f"{kind} needs an argument"


@dataclass(frozen=True, slots=True)
class Backend:
    """One row of the registry: the forms a spec of this kind takes, how its argument is
    checked, and where the backend class lives (imported only when a reader is opened)."""

    forms: tuple[str, ...]
    problem: Callable[[str], str | None]  # None for a good argument, else what is wrong
    module: str
    cls: str
    make_argument: Callable[[str], object] = str  # the spec argument as the class takes it

    def open(self, argument: str) -> Reader:
        reader_class = getattr(importlib.import_module(self.module), self.cls)
        reader: Reader = reader_class(self.make_argument(argument))
        return reader


_PACKAGE = "myna_reader.drivers.backends"

BACKENDS: Mapping[str, Backend] = {
    "pcsc": Backend(("pcsc", "pcsc:<name substring>"), _pcsc_problem,
                    f"{_PACKAGE}.pcsc", "PcscReader", lambda argument: argument or None),
    "nfc": Backend(("nfc:usb", "nfc:usb:<vid>:<pid>", "nfc:tty:<port>:<driver>",
                    "nfc:udp:<host>:<port>"), _nfc_problem, f"{_PACKAGE}.nfc", "NfcReader"),
    "sim": Backend(("sim:<profile>",), _named_problem("sim"), f"{_PACKAGE}.sim", "SimReader"),
    "replay": Backend(("replay:<transcript path>",), _named_problem("replay"),
                      f"{_PACKAGE}.replay", "ReplayReader", Path),
}

#: Every form a spec may take, for help texts and error messages.
SPEC_FORMS = tuple(form for backend in BACKENDS.values() for form in backend.forms)


@dataclass(frozen=True, slots=True)
class ReaderSpec:
    backend: str  # a key of BACKENDS
    argument: str  # what follows the first colon ("" when nothing does)

    def __str__(self) -> str:
        return f"{self.backend}:{self.argument}" if self.argument else self.backend


def parse_spec(text: str) -> ReaderSpec:
    """The spec `text` names; ReaderSpecError (one line, with the forms) if it names none."""
    kind, _, argument = text.strip().partition(":")
    hint = f"reader spec {text!r} is not one of: {', '.join(SPEC_FORMS)}"
    backend = BACKENDS.get(kind)
    if backend is None:
        raise ReaderSpecError(hint)
    problem = backend.problem(argument)
    if problem is not None:
        raise ReaderSpecError(f"{hint} ({problem})")
    return ReaderSpec(kind, argument)


def open_reader(spec: str | ReaderSpec) -> Reader:
    """The backend a spec names, ready for `wait_for_event` / `connect`."""
    parsed = parse_spec(str(spec))
    reader = BACKENDS[parsed.backend].open(parsed.argument)
    reader.spec = str(parsed)
    return reader
