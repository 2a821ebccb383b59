"""Table tests of the paths issue 13 added: phones on the reader (Android, iPhone), the
certificate's life cycle (notice, 資格情報のみ, 006), the prescription page and the clinical
records consent. CASES joins test_transitions' meta-test (every table entry has a case)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from myna_reader.daemon.engine import (
    JST,
    Button,
    CardErrorKind,
    CardJobFailed,
    CardPlaced,
    CardProbed,
    CardRemoved,
    CertificateLife,
    CertificatePolicy,
    CertificateRead,
    ChallengeReceived,
    ConfigError,
    ConsentItem,
    ConsentPage,
    ConsentView,
    DigitPressed,
    DoneView,
    Effect,
    ErrorView,
    FaceMatched,
    Method,
    Phase,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    PinView,
    Prescription,
    PrescriptionView,
    Pressed,
    ReadCertificate,
    ReadingView,
    ReadPinCounter,
    ReleaseCard,
    ResultMessage,
    SendToHost,
    SessionConfig,
    Show,
    Sign,
    Signed,
    TokenKind,
    VerifyPin,
    assess,
    validate_session_overrides,
)
from tests.daemon.engine.engine_driver import (
    CERT_DER,
    CHALLENGE,
    FACE,
    FINGERPRINT,
    NOT_AFTER,
    PRESCRIBING,
    Driver,
    android_pin,
    android_reading_cert,
    cert_read,
    consent,
    prescription,
    probing,
    reading_cert,
    staff_probing,
    standby,
)
from tests.daemon.engine.test_transitions import (
    Case,
    all_of,
    error_code,
    ev,
    has,
    no_result,
)

# A certificate that ends at 23:59:59 on 2026-05-17 in Japan, as a JPKI auth certificate ends
# on the holder's birthday: its notice starts 2026-02-17; its grace runs 3 months from the end
# of May, to 2026-08-31 (JST).
EXPIRY = datetime(2026, 5, 17, 14, 59, 59, tzinfo=UTC)
POLICY = CertificatePolicy()


def jst(y: int, m: int, d: int, hh: int = 12, mm: int = 0, ss: int = 0) -> float:
    return datetime(y, m, d, hh, mm, ss, tzinfo=JST).timestamp()


# --- the life cycle, at its boundaries ------------------------------------------------------

BOUNDARIES = [
    # (what, wall time in Japan, expected)
    ("a day before the notice starts", jst(2026, 2, 16), CertificateLife.VALID),
    ("the last second before the notice", jst(2026, 2, 16, 23, 59, 59), CertificateLife.VALID),
    ("the notice's first day, 00:00 JST (still 2026-02-16 in UTC)", jst(2026, 2, 17, 0, 0, 0),
     CertificateLife.EXPIRING),
    ("a day after the notice starts", jst(2026, 2, 18), CertificateLife.EXPIRING),
    ("a day before expiry", jst(2026, 5, 16), CertificateLife.EXPIRING),
    ("the expiry's last second", jst(2026, 5, 17, 23, 59, 59), CertificateLife.EXPIRING),
    ("one second after notAfter", jst(2026, 5, 18, 0, 0, 0), CertificateLife.GRACE),
    ("a day after expiry", jst(2026, 5, 18), CertificateLife.GRACE),
    ("17 August: 3 months after the day, still in the grace", jst(2026, 8, 17),
     CertificateLife.GRACE),
    ("a day before the grace ends", jst(2026, 8, 30), CertificateLife.GRACE),
    ("the grace's last second", jst(2026, 8, 31, 23, 59, 59), CertificateLife.GRACE),
    ("the first second after the grace", jst(2026, 9, 1, 0, 0, 0), CertificateLife.EXPIRED),
    ("a day after the grace ends", jst(2026, 9, 1), CertificateLife.EXPIRED),
]


@pytest.mark.parametrize(("what", "wall", "life"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_life_cycle_boundaries(what: str, wall: float, life: CertificateLife) -> None:
    assessment = assess(EXPIRY, wall, POLICY)
    assert assessment.life is life
    assert assessment.expiry == date(2026, 5, 17)
    assert assessment.grace_until == date(2026, 8, 31)


@pytest.mark.parametrize(("expiry", "notice_start", "grace_end"), [
    (date(2026, 5, 31), date(2026, 2, 28), date(2026, 8, 31)),  # clamped to February's end
    (date(2027, 11, 30), date(2027, 8, 30), date(2028, 2, 29)),  # into a leap February
    (date(2026, 1, 15), date(2025, 10, 15), date(2026, 4, 30)),  # across the year
])
def test_the_notice_counts_from_the_day_the_grace_from_the_months_end(
        expiry: date, notice_start: date, grace_end: date) -> None:
    not_after = datetime(expiry.year, expiry.month, expiry.day, 23, 59, 59, tzinfo=JST)
    day = timedelta(days=1)

    def life_on(d: date) -> CertificateLife:
        return assess(not_after, jst(d.year, d.month, d.day), POLICY).life

    assert life_on(notice_start - day) is CertificateLife.VALID
    assert life_on(notice_start) is CertificateLife.EXPIRING
    assert life_on(grace_end) is CertificateLife.GRACE
    assert life_on(grace_end + day) is CertificateLife.EXPIRED


def test_periods_are_configurable() -> None:
    one = CertificatePolicy(notice_months=1, grace_months=1)
    assert assess(EXPIRY, jst(2026, 4, 16), one).life is CertificateLife.VALID
    assert assess(EXPIRY, jst(2026, 4, 17), one).life is CertificateLife.EXPIRING
    assert assess(EXPIRY, jst(2026, 6, 30), one).life is CertificateLife.GRACE
    assert assess(EXPIRY, jst(2026, 7, 1), one).life is CertificateLife.EXPIRED
    none = CertificatePolicy(notice_months=0, grace_months=0)
    assert assess(EXPIRY, jst(2026, 5, 17), none).life is CertificateLife.VALID
    assert assess(EXPIRY, jst(2026, 5, 18, 0, 0, 0), none).life is CertificateLife.EXPIRED


@pytest.mark.parametrize("bad", [-1, 13, 1.5, True, "3"])
def test_periods_out_of_range_are_refused(bad: object) -> None:
    for key in ("notice_months", "grace_months"):
        with pytest.raises(ConfigError, match=rf"^certificate\.{key}: .* 0\.\.12$"):
            validate_session_overrides({"certificate": {key: bad}})


def test_the_new_keys_come_from_the_config_tables() -> None:
    config = validate_session_overrides({
        "certificate": {"notice_months": 2, "grace_months": 6},
        "prescription": {"ask": True},
        "consent": {"validity_h": {"clinical-records": 12}},
    })
    assert config.certificate == CertificatePolicy(notice_months=2, grace_months=6)
    assert config.ask_prescription is True
    assert config.consent_validity.until(ConsentItem.CLINICAL_RECORDS, True, 0.0) == 12 * 3600
    assert config.consent_validity.until(ConsentItem.PHARMACEUTICAL, True, 0.0) == 24 * 3600
    assert config.consent_validity.until(ConsentItem.LIMIT_APPLICATION, True, 0.0) is None


# --- the same boundaries through the engine -------------------------------------------------


def _plastic_at(wall: float, config: SessionConfig | None = None,
                token: TokenKind = TokenKind.PLASTIC_CARD) -> Driver:
    """A card placed at wall time `wall` whose certificate ends at EXPIRY, read."""
    d = standby(config)
    d.sessions += 1
    d.feed(CardPlaced(f"session-{d.sessions}", wall))
    d.feed(CardProbed(d.sid, token, True))
    cert_read(d, EXPIRY)
    return d


def _confirm_with_pin(d: Driver) -> None:
    d.feed(PinCounterRead(d.sid, 3))
    d.type_digits()
    d.press(Button.OK)
    d.feed(ChallengeReceived(CHALLENGE))  # taken only once the PIN session waits for it
    d.feed(PinVerified(d.sid, PinOutcome.OK, 3))
    d.feed(Signed(d.sid, b"SIGNATURE"))
    while d.phase is Phase.CONSENT:
        d.press(Button.AGREE)


# a day on either side of each limit (a session lasts seconds, so not the exact second)
DAYS = [b for b in BOUNDARIES if "second" not in b[0] and "00:00" not in b[0]]


@pytest.mark.parametrize(("what", "wall", "life"), DAYS, ids=[b[0] for b in DAYS])
def test_engine_at_each_boundary(what: str, wall: float, life: CertificateLife) -> None:
    d = _plastic_at(wall)
    if life is CertificateLife.EXPIRED:
        assert d.phase is Phase.ERROR and d.state.error_code == "006"
        assert not any(isinstance(e, ReadPinCounter | VerifyPin) for e in d.effects)
        return
    assert d.state.phase is Phase.READING_COUNTER  # only a usable certificate: its PIN
    _confirm_with_pin(d)
    assert isinstance(d.state.shown, DoneView)
    result = d.results()[-1]
    assert result.certificate_life is life
    assert result.certificate_expiry == date(2026, 5, 17)
    assert result.qualification_only is (life is CertificateLife.GRACE)
    wire = result.to_wire()
    assert wire["certificate_life"] == life.value
    assert wire["qualification_only"] is (life is CertificateLife.GRACE)
    view = d.state.shown
    assert isinstance(view, DoneView)
    assert view.certificate_life is life
    assert view.certificate_expiry == (None if life is CertificateLife.VALID
                                       else date(2026, 5, 17))
    assert view.grace_until == (date(2026, 8, 31) if life is CertificateLife.GRACE else None)


def test_grace_asks_no_data_sharing_consent() -> None:
    d = _plastic_at(jst(2026, 6, 1))
    _confirm_with_pin(d)
    result = d.results()[-1]
    assert {a.item for a in result.consents} == {ConsentItem.LIMIT_APPLICATION,
                                                 ConsentItem.SPECIFIC_DISEASE}
    assert not any(a.item.viewing for a in result.consents)
    pages = [e.view for e in d.effects if isinstance(e, Show) and isinstance(e.view, ConsentView)]
    assert {p.page_count for p in pages} == {1}


@pytest.mark.parametrize("token", [TokenKind.ANDROID, TokenKind.IPHONE])
def test_a_phone_has_no_grace(token: TokenKind) -> None:
    if token is TokenKind.ANDROID:
        d = standby()
        d.feed(CardPlaced("s-android", jst(2026, 5, 18)))
        d.feed(CardProbed(d.sid, token, True))
        d.feed(PinCounterRead(d.sid, 3))
        d.type_digits()
        d.press(Button.OK)
        d.feed(PinVerified(d.sid, PinOutcome.OK, 3))
        cert_read(d, EXPIRY)
    else:
        d = _plastic_at(jst(2026, 5, 18), token=token)
    assert d.phase is Phase.ERROR and d.state.error_code == "006"
    assert d.state.shown == ErrorView(code="006", ask_staff=True, token=token)


def test_a_phone_gets_the_expiry_notice_too() -> None:
    d = _plastic_at(jst(2026, 4, 1), token=TokenKind.IPHONE)
    d.feed(ChallengeReceived(CHALLENGE))
    d.feed(Signed(d.sid, b"SIGNATURE"))
    while d.phase is Phase.CONSENT:
        d.press(Button.AGREE)
    assert d.state.shown.certificate_life is CertificateLife.EXPIRING  # type: ignore[union-attr]


# --- phones ---------------------------------------------------------------------------------


def _iphone_cert() -> Driver:
    return reading_cert(token=TokenKind.IPHONE)


def _iphone_signing() -> Driver:
    d = _iphone_cert()
    d.feed(ChallengeReceived(CHALLENGE))
    cert_read(d)
    return d


def _phone_consent(token: TokenKind) -> Callable[[], Driver]:
    def reach() -> Driver:
        if token is TokenKind.IPHONE:
            d = _iphone_signing()
        else:
            d = android_reading_cert()
            d.feed(ChallengeReceived(CHALLENGE))
            cert_read(d)
        d.feed(Signed(d.sid, b"SIGNATURE"))
        return d
    return reach


def _phone_away(token: TokenKind) -> Callable[[], Driver]:
    def reach() -> Driver:
        d = _phone_consent(token)()
        d.feed(CardRemoved())
        return d
    return reach


def _only_method(method: Method) -> Callable[[Driver, list[Effect]], object]:
    return lambda d, out: d.results()[0].method is method


def _no_pin_pad(d: Driver, out: list[Effect]) -> bool:
    return not any(isinstance(getattr(e, "view", None), PinView) for e in d.effects)


CLINICAL = SessionConfig(consent_pages=(
    ConsentPage("clinical-records", (ConsentItem.CLINICAL_RECORDS,)),
))


def _validity_checked(d: Driver, out: list[Effect]) -> None:
    result = d.results()[0]
    answer = result.consents[0]
    assert answer.item is ConsentItem.CLINICAL_RECORDS
    assert answer.available_until == pytest.approx(answer.time + 24 * 3600)
    wire = result.to_wire()["consents"][0]  # type: ignore[index]
    assert wire["flags"] == ["DiagnosisNameConsFlg", "InfectiousInfoConsFlg",
                             "AllergyInfoConsFlg", "ContraindicationInfoConsFlg",
                             "TestInfoConsFlg", "PrescriptionInfoConsFlg"]


def _result_prescription(choice: Prescription) -> Callable[[Driver, list[Effect]], object]:
    def check(d: Driver, out: list[Effect]) -> None:
        result = d.results()[0]
        assert result.prescription is choice
        assert result.to_wire()["prescription"] == choice.value
    return check


def _with_challenge(reach: Callable[[], Driver]) -> Driver:
    d = reach()
    d.feed(ChallengeReceived(CHALLENGE))
    return d


def _android_counter() -> Driver:
    d = probing()
    d.feed(CardProbed(d.sid, TokenKind.ANDROID, True))
    return d


def _android_verifying() -> Driver:
    d = android_pin()
    d.type_digits()
    d.press(Button.OK)
    return d


def _iphone_refused() -> Driver:
    d = _iphone_signing()
    d.feed(CardJobFailed(d.sid, CardErrorKind.NOT_AUTHENTICATED))
    d.feed(CardRemoved())
    return d


def _plastic_signing(config: SessionConfig | None = None) -> Driver:
    d = reading_cert(config)
    cert_read(d)
    d.feed(PinCounterRead(d.sid, 3))
    d.type_digits()
    d.press(Button.OK)
    d.feed(ChallengeReceived(CHALLENGE))  # taken only once the PIN session waits for it
    d.feed(PinVerified(d.sid, PinOutcome.OK, 3))
    return d


def _staff_iphone() -> Driver:
    d = staff_probing()
    d.feed(CardProbed(d.sid, TokenKind.IPHONE, True))
    return d


def _last_page(reach: Callable[[], Driver]) -> Driver:
    d = reach()
    for _ in d.config.consent_pages[:-1]:
        d.press(Button.AGREE)
    return d


def _phone_prescription() -> Driver:
    d = _iphone_signing_with(PRESCRIBING)
    d.feed(Signed(d.sid, b"SIGNATURE"))
    for _ in d.config.consent_pages:
        d.press(Button.AGREE)
    return d


def _phone_prescription_away() -> Driver:
    d = _phone_prescription()
    d.feed(CardRemoved())
    return d


def _iphone_signing_with(config: SessionConfig) -> Driver:
    d = reading_cert(config, token=TokenKind.IPHONE)
    d.feed(ChallengeReceived(CHALLENGE))
    cert_read(d)
    return d


CASES: list[Case] = [
    # Android: the phone's counter, the PIN on the reader, the certificate after VERIFY
    Case("Android: counter, PIN pad for the phone", _android_counter,
         lambda d: PinCounterRead(d.sid, 3), Phase.PIN,
         lambda d, out: d.state.shown == PinView(tries_left=3, token=TokenKind.ANDROID)),
    Case("Android: VERIFY ok, the certificate now", _android_verifying,
         lambda d: PinVerified(d.sid, PinOutcome.OK, 3), Phase.READING_CERT,
         has(ReadCertificate)),
    Case("Android: certificate, then the signature", android_reading_cert,
         lambda d: CertificateRead(d.sid, CERT_DER, FINGERPRINT, NOT_AFTER),
         Phase.AWAITING_CHALLENGE),
    Case("Android: blocked on the phone", _android_counter,
         lambda d: PinCounterRead(d.sid, 0), Phase.ERROR, error_code("101")),
    # iPhone: no PIN pad; certificate, signature; a refusal asks for Face ID first
    Case("iPhone: certificate, signature at once", lambda: _with_challenge(_iphone_cert),
         lambda d: CertificateRead(d.sid, CERT_DER, FINGERPRINT, NOT_AFTER), Phase.SIGNING,
         all_of(has(Sign), _no_pin_pad)),
    Case("iPhone: signed, consent", _iphone_signing, lambda d: Signed(d.sid, b"SIG"),
         Phase.CONSENT, all_of(has(ReleaseCard), _no_pin_pad)),
    Case("iPhone: not yet authenticated on the phone", _iphone_signing,
         lambda d: CardJobFailed(d.sid, CardErrorKind.NOT_AUTHENTICATED), Phase.ERROR,
         all_of(error_code("112"), lambda d, out: not d.state.shown.ask_staff)),  # type: ignore[union-attr]
    Case("iPhone: certificate refused before Face ID", _iphone_cert,
         lambda d: CardJobFailed(d.sid, CardErrorKind.NOT_AUTHENTICATED), Phase.ERROR,
         error_code("112")),
    Case("iPhone: held again after 112", _iphone_refused,
         lambda d: CardPlaced("held-again", 1_760_000_100.0), Phase.PROBING),
    Case("plastic card refusing its key is a communication error", _plastic_signing,
         lambda d: CardJobFailed(d.sid, CardErrorKind.NOT_AUTHENTICATED), Phase.ERROR,
         error_code("107")),
    Case("iPhone in staff mode: the phone's own check", _staff_iphone,
         lambda d: CertificateRead(d.sid, CERT_DER, FINGERPRINT, NOT_AFTER),
         Phase.AWAITING_CHALLENGE, mode=None),
    Case("unknown token: 104", probing,
         lambda d: CardJobFailed(d.sid, CardErrorKind.TOKEN_UNSUPPORTED), Phase.ERROR,
         error_code("104")),
    # a phone may leave once it is read; a card may not
    Case("iPhone taken away on the consent page", _phone_consent(TokenKind.IPHONE),
         ev(CardRemoved()), Phase.CONSENT, lambda d, out: not d.state.card_present),
    Case("Android taken away, then confirmed", _phone_away(TokenKind.ANDROID),
         ev(Pressed(Button.AGREE)), Phase.CONSENT),
    Case("phone held again on the consent page", _phone_away(TokenKind.IPHONE),
         lambda d: CardPlaced("again", 1_760_000_100.0), Phase.CONSENT,
         lambda d, out: d.state.card_present and d.state.session.id == "session-1"),  # type: ignore[union-attr]
    Case("phone confirmation completes", lambda: _last_page(_phone_away(TokenKind.IPHONE)),
         ev(Pressed(Button.AGREE)), Phase.DONE,
         all_of(_only_method(Method.PHONE),
                lambda d, out: d.results()[0].token is TokenKind.IPHONE
                and d.results()[0].signature == b"SIGNATURE"
                and not d.state.shown.remove_card)),  # type: ignore[union-attr]
    Case("Android confirmation is a PIN confirmation",
         lambda: _last_page(_phone_consent(TokenKind.ANDROID)), ev(Pressed(Button.AGREE)),
         Phase.DONE, all_of(_only_method(Method.PIN),
                            lambda d, out: d.results()[0].token is TokenKind.ANDROID)),
    # the prescription page
    Case("last consent page, prescription next", lambda: _last_page(lambda: consent(PRESCRIBING)),
         ev(Pressed(Button.AGREE)), Phase.PRESCRIPTION,
         lambda d, out: d.state.shown == PrescriptionView(back_button=True) and not d.results()),
    Case("電子処方箋", prescription, ev(Pressed(Button.PRESCRIPTION_ELECTRONIC)), Phase.DONE,
         _result_prescription(Prescription.ELECTRONIC)),
    Case("紙の処方箋", prescription, ev(Pressed(Button.PRESCRIPTION_PAPER)), Phase.DONE,
         _result_prescription(Prescription.PAPER)),
    Case("prescription back", prescription, ev(Pressed(Button.BACK)), Phase.CONSENT,
         lambda d, out: d.state.shown.page_index == 2),  # type: ignore[union-attr]
    Case("no consent page: the prescription at once", lambda: _plastic_signing(
        SessionConfig(consent_pages=(), ask_prescription=True)),
         lambda d: Signed(d.sid, b"SIG"), Phase.PRESCRIPTION,
         lambda d, out: d.state.shown == PrescriptionView(back_button=False)),
    Case("card removed on the prescription page", prescription, ev(CardRemoved()),
         Phase.ERROR, all_of(error_code("106"), lambda d, out: not d.results())),
    Case("a card placed on the prescription page", _phone_prescription_away,
         lambda d: CardPlaced("next", 1_760_000_100.0), Phase.PRESCRIPTION,
         lambda d, out: d.state.card_present),
    Case("phone taken away on the prescription page", _phone_prescription,
         ev(CardRemoved()), Phase.PRESCRIPTION, lambda d, out: not d.state.card_present),
    Case("prescription walked away", prescription, None, Phase.STANDBY, no_result),
    # the clinical records consent
    Case("clinical records: six flags, 24 h", lambda: consent(CLINICAL), ev(Pressed(Button.AGREE)),
         Phase.DONE, _validity_checked),
    Case("clinical records refused: no validity", lambda: consent(CLINICAL),
         ev(Pressed(Button.DISAGREE)), Phase.DONE,
         lambda d, out: d.results()[0].consents[0].available_until is None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case) -> None:
    case.holds()


# --- whole flows: the jobs each path asks, in order -----------------------------------------


def _jobs(d: Driver) -> list[str]:
    return [type(e).__name__ for e in d.effects
            if type(e).__name__ in ("ProbeCard", "ReadCertificate", "ReadPinCounter",
                                    "VerifyPin", "Sign", "ReleaseCard", "MatchFace")]


def test_job_order_per_path() -> None:
    card = consent()
    assert _jobs(card) == ["ProbeCard", "ReadCertificate", "ReadPinCounter", "VerifyPin",
                           "Sign", "ReleaseCard"]
    android = _phone_consent(TokenKind.ANDROID)()
    assert _jobs(android) == ["ProbeCard", "ReadPinCounter", "VerifyPin", "ReadCertificate",
                              "Sign", "ReleaseCard"]
    iphone = _phone_consent(TokenKind.IPHONE)()
    assert _jobs(iphone) == ["ProbeCard", "ReadCertificate", "Sign", "ReleaseCard"]
    expired = _plastic_at(jst(2030, 1, 1))
    assert _jobs(expired) == ["ProbeCard", "ReadCertificate", "ReleaseCard"]


def test_reading_screen_knows_the_phone() -> None:
    d = _iphone_cert()
    assert d.state.shown == ReadingView(token=TokenKind.IPHONE)


def test_result_wire_names_every_terminal_flag() -> None:
    d = consent()
    while d.phase is Phase.CONSENT:
        d.press(Button.AGREE)
    wire = d.results()[0].to_wire()
    flags = [f for c in wire["consents"] for f in c["flags"]]  # type: ignore[attr-defined]
    assert flags == ["LimitApplicationCertificateRelatedConsFlg",
                     "SpecificDiseasesCertificateRelatedConsFlg",
                     "SpecificHealthCheckupsInfoConsFlg", "PharmacistsInfoConsFlg",
                     "DiagnosisInfoConsFlg", "OperationInfoConsFlg"]
    by_item = {c["item"]: c for c in wire["consents"]}  # type: ignore[attr-defined]
    assert by_item["limit-application"]["available_until"] is None  # no viewing validity
    assert by_item["pharmaceutical"]["available_until"] == pytest.approx(
        by_item["pharmaceutical"]["time"] + 86400)
    assert wire["prescription"] is None and wire["token"] == "plastic-card"
    assert wire["method"] == "pin" and wire["qualification_only"] is False
    sent = [e for e in d.effects if isinstance(e, SendToHost)
            and isinstance(e.message, ResultMessage)]
    assert len(sent) == 1


# --- taps from placing the card (or phone) to 確認が完了しました ------------------------------


def _taps_to_done(d: Driver, token: TokenKind, *, face: bool = False) -> int:
    """A patient who follows the screen; the card answers as a usable one. Counts touches."""
    taps = 0

    def touch(event: Pressed | DigitPressed) -> None:
        nonlocal taps
        taps += 1
        d.feed(event)

    d.feed(CardProbed(d.sid, token, True))
    while d.phase is not Phase.DONE:
        phase = d.phase
        if phase is Phase.READING_CERT:
            cert_read(d)
        elif phase is Phase.READING_COUNTER:
            d.feed(PinCounterRead(d.sid, 3))
        elif phase is Phase.METHOD:
            touch(Pressed(Button.METHOD_FACE if face else Button.METHOD_PIN))
        elif phase is Phase.MATCHING_FACE:
            d.feed(FaceMatched(d.sid, True))
        elif phase is Phase.PIN:
            for digit in (1, 2, 3, 4):
                touch(DigitPressed(digit))
            touch(Pressed(Button.OK))
        elif phase is Phase.VERIFYING:
            d.feed(PinVerified(d.sid, PinOutcome.OK, 3))
        elif phase is Phase.AWAITING_CHALLENGE:
            d.feed(ChallengeReceived(CHALLENGE))
        elif phase is Phase.SIGNING:
            d.feed(Signed(d.sid, b"SIGNATURE"))
        elif phase is Phase.CONSENT:
            touch(Pressed(Button.AGREE))
        elif phase is Phase.PRESCRIPTION:
            touch(Pressed(Button.PRESCRIPTION_ELECTRONIC))
        else:
            raise AssertionError(f"stuck in {phase}")
    assert d.results()
    return taps


@pytest.mark.parametrize(("method", "config", "token", "face", "taps"), [
    ("card, PIN", None, TokenKind.PLASTIC_CARD, False, 8),
    ("card, face", FACE, TokenKind.PLASTIC_CARD, True, 4),
    ("Android", None, TokenKind.ANDROID, False, 8),
    ("iPhone", None, TokenKind.IPHONE, False, 3),
    ("card, PIN, prescription", PRESCRIBING, TokenKind.PLASTIC_CARD, False, 9),
    ("iPhone, prescription", PRESCRIBING, TokenKind.IPHONE, False, 4),
])
def test_taps_per_method(method: str, config: SessionConfig | None, token: TokenKind,
                         face: bool, taps: int) -> None:
    assert _taps_to_done(probing(config), token, face=face) == taps


def test_taps_in_the_grace_and_in_staff_mode() -> None:
    d = _plastic_at(jst(2026, 6, 1))
    assert d.phase is Phase.READING_COUNTER
    assert _taps_after_probe(d) == 6  # 4 digits, 決定, the one page left
    staff = staff_probing()
    assert _taps_to_done(staff, TokenKind.PLASTIC_CARD) == 3


def _taps_after_probe(d: Driver) -> int:
    taps = 0
    d.feed(PinCounterRead(d.sid, 3))
    for digit in (1, 2, 3, 4):
        d.feed(DigitPressed(digit))
        taps += 1
    d.press(Button.OK)
    d.feed(PinVerified(d.sid, PinOutcome.OK, 3))
    d.feed(ChallengeReceived(CHALLENGE))
    d.feed(Signed(d.sid, b"SIGNATURE"))
    taps += 1
    while d.phase is Phase.CONSENT:
        d.press(Button.AGREE)
        taps += 1
    assert d.phase is Phase.DONE
    return taps
