"""Write hw-fixtures/transcripts/<scenario>.jsonl: each scenario recorded on a simulated card.

    python hw-fixtures/record_transcripts.py [OUT_DIR]

The recordings go through the same recorder as `myna-reader record` (personal data scrubbed,
PINs masked), so they show exactly what a field recording looks like.
"""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from myna_reader.daemon.card_flows import run_flow
from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.backends.sim import SimReader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.channel import CardChannel
from myna_reader.drivers.errors import MynaError
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
    Scenario("visual-standard", "standard", "visual", note="staff visual check, short APDUs"),
    Scenario("visual-standard-extended", "standard", "visual", extended=True,
             note="staff visual check, one extended READ BINARY"),
    Scenario("pin-standard", "standard", "pin", note="PIN mode, PIN accepted"),
    Scenario("pin-wrong", "standard", "pin", pin="9999", note="PIN mode, wrong PIN (2 left)"),
    Scenario("pin-one-try-left", "one-try-left", "pin", note="PIN mode at one try left"),
    Scenario("pin-blocked", "pin-blocked", "pin", note="PIN blocked: no VERIFY is sent"),
    Scenario("face-card-pin", "face-card", "pin", note="顔認証マイナンバーカード: no PIN"),
    Scenario("face-card-visual", "face-card", "visual", note="顔認証マイナンバーカード, staff"),
    Scenario("under-15-pin", "under-15", "pin", note="no signing certificate; PIN mode works"),
    Scenario("android-phone-pin", "android-phone", "pin",
             note="phone token: the PIN before the certificate"),
    Scenario("android-phone-visual", "android-phone", "visual",
             note="phone token: the certificate needs the PIN (6982)"),
    Scenario("expired-visual", "expired", "visual", note="an expired auth certificate"),
    Scenario("info-standard", "standard", "info", note="technician card info"),
)


def record(scenario: Scenario) -> str:
    reader = SimReader(scenario.profile, supports_extended=scenario.extended)
    recorder = Recorder()
    recorder.card_event(ReaderEventKind.CARD_INSERTED)
    reader.connect()
    card = MyNumberCard(CardChannel(reader, (recorder,)))
    with contextlib.suppress(MynaError):  # the failing scenarios are recorded as they fail
        run_flow(scenario.flow, card, pin=lambda: scenario.pin)
    reader.disconnect(unpower=True)
    recorder.card_event(ReaderEventKind.CARD_REMOVED)
    header = Header(scenario.name, scenario.flow, scenario.profile, "sim",
                    scenario.extended, reader.card.atr if reader.card else b"", scenario.note)
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
