"""OpenSC, an independent client, against the simulated `standard` card behind pcscd.

OpenSC's jpki driver (card-jpki.c, pkcs15-jpki.c) is written from real cards by the author of
jpki/myna: if it reads the certificate, lists the PINs and signs through the simulated card,
the simulation answers what real clients send. pcscd's APDU log gives OpenSC's APDU counts
for the same card, printed for comparison with our own driver (never asserted).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.pcsc import PcscReader
from myna_reader.drivers.mynumber_ids import JPKI_AID, JpkiEF
from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.vpcd import VpcdBridge
from tests.drivers.pcsc.waits import wait_for
from tests.support.pcscd import PcscdInstance, apdu_commands

pytestmark = [pytest.mark.pcscd, pytest.mark.opensc]

TOOLS = ("opensc-tool", "pkcs15-tool", "pkcs11-tool")
PKCS11_MODULE_GLOBS = ("/usr/lib/*/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so")
AUTH_CERT_ID = "01"  # pkcs15-jpki.c: 01 auth cert, 02 sign cert, 03/04 their CAs
AUTH_TOKEN = "JPKI (User Authentication PIN)"
TEST_AUTH_PIN = "1234"  # synthetic test PIN of every simulated profile (hw-fixtures/README.md)
TOOL_TIMEOUT_S = 60  # a bound on a hung tool, not a speed limit
SELECT_JPKI_PREFIX = bytes((0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID))) + JPKI_AID
# OpenSC's file caching would answer later runs from disk instead of the card.
OPENSC_CONF = "app default {\n    use_file_caching = no;\n}\n"


def _pkcs11_module() -> str | None:
    listed = subprocess.run(
        ["dpkg", "-L", "opensc-pkcs11"], capture_output=True, text=True, check=False
    ).stdout.split()
    found = [p for p in listed if p.endswith("/opensc-pkcs11.so")]
    found += [p for pattern in PKCS11_MODULE_GLOBS for p in sorted(glob.glob(pattern))]
    return next((p for p in found if Path(p).is_file()), None)


@pytest.fixture(scope="module")
def pkcs11_module() -> str:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    module = _pkcs11_module()
    if missing or module is None:
        pytest.fail(
            f"OpenSC is required (missing: {missing or 'opensc-pkcs11.so'}): "
            "apt-get install opensc opensc-pkcs11",
            pytrace=False,
        )
    return module


@pytest.fixture
def opensc_env(tmp_path: Path) -> dict[str, str]:
    conf = tmp_path / "opensc.conf"
    conf.write_text(OPENSC_CONF)
    return {"OPENSC_CONF": str(conf), "HOME": str(tmp_path), "PATH": os.environ["PATH"]}


@pytest.fixture
def standard_card(
    bridge: VpcdBridge, reader: PcscReader, card: SimulatedCard
) -> SimulatedCard:
    bridge.insert()
    wait_for(reader, ReaderEventKind.CARD_INSERTED)
    return card


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        args, capture_output=True, text=True, env=env, timeout=TOOL_TIMEOUT_S, check=False
    )
    assert done.returncode == 0, f"{args[0]} failed ({done.returncode}): {done.stderr}"
    return done.stdout


def print_apdu_count(what: str, log: str) -> None:
    commands = apdu_commands(log)
    first_jpki = next(
        (i for i, c in enumerate(commands) if c.startswith(SELECT_JPKI_PREFIX)), len(commands)
    )
    print(
        f"\nOpenSC APDUs, {what}: {len(commands)} in all; {first_jpki} probes of other card "
        f"drivers before the JPKI SELECT, {len(commands) - first_jpki} from it on"
    )


@pytest.mark.usefixtures("standard_card", "pkcs11_module")
def test_opensc_recognises_the_card_as_jpki(
    pcscd: PcscdInstance, opensc_env: dict[str, str]
) -> None:
    out = run(["opensc-tool", "--reader", pcscd.reader_name, "--name"], opensc_env)
    assert out.split() == ["jpki"]


@pytest.mark.usefixtures("pkcs11_module")
def test_pkcs15_reads_the_auth_certificate(
    pcscd: PcscdInstance,
    standard_card: SimulatedCard,
    opensc_env: dict[str, str],
    tmp_path: Path,
) -> None:
    pem_path = tmp_path / "auth.pem"
    mark = pcscd.log_mark()
    run(
        ["pkcs15-tool", "--reader", pcscd.reader_name,
         "--read-certificate", AUTH_CERT_ID, "--output", str(pem_path)],
        opensc_env,
    )
    print_apdu_count("reading the auth certificate (pkcs15-tool)", pcscd.log_since(mark))
    cert = x509.load_pem_x509_certificate(pem_path.read_bytes())
    assert cert.public_bytes(Encoding.DER) == standard_card.profile.jpki.auth_cert


@pytest.mark.usefixtures("pkcs11_module")
def test_pkcs15_lists_both_pins_with_the_cards_counters(
    pcscd: PcscdInstance, standard_card: SimulatedCard, opensc_env: dict[str, str]
) -> None:
    out = run(["pkcs15-tool", "--reader", pcscd.reader_name, "--list-pins"], opensc_env)
    blocks = {b.splitlines()[0]: b for b in out.split("\n\n") if b.startswith("PIN [")}
    auth = blocks["PIN [User Authentication PIN]"]
    sign = blocks["PIN [Digital Signature PIN]"]
    assert f"Tries left     : {standard_card.tries_left('jpki', JpkiEF.AUTH_PIN)}" in auth
    assert f"Tries left     : {standard_card.tries_left('jpki', JpkiEF.SIGN_PIN)}" in sign
    assert "min_len:4, max_len:4" in auth


def test_pkcs11_signature_verifies_with_the_certificates_key(
    pcscd: PcscdInstance,
    standard_card: SimulatedCard,
    opensc_env: dict[str, str],
    pkcs11_module: str,
    tmp_path: Path,
) -> None:
    message = b"challenge from the qualification-confirmation terminal (synthetic)"
    (tmp_path / "message.bin").write_bytes(message)
    signature_path = tmp_path / "signature.bin"
    mark = pcscd.log_mark()
    run(
        ["pkcs11-tool", "--module", pkcs11_module, "--token-label", AUTH_TOKEN,
         "--login", "--pin", TEST_AUTH_PIN, "--sign", "--mechanism", "SHA256-RSA-PKCS",
         "--id", AUTH_CERT_ID,
         "--input-file", str(tmp_path / "message.bin"), "--output-file", str(signature_path)],
        opensc_env,
    )
    print_apdu_count("one SHA256-RSA-PKCS signature (pkcs11-tool)", pcscd.log_since(mark))
    public_key = x509.load_der_x509_certificate(
        standard_card.profile.jpki.auth_cert
    ).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    # raises InvalidSignature if the card signed anything else
    public_key.verify(
        signature_path.read_bytes(), message, padding.PKCS1v15(), hashes.SHA256()
    )
    assert standard_card.profile.jpki.auth_pin is not None
    full = standard_card.profile.jpki.auth_pin.max_tries
    assert standard_card.tries_left("jpki", JpkiEF.AUTH_PIN) == full, "the right PIN spent a try"


@pytest.mark.usefixtures("pkcs11_module")
def test_a_wrong_pin_through_opensc_spends_one_try_on_the_card(
    pcscd: PcscdInstance,
    standard_card: SimulatedCard,
    opensc_env: dict[str, str],
    pkcs11_module: str,
) -> None:
    done = subprocess.run(
        ["pkcs11-tool", "--module", pkcs11_module, "--token-label", AUTH_TOKEN,
         "--login", "--pin", "9999", "--list-objects"],
        capture_output=True, text=True, env=opensc_env, timeout=TOOL_TIMEOUT_S, check=False,
    )
    assert done.returncode != 0
    assert "CKR_PIN_INCORRECT" in done.stdout + done.stderr
    assert standard_card.profile.jpki.auth_pin is not None
    full = standard_card.profile.jpki.auth_pin.max_tries
    assert standard_card.tries_left("jpki", JpkiEF.AUTH_PIN) == full - 1

