"""The text AP's integrity record checked by independent code: OpenSC's `opensc-tool` reads the
files through the real pcscd, OpenSSL checks the digests and the signatures.

What an independent client of a real card does with these files (docs/card-protocol.md §10):
jpki/myna 0.5.1 (Go, `libmyna/text_ap.go`) reads EF 0003 as exactly 336 bytes, EF 0004 as 568
and EF 0005 as 256; soltia48/myna-card (`src/ap/text.rs`, `tests/text_records.rs`) checks
DF31 against SHA-256 of EF 0001 as stored (17 bytes, filler included), DF32 against SHA-256
of EF 0002's record from DF22 on, and DF33 against the key the CVC in EF 0004 certifies. Here
nothing of ours parses or verifies: the file offsets are the documented fixed layout, the
APDUs are typed as hex for `opensc-tool`, and `openssl` does every hash and RSA operation. A
missing tool FAILS the test.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from myna_reader.daemon.cli import main
from myna_reader.drivers.backends.pcsc import PcscReader
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.profile import load_profile
from myna_reader.drivers.sim.vpcd import VpcdBridge
from tests.drivers.pcsc.waits import insert_and_connect
from tests.support.pcscd import PcscdInstance

pytestmark = [pytest.mark.pcscd, pytest.mark.opensc]

TOOL_TIMEOUT_S = 60  # a bound on a hung tool, not a speed limit
TEXT_PIN_HEX = "31323334"  # the synthetic text-AP PIN 1234 of every card profile
OPENSC_CONF = "app default {\n    use_file_caching = no;\n}\n"
_RECEIVED = re.compile(r"Received \(SW1=0x([0-9A-Fa-f]{2}), SW2=0x([0-9A-Fa-f]{2})\)")
_HEX_LINE = re.compile(r"^((?:[0-9A-F]{2} )+)")

# The APDUs as jpki/myna 0.5.1 sends them, one short READ per 256 bytes.
APDUS = {
    "select_text_ap": "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08",
    "select_0005": "00 A4 02 0C 02 00 05", "read_0005": "00 B0 00 00 00",
    "select_0004": "00 A4 02 0C 02 00 04", "read_0004_0": "00 B0 00 00 00",
    "read_0004_1": "00 B0 01 00 00", "read_0004_2": "00 B0 02 00 38",
    "select_0011": "00 A4 02 0C 02 00 11", "verify": f"00 20 00 80 04 {TEXT_PIN_HEX}",
    "select_0001": "00 A4 02 0C 02 00 01", "read_0001": "00 B0 00 00 11",
    "select_0002": "00 A4 02 0C 02 00 02", "read_0002": "00 B0 00 00 00",
    "select_0003": "00 A4 02 0C 02 00 03", "read_0003_0": "00 B0 00 00 00",
    "read_0003_1": "00 B0 01 00 50",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required: apt-get install opensc openssl", pytrace=False)
    return path


def opensc_apdus(reader: str, env: dict[str, str]) -> dict[str, bytes]:
    """Send APDUS in one card session with opensc-tool; each answer's data (SW 9000 only)."""
    argv = [_tool("opensc-tool"), "--reader", reader]
    for apdu in APDUS.values():
        argv += ["--send-apdu", apdu.replace(" ", ":")]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False,
                          timeout=TOOL_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    answers: list[bytes] = []
    data: bytearray | None = None
    for line in done.stdout.splitlines():
        received = _RECEIVED.search(line)
        if received:
            assert received.groups() == ("90", "00"), line
            data = bytearray()
            answers.append(b"")
            continue
        hex_part = _HEX_LINE.match(line)
        if data is not None and hex_part:
            data += bytes.fromhex(hex_part.group(1))
            answers[-1] = bytes(data)
    assert len(answers) == len(APDUS), done.stdout
    return dict(zip(APDUS, answers, strict=True))


def openssl(*args: str | Path, stdin: bytes | None = None) -> bytes:
    done = subprocess.run([_tool("openssl"), *map(str, args)], input=stdin,
                          capture_output=True, check=False, timeout=TOOL_TIMEOUT_S)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def sha256(data: bytes) -> bytes:
    return openssl("dgst", "-sha256", "-binary", stdin=data)


def rsa_key_pem(modulus: bytes, exponent: bytes, where: Path) -> Path:
    """A PEM public key built by OpenSSL itself from the card's `90`/`91` values."""
    conf = where.with_suffix(".conf")
    conf.write_text(f"asn1=SEQUENCE:key\n[key]\nn=INTEGER:0x{modulus.hex()}\n"
                    f"e=INTEGER:0x{exponent.hex()}\n")
    der = where.with_suffix(".der")
    openssl("asn1parse", "-genconf", conf, "-out", der, "-noout")
    openssl("rsa", "-RSAPublicKey_in", "-inform", "DER", "-in", der, "-pubout", "-out", where)
    return where


def verifies(key: Path, signed: bytes, signature: bytes, where: Path) -> bool:
    data, sig = where.with_suffix(".data"), where.with_suffix(".sig")
    data.write_bytes(signed)
    sig.write_bytes(signature)
    done = subprocess.run([_tool("openssl"), "dgst", "-sha256", "-verify", str(key),
                           "-signature", str(sig), str(data)], capture_output=True, text=True,
                          check=False, timeout=TOOL_TIMEOUT_S)
    return done.returncode == 0 and "Verified OK" in done.stdout


@pytest.mark.parametrize("name", ["standard", "under-15"])
def test_opensc_and_openssl_accept_the_synthetic_text_ap(
        name: str, pcscd: PcscdInstance, make_bridge: Callable[..., VpcdBridge],
        reader: PcscReader, tmp_path: Path) -> None:
    profile = load_profile(name)
    insert_and_connect(make_bridge(SimulatedCard(profile)), reader)
    reader.disconnect()  # opensc-tool opens its own session
    conf = tmp_path / "opensc.conf"
    conf.write_text(OPENSC_CONF)
    env = {"OPENSC_CONF": str(conf), "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    files = opensc_apdus(pcscd.reader_name, env)
    info = files["read_0005"]
    certificate = files["read_0004_0"] + files["read_0004_1"] + files["read_0004_2"]
    my_number_file = files["read_0001"]
    attributes_file = files["read_0002"]
    record = files["read_0003_0"] + files["read_0003_1"]
    # the sizes and headers jpki/myna 0.5.1 reads with
    assert (len(record), len(certificate), len(info)) == (336, 568, 256)
    assert record[:5] == bytes.fromhex("FF 30 82 01 4B")
    assert certificate[:5] == bytes.fromhex("7F 21 82 02 33")
    assert info[:7] == bytes.fromhex("FF 40 82 00 9F DF 41")
    # DF31: SHA-256 of EF 0001 as stored (17 bytes: FF 10 0C, 12 digits, FF FF)
    assert record[5:8] == bytes.fromhex("DF 31 20") and len(my_number_file) == 17
    assert record[8:40] == sha256(my_number_file)
    # DF32: SHA-256 of EF 0002's record value after the DF21 offset table (short outer length)
    assert record[40:43] == bytes.fromhex("DF 32 20")
    assert attributes_file[:2] == bytes.fromhex("FF 20")
    assert attributes_file[3:5] == bytes.fromhex("DF 21")
    value_end = 3 + attributes_file[2]
    table_end = 5 + 1 + attributes_file[5]
    assert record[43:75] == sha256(attributes_file[table_end:value_end])
    # DF33: the signature over DF31 and DF32 as written, by the key EF 0004 certifies
    assert record[75:80] == bytes.fromhex("DF 33 82 01 00")
    assert certificate[5:10] == bytes.fromhex("5F 4E 82 01 29")
    body = certificate[10:307]
    assert body[32:34] == bytes.fromhex("90 03") and body[37:41] == bytes.fromhex("91 82 01 00")
    certified = rsa_key_pem(body[41:297], body[34:37], tmp_path / "certified.pem")
    assert verifies(certified, record[5:75], record[80:336], tmp_path / "integrity")
    tampered = bytearray(record[5:75])
    tampered[10] ^= 1
    assert not verifies(certified, bytes(tampered), record[80:336], tmp_path / "tampered")
    # EF 0004 itself: signed by the synthetic CV CA whose key ID it names as issuer
    assert profile.text is not None
    assert body[:16] == profile.text.cv_ca.key_id
    ca = profile.text.cv_ca.public_key  # 90 03 <e> 91 82 01 00 <n>
    ca_key = rsa_key_pem(ca[9:], ca[2:5], tmp_path / "ca.pem")
    assert certificate[307:312] == bytes.fromhex("5F 37 82 01 00")
    assert verifies(ca_key, body, certificate[312:568], tmp_path / "cvc")


def test_card_info_text_agrees_through_pcscd(
        pcscd: PcscdInstance, make_bridge: Callable[..., VpcdBridge], reader: PcscReader,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    insert_and_connect(make_bridge(SimulatedCard(load_profile("standard"))), reader)
    reader.disconnect()
    monkeypatch.setattr("sys.stdin", io.StringIO("1234\n"))
    assert main(["card", "info", "--reader", f"pcsc:{pcscd.reader_name}", "--text",
                 "--pin-stdin", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["my_number_digest_ok"], info["attributes_digest_ok"],
            info["integrity_signature_ok"]) == (True, True, True)
