"""Engine rules the soak found missing (pure engine, simulated clock; tests/daemon/engine's driver).

1. A PIN session that signed the terminal's challenge and then ended without a result (中止,
   a walk-away, the card pulled during consent) left the reader with no challenge: the
   terminal sent a fresh one only after a result, so every later PIN confirmation failed
   with "no challenge" until the link reconnected. Now each session asks for its own: the
   status names the session and says when it wants the challenge (docs/host-protocol.md),
   so a session that ended without a result cannot strand the next, and no challenge
   signed once is ever signed again.
2. A confirmation's result goes to the durable outbox before its audit line, so a SIGKILL in
   between can never leave an audited confirmation the terminal does not get.
"""

from __future__ import annotations

from myna_reader.daemon.engine import (
    Button,
    CardProbed,
    CardRemoved,
    CertificateRead,
    Phase,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    ResultMessage,
    SendToHost,
    Sign,
    StatusMessage,
    TokenKind,
    WriteAudit,
)
from tests.daemon.engine.engine_driver import (
    CERT_DER,
    CHALLENGE,
    FINGERPRINT,
    NOT_AFTER,
    Driver,
    consent,
)


def _sign_next_pin_session(d: Driver) -> list[object]:
    """From standby: a PIN session up to its VERIFY; the effects of that last step."""
    d.place_card()
    d.feed(CardProbed(d.sid, TokenKind.PLASTIC_CARD, True))
    d.feed(CertificateRead(d.sid, CERT_DER, FINGERPRINT, NOT_AFTER))
    d.feed(PinCounterRead(d.sid, 3))
    d.type_digits()
    d.press(Button.OK)
    return list(d.feed(PinVerified(d.sid, PinOutcome.OK, 3)))


def phase(d: Driver) -> Phase:
    """The phase read afresh: mypy would keep an asserted `d.phase` narrowed across calls."""
    return d.phase


def _asked_for(d: Driver) -> list[str | None]:
    """The sessions whose challenge the status messages asked the terminal for, in order."""
    return [e.message.session_id for e in d.effects if isinstance(e, SendToHost)
            and isinstance(e.message, StatusMessage) and e.message.challenge_wanted]


def test_a_cancelled_signed_session_leaves_the_next_asking_for_its_own() -> None:
    d = consent()
    d.press(Button.CANCEL)
    d.feed(CardRemoved())
    assert phase(d) is Phase.STANDBY
    out = _sign_next_pin_session(d)
    assert phase(d) is Phase.AWAITING_CHALLENGE  # the cancelled session's is never reused
    assert not [e for e in out if isinstance(e, Sign)]
    assert _asked_for(d)[-1] == d.sid


def test_a_card_pulled_during_consent_leaves_the_next_asking_too() -> None:
    d = consent()
    d.feed(CardRemoved())  # mid-session: an error, no result
    assert phase(d) is Phase.ERROR
    d.press(Button.OK)
    _sign_next_pin_session(d)
    assert phase(d) is Phase.AWAITING_CHALLENGE
    assert _asked_for(d)[-1] == d.sid


def test_a_confirmed_session_uses_its_challenge_up() -> None:
    d = consent()
    for _ in d.config.consent_pages:
        d.press(Button.AGREE)
    assert phase(d) is Phase.DONE
    assert [r.challenge for r in d.results()] == [CHALLENGE]
    d.feed(CardRemoved())
    _sign_next_pin_session(d)
    assert phase(d) is Phase.AWAITING_CHALLENGE  # each challenge is signed into one result


def test_the_result_is_sent_before_the_confirmed_audit_line() -> None:
    d = consent()
    for _ in d.config.consent_pages[:-1]:
        d.press(Button.AGREE)
    out = d.press(Button.AGREE)
    kinds = ["result" if isinstance(e, SendToHost) and isinstance(e.message, ResultMessage)
             else "audit" if isinstance(e, WriteAudit) and e.record.outcome == "confirmed"
             else None for e in out]
    assert [k for k in kinds if k] == ["result", "audit"]

