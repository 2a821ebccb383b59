"""PINs and 照合番号: format checks before any APDU, the retry query, VERIFY.

Rules (docs/card-protocol.md §7.2): a VERIFY is never retried here, and the retry counter
is always read before a VERIFY. `verify` refuses (RetryCounterUnreadError, before any APDU)
unless `query_status` read that key's counter in this power session, so the patient is shown
the tries left and a blocked key is known before a try is spent. Neither a secret nor its
length goes into a message; the channel masks VERIFY data on the wire trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from myna_reader.drivers.apdu import Command, Response
from myna_reader.drivers.channel import INS_VERIFY
from myna_reader.drivers.errors import (
    FormatError,
    MynaError,
    PinBlockedError,
    PinIncorrectError,
)
from myna_reader.drivers.files import CardFiles
from myna_reader.drivers.status import error_for

P2_CURRENT_EF_KEY = 0x80
SW_NO_RETRY_LIMIT = 0x6300

_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_COLLATION_B = re.compile(r"[0-9]{14}")


class PinFormatError(FormatError):
    """A PIN or 照合番号 of the wrong shape; raised before any APDU is sent."""


class RetryCounterUnreadError(MynaError, RuntimeError):
    """A VERIFY was asked for before the key's retry counter was read in this power session."""


@dataclass(frozen=True, slots=True)
class PinStatus:
    """What an empty VERIFY tells about a key reference.

    `tries_left` is None when the card does not say: the key is already verified in this
    power session (9000) or has no retry limit (6300).
    """

    tries_left: int | None
    verified: bool = False

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0


def four_digit_pin(pin: str) -> bytes:
    """An auth PIN or text-AP PIN as sent: 4 ASCII digits."""
    if not _FOUR_DIGITS.fullmatch(pin):
        raise PinFormatError("a PIN is exactly 4 ASCII digits")
    return pin.encode("ascii")


def collation_number_b(number: str) -> bytes:
    """照合番号B as sent: 14 ASCII digits (birth YYMMDD, expiry year, security code)."""
    if not _COLLATION_B.fullmatch(number):
        raise PinFormatError("照合番号B is exactly 14 ASCII digits")
    return number.encode("ascii")


def empty_verify_command() -> Command:
    return Command.case1(0x00, INS_VERIFY, 0x00, P2_CURRENT_EF_KEY)


def verify_command(secret: bytes) -> Command:
    return Command.case3(0x00, INS_VERIFY, 0x00, P2_CURRENT_EF_KEY, secret)


def query_status(files: CardFiles, aid: bytes, key_fid: int) -> PinStatus:
    """SELECT the key EF and send an empty VERIFY: the retry counter, without spending a try."""
    files.select(aid, key_fid)
    status = status_of(files.send(empty_verify_command()))
    files.counters_read.add((aid, key_fid))
    return status


def status_of(response: Response) -> PinStatus:
    """The answer to an empty VERIFY (docs/card-protocol.md §7.2); other answers raise."""
    if response.sw == SW_NO_RETRY_LIMIT:
        return PinStatus(tries_left=None)
    # The status table already reads 63Cx and the blocked words (63C0, 6983, 6984).
    error = error_for(response)
    if error is None:
        return PinStatus(tries_left=None, verified=True)
    if isinstance(error, PinBlockedError):
        return PinStatus(tries_left=0)
    if isinstance(error, PinIncorrectError):
        return PinStatus(tries_left=error.tries_left)
    raise error


def verify(files: CardFiles, aid: bytes, key_fid: int, secret: bytes) -> None:
    """One VERIFY of `secret` against the key EF; PinIncorrectError / PinBlockedError on failure."""
    if (aid, key_fid) not in files.counters_read:
        raise RetryCounterUnreadError(
            f"read the retry counter of key EF {key_fid:04X} before a VERIFY")
    files.select(aid, key_fid)
    files.exchange(verify_command(secret))
