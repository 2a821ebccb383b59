"""HostLink over TCP on 127.0.0.1 against the reference terminal (daemon/link/terminal.py)."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path

import pytest

from myna_reader.daemon.engine import (
    ChallengeReceived,
    ErrorMessage,
    Mode,
    Screen,
    Secret,
    StatusMessage,
)
from myna_reader.daemon.harness.link_fault import FaultProxy
from myna_reader.daemon.link.channel import AuthError, LinkSecret
from myna_reader.daemon.link.reader_end import HostLink, HostLinkError
from myna_reader.daemon.link.terminal import SeenResults
from myna_reader.daemon.link.transport import LinkUrlError, TcpEndpoint, parse_link_url
from myna_reader.daemon.store.audit import AuditLog
from myna_reader.daemon.store.passcode import PasscodeStoreError
from tests.daemon.link.support import (
    HELLO,
    SECRET,
    Console,
    Events,
    SealedClient,
    make_result,
    make_signer,
    open_outbox,
    plain_client,
    running_link,
    tcp_url,
    wait_for,
)

SIGNER = make_signer()
TOKEN = "pairing-token-0123456789"
STATUS = StatusMessage(Mode.UNATTENDED, Screen.STANDBY, "Virtual PCD 00 00", True, None)


# a PIN session waiting for the terminal's challenge, as the engine announces it
WANTS_CHALLENGE = StatusMessage(Mode.UNATTENDED, Screen.PIN, "r", True, None,
                                session_id="s-pin", challenge_wanted=True)


def test_session_start_sends_hello_status_then_pending_results(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path)
    events = Events()
    with running_link("tcp://127.0.0.1:0", outbox, events) as link:
        link.send_status(STATUS)
        link.submit_result(make_result("s-early", SIGNER))  # no terminal yet: outbox only
        assert not link.connected
        with Console(tcp_url(link)) as console:
            wait_for(lambda: console.messages("result"), "the pending result")
            kinds = [o.get("type") for o in console.out if "type" in o]
            assert kinds[:3] == ["hello", "status", "result"]
            hello = console.messages("hello")[0]
            assert hello["device"] == HELLO["device"]
            assert hello["v"] == 1
            assert console.messages("status")[0]["screen"] == "standby"
            # a PIN session announces that it wants a challenge: the console sends one for it
            link.send_status(WANTS_CHALLENGE)
            wait_for(lambda: events.of(ChallengeReceived), "the challenge event")
            challenge = events.of(ChallengeReceived)[0].challenge
            assert len(challenge) == 32
            # a PIN-mode confirmation signed over that challenge verifies at the terminal
            link.submit_result(make_result("s-pin", SIGNER, challenge=challenge))
            wait_for(lambda: len(console.events("result-checked")) == 2, "both results")
            checked = {e["id"]: e for e in console.events("result-checked")}
            assert checked["s-pin"]["signature"] == "valid"
            assert checked["s-early"]["signature"] == "none"
            wait_for(lambda: len(outbox) == 0, "the acks")
            link.send_status(StatusMessage(Mode.STAFF, Screen.STAFF_STANDBY, "r", True, None))
            link.send_error(ErrorMessage("006", "s-x"))
            wait_for(lambda: console.messages("error"), "the error message")
            assert console.messages("status")[-1]["screen"] == "staff-standby"
            assert console.messages("error")[0]["code"] == "006"


def test_a_forged_signature_is_reported_invalid(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path)
    events = Events()
    with running_link("tcp://127.0.0.1:0", outbox, events) as link, \
            Console(tcp_url(link)) as console:
        wait_for(lambda: console.messages("hello"), "the hello")
        link.send_status(WANTS_CHALLENGE)
        wait_for(lambda: events.of(ChallengeReceived), "the challenge")
        challenge = events.of(ChallengeReceived)[0].challenge
        other = make_signer()
        link.submit_result(make_result("s-bad", SIGNER, challenge, other.sign(challenge)))
        wait_for(lambda: console.events("result-checked"), "the check")
        assert console.events("result-checked")[0]["signature"] == "invalid"


def test_issued_passcode_is_stored_before_the_ack_and_shown_once(tmp_path: Path) -> None:
    issued: list[Secret] = []
    with running_link("tcp://127.0.0.1:0", open_outbox(tmp_path),
                      issue_passcode=issued.append) as link, \
            Console(tcp_url(link), issue_passcode=True) as console:
        wait_for(lambda: console.events("passcode-issued"), "the passcode event")
        shown = console.events("passcode-issued")
        assert len(shown) == 1
        code = shown[0]["passcode"]
        assert len(code) == 4
        assert code.isdigit()
        assert issued == [Secret(code)]


def test_link_cuts_mid_stream_deliver_every_result_exactly_once(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path)
    with running_link("tcp://127.0.0.1:0", outbox) as link:
        assert link.address is not None
        proxy = FaultProxy(link.address)
        try:
            with Console(proxy.url) as console:
                wait_for(lambda: link.connected, "the first session")
                for i in range(60):
                    link.submit_result(make_result(f"s-{i:03d}", SIGNER))
                    if i % 12 == 5:
                        proxy.cut()
                wait_for(lambda: len(outbox) == 0, "every result acked")
                ids = [m["id"] for m in console.messages("result")]
        finally:
            proxy.close()
    assert sorted(ids) == [f"s-{i:03d}" for i in range(60)]
    assert len(ids) == len(set(ids))
    assert proxy.cuts >= 5


def test_a_restarted_daemon_resends_unacked_results(tmp_path: Path) -> None:
    with running_link("tcp://127.0.0.1:0", open_outbox(tmp_path)) as link, \
            Console(tcp_url(link), ack=False) as console:
        link.submit_result(make_result("s-1", SIGNER))
        wait_for(lambda: console.messages("result"), "the unacked result")
    # a new HostLink and Outbox over the same SQLite file, as after a restart
    outbox = open_outbox(tmp_path)
    assert [p.id for p in outbox.pending()] == ["s-1"]
    with running_link("tcp://127.0.0.1:0", outbox) as link, \
            Console(tcp_url(link)) as console:
        wait_for(lambda: console.messages("result"), "the re-sent result")
        wait_for(lambda: len(outbox) == 0, "the ack")
        assert [m["id"] for m in console.messages("result")] == ["s-1"]


def test_a_restarted_console_with_a_seen_file_drops_the_repeat(tmp_path: Path) -> None:
    seen_file = tmp_path / "seen.txt"
    outbox = open_outbox(tmp_path)
    with running_link("tcp://127.0.0.1:0", outbox) as link:
        # the console stores the id, then its ack is lost (it died in between)
        SeenResults(seen_file).add("s-1")
        link.submit_result(make_result("s-1", SIGNER))
        with Console(tcp_url(link), seen=SeenResults(seen_file)) as console:
            wait_for(lambda: len(outbox) == 0, "the ack of the repeat")
            assert console.messages("result") == []
            assert [e["id"] for e in console.events("duplicate-result")] == ["s-1"]


def test_bad_lines_get_error_replies_and_the_link_keeps_running(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path)
    issued: list[Secret] = []
    with running_link("tcp://127.0.0.1:0", outbox, issue_passcode=issued.append) as link:
        link.submit_result(make_result("s-1", SIGNER))
        with SealedClient(link) as client:
            assert [m["type"] for m in client.read_lines(2)] == ["hello", "result"]
            bad = [b"not json", b'{"type":"ack","v":1,"ref":"s-1"}',
                   b'{"type":"warp","id":"b3","v":1}', b"x" * 70_000,
                   b'{"type":"passcode.issue","id":"b5","v":1,"passcode":"98765"}',
                   b'{"type":"challenge","id":"b6","v":3,"challenge":""}',
                   b'{"type":"config","id":"b7","v":1,"settings":{"staff_idle_s":60}}']
            client.send(*bad)
            errors = client.read_lines(len(bad))
            assert [e["fault"] for e in errors] == [
                "not-json", "missing-field", "unknown-type", "line-too-long", "bad-field",
                "unsupported-version", "unsupported"]
            assert all(e["type"] == "error" for e in errors)
            assert errors[2]["ref"] == "b3"
            assert "98765" not in json.dumps(errors)
            # the same connection still works: a passcode (acked once stored) and acks
            client.send_messages(
                {"type": "passcode.issue", "id": "g2", "v": 1, "passcode": "2468"},
                {"type": "ack", "id": "g3", "v": 1, "ref": "s-1"},
                {"type": "ack", "id": "g4", "v": 1, "ref": "s-1"})
            acks = client.read_lines(1)
            assert [(a["type"], a["ref"]) for a in acks] == [("ack", "g2")]
            assert issued == [Secret("2468")]
            wait_for(lambda: len(outbox) == 0, "the ack of s-1")
            assert link.connected


def test_a_passcode_the_store_refuses_is_not_acked(tmp_path: Path) -> None:
    def broken_store(code: Secret) -> None:
        raise PasscodeStoreError("disk full")

    with running_link("tcp://127.0.0.1:0", open_outbox(tmp_path),
                      issue_passcode=broken_store) as link, SealedClient(link) as client:
        client.read_lines(1)
        client.send_messages({"type": "passcode.issue", "id": "p1", "v": 1, "passcode": "2468"})
        reply = client.read_lines(1)[0]
        assert (reply["type"], reply["fault"], reply["ref"]) == ("error", "refused", "p1")


def test_a_listener_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    link = HostLink("tcp://0.0.0.0:0", open_outbox(tmp_path), Events(), HELLO, secret=SECRET)
    with pytest.raises(HostLinkError, match=r"--link-secret-file.*MYNA_LINK_SECRET.*127\.0\.0\.1"
                       ) as refused:
        link.start()
    assert "token=" not in str(refused.value)  # the advice never puts the secret in a URL
    with pytest.raises(LinkUrlError, match="at least 16"):
        HostLink("tcp://0.0.0.0:0?token=short", open_outbox(tmp_path), Events(), HELLO)


def test_a_tcp_listener_needs_a_secret_even_on_loopback(tmp_path: Path) -> None:
    link = HostLink("tcp://127.0.0.1:0", open_outbox(tmp_path), Events(), HELLO)
    with pytest.raises(HostLinkError, match="pairing secret"):
        link.start()


def test_only_the_right_secret_pairs_and_nothing_leaks_before(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path)
    with running_link("tcp://127.0.0.1:0", outbox) as link:
        link.submit_result(make_result("s-1", SIGNER))
        wrong = LinkSecret(b"wrong-secret-0123456789abcdef")
        with pytest.raises(AuthError, match="refused"):
            SealedClient(link, wrong)
        with contextlib.closing(plain_client(link)) as plain:
            plain.write(b'{"type":"ack","id":"p1","v":1,"ref":"s-1"}\n')
            seen = b""
            while (data := plain.read()) != b"":
                seen += data or b""
        kinds = [json.loads(x)["type"] for x in seen.splitlines()]
        assert kinds == ["auth.hello", "error"]  # no hello, no status, no result
        assert len(outbox) == 1
        assert not link.connected
        with Console(tcp_url(link)) as console:
            wait_for(lambda: len(outbox) == 0, "the paired console's ack")
            assert [m["id"] for m in console.messages("result")] == ["s-1"]


def test_a_newer_connection_replaces_the_older_once_authenticated(tmp_path: Path) -> None:
    with running_link("tcp://127.0.0.1:0", open_outbox(tmp_path)) as link, \
            SealedClient(link) as old:
        old.read_lines(1)
        with contextlib.closing(plain_client(link)) as unpaired:
            unpaired.write(b"\n")  # a connection that never authenticates replaces nothing
            link.submit_result(make_result("s-0", SIGNER))
            assert old.read_lines(1)[0]["id"] == "s-0"
        with SealedClient(link) as new:
            assert new.read_lines(1)[0]["type"] == "hello"
            assert old.hung_up()
            link.submit_result(make_result("s-1", SIGNER))
            assert new.read_lines(2)[1]["id"] == "s-1"  # s-0 again (unacked), then s-1


def test_a_pair_on_a_running_session_resends_everything(tmp_path: Path) -> None:
    with running_link("tcp://127.0.0.1:0", open_outbox(tmp_path)) as link:
        link.submit_result(make_result("s-1", SIGNER))
        with SealedClient(link) as client:
            assert [m["type"] for m in client.read_lines(2)] == ["hello", "result"]
            client.send(b'{"type":"pair","id":"p","v":1}')
            again = client.read_lines(2)
            assert [m["type"] for m in again] == ["hello", "result"]
            assert base64.b64decode(again[1]["certificate"]) == SIGNER.der


def test_the_link_expires_old_results_with_an_audit_line(tmp_path: Path) -> None:
    now = [1_700_000_000.0]
    audit = AuditLog(tmp_path, clock=lambda: now[0])
    outbox = open_outbox(tmp_path, audit=audit, ttl_s=600, clock=lambda: now[0])
    outbox.put(make_result("s-stale", SIGNER))
    now[0] += 601
    with running_link("tcp://127.0.0.1:0", outbox) as link:  # housekeeping runs at start
        wait_for(audit.read, "the expiry audit line")
        with Console(tcp_url(link)) as console:
            wait_for(lambda: console.messages("hello"), "the session")
            assert console.messages("result") == []
    assert [(a["session"], a["outcome"]) for a in audit.read()] == [
        ("s-stale", "undelivered-expired")]


def test_tcp_url_forms() -> None:
    assert parse_link_url("tcp://127.0.0.1") == TcpEndpoint("127.0.0.1", 4730)
    six = parse_link_url(f"tcp://[::1]:4731?token={TOKEN}")
    assert six == TcpEndpoint("::1", 4731, TOKEN)
    assert isinstance(six, TcpEndpoint)
    assert six.loopback
    assert TOKEN not in repr(six)
    assert not TcpEndpoint("192.168.1.20", 4730).loopback
    assert not TcpEndpoint("reader.local", 4730).loopback  # a name may resolve anywhere
    for bad, message in (("tcp://127.0.0.1:99999", "0..65535"), ("tcp://:4730", "name the"),
                         ("http://x", "use tcp://"), ("serial://", "name the device"),
                         ("serial:///dev/ttyS0?baudrate=fast", "baudrate")):
        with pytest.raises(LinkUrlError, match=message):
            parse_link_url(bad)


def test_a_refused_url_never_shows_its_token() -> None:
    for bad in (f"tcp://127.0.0.1:99999?token={TOKEN}", f"tcp://:4730?token={TOKEN}",
                f"http://x?token={TOKEN}"):
        with pytest.raises(LinkUrlError, match="<hidden>") as refused:
            parse_link_url(bad)
        assert TOKEN not in str(refused.value)

