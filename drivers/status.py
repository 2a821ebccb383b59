"""The one table from status word to typed exception.

Sources: ISO/IEC 7816-4 and the observations gathered in docs/card-protocol.md §8.
61xx and 6Cxx never reach this table: the channel handles them (`channel.py`).
"""

from __future__ import annotations

from myna_reader.drivers import errors as e
from myna_reader.drivers.apdu import Response

SW_OK = 0x9000

_EXACT: dict[int, tuple[type[e.CardStatusError], str]] = {
    0x6282: (e.EndOfFileError, "end of file reached before Le bytes"),
    0x6B00: (e.EndOfFileError, "offset beyond the end of the file"),
    0x63C0: (e.PinBlockedError, "PIN blocked (last try spent)"),
    0x6983: (e.PinBlockedError, "authentication method blocked"),
    0x6984: (e.PinBlockedError, "referenced key blocked"),
    0x6982: (e.SecurityStatusError, "security status not satisfied"),
    0x6A82: (e.CardFileNotFoundError, "file or application not found"),
    0x6700: (e.WrongLengthError, "wrong length"),
    0x6985: (e.ConditionsNotSatisfiedError, "conditions of use not satisfied"),
    0x6A86: (e.WrongParametersError, "incorrect P1/P2"),
    0x6A80: (e.WrongParametersError, "incorrect data field"),
    0x6A88: (e.CardFileNotFoundError, "referenced data not found"),
    0x6A83: (e.CardFileNotFoundError, "record not found"),
    0x6981: (e.ConditionsNotSatisfiedError, "command incompatible with file structure"),
    0x6D00: (e.InstructionNotSupportedError, "instruction not supported"),
    0x6E00: (e.InstructionNotSupportedError, "class not supported"),
}


def error_for(response: Response) -> e.CardStatusError | None:
    """The exception a non-9000 status word stands for, or None for success."""
    sw = response.sw
    if sw == SW_OK:
        return None
    if response.sw1 == 0x63 and response.sw2 & 0xF0 == 0xC0 and response.sw2 & 0x0F:
        return e.PinIncorrectError(sw, response.sw2 & 0x0F)
    known = _EXACT.get(sw)
    if known is not None:
        cls, text = known
        return cls(sw, f"{text} (SW {sw:04X})")
    return e.UnknownStatusError(sw, f"unknown status word {sw:04X}")


def check(response: Response) -> Response:
    """Return the response if it is 9000, raise its typed error otherwise."""
    err = error_for(response)
    if err is not None:
        raise err
    return response
