"""End to end, the paths of 2026 at the counter: an Android phone (the PIN on the reader), an
iPhone held before and after Face ID, a card whose certificate expired long ago, one in its
grace (資格情報のみ) and one near its expiry, on a facility that asks the prescription form and
the 電子カルテ情報共有サービス's consent.

Twice: through pcscd (vpcd, the simulated card behind it) and through nfcpy's udp stack (the
daemon's nfc backend polling Type A and B; a phone answers as Type A, the card as Type B). The
daemon runs in its own process with its window in a real Xvfb; the person's finger is xdotool
at the rects `myna-reader screens` writes; the reference terminal runs in its own process and
checks every signature. Nothing in between is mocked. The cards near or past their expiry are
re-issued for today (hw-fixtures/redate.py), since the life cycle is judged by today's date.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from myna_reader.drivers.sim.card import SimulatedCard
from myna_reader.drivers.sim.nfc_udp import CardResponder, Technology
from myna_reader.drivers.sim.profile import CardProfile, load_profile
from myna_reader.drivers.sim.vpcd import VpcdBridge
from myna_reader.fixtures.redate import JST, with_auth_validity
from myna_reader.ui.input import DEBOUNCE_S
from tests.e2e.counter_support import (
    Counter,
    Daemon,
    Lines,
    Screens,
    display_with_gallery,
    run_command,
    start_terminal,
    stop_processes,
)
from tests.support.cards import ServedCard
from tests.support.pcscd import PcscdInstance, apdu_commands
from tests.support.ports import free_port

PIN = "1234"  # the synthetic profiles' auth PIN (hw-fixtures/README.md)
CONFIG = """\
# a clinic that issues prescriptions and takes part in the 電子カルテ情報共有サービス
[prescription]
ask = true

[[consent.pages]]
id = "medication-treatment"
items = ["pharmaceutical", "diagnosis", "operation"]

[[consent.pages]]
id = "health-checkups"
items = ["health-checkups"]

[[consent.pages]]
id = "certificates"
items = ["limit-application", "specific-disease"]

[[consent.pages]]
id = "clinical-records"
items = ["clinical-records"]
"""
CLINICAL_FLAGS = ["DiagnosisNameConsFlg", "InfectiousInfoConsFlg", "AllergyInfoConsFlg",
                  "ContraindicationInfoConsFlg", "TestInfoConsFlg", "PrescriptionInfoConsFlg"]


def _held() -> ServedCard:
    """The card model a bridge serves: whichever simulated card or phone is held now."""
    return ServedCard(SimulatedCard(load_profile("standard")))


class Slot:
    """Where the person places a card or holds a phone."""

    def __init__(self, held: ServedCard, place: Callable[[bool], None],
                 take: Callable[[], None], apdus: Callable[[], Callable[[], int]]) -> None:
        self.held = held
        self._place = place
        self.take = take
        self.apdu_counter = apdus  # () -> (() -> APDUs since the call), where one is kept

    def place(self, card: SimulatedCard) -> None:
        self.held.card = card
        self._place(card.profile.jpki.token_label != "JPKIAPICCTOKEN2")


@dataclass
class Bench:
    counter: Counter
    slot: Slot
    kind: str


def _pcsc_slot(request: pytest.FixtureRequest) -> tuple[Slot, str, Callable[[], None]]:
    pcscd: PcscdInstance = request.getfixturevalue("pcscd")
    held = _held()
    bridge = VpcdBridge(held, pcscd.host, pcscd.port)

    def apdus() -> Callable[[], int]:
        mark = pcscd.log_mark()
        return lambda: len(apdu_commands(pcscd.log_since(mark)))

    return (Slot(held, lambda _phone: bridge.insert(), bridge.remove, apdus),
            f"pcsc:{pcscd.reader_name}", bridge.close)


def _nfc_slot(request: pytest.FixtureRequest) -> tuple[Slot, str, Callable[[], None]]:
    try:
        import nfc.clf.udp  # noqa: F401  (the daemon's nfc backend uses it)
    except ImportError as exc:
        pytest.fail(f"nfcpy is not installed ({exc}): `pip install nfcpy`", pytrace=False)
    held = _held()
    responder = CardResponder(held, present=False).start()

    def place(phone: bool) -> None:
        responder.technology = Technology.A if phone else Technology.B  # the card is out
        responder.insert()

    def no_count() -> Callable[[], int]:
        return lambda: -1  # no pcscd log on this path

    return (Slot(held, place, responder.remove, no_count),
            f"nfc:udp:127.0.0.1:{responder.port}", responder.close)


@pytest.fixture(scope="module", params=[
    pytest.param("pcsc", marks=pytest.mark.pcscd), pytest.param("nfc", marks=pytest.mark.nfc)])
def bench(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Bench]:
    kind: str = request.param
    tmp = tmp_path_factory.mktemp(f"phones-{kind}")
    slot, reader, close_slot = (_pcsc_slot if kind == "pcsc" else _nfc_slot)(request)
    try:
        with display_with_gallery(tmp) as (display, screens):
            yield from _bench(tmp, kind, slot, reader, display, screens)
    finally:
        close_slot()


def _bench(tmp: Path, kind: str, slot: Slot, reader: str, display: str, screens: Screens
           ) -> Iterator[Bench]:
    config = tmp / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11",
           "SDL_AUDIODRIVER": "dummy"}
    env.pop("NOTIFY_SOCKET", None)
    log = (tmp / "daemon.log").open("wb")
    proc = subprocess.Popen(run_command(config, reader, port, tmp / "state"),
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    daemon = Daemon(proc, time.monotonic(), Lines(), tmp / "daemon.log")
    terminal = start_terminal(port, tmp / "state")
    shots = tmp / "shots"
    shots.mkdir()
    # Counter's card and bridge serve test_counter's own checks; here the slot holds them
    counter = Counter(display, daemon, terminal, None, None, screens, shots)  # type: ignore[arg-type]
    try:
        yield Bench(counter, slot, kind)
    finally:
        print(f"\n{kind} daemon log:\n{daemon.log_tail()}\nscreenshots: {shots}\n"
              f"figures: {json.dumps(counter.figures)}")
        stop_processes(terminal.proc, proc)
        log.close()


# --- what the person does ----------------------------------------------------------------------


def at_standby(counter: Counter) -> None:
    counter.terminal.wait_status("standby", mode="unattended")
    counter.settled()


def type_pin(counter: Counter) -> None:
    last: tuple[str, float] = ("", 0.0)
    for digit in PIN:
        if digit == last[0]:
            time.sleep(max(0.0, last[1] + DEBOUNCE_S * 2 - time.monotonic()))
        counter.changes(counter.text_area("pin"), functools.partial(counter.press, "pin", digit),
                        "a digit on the PIN pad")
        last = (digit, time.monotonic())
    counter.press("pin", "決定")


def answer_pages(counter: Counter, pages: int, prescription: str) -> None:
    """同意する on each consent page (each turn seen in the title), then the prescription."""
    counter.terminal.wait_status("consent")
    counter.settled()
    for _ in range(pages - 1):
        counter.changes(counter.title_area("consent"),
                        lambda: counter.press("consent", "同意する"), "the next consent page")
        counter.settled()
    counter.press("consent", "同意する")
    counter.terminal.wait_status("prescription")
    counter.settled()
    counter.shot("prescription")
    counter.press("prescription", prescription)
    counter.terminal.wait_status("done")
    counter.settled()


def new_result(counter: Counter, since: float) -> tuple[dict[str, Any], dict[str, Any]]:
    terminal = counter.terminal
    terminal.lines.wait("the terminal's result-checked event",
                        lambda: terminal.events("result-checked", since=since))
    [result] = terminal.of_type("result", since=since)
    [checked] = terminal.events("result-checked", since=since)
    assert checked["id"] == result["id"]
    return result, checked


def placed(bench: Bench, held: SimulatedCard, screen: str) -> float:
    """The person places a card or holds a phone; `screen` comes up and is drawn. Returns
    when it was placed (what came after it is the terminal's lines since then)."""
    since = time.monotonic()
    bench.slot.place(held)
    bench.counter.terminal.wait_status(screen)
    bench.counter.settled()
    return since


def error_code(counter: Counter, since: float) -> str:
    terminal = counter.terminal
    found = terminal.lines.wait("an error message", lambda: [
        m for m in terminal.of_type("error", since=since) if m.get("session")])
    return str(found[0]["code"])


def take_away(bench: Bench) -> None:
    bench.slot.take()
    at_standby(bench.counter)


def close_error_and_take_away(bench: Bench) -> None:
    """The person reads the error, taps 閉じる, and takes the card or phone: the standby
    screen's "カードをお取りください" going away shows the reader noticed."""
    counter = bench.counter
    counter.press("error", "閉じる")
    at_standby(counter)
    counter.changes((0, 0, *counter.look().size), bench.slot.take, "standby without the card")
    counter.settled()


def card(profile: CardProfile | str) -> SimulatedCard:
    return SimulatedCard(load_profile(profile) if isinstance(profile, str) else profile)


def today_in_japan() -> dt.date:
    return dt.datetime.now(JST).date()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- the paths ---------------------------------------------------------------------------------


def test_android_pin_on_the_reader_then_the_certificate(bench: Bench) -> None:
    counter = bench.counter
    at_standby(counter)
    phone = card("android-phone")
    apdus = bench.slot.apdu_counter()
    since = placed(bench, phone, "pin")  # straight to the pad: no card-or-phone question
    counter.shot(f"{bench.kind}-android-pin")
    type_pin(counter)
    answer_pages(counter, 4, "電子処方箋")
    counter.shot(f"{bench.kind}-android-done")
    result, checked = new_result(counter, since)
    assert (result["method"], result["token"], checked["signature"]) == ("pin", "android",
                                                                          "valid")
    assert result["certificate"] == b64(phone.profile.jpki.auth_cert)
    assert result["prescription"] == "electronic" and result["qualification_only"] is False
    records = [c for c in result["consents"] if c["item"] == "clinical-records"]
    assert records[0]["flags"] == CLINICAL_FLAGS
    assert records[0]["available_until"] == pytest.approx(records[0]["time"] + 86400)
    counter.figures[f"{bench.kind}_android_apdus"] = apdus()
    take_away(bench)


def test_iphone_before_face_id_then_after(bench: Bench) -> None:
    counter = bench.counter
    at_standby(counter)
    phone = card("iphone")
    since = placed(bench, phone, "error")
    assert error_code(counter, since) == "112"
    counter.shot(f"{bench.kind}-iphone-112")
    assert not counter.terminal.of_type("result", since=since)
    assert "pin" not in [m["screen"] for m in counter.terminal.of_type("status", since=since)]
    close_error_and_take_away(bench)
    phone.authenticate_holder()  # Face ID on the phone, away from the reader
    again = time.monotonic()
    apdus = bench.slot.apdu_counter()
    bench.slot.place(phone)
    answer_pages(counter, 4, "紙の処方箋")
    result, checked = new_result(counter, again)
    assert (result["method"], result["token"], checked["signature"]) == ("phone", "iphone",
                                                                          "valid")
    assert result["prescription"] == "paper"
    assert "pin" not in [m["screen"] for m in counter.terminal.of_type("status", since=again)]
    counter.figures[f"{bench.kind}_iphone_apdus"] = apdus()
    take_away(bench)


def test_a_long_expired_card_is_turned_away_before_any_pin(bench: Bench) -> None:
    counter = bench.counter
    at_standby(counter)
    expired = card("expired")
    apdus = bench.slot.apdu_counter()
    since = placed(bench, expired, "error")
    assert error_code(counter, since) == "006"
    counter.shot(f"{bench.kind}-expired-006")
    screens = [m["screen"] for m in counter.terminal.of_type("status", since=since)]
    assert "pin" not in screens and not counter.terminal.of_type("result", since=since)
    assert expired.tries_left("jpki", 0x18) == 3  # its PIN was never asked
    counter.figures[f"{bench.kind}_expired_apdus"] = apdus()
    close_error_and_take_away(bench)


def test_a_card_in_its_grace_confirms_eligibility_only(bench: Bench) -> None:
    counter = bench.counter
    at_standby(counter)
    grace = card(with_auth_validity("standard", today_in_japan() - dt.timedelta(days=20)))
    since = placed(bench, grace, "pin")
    type_pin(counter)
    answer_pages(counter, 1, "電子処方箋")  # only 限度額 / 特定疾病 are left to ask
    counter.shot(f"{bench.kind}-grace-done")
    result, checked = new_result(counter, since)
    assert checked["signature"] == "valid"
    assert result["certificate_life"] == "grace" and result["qualification_only"] is True
    assert {c["item"] for c in result["consents"]} == {"limit-application", "specific-disease"}
    take_away(bench)


def test_a_card_near_its_expiry_is_told_the_date(bench: Bench) -> None:
    counter = bench.counter
    at_standby(counter)
    expiry = today_in_japan() + dt.timedelta(days=30)
    soon = card(with_auth_validity("standard", expiry))
    since = placed(bench, soon, "pin")
    type_pin(counter)
    answer_pages(counter, 4, "電子処方箋")
    counter.shot(f"{bench.kind}-expiring-done")
    result, _ = new_result(counter, since)
    assert result["certificate_life"] == "expiring"
    assert result["certificate_expiry"] == expiry.isoformat()
    assert len(result["consents"]) == 7  # the six items and the clinical records
    take_away(bench)

