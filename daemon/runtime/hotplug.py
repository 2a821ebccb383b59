"""Reader hotplug: udev events for the readers this firmware drives, and pcscd's reader list.

A pyudev monitor thread watches the `usb` and `tty` subsystems and reports, through one
callback, the devices that matter:
- CCID: a USB interface of class 0x0B (smart card). pcscd claims it; its reader list
  changes a moment later (`await_pcsc_change`), and the pcsc backend sees that through
  PC/SC's own PnP notification.
- NFC: a USB device nfcpy has a driver for (its own table: RC-S380 054c:06c1/06c3, PN533,
  ACR122U ...). The nfc backend has to be opened again after it appears.
- SERIAL: a tty on a USB serial adapter a PN532 board is commonly wired through.

Events are classified from the uevent's properties (PRODUCT, INTERFACE, ID_VENDOR_ID ...),
not sysfs attributes, because a `remove` event arrives after the sysfs node is gone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import pyudev  # pyudev ships no types

from myna_reader.daemon.runtime.logs import fields

log = logging.getLogger(__name__)

CCID_INTERFACE_CLASS = 0x0B
# USB serial adapters PN532 boards ship with or are wired to (vendor, product)
SERIAL_ADAPTERS: dict[tuple[int, int], str] = {
    (0x0403, 0x6001): "FTDI FT232R",
    (0x0403, 0x6015): "FTDI FT230X",
    (0x10C4, 0xEA60): "Silicon Labs CP210x",
    (0x1A86, 0x7523): "WCH CH340",
    (0x067B, 0x2303): "Prolific PL2303",
}
PCSC_POLL_INTERVAL_S = 0.2


class DeviceKind(StrEnum):
    CCID = "ccid"
    NFC = "nfc"
    SERIAL = "serial"


class Action(StrEnum):
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class ReaderDevice:
    """A reader-shaped device udev told about (no personal data: ids and paths only)."""

    kind: DeviceKind
    sys_path: str
    vendor_id: int
    product_id: int
    model: str  # nfcpy's driver name, the adapter's name, or "" for CCID
    dev_node: str | None  # /dev/ttyUSB0 for a serial adapter; None otherwise

    @property
    def usb_id(self) -> str:
        return f"{self.vendor_id:04x}:{self.product_id:04x}"

    def reader_spec(self) -> str | None:
        """The reader spec that opens this device (None for CCID: use `pcsc`)."""
        if self.kind is DeviceKind.NFC:
            return f"nfc:usb:{self.usb_id}"
        if self.kind is DeviceKind.SERIAL and self.dev_node:
            return f"nfc:tty:{self.dev_node.removeprefix('/dev/tty')}:pn532"
        return None


@dataclass(frozen=True, slots=True)
class HotplugEvent:
    action: Action
    device: ReaderDevice


def _nfcpy_usb_drivers() -> dict[tuple[int, int], str]:
    from nfc.clf.device import usb_device_map  # nfcpy's own table of USB ids it drives

    return dict(usb_device_map)


def _hex(text: str | None) -> int | None:
    try:
        return int(text or "", 16)
    except ValueError:
        return None


def _product(device: pyudev.Device) -> tuple[int, int] | None:
    """(vendor, product) from a usb uevent's PRODUCT=vvvv/pppp/bcd."""
    parts = device.properties.get("PRODUCT", "").split("/")
    if len(parts) < 2:
        return None
    vendor, product = _hex(parts[0]), _hex(parts[1])
    return None if vendor is None or product is None else (vendor, product)


def classify(device: pyudev.Device) -> ReaderDevice | None:
    """The reader device a udev device is, or None when it is no reader."""
    props = device.properties
    if device.subsystem == "usb":
        ids = _product(device)
        if ids is None:
            return None
        if device.device_type == "usb_interface":
            # INTERFACE=class/subclass/protocol, in decimal
            klass = props.get("INTERFACE", "").split("/")[0]
            if klass.isdigit() and int(klass) == CCID_INTERFACE_CLASS:
                return ReaderDevice(DeviceKind.CCID, device.sys_path, *ids, "", None)
            return None
        if device.device_type == "usb_device":
            driver = _nfcpy_usb_drivers().get(ids)
            if driver is not None:
                return ReaderDevice(DeviceKind.NFC, device.sys_path, *ids, driver, None)
        return None
    if device.subsystem == "tty" and props.get("ID_BUS") == "usb":
        vendor, product = _hex(props.get("ID_VENDOR_ID")), _hex(props.get("ID_MODEL_ID"))
        if vendor is None or product is None:
            return None
        adapter = SERIAL_ADAPTERS.get((vendor, product))
        if adapter is not None:
            return ReaderDevice(DeviceKind.SERIAL, device.sys_path, vendor, product, adapter,
                                device.device_node)
    return None


def present_devices(context: pyudev.Context | None = None) -> list[ReaderDevice]:
    """The reader devices plugged in now (at start, before events are watched)."""
    ctx = context or pyudev.Context()
    found = []
    for subsystem in ("usb", "tty"):
        for device in ctx.list_devices(subsystem=subsystem):
            reader = classify(device)
            if reader is not None:
                found.append(reader)
    return found


class HotplugMonitor:
    """Calls `on_event` from its own thread for every reader device added or removed.

    `on_event` must be quick and must not raise (the runner posts to its queue); an exception
    is logged and the monitor keeps running.
    """

    def __init__(self, on_event: Callable[[HotplugEvent], None],
                 context: pyudev.Context | None = None) -> None:
        self._on_event = on_event
        self._monitor = pyudev.Monitor.from_netlink(context or pyudev.Context())
        self._monitor.filter_by("usb")
        self._monitor.filter_by("tty")
        self._observer = pyudev.MonitorObserver(self._monitor, callback=self._handle,
                                                name="hotplug")

    def start(self) -> None:
        """Returns once the monitor receives: the netlink socket is bound here, in this
        thread (pyudev's observer would bind it only once its thread runs, and an event sent
        in between is lost; a test that plugs right after start() then saw no event)."""
        self._monitor.start()  # idempotent: the observer's own start() does nothing more
        self._observer.start()

    def stop(self) -> None:
        if self._observer.is_alive():
            self._observer.stop()

    def _handle(self, device: pyudev.Device) -> None:
        try:
            action = Action(device.action or "")
        except ValueError:  # bind, unbind, change: the device stays
            return
        reader = classify(device)
        if reader is None:
            return
        log.info("reader device %s", action.value, extra=fields(
            kind=reader.kind.value, usb_id=reader.usb_id, model=reader.model or "-",
            node=reader.dev_node or "-"))
        try:
            self._on_event(HotplugEvent(action, reader))
        except Exception:  # a bad callback must not end hotplug for the rest of the day
            log.exception("hotplug callback failed")


@dataclass(frozen=True, slots=True)
class ReaderListChange:
    added: tuple[str, ...]
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def diff_readers(before: Sequence[str], after: Sequence[str]) -> ReaderListChange:
    """Readers that appeared and left between two of pcscd's lists (order kept)."""
    return ReaderListChange(tuple(r for r in after if r not in before),
                            tuple(r for r in before if r not in after))


def pcsc_reader_names() -> list[str]:
    """pcscd's reader list; empty when pcscd has none or is not running."""
    from myna_reader.drivers.backends.pcsc import list_readers
    from myna_reader.drivers.errors import MynaError

    try:
        return list_readers()
    except MynaError:
        return []


def await_pcsc_change(before: Sequence[str], timeout: float,
                      list_readers: Callable[[], list[str]] = pcsc_reader_names,
                      stop: threading.Event | None = None) -> ReaderListChange:
    """After a CCID add/remove, wait (up to `timeout` s) until pcscd's list differs.

    pcscd claims a new reader a moment after udev announces it, so the list read at the
    event can still be the old one. Returns the change (empty when none came in time or
    `stop` was set).
    """
    halt = stop or threading.Event()
    deadline = time.monotonic() + timeout
    while True:
        change = diff_readers(before, list_readers())
        remaining = deadline - time.monotonic()
        if change or remaining <= 0 or halt.wait(min(PCSC_POLL_INTERVAL_S, remaining)):
            return change
