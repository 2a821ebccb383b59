"""End to end, as a person at the counter does it (see conftest.py for the bench).

The staff member presses 職員用 and types the passcode the terminal issued; the card goes on
the reader; the patient answers every consent page; the terminal gets exactly one result with
the card's certificate. Then a patient alone: the PIN typed on the pad, a signature over the
terminal's challenge that verifies. Then 中止 in the middle of a staff session: nothing is
sent and unattended mode is back. Last, systemd stops the daemon: STOPPING=1, exit 0, and the
card is left unpowered (no verified PIN outlives the daemon).

The tests share one daemon and run in file order; each starts and ends at the standby screen.
"""

from __future__ import annotations

import base64
import functools
import signal
import time
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from myna_reader.daemon.engine import DEFAULT_CONSENT_PAGES
from myna_reader.ui.input import DEBOUNCE_S
from tests.e2e.counter_support import WATCHDOG_USEC, Counter

pytestmark = [pytest.mark.x11, pytest.mark.pcscd]

PIN = "1234"  # the synthetic profiles' auth PIN (hw-fixtures/README.md)
STOP_TIMEOUT_S = 15.0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def at_standby(counter: Counter, **fields: object) -> None:
    counter.terminal.wait_status("standby", mode="unattended", **fields)
    counter.settled()


def type_code(counter: Counter, screen: str, code: str) -> None:
    """Each digit on the pad, seen landing in the masked boxes, then 決定."""
    last: tuple[str, float] = ("", 0.0)
    for digit in code:
        if digit == last[0]:  # a person's pace: the same key again is not a contact bounce
            time.sleep(max(0.0, last[1] + DEBOUNCE_S * 2 - time.monotonic()))
        counter.changes(counter.text_area(screen), functools.partial(counter.press, screen, digit),
                        f"digit on {screen}")
        last = (digit, time.monotonic())
    counter.shot(f"{screen}-entered")
    counter.press(screen, "決定")


def enter_staff_mode(counter: Counter) -> None:
    at_standby(counter, staff_available=True)
    counter.press("standby", "職員用")
    counter.terminal.wait_status("staff-passcode")
    counter.settled()
    type_code(counter, "staff-passcode", counter.terminal.passcode())
    counter.terminal.wait_status("staff-standby", mode="staff")
    counter.settled()
    counter.shot("staff-standby")


def place_card(counter: Counter, figure: str) -> None:
    """The card goes on the reader; the terminal's next status is the first screen change."""
    placed = time.monotonic()
    counter.bridge.insert()
    counter.terminal.lines.wait("a status after the card was placed",
                                lambda: counter.terminal.of_type("status", since=placed))
    first = next(t for t, m in counter.terminal.lines.items
                 if t >= placed and m.get("type") == "status")
    counter.figures.setdefault(figure, round((first - placed) * 1000, 1))


def answer_consents(counter: Counter) -> None:
    """同意する on every page: each page turn is seen in the title (n/N), the last ends on done."""
    counter.terminal.wait_status("consent")
    counter.settled()
    counter.shot("consent-first-page")
    for _ in DEFAULT_CONSENT_PAGES[:-1]:
        counter.changes(counter.title_area("consent"), lambda: counter.press("consent", "同意する"),
                        "the next consent page")
        counter.settled()
    counter.press("consent", "同意する")
    counter.terminal.wait_status("done")
    counter.settled()


def one_new_result(counter: Counter, since: float) -> tuple[dict[str, Any], dict[str, Any]]:
    terminal = counter.terminal
    terminal.lines.wait("the terminal's result-checked event",
                        lambda: terminal.events("result-checked", since=since))
    results = terminal.of_type("result", since=since)
    checked = terminal.events("result-checked", since=since)
    assert len(results) == 1 and len(checked) == 1, results
    assert checked[0]["id"] == results[0]["id"]
    return results[0], checked[0]


def take_card_off(counter: Counter) -> None:
    counter.bridge.remove()
    at_standby(counter)


def test_ready_comes_from_the_main_pid_and_the_watchdog_is_pinged(counter: Counter) -> None:
    daemon = counter.daemon
    pid = daemon.proc.pid
    ready = daemon.notify.wait("READY=1", lambda: [
        (t, m) for t, m in daemon.notify.items if m[0].startswith("READY=1")])
    counter.figures["ready_after_spawn_ms"] = round((ready[0][0] - daemon.spawned) * 1000)
    assert ready[0][1][1] == pid

    def pings() -> list[float] | None:
        found = [t for t, (text, _) in daemon.notify.items
                 if text == "WATCHDOG=1" and t > ready[0][0]]
        return found if len(found) >= 2 else None

    times = daemon.notify.wait("two watchdog pings after READY=1", pings,
                               timeout=WATCHDOG_USEC / 1e6 * 3)
    assert all(sender == pid for _, (_, sender) in daemon.notify.items)
    counter.figures["watchdog_ping_gap_ms"] = round((times[1] - times[0]) * 1000)


def test_staff_visual_check_sends_one_result_with_the_cards_certificate(
        counter: Counter) -> None:
    enter_staff_mode(counter)
    since = time.monotonic()
    place_card(counter, "card_placed_to_first_status_staff_ms")
    answer_consents(counter)
    counter.shot("done-staff")
    result, checked = one_new_result(counter, since)
    assert result["method"] == "visual"
    assert result["certificate"] == b64(counter.card.profile.jpki.auth_cert)
    assert result["signature"] is None and checked["signature"] == "none"
    assert {c["item"] for c in result["consents"]} == {
        i.value for page in DEFAULT_CONSENT_PAGES for i in page.items}
    assert all(c["agreed"] for c in result["consents"])
    take_card_off(counter)
    assert counter.terminal.of_type("result", since=since) == [result]  # nothing more came


def test_pin_mode_signs_the_terminals_challenge(counter: Counter) -> None:
    at_standby(counter)
    since = time.monotonic()
    place_card(counter, "card_placed_to_first_status_pin_ms")
    counter.terminal.wait_status("pin", mode="unattended")
    counter.settled()
    type_code(counter, "pin", PIN)
    answer_consents(counter)
    counter.shot("done-pin")
    result, checked = one_new_result(counter, since)
    assert result["method"] == "pin"
    assert checked["signature"] == "valid"
    # and checked here too, with cryptography alone: the certificate is the card's, the
    # challenge is the one the terminal sent, the signature is by the certificate's key
    certificate = base64.b64decode(result["certificate"])
    assert certificate == counter.card.profile.jpki.auth_cert
    assert base64.b64decode(result["challenge"]) == counter.terminal.challenge
    key = x509.load_der_x509_certificate(certificate).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(base64.b64decode(result["signature"]), counter.terminal.challenge,
               padding.PKCS1v15(), hashes.SHA256())  # raises InvalidSignature if not
    take_card_off(counter)


def test_cancel_in_a_staff_session_sends_nothing(counter: Counter) -> None:
    enter_staff_mode(counter)
    since = time.monotonic()
    place_card(counter, "card_placed_to_first_status_cancel_ms")
    counter.terminal.wait_status("consent", mode="staff")
    counter.settled()
    counter.shot("consent-staff-before-cancel")
    counter.press("consent", "中止")
    counter.terminal.wait_status("standby", mode="unattended")
    counter.settled()
    counter.shot("cancelled")
    take_card_off(counter)
    sent = counter.terminal.messages(since)
    assert [m for m in sent if m.get("type") in ("result", "error")] == []
    assert [m["mode"] for m in sent if m.get("type") == "status"][-1] == "unattended"


def test_sigterm_stops_cleanly_and_leaves_the_card_unpowered(counter: Counter) -> None:
    at_standby(counter)
    place_card(counter, "card_placed_to_first_status_sigterm_ms")
    counter.terminal.wait_status("pin")
    counter.settled()
    counter.shot("pin-before-sigterm")
    card = counter.card
    # the card stays powered while the patient is at the pad (the daemon unpowers it as soon
    # as its card work is done, so this is the state a stop must clean up)
    assert card.powered
    daemon = counter.daemon
    earlier_power_offs = len(card.power_offs)
    asked = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    stopping = daemon.notify.wait("STOPPING=1", lambda: [
        s for t, (text, s) in daemon.notify.items if t >= asked and "STOPPING=1" in text])
    assert stopping[0] == daemon.proc.pid
    assert daemon.proc.wait(timeout=STOP_TIMEOUT_S) == 0, daemon.log_tail()
    counter.figures["sigterm_to_exit_ms"] = round((time.monotonic() - asked) * 1000)
    # the daemon unpowered the card itself, before it exited (pcscd would do it only after)
    assert card.power_offs[earlier_power_offs:earlier_power_offs + 1] == [True]
    assert not card.powered
