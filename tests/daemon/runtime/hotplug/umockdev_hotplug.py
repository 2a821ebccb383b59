"""Run under `umockdev-wrapper`: a simulated udev testbed where readers come and go.

Started by test_hotplug_umockdev.py (udev events reach only the process that owns the
testbed, and only when libumockdev-preload is loaded, which the wrapper does). Prints one
JSON object per line: the devices present at start, then every HotplugEvent the real
HotplugMonitor (pyudev's netlink monitor) delivered, then "done".
"""

from __future__ import annotations

import json
import os
import queue
import sys

# Debian's PyGObject (python3-gi), appended after the venv's packages so none of Debian's
# other modules (an older cryptography) shadows the venv's; the test passes the directory.
sys.path.append(os.environ.get("GI_DIST_PACKAGES", ""))
import gi  # type: ignore[import-not-found]  # PyGObject: no stubs in the venv

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # type: ignore[import-not-found]  # noqa: E402  (require_version first)

from myna_reader.daemon.runtime.hotplug import (  # noqa: E402
    HotplugEvent,
    HotplugMonitor,
    present_devices,
)

EVENT_WAIT_S = 10.0


def emit(**values: object) -> None:
    print(json.dumps(values), flush=True)


def usb_device(bed: UMockdev.Testbed, name: str, vid: int, pid: int) -> str:
    product = f"{vid:x}/{pid:x}/100"
    path: str = bed.add_device(  # gi's calls are untyped: the sysfs path
        "usb", name, None,
        ["idVendor", f"{vid:04x}", "idProduct", f"{pid:04x}", "bDeviceClass", "00"],
        ["DEVTYPE", "usb_device", "PRODUCT", product, "DEVNAME", f"/dev/bus/usb/001/{name[-1]}"])
    return path


def ccid_reader(bed: UMockdev.Testbed) -> str:
    """A CCID reader (here: an ACS ACR39U, 072f:b100): a device and its class 0x0B interface."""
    parent = usb_device(bed, "usb1/1-1", 0x072F, 0xB100)
    path: str = bed.add_device(  # gi's calls are untyped: the sysfs path
        "usb", "1-1:1.0", parent,
        ["bInterfaceClass", "0b", "bInterfaceSubClass", "00", "bInterfaceProtocol", "00"],
        ["DEVTYPE", "usb_interface", "PRODUCT", "72f/b100/100", "INTERFACE", "11/0/0"])
    return path


def serial_adapter(bed: UMockdev.Testbed) -> str:
    """An FTDI adapter's tty, as udev's usb_id builtin would have tagged it."""
    path: str = bed.add_device(  # gi's calls are untyped: the sysfs path
        "tty", "ttyUSB0", None, [],
        ["DEVNAME", "/dev/ttyUSB0", "ID_BUS", "usb", "ID_VENDOR_ID", "0403",
         "ID_MODEL_ID", "6001"])
    return path


def unplug(bed: UMockdev.Testbed, sys_path: str) -> None:
    bed.uevent(sys_path, "remove")  # remove_device() itself emits nothing
    bed.remove_device(sys_path)


def main() -> int:
    if "umockdev-preload" not in os.environ.get("LD_PRELOAD", ""):
        emit(error="not running under umockdev-wrapper")
        return 2
    bed = UMockdev.Testbed.new()
    # a keyboard that is no reader: it must not be reported
    usb_device(bed, "usb1/1-9", 0x046D, 0xC31C)
    emit(present=[d.kind.value for d in present_devices()])

    events: queue.Queue[HotplugEvent] = queue.Queue()
    monitor = HotplugMonitor(events.put)
    monitor.start()

    def next_event() -> None:
        try:
            event = events.get(timeout=EVENT_WAIT_S)
        except queue.Empty:
            emit(error="no event")
            return
        device = event.device
        emit(action=event.action.value, kind=device.kind.value, usb_id=device.usb_id,
             model=device.model, spec=device.reader_spec())

    try:
        ccid = ccid_reader(bed)
        next_event()
        rcs380 = usb_device(bed, "usb1/1-2", 0x054C, 0x06C1)
        next_event()
        tty = serial_adapter(bed)
        next_event()
        emit(present=sorted(d.kind.value for d in present_devices()))
        unplug(bed, ccid)
        next_event()
        unplug(bed, rcs380)
        next_event()
        unplug(bed, tty)
        next_event()
    finally:
        monitor.stop()
    emit(done=True, left=events.qsize())
    return 0


if __name__ == "__main__":
    sys.exit(main())
