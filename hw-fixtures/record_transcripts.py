"""Write hw-fixtures/transcripts/<scenario>.jsonl: each scenario recorded on a simulated card.

    python hw-fixtures/record_transcripts.py [OUT_DIR]

Each is a whole confirmation (the real engine and card jobs, daemon/harness/scenarios.py) recorded
through the same code as `myna-reader record` (personal data scrubbed, PINs masked), so they
show exactly what a field recording looks like and replay with `myna-reader replay`.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

from myna_reader.daemon.cli.transcripts import play
from myna_reader.daemon.harness.scenarios import Answers
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.recorder import Recorder
from myna_reader.drivers.transcript import Header, write


@dataclass(frozen=True)
class Scenario:
    name: str
    profile: str
    flow: str
    pin: str = "1234"
    extended: bool = False
    note: str = ""


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
)


def record(scenario: Scenario) -> str:
    reader = SimReader(scenario.profile, supports_extended=scenario.extended)
    recorder = Recorder()
    recorder.card_event(ReaderEventKind.CARD_INSERTED)
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
