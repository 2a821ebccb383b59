"""Reader spec to nfcpy path, and the ATR a Type B card gets."""

from __future__ import annotations

import pytest

from myna_reader.drivers.backends.nfc import contactless_atr, nfcpy_path
from myna_reader.drivers.readers import ReaderSpecError

pytestmark = pytest.mark.nfc


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ("nfc:usb", "usb"),
        ("nfc:usb:054c:06c1", "usb:054c:06c1"),
        ("nfc:tty:AMA0:pn532", "tty:AMA0:pn532"),
        ("nfc:udp:127.0.0.1:54321", "udp:127.0.0.1:54321"),
        ("udp:localhost:54321", "udp:localhost:54321"),  # the registry passes the argument
    ],
)
def test_spec_to_nfcpy_path(spec: str, path: str) -> None:
    assert nfcpy_path(spec) == path


@pytest.mark.parametrize("spec", ["nfc:", "nfc:pcsc", "com:3:pn532", "nfc:usbx"])
def test_bad_path_is_a_spec_error(spec: str) -> None:
    with pytest.raises(ReaderSpecError):
        nfcpy_path(spec)


@pytest.mark.parametrize(
    ("sensb_res", "atr"),
    [  # ATQBs behind the contactless ATRs of reference §7.1
        ("50 4D594E41 000005E0 B381A1", "3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F"),
        ("50 01020304 000041E0 B381A1", "3B 88 80 01 00 00 41 E0 B3 81 A1 00 3B"),
        ("50 01020304 004B51FF B381D1", "3B 88 80 01 00 4B 51 FF B3 81 D1 00 0F"),
    ],
)
def test_contactless_atr_matches_the_pcsc_readers(sensb_res: str, atr: str) -> None:
    assert contactless_atr(bytes.fromhex(sensb_res)) == bytes.fromhex(atr)
