"""The ATR a PC/SC contactless reader makes up for an ISO/IEC 14443-4 card (PC/SC part 3,
§3.1.3.2.3): `3B 8n 80 01 <historical bytes> TCK`, n being the number of historical bytes.

- Type B (the plastic card): the historical bytes are the ATQB's application data and protocol
  info, then the MBLI of the ATTRIB answer: `3B 88 80 01 …`, as the readers of
  docs/card-protocol.md show for the real card.
- Type A (phones, which commonly emulate a Type A card): the historical bytes of the ATS. A
  phone's ATS carries none that any public source records, so its ATR is `3B 80 80 01 01`.
"""

from __future__ import annotations

import functools
import operator

_T0_TD1_ONLY = 0x80  # TD1 follows, no TA1/TB1/TC1; the low nibble is the historical count
_TD1_T0_NEXT = 0x80  # TD2 follows, protocol T=0
_TD2_T1 = 0x01  # protocol T=1, nothing follows


def contactless_atr(historical: bytes) -> bytes:
    """`3B 8n 80 01 <historical> TCK` (TCK: XOR of T0 up to the last historical byte)."""
    if len(historical) > 15:
        raise ValueError("an ATR holds at most 15 historical bytes")
    body = bytes([_T0_TD1_ONLY | len(historical), _TD1_T0_NEXT, _TD2_T1]) + historical
    return b"\x3b" + body + bytes([functools.reduce(operator.xor, body, 0)])


def type_b_atr(sensb_res: bytes, mbli: int = 0) -> bytes:
    """The ATR of a Type B card from its SENSB_RES (ATQB); nfcpy keeps no ATTRIB answer, so
    the MBLI is 0 unless given."""
    return contactless_atr(sensb_res[5:12] + bytes([mbli]))


#: The ATR of a Type A card whose ATS has no historical bytes (a phone).
TYPE_A_ATR = contactless_atr(b"")
