"""Write hw-fixtures/transcripts/<scenario>.jsonl: each scenario recorded on a simulated card.

    python hw-fixtures/record_transcripts.py [OUT_DIR]

Most are a whole confirmation (the real engine and card jobs, daemon/harness/scenarios.py)
recorded through the same code as `myna-reader record` (personal data scrubbed, PINs masked),
so they show exactly what a field recording looks like and replay with `myna-reader replay`.
The `driver-*` flows are the phones' card conversations at the driver level, the floor of
each path and nothing else, until the engine has its phone flows: `DRIVER_FLOWS` replays
them (tests/drivers/test_record_replay.py).
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from myna_reader.daemon.cli.transcripts import play
from myna_reader.daemon.harness.scenarios import Answers
from myna_reader.drivers.backends.base import Reader, ReaderEventKind
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.channel import CardChannel, Observer
from myna_reader.drivers.errors import SecurityStatusError
from myna_reader.drivers.recorder import Recorder
from myna_reader.drivers.transcript import Header, write
from myna_reader.fixtures.redate import with_auth_validity

#: What the terminal would have the card sign; fixed, so that a replay sends the same bytes.
DRIVER_NONCE = b"myna-reader driver scenario nonce"


def android_pin(card: MyNumberCard, pin: str) -> dict[str, object]:
    """Android: token, the phone's PIN counter, VERIFY, then the certificate, the signature."""
    jpki = card.jpki()
    token = jpki.token_kind()
    tries = jpki.auth_pin_tries().tries_left
    jpki.verify_auth_pin(pin)
    jpki.read_auth_certificate()
    return {"token": token.name, "tries_left": tries,
            "signature": len(jpki.sign_with_auth_key(DRIVER_NONCE))}


def iphone(card: MyNumberCard, pin: str) -> dict[str, object]:
    """iPhone: token, the certificate, the signature (no PIN); the refusal reported."""
    del pin  # no PIN on the reader for an iPhone
    jpki = card.jpki()
    token = jpki.token_kind()
    jpki.read_auth_certificate()
    try:
        signed = len(jpki.sign_with_auth_key(DRIVER_NONCE))
    except SecurityStatusError as exc:  # PhoneNotAuthenticatedError
        return {"token": token.name, "refused": type(exc).__name__, "sw": f"{exc.sw:04X}"}
    return {"token": token.name, "signature": signed}


DriverFlow = Callable[[MyNumberCard, str], dict[str, object]]
DRIVER_FLOWS: dict[str, DriverFlow] = {"driver-android-pin": android_pin,
                                       "driver-iphone": iphone}


def play_driver_flow(flow: str, reader: Reader, pin: str,
                     observers: tuple[Observer, ...] = ()) -> dict[str, object]:
    """One driver-level flow on `reader`: connect, the flow, unpower."""
    reader.connect()
    try:
        outcome = DRIVER_FLOWS[flow](MyNumberCard(CardChannel(reader, observers)), pin)
    finally:
        reader.disconnect(unpower=True)
    return outcome


@dataclass(frozen=True)
class Scenario:
    name: str
    profile: str
    flow: str
    pin: str = "1234"
    extended: bool = False
    note: str = ""
    holder_authenticated: bool = False  # iPhone: Face ID done before the phone is held
    #: the auth certificate re-issued to end on this day (hw-fixtures/redate.py); the
    #: scripted session is on 2027-01-15 (daemon/harness/scenarios.py SCRIPT_WALL_START)
    auth_expiry: dt.date | None = None


SCENARIOS = (
    Scenario("staff-standard", "standard", "staff", note="staff visual check, short APDUs"),
    Scenario("staff-standard-extended", "standard", "staff", extended=True,
             note="staff visual check, one extended READ BINARY"),
    Scenario("pin-standard", "standard", "pin", note="PIN mode, PIN accepted"),
    Scenario("pin-wrong", "standard", "pin", pin="9999", note="PIN mode, wrong PIN (2 left)"),
    Scenario("pin-one-try-left", "one-try-left", "pin", note="PIN mode at one try left"),
    Scenario("pin-blocked", "pin-blocked", "pin", note="PIN blocked: no VERIFY is sent"),
    Scenario("face-card-pin", "face-card", "pin", note="顔認証マイナンバーカード: no PIN"),
    Scenario("face-card-staff", "face-card", "staff", note="顔認証マイナンバーカード, staff"),
    Scenario("under-15-pin", "under-15", "pin", note="no signing certificate; PIN mode works"),
    Scenario("android-phone-pin", "android-phone", "pin",
             note="phone token: the PIN before the certificate"),
    Scenario("android-phone-staff", "android-phone", "staff",
             note="phone token in staff mode: turned away (103)"),
    Scenario("expired-staff", "expired", "staff", note="an expired auth certificate (006)"),
    Scenario("info-standard", "standard", "info", note="technician card info"),
    Scenario("android-phone-driver-pin", "android-phone", "driver-android-pin",
             note="driver level: Android token, PIN, certificate after VERIFY, signature"),
    Scenario("iphone-driver-refused", "iphone", "driver-iphone",
             note="driver level: iPhone before Face ID: the signature answers 6982"),
    Scenario("iphone-driver-authenticated", "iphone", "driver-iphone",
             holder_authenticated=True,
             note="driver level: iPhone after Face ID: certificate and signature, no PIN"),
    Scenario("iphone-phone", "iphone", "phone", holder_authenticated=True,
             note="iPhone after Face ID: certificate, signature, consents; no PIN pad"),
    Scenario("iphone-phone-refused", "iphone", "phone",
             note="iPhone held before Face ID: the signature answers 6982, error 112"),
    Scenario("expired-pin", "expired", "pin",
             note="certificate expired in 2020: 006 before any PIN, no counter read"),
    Scenario("grace-pin", "standard", "pin", auth_expiry=dt.date(2026, 12, 31),
             note="expired 15 days before: 資格情報のみ, no viewing consent asked"),
    Scenario("expiring-pin", "standard", "pin", auth_expiry=dt.date(2027, 3, 31),
             note="expires in 75 days: confirmed, the result and done screen give the date"),
    Scenario("android-phone-expired", "android-phone", "pin",
             auth_expiry=dt.date(2026, 12, 31),
             note="Android past expiry: no grace for a phone, 006 after VERIFY"),
)


def record(scenario: Scenario) -> str:
    profile = (scenario.profile if scenario.auth_expiry is None
               else with_auth_validity(scenario.profile, scenario.auth_expiry))
    reader = SimReader(profile, supports_extended=scenario.extended)
    if scenario.holder_authenticated:
        reader.card.authenticate_holder()
    recorder = Recorder()
    recorder.card_event(ReaderEventKind.CARD_INSERTED)
    if scenario.flow in DRIVER_FLOWS:
        play_driver_flow(scenario.flow, reader, scenario.pin, (recorder,))
    else:
        play(scenario.flow, reader, Answers(pin=scenario.pin), (recorder,))
    recorder.card_event(ReaderEventKind.CARD_REMOVED)
    header = Header(scenario.name, scenario.flow, scenario.profile, "sim",
                    scenario.extended, reader.card.atr, scenario.note)
    out = io.StringIO()
    write(recorder.transcript(header), out)
    return out.getvalue()


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for scenario in SCENARIOS:
        (out_dir / f"{scenario.name}.jsonl").write_text(record(scenario), encoding="utf-8")
        print(f"wrote {scenario.name}.jsonl")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "transcripts")
