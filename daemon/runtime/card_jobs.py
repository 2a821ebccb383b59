"""Execute the engine's card jobs with the card driver and answer each with an engine event.

The runner's card worker and `replay` both use this one executor, so the APDUs a replayed
transcript expects are exactly the ones the daemon sends. Card-layer exceptions become
`CardJobFailed` through `error_codes.kind_of_exception`; a wrong or blocked PIN is an answer
(`PinVerified`), not a failure. The PIN is revealed only here, for the VERIFY itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from myna_reader.daemon.engine import (
    CardErrorKind,
    CardJob,
    CardJobFailed,
    CardProbed,
    CertificateRead,
    Event,
    FaceFailure,
    FaceGuidance,
    FaceMatched,
    MatchFace,
    PinCounterRead,
    PinOutcome,
    PinVerified,
    ProbeCard,
    ReadCertificate,
    ReadPinCounter,
    ReleaseCard,
    Sign,
    Signed,
    TokenKind,
    VerifyPin,
    kind_of_exception,
)
from myna_reader.drivers import jpki
from myna_reader.drivers.backends.base import Reader
from myna_reader.drivers.card import MyNumberCard
from myna_reader.drivers.certificate import parse_certificate
from myna_reader.drivers.errors import (
    CardStatusError,
    FormatError,
    PinBlockedError,
    PinIncorrectError,
    TransportError,
)

if TYPE_CHECKING:
    from myna_reader.daemon.face.auth import FaceAuth

log = logging.getLogger(__name__)

#: What a card or reader can do to a job. Anything else (a transcript that diverges, a VERIFY
#: without its retry query) is a fault of ours and propagates.
CARD_FAILURES = (TransportError, CardStatusError, FormatError)
# JPKI EF 0018 (docs/card-protocol.md §7.1); a successful VERIFY resets to it
AUTH_PIN_MAX_TRIES = 3

_TOKENS = {
    jpki.TokenKind.PLASTIC_CARD: TokenKind.PLASTIC_CARD,
    jpki.TokenKind.ANDROID: TokenKind.ANDROID,
    jpki.TokenKind.IPHONE: TokenKind.IPHONE,
}


class CardJobs:
    """The card of one reader, as the engine's jobs see it."""

    def __init__(self, reader: Reader, card: MyNumberCard,
                 face: FaceAuth | None = None,
                 progress: Callable[[Event], None] = lambda event: None) -> None:
        self.reader = reader
        self.card = card
        self._face = face  # None: no cameras or model on this reader
        self._progress = progress  # the face job's guidance, posted while it runs
        self._number_sent = False  # a 照合番号B went to this card (once per card session)

    def execute(self, job: CardJob) -> Event | None:
        try:
            return self._run(job)
        except CARD_FAILURES as exc:
            kind = kind_of_exception(exc)
            log.info("card job %s failed: %s (%s)", type(job).__name__, kind.value,
                     type(exc).__name__)
            return CardJobFailed(job.session_id, kind)

    def _run(self, job: CardJob) -> Event | None:
        sid = job.session_id
        if isinstance(job, ProbeCard):
            return self._probe(job)
        if isinstance(job, ReadPinCounter):
            return self._pin_counter(job)
        if isinstance(job, VerifyPin):
            # a key about to be verified must not be reachable by another PC/SC client
            self.reader.connect(exclusive=True)
            try:
                self.card.jpki().verify_auth_pin(job.pin.reveal())
            except PinIncorrectError as exc:
                return PinVerified(sid, PinOutcome.INCORRECT, exc.tries_left)
            except PinBlockedError:
                return PinVerified(sid, PinOutcome.BLOCKED, 0)
            return PinVerified(sid, PinOutcome.OK, AUTH_PIN_MAX_TRIES)  # reset by success
        if isinstance(job, ReadCertificate):
            der = self.card.jpki().read_auth_certificate()
            info = parse_certificate(der)  # the engine judges notAfter on the session's clock
            return CertificateRead(sid, der, info.short_fingerprint, info.not_after)
        if isinstance(job, Sign):
            return Signed(sid, self.card.jpki().sign_with_auth_key(job.challenge))
        if isinstance(job, ReleaseCard):
            self.release()
            return None
        if isinstance(job, MatchFace):
            return self._match_face(sid)
        raise TypeError(f"not a card job: {job!r}")

    def _probe(self, job: ProbeCard) -> CardProbed | CardJobFailed:
        jpki_ap = self.card.jpki()  # 6A82 here: not a My Number card
        token = _TOKENS.get(jpki_ap.token_kind())
        if token is None:  # a JPKI AP on a carrier we do not know (a new kind of phone)
            return CardJobFailed(job.session_id, CardErrorKind.TOKEN_UNSUPPORTED)
        availability = jpki_ap.certificate_availability()
        return CardProbed(job.session_id, token, availability.auth)

    def _pin_counter(self, job: ReadPinCounter) -> PinCounterRead:
        jpki_ap = self.card.jpki()
        status = jpki_ap.auth_pin_tries()
        if status.blocked and not jpki_ap.certificate_availability().sign:
            # 顔認証マイナンバーカード: no PIN was ever set, and no signing certificate; the
            # card reports the unset key as blocked (docs/card-protocol.md). EF 0008 is cached.
            return PinCounterRead(job.session_id, None)
        return PinCounterRead(job.session_id, status.tries_left)

    def _match_face(self, sid: str) -> FaceMatched:
        if self._face is None:
            return FaceMatched(sid, ok=False, failure=FaceFailure.UNAVAILABLE)
        self.reader.connect(exclusive=True)  # as for a PIN: 照合番号B opens the 券面AP
        result = self._face.authenticate(
            self.card, lambda prompt: self._progress(FaceGuidance(sid, prompt)),
            self._number_sent)
        self._number_sent = self._number_sent or result.number_sent
        log.info("face job: %s %s", "matched" if result.ok else "not matched",
                 "" if result.failure is None else result.failure.value)
        return FaceMatched(sid, result.ok, result.failure)

    def release(self) -> None:
        """Unpower the card: the verified PIN (or 照合番号B) ends with the session."""
        self.reader.disconnect(unpower=True)
        self.card.reset()
        self._number_sent = False
