"""Reader specs of the nfc backend, and the ATRs a Type A or Type B target gets."""

from __future__ import annotations

import pytest

from myna_reader.drivers.atr import TYPE_A_ATR, type_b_atr
from myna_reader.drivers.readers import ReaderSpecError, parse_spec


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ("nfc:usb", "usb"),
        ("nfc:usb:054c:06c1", "usb:054c:06c1"),
        ("nfc:tty:AMA0:pn532", "tty:AMA0:pn532"),
        ("nfc:udp:127.0.0.1:54321", "udp:127.0.0.1:54321"),
    ],
)
def test_spec_to_nfcpy_path(spec: str, path: str) -> None:
    assert parse_spec(spec).argument == path


@pytest.mark.parametrize("spec", ["nfc:", "nfc:pcsc", "nfc:usbx", "nfc:udp:host", "nfc:tty:",
                                  "nfc:udp::1", "nfc:udp:h:1:2"])
def test_bad_path_is_a_spec_error(spec: str) -> None:
    with pytest.raises(ReaderSpecError, match="nfc"):
        parse_spec(spec)


@pytest.mark.parametrize(
    ("sensb_res", "atr"),
    [  # ATQBs behind the contactless ATRs of docs/card-protocol.md
        ("50 4D594E41 000005E0 B381A1", "3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F"),
        ("50 01020304 000041E0 B381A1", "3B 88 80 01 00 00 41 E0 B3 81 A1 00 3B"),
        ("50 01020304 004B51FF B381D1", "3B 88 80 01 00 4B 51 FF B3 81 D1 00 0F"),
    ],
)
def test_type_b_atr_matches_the_pcsc_readers(sensb_res: str, atr: str) -> None:
    assert type_b_atr(bytes.fromhex(sensb_res)) == bytes.fromhex(atr)


def test_type_a_atr_without_historical_bytes() -> None:
    # PC/SC part 3: 3B 80 80 01 01 is what a CCID reader reports for an ATS with no
    # historical bytes (TCK = 80 ^ 80 ^ 01).
    assert bytes.fromhex("3B 80 80 01 01") == TYPE_A_ATR
