"""Typed errors of the card layer.

Three families: transport (the card or reader went away, or stopped answering), card status
(a status word other than 9000, mapped in `status.py`), and format (bytes that do not parse,
or a command that cannot be encoded). They inherit from built-ins where one fits, so callers
that only know Python still catch them sensibly (python-can does the same).
"""

from __future__ import annotations


class MynaError(Exception):
    """Base of every error raised by the card layer."""


# --- transport -----------------------------------------------------------------------------


class TransportError(MynaError, OSError):
    """The bytes did not make it to the card and back."""


class CardRemovedError(TransportError):
    """The card left the reader (or the field) before the exchange finished."""


class NoCardError(TransportError):
    """An exchange was attempted while no card is present."""


class ReaderGoneError(TransportError):
    """The reader itself disappeared (unplugged, driver lost)."""


class CardTimeoutError(TransportError, TimeoutError):
    """The card or reader did not answer within the allowed frame waiting time."""


class ReaderBusyError(TransportError):
    """Another client holds the card exclusively (PC/SC sharing violation)."""


# --- card status ---------------------------------------------------------------------------


class CardStatusError(MynaError):
    """The card answered with a status word that is not success."""

    def __init__(self, sw: int, message: str | None = None) -> None:
        self.sw = sw
        super().__init__(message or f"card answered SW {sw:04X}")


class PinIncorrectError(CardStatusError):
    """VERIFY failed; `tries_left` attempts remain (63Cx with x > 0)."""

    def __init__(self, sw: int, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(sw, f"PIN incorrect, {tries_left} tries left (SW {sw:04X})")


class PinBlockedError(CardStatusError):
    """The key reference is blocked (63C0 on the exhausting attempt, 6984 afterwards)."""


class SecurityStatusError(CardStatusError):
    """Security status not satisfied (6982): a protected file or key used without its PIN."""


class CardFileNotFoundError(CardStatusError, FileNotFoundError):
    """Application or file not found (6A82)."""


class WrongLengthError(CardStatusError):
    """Wrong length Lc/Le (6700)."""


class ConditionsNotSatisfiedError(CardStatusError):
    """Conditions of use not satisfied (6985)."""


class WrongParametersError(CardStatusError):
    """Incorrect P1/P2 (6A86, 6B00 outside READ BINARY) or incorrect data (6A80)."""


class EndOfFileError(CardStatusError):
    """READ BINARY at or past the end of the file (6B00 / 6282)."""


class InstructionNotSupportedError(CardStatusError):
    """INS or CLA not supported (6D00 / 6E00)."""


class UnknownStatusError(CardStatusError):
    """A status word that is in no table: reported as is, never guessed at."""


# --- format --------------------------------------------------------------------------------


class FormatError(MynaError, ValueError):
    """Bytes that do not parse as what they claim to be."""


class MalformedResponseError(FormatError):
    """A response APDU that is too short or otherwise impossible."""


class ApduEncodingError(FormatError):
    """A command that cannot be encoded (field out of range, data too long)."""


class TlvError(FormatError):
    """A BER-TLV or simple-TLV structure that is truncated or inconsistent."""


class CertificateError(FormatError):
    """A certificate that is not valid DER X.509."""
