"""The engine's small parts: secrets, error codes (and their doc page), settings, consent
pages, the audit log, the replay driver and the benchmark."""

from __future__ import annotations

import copy
import json
import pickle
import re
import stat
from pathlib import Path

import pytest

from myna_reader.daemon.engine import (
    ALL_CODES,
    CODE_OF_KIND,
    DEFAULT_CONSENT_PAGES,
    AuditEvent,
    AuditOutcome,
    AuditRecord,
    Button,
    CardErrorKind,
    CardJob,
    CardPlaced,
    CardProbed,
    CertificateRead,
    ChallengeReceived,
    CheckPasscode,
    ConfigError,
    ConsentItem,
    ConsentPage,
    DigitPressed,
    Event,
    Method,
    Mode,
    PasscodeChecked,
    PasscodeStatus,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    Pressed,
    ReaderAttached,
    ReleaseCard,
    Secret,
    SecretFormatError,
    SessionConfig,
    Signed,
    StaffScope,
    Timeouts,
    TokenKind,
    VerifyPin,
    WriteAudit,
    kind_of_exception,
    validate_session_overrides,
)
from myna_reader.daemon.harness.replay import bench_engine, run_events
from myna_reader.daemon.store import audit as audit_module
from myna_reader.daemon.store.audit import AUDIT_FILE, AuditLog
from myna_reader.drivers import errors
from tests.daemon.engine.engine_driver import NOT_AFTER, PIN, PIN_TEXT, done
from tests.support.repo import REPO

# --- secrets -------------------------------------------------------------------------------


def test_secret_hides_itself() -> None:
    secret = Secret(PIN_TEXT)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>10}"):
        assert PIN_TEXT not in text
        assert text == "Secret(****)"
    with pytest.raises(TypeError):
        json.dumps({"pin": secret})
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert copy.deepcopy(secret) == secret
    assert secret.reveal() == PIN_TEXT
    with pytest.raises(AttributeError):
        secret._value = "0000"
    with pytest.raises(SecretFormatError):
        Secret("12a4")


def test_a_whole_pin_session_never_shows_the_pin() -> None:
    d = done()
    text = repr(d.effects) + repr(d.state)
    assert PIN_TEXT not in text
    assert "".join(map(str, PIN)) not in text
    verify = [e for e in d.effects if isinstance(e, VerifyPin)]
    assert len(verify) == 1
    assert verify[0].pin.reveal() == PIN_TEXT


# --- error codes -----------------------------------------------------------------------------


def test_error_codes_are_unique_and_every_kind_has_one() -> None:
    codes = [e.code for e in ALL_CODES]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"\d{3}", c) for c in codes)
    assert set(CODE_OF_KIND) == set(CardErrorKind)
    assert {"001", "002", "006"} <= set(codes)


def test_the_doc_page_lists_every_code() -> None:
    page = (REPO / "docs" / "error-codes.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\d{3}) \| ([a-z-]+) \|", page, flags=re.M))
    assert rows == {e.code: e.key for e in ALL_CODES}


@pytest.mark.parametrize(("exc", "kind"), [
    (errors.CardRemovedError("gone"), CardErrorKind.CARD_REMOVED),
    (errors.NoCardError("none"), CardErrorKind.CARD_REMOVED),
    (errors.ReaderGoneError("unplugged"), CardErrorKind.READER_LOST),
    (errors.CardTimeoutError("slow"), CardErrorKind.TIMEOUT),
    (errors.PinBlockedError(0x6984), CardErrorKind.PIN_BLOCKED),
    (errors.CardFileNotFoundError(0x6A82), CardErrorKind.NOT_MY_NUMBER),
    (errors.MalformedResponseError("short"), CardErrorKind.UNREADABLE),
    (errors.UnknownStatusError(0x6F00), CardErrorKind.IO_ERROR),
    (errors.TransportError("?"), CardErrorKind.IO_ERROR),
])
def test_card_exceptions_map_to_kinds(exc: BaseException, kind: CardErrorKind) -> None:
    assert kind_of_exception(exc) is kind


# --- settings and consent pages ------------------------------------------------------------


def test_default_settings() -> None:
    config = SessionConfig()
    assert config.staff.scope is StaffScope.ONE
    assert config.lockout.max_failures == 5
    assert config.lockout.duration_s == 1800
    assert [p.id for p in config.consent_pages] == [
        "medication-treatment", "health-checkups", "certificates"]
    # every item but the 電子カルテ情報共有サービス's, which a facility adds when it takes part
    assert sorted(i for p in DEFAULT_CONSENT_PAGES for i in p.items) == sorted(
        set(ConsentItem) - {ConsentItem.CLINICAL_RECORDS})


@pytest.mark.parametrize(("raw", "key"), [
    ({"timeouts": {"pin_s": 0}}, "timeouts.pin_s"),
    ({"timeouts": {"pin_s": "60"}}, "timeouts.pin_s"),
    ({"timeouts": {"pin": 60}}, "timeouts.pin"),
    ({"staff_mode": {"scope": "forever"}}, "staff_mode.scope"),
    ({"staff_mode": {"idle_timeout_s": float("inf")}}, "staff_mode.idle_timeout_s"),
    ({"staff_mode": {"lockout_failures": 0}}, "staff_mode.lockout_failures"),
    ({"staff_mode": {"lockout_s": 5}}, "staff_mode.lockout_s"),
    ({"face": {"available": "yes"}}, "face.available"),
    ({"consent": {"pages": [{"id": "a", "items": ["surgery"]}]}}, "consent.pages[0].items"),
    ({"consent": {"pages": [{"id": "a", "items": []}]}}, "consent.pages[0].items"),
    ({"consent": {"pages": [{"id": "a", "items": ["diagnosis"]},
                            {"id": "b", "items": ["diagnosis"]}]}}, "consent.pages[1].items"),
    ({"consent": {"pages": "all"}}, "consent.pages"),
])
def test_bad_settings_name_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_session_overrides(raw)
    assert [p.key for p in info.value.problems] == [key]
    assert str(info.value).startswith(key + ": ")


def test_settings_from_config_data() -> None:
    config = validate_session_overrides({
        "timeouts": {"pin_s": 45},
        "staff_mode": {"scope": "until-cancel", "idle_timeout_s": 60, "lockout_failures": 3},
        "face": {"available": True},
        "consent": {"pages": [{"id": "one", "items": ["pharmaceutical", "diagnosis"]}]},
    })
    assert config.timeouts == Timeouts(pin_s=45)
    assert config.staff.scope is StaffScope.UNTIL_CANCEL
    assert config.staff.idle_s == 60
    assert config.lockout.max_failures == 3
    assert config.face_available
    assert config.consent_pages == (
        ConsentPage("one", (ConsentItem.PHARMACEUTICAL, ConsentItem.DIAGNOSIS)),)


def test_one_item_per_page_records_each_answer() -> None:
    pages = tuple(ConsentPage(i.value, (i,)) for i in ConsentItem)
    d = done(SessionConfig(consent_pages=pages))
    consents = d.results()[0].consents
    assert [a.item for a in consents] == list(ConsentItem)  # result-file order


# --- audit log -----------------------------------------------------------------------------


def test_audit_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, clock=lambda: 1_760_000_000.25)
    log.append(AuditRecord(AuditEvent.STAFF_ENTER, Mode.STAFF, AuditOutcome.ENTERED))
    log.append(AuditRecord(AuditEvent.CONFIRMATION, Mode.STAFF, AuditOutcome.CONFIRMED, "s1",
                           Method.VISUAL, "0123456789abcdef"))
    lines = (tmp_path / AUDIT_FILE).read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[1]) == {
        "time": "2025-10-09T08:53:20.250Z", "event": "confirmation", "mode": "staff",
        "method": "visual", "outcome": "confirmed", "session": "s1",
        "cert": "0123456789abcdef", "code": None}
    assert stat.S_IMODE((tmp_path / AUDIT_FILE).stat().st_mode) == 0o600


def test_audit_cuts_a_torn_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    log.append(AuditRecord(AuditEvent.STAFF_EXIT, Mode.STAFF, AuditOutcome.IDLE))
    with (tmp_path / AUDIT_FILE).open("ab") as f:
        f.write(b'{"time": "2025-')  # a crash in the middle of a write
    reopened = AuditLog(tmp_path)
    assert reopened.torn_bytes_removed == 15
    reopened.append(AuditRecord(AuditEvent.STAFF_LOCKOUT, Mode.UNATTENDED, AuditOutcome.LOCKED))
    assert [r["outcome"] for r in reopened.read()] == ["idle", "locked"]


def test_audit_that_cannot_be_opened_at_start_cuts_its_torn_line_at_the_first_append(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file unopenable when the reader starts (EACCES, EIO: tests/crash/
    test_state_faults.py does it for real) must not stop it, nor cost a line later."""
    log = AuditLog(tmp_path)
    log.append(AuditRecord(AuditEvent.STAFF_EXIT, Mode.STAFF, AuditOutcome.IDLE))
    with (tmp_path / AUDIT_FILE).open("ab") as f:
        f.write(b'{"time": "2025-')

    def unopenable(path: Path) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    with monkeypatch.context() as patched:
        patched.setattr(audit_module, "trim_torn_tail", unopenable)
        reopened = AuditLog(tmp_path)  # no AuditError: the reader starts
    assert reopened.torn_bytes_removed is None
    reopened.append(AuditRecord(AuditEvent.STAFF_LOCKOUT, Mode.UNATTENDED, AuditOutcome.LOCKED))
    assert reopened.torn_bytes_removed == 15
    assert [r["outcome"] for r in reopened.read()] == ["idle", "locked"]


def test_audit_records_of_a_session_hold_no_personal_data(tmp_path: Path) -> None:
    d = done()
    log = AuditLog(tmp_path)
    for effect in d.effects:
        if isinstance(effect, WriteAudit):
            log.append(effect.record)
    text = (tmp_path / AUDIT_FILE).read_text()
    assert PIN_TEXT not in text
    assert "SYNTHETIC-CERT-DER" not in text  # the certificate is named by fingerprint only
    assert json.loads(text.splitlines()[-1])["cert"] == "fp-synthetic-0001"


# --- replay and bench ----------------------------------------------------------------------


def _scripted_card(job: CardJob | CheckPasscode) -> Event | None:
    if isinstance(job, ReleaseCard):
        return None
    if isinstance(job, CheckPasscode):
        return PasscodeChecked(job.code == Secret("2580"), 4)
    sid = job.session_id
    answers: dict[str, Event] = {
        "ProbeCard": CardProbed(sid, TokenKind.PLASTIC_CARD, True),
        "ReadPinCounter": PinCounterRead(sid, 3),
        "VerifyPin": PinVerified(sid, PinOutcome.OK, 3),
        "ReadCertificate": CertificateRead(sid, b"DER", "fp", NOT_AFTER),
        "Sign": Signed(sid, b"SIG"),
    }
    return answers[type(job).__name__]


def test_run_events_drives_a_whole_confirmation() -> None:
    script: list[Event] = [ReaderAttached("replay"), PasscodeStatus(True),
                           CardPlaced("r1", 1.7e9),
                           *[DigitPressed(d) for d in PIN], Pressed(Button.OK),
                           ChallengeReceived(b"c" * 16),
                           Pressed(Button.AGREE), Pressed(Button.DISAGREE),
                           Pressed(Button.AGREE)]
    run = run_events(SessionConfig(), [(float(i), e) for i, e in enumerate(script)],
                     executor=_scripted_card, strict=True)
    summary = run.summary()
    assert summary["final_screen"] == "done"
    assert summary["results"] == [{
        "id": "r1", "method": "pin", "token": "plastic-card", "certificate": "fp",
        "certificate_life": "valid", "signed": True,
        "consents": {"limit-application": True, "specific-disease": True,
                     "health-checkups": False, "pharmaceutical": True, "diagnosis": True,
                     "operation": True}}]
    assert summary["audit"] == ["confirmed"]
    assert PIN_TEXT not in json.dumps(summary)


def test_run_events_reports_what_was_ignored() -> None:
    run = run_events(SessionConfig(), [(0.0, Pressed(Button.AGREE))])
    assert run.summary()["ignored"] == ["Pressed in no-reader: no transition"]


def test_bench_engine() -> None:
    median = bench_engine(sessions=200)
    print(f"\nengine: median {median * 1e6:.1f} µs per event")
    assert median > 0
