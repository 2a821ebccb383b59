"""The reader's error codes, shown as 【NNN:…】, and how card failures map onto them.

One table for the whole daemon. 001, 002 and 006 are the codes the certified readers show for
the same conditions; the project's own codes start at 101 so they can never collide with the
official 003..0xx range that is not public. The patient and technician texts live in
docs/error-codes.md and in the UI's message catalogs: this module holds ids only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from myna_reader.daemon.engine.vocabulary import TokenKind
from myna_reader.drivers.errors import (
    CardFileNotFoundError,
    CardRemovedError,
    CardStatusError,
    CardTimeoutError,
    FormatError,
    NoCardError,
    PinBlockedError,
    ReaderGoneError,
    SecurityStatusError,
)


class CardErrorKind(StrEnum):
    """Why a card job (or the card itself) cannot go on. Result vocabulary of the card jobs."""

    UNREADABLE = "unreadable"  # no usable answer at all: not an ISO 14443-4 / 7816 card
    NOT_MY_NUMBER = "not-my-number"  # SELECT of the JPKI AP answered 6A82
    CARD_REMOVED = "card-removed"
    READER_LOST = "reader-lost"
    IO_ERROR = "io-error"
    TIMEOUT = "timeout"
    EXPIRED_CERT = "expired-cert"
    PIN_BLOCKED = "pin-blocked"
    NO_PIN = "no-pin"  # 顔認証マイナンバーカード: no PIN set
    NO_AUTH_CERT = "no-auth-cert"
    TOKEN_UNSUPPORTED = "token-unsupported"  # noqa: S105  a JPKI AP whose token label is unknown
    NOT_AUTHENTICATED = "not-authenticated"  # 6982: a key or file used before its holder check


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str  # three digits, as shown in 【NNN:…】
    key: str  # stable id for message catalogs and docs
    ask_staff: bool  # the patient is told to ask at the counter


CARD_UNREADABLE = ErrorCode("001", "card-not-recognised", ask_staff=True)
NOT_MY_NUMBER_CARD = ErrorCode("002", "not-my-number-card", ask_staff=True)
CERT_EXPIRED = ErrorCode("006", "certificate-revoked-or-expired", ask_staff=True)
PIN_BLOCKED = ErrorCode("101", "pin-blocked", ask_staff=True)
NO_PIN_SET = ErrorCode("102", "card-without-pin", ask_staff=True)
ANDROID_NEEDS_PIN = ErrorCode("103", "android-needs-pin", ask_staff=True)
TOKEN_UNSUPPORTED = ErrorCode("104", "token-not-supported", ask_staff=True)
NO_AUTH_CERT = ErrorCode("105", "no-user-certificate", ask_staff=True)
CARD_REMOVED = ErrorCode("106", "card-removed", ask_staff=False)
CARD_IO_ERROR = ErrorCode("107", "card-communication-error", ask_staff=False)
CARD_TIMEOUT = ErrorCode("108", "card-timeout", ask_staff=False)
NO_CHALLENGE = ErrorCode("109", "terminal-challenge-missing", ask_staff=True)
READER_NOT_ANSWERING = ErrorCode("110", "reader-not-answering", ask_staff=True)
FACE_NOT_CONFIRMED = ErrorCode("111", "face-not-confirmed", ask_staff=True)  # no PIN to try
IPHONE_NOT_AUTHENTICATED = ErrorCode("112", "iphone-not-authenticated", ask_staff=False)
# no terminal on the link: refused before any PIN is asked (docs/session.md)
TERMINAL_AWAY = ErrorCode("113", "terminal-not-connected", ask_staff=True)
# the terminal's: a challenge the reader did not take (not awaited, a second one, bad length)
CHALLENGE_REFUSED = ErrorCode("114", "challenge-refused", ask_staff=False)

ALL_CODES: tuple[ErrorCode, ...] = (
    CARD_UNREADABLE, NOT_MY_NUMBER_CARD, CERT_EXPIRED, PIN_BLOCKED, NO_PIN_SET,
    ANDROID_NEEDS_PIN, TOKEN_UNSUPPORTED, NO_AUTH_CERT, CARD_REMOVED, CARD_IO_ERROR,
    CARD_TIMEOUT, NO_CHALLENGE, READER_NOT_ANSWERING, FACE_NOT_CONFIRMED,
    IPHONE_NOT_AUTHENTICATED, TERMINAL_AWAY, CHALLENGE_REFUSED,
)
BY_CODE: dict[str, ErrorCode] = {e.code: e for e in ALL_CODES}

CODE_OF_KIND: dict[CardErrorKind, ErrorCode] = {
    CardErrorKind.UNREADABLE: CARD_UNREADABLE,
    CardErrorKind.NOT_MY_NUMBER: NOT_MY_NUMBER_CARD,
    CardErrorKind.CARD_REMOVED: CARD_REMOVED,
    CardErrorKind.READER_LOST: READER_NOT_ANSWERING,
    CardErrorKind.IO_ERROR: CARD_IO_ERROR,
    CardErrorKind.TIMEOUT: CARD_TIMEOUT,
    CardErrorKind.EXPIRED_CERT: CERT_EXPIRED,
    CardErrorKind.PIN_BLOCKED: PIN_BLOCKED,
    CardErrorKind.NO_PIN: NO_PIN_SET,
    CardErrorKind.NO_AUTH_CERT: NO_AUTH_CERT,
    CardErrorKind.TOKEN_UNSUPPORTED: TOKEN_UNSUPPORTED,
    # a plastic card after its VERIFY never refuses so: the card was reset under the job
    CardErrorKind.NOT_AUTHENTICATED: CARD_IO_ERROR,
}


def code_of(kind: CardErrorKind, token: TokenKind | None) -> ErrorCode:
    """The code a failed card job shows. An iPhone refusing its key (6982) has not been
    unlocked by Face ID / Touch ID yet: the patient authenticates on it and holds it again."""
    if kind is CardErrorKind.NOT_AUTHENTICATED and token is TokenKind.IPHONE:
        return IPHONE_NOT_AUTHENTICATED
    return CODE_OF_KIND[kind]


def kind_of_exception(exc: BaseException) -> CardErrorKind:
    """The card error kind for a card-layer exception, for the runner's card worker.

    A 6A82 is read as "not a My Number card": the card driver raises it for the SELECT of the
    JPKI AP, the first command of every job, and the driver reports a missing EF deeper in as
    a format problem of its own.
    """
    ordered: tuple[tuple[type[BaseException], CardErrorKind], ...] = (
        (CardRemovedError, CardErrorKind.CARD_REMOVED),
        (NoCardError, CardErrorKind.CARD_REMOVED),
        (ReaderGoneError, CardErrorKind.READER_LOST),
        (CardTimeoutError, CardErrorKind.TIMEOUT),
        (PinBlockedError, CardErrorKind.PIN_BLOCKED),
        (CardFileNotFoundError, CardErrorKind.NOT_MY_NUMBER),
        (SecurityStatusError, CardErrorKind.NOT_AUTHENTICATED),
        (FormatError, CardErrorKind.UNREADABLE),
        (CardStatusError, CardErrorKind.IO_ERROR),
    )
    for exc_type, kind in ordered:
        if isinstance(exc, exc_type):
            return kind
    return CardErrorKind.IO_ERROR
