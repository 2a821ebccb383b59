"""How long one APDU exchange takes on a real contactless card: airtime plus card work.

ISO/IEC 14443 Type B at 106 kbps (docs/card-protocol.md §11.2): 1 etu = 128/fc, one byte = 10 etu
(start, 8 data bits, stop). Each ISO-DEP frame adds PCB + CRC_B and SOF/EOF; a message
longer than the frame size is chained, and every chained frame is acknowledged by an
R(ACK) from the other side. The card's own time is a fixed cost per APDU plus the RSA
signature. No published measurement exists: these are modelled, not measured, figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from myna_reader.drivers.sim.card import INS_SIGN

CARRIER_HZ = 13.56e6
BASE_KBPS = 106
SW_OK_BYTES = b"\x90\x00"  # the trailer of a response (status.SW_OK is the int)


@dataclass(frozen=True)
class TimingModel:
    bitrate_kbps: int = 106  # 106, 212, 424 (nfcpy always uses 106)
    etu_per_byte: int = 10
    frame_size: int = 256  # FSC/FSD from ATQB/ATTRIB (FSCI 8)
    block_overhead_bytes: int = 3  # PCB + CRC_B, counted in the frame size
    sof_eof_bytes: int = 2  # SOF and EOF, about two byte times
    turnaround_s: float = 0.0002  # frame delay time and guard times per frame
    processing_s: float = 0.003  # card work per APDU
    rsa_sign_s: float = 0.3  # RSA-2048 private-key operation on the card

    @property
    def byte_seconds(self) -> float:
        etu = 128 / CARRIER_HZ / (self.bitrate_kbps / BASE_KBPS)
        return self.etu_per_byte * etu

    def airtime(self, payload: int) -> float:
        """Seconds to send `payload` APDU bytes in one direction, chaining included."""
        per_frame = self.frame_size - self.block_overhead_bytes
        frames = max(1, math.ceil(payload / per_frame))
        # each chained frame but the last is answered by a bare R(ACK) block
        acks = frames - 1
        per_block = self.block_overhead_bytes + self.sof_eof_bytes
        wire_bytes = payload + (frames + acks) * per_block
        return wire_bytes * self.byte_seconds + (frames + acks) * self.turnaround_s

    def seconds(self, command: bytes, response: bytes) -> float:
        """The modelled duration of one exchange: command out, card work, response back."""
        total = self.airtime(len(command)) + self.processing_s + self.airtime(len(response))
        if len(command) > 1 and command[1] == INS_SIGN and response.endswith(SW_OK_BYTES):
            total += self.rsa_sign_s
        return total
