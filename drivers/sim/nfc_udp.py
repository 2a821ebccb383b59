"""A simulated card in the field of nfcpy's `udp` driver: ISO/IEC 14443-3 Type A or B, and ISO-DEP.

nfcpy's udp driver (nfc/clf/udp.py) sends one datagram per RF frame, the text
"<brty> <hex>" (e.g. "106B 050010"), and "RFOFF" when it switches its field off (it does so
only from a socket that has received something). Frames carry no CRC: the driver neither
adds nor checks one, so neither does this side. Every reader socket is a field of its own: a
frame from a new address means the old field is gone, so the card is powered afresh.

The card answers as the PICC rules of ISO/IEC 14443-3/-4 have it, as one technology:
- Type B (the plastic card): SENSB_REQ / ALLB_REQ -> SENSB_RES `50 NFCID0 <application data>
  B3 81 A1`: FSC 256 and FWI 10 (≈309 ms) by default, as the real card's ATQB
  (docs/card-protocol.md); ATTRIB with its NFCID0 -> `00` (MBLI 0, CID 0), the reader's FSD
  from param 2;
- Type A (a phone): REQA / WUPA -> ATQA `04 00` (single-size UID, bit-frame anticollision),
  SDD_REQ `93 20` -> UID CL1 + BCC, SEL_REQ `93 70 UID BCC` -> SAK `20` (UID complete,
  ISO 14443-4), RATS `E0 <FSDI CID>` -> ATS `05 78 80 <FWI 0> 02` (FSCI 8, TA/TB/TC present,
  106 kbps only, CID supported) with no historical bytes, HLTA `50 00` -> halt. nfcpy's udp
  driver runs exactly this (sense_tta, then Type4ATag's RATS);
- ISO-DEP on both: I-blocks chained both ways, R(ACK)/R(NAK) by block number, S(DESELECT),
  and S(WTX) before an answer that the timing model says takes more than half the FWT; no CID
  and no NAD (nfcpy sends neither): such blocks are not answered.

Presence and faults are scriptable (`insert`, `remove`, `hang`, `lose_answers`); only the
server thread touches the card.
"""

from __future__ import annotations

import collections
import enum
import functools
import logging
import math
import operator
import select
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from myna_reader.drivers.sim.card import INS_SIGN, CardModel, answer_apdu
from myna_reader.drivers.sim.timing import CARRIER_HZ, SW_OK_BYTES, TimingModel

log = logging.getLogger(__name__)

FSC_BY_INDEX = (16, 24, 32, 40, 48, 64, 96, 128, 256)  # FSCI/FSDI 0..8 (ISO 14443-3 Table)
DEFAULT_NFCID0 = bytes.fromhex("4D594E41")
#: A single-size NFCID1 whose first byte 08 marks a random UID, as phones use.
DEFAULT_NFCID1 = bytes.fromhex("084D594E")
DEFAULT_APPLICATION_DATA = bytes.fromhex("000005E0")  # AFI 00, as on a real card
RFOFF = b"RFOFF"
_POLL_S = 0.05  # how often the server thread looks at stop and presence requests

# Type A frames (ISO/IEC 14443-3 §6)
_REQA = b"\x26"
_WUPA = b"\x52"
_SDD_REQ_CL1 = b"\x93\x20"
_SEL_REQ_CL1 = b"\x93\x70"
_HLTA = b"\x50\x00"
_RATS = 0xE0
ATQA = b"\x04\x00"
SAK_ISO14443_4 = b"\x20"
_ATS_T0_TA_TB_TC = 0x70  # TA(1), TB(1) and TC(1) follow; FSCI in the low nibble
_ATS_TA_106_ONLY = 0x80  # same divisor both ways, 106 kbps only
_ATS_TC_CID = 0x02  # CID supported, NAD not

# PCB patterns (ISO/IEC 14443-4 §7.1.1)
_PCB_CHAINING = 0x10
_PCB_CID = 0x08
_PCB_NAD = 0x04
_PCB_NAK = 0x10
_R_ACK = 0xA2
_S_DESELECT = 0xC2
_S_WTX = 0xF2
_MAX_WTXM = 59


def frame_waiting_time(fwi: int) -> float:
    """FWT in seconds: 256 x 16 / fc x 2^FWI."""
    return 4096 / CARRIER_HZ * (1 << fwi)


@dataclass(frozen=True, slots=True)
class CardTiming:
    """How long a successful command computes, by INS (everything else answers at once)."""

    seconds_by_ins: Mapping[int, float] = field(default_factory=dict)
    wtx: bool = True  # ask for more time with S(WTX) rather than overrun the FWT

    def seconds_for(self, command: bytes, response: bytes) -> float:
        if len(command) < 2 or not response.endswith(SW_OK_BYTES):
            return 0.0
        return self.seconds_by_ins.get(command[1], 0.0)


#: The card's RSA-2048 signature time of the timing model (an estimate, card-protocol.md §11.2).
SIGNATURE_TIMING = CardTiming({INS_SIGN: TimingModel.rsa_sign_s})


@dataclass(frozen=True, slots=True)
class _Reply:
    frame: bytes
    busy_s: float = 0.0  # computation before the frame goes out
    deselected: bool = False


class _IsoDepPicc:
    """The PICC side of the ISO-DEP block protocol for one activation."""

    def __init__(self, card: CardModel, max_inf: int, timing: CardTiming) -> None:
        self._card = card
        self._max_inf = max_inf  # FSD minus PCB and CRC_B
        self._timing = timing
        self._block = 1  # rule C: the PICC block number starts at 1
        self._command = bytearray()
        self._response = b""
        self._last = b""

    def on_block(self, frame: bytes) -> _Reply | None:
        pcb = frame[0]
        if pcb & _PCB_CID:
            return None
        if pcb & 0xE2 == 0x02:
            return None if pcb & _PCB_NAD else self._on_i_block(pcb, frame[1:])
        if pcb & 0xE6 == _R_ACK:
            return self._on_r_block(pcb)
        if pcb == _S_DESELECT:
            return _Reply(bytes([_S_DESELECT]), deselected=True)
        return None

    def _on_i_block(self, pcb: int, inf: bytes) -> _Reply:
        self._block = pcb & 1  # rule D: toggle, i.e. follow the reader's number
        self._command += inf
        if pcb & _PCB_CHAINING:
            return self._sent(bytes([_R_ACK | self._block]))
        apdu, self._command = bytes(self._command), bytearray()
        self._response = answer_apdu(self._card, apdu)
        busy_s = self._timing.seconds_for(apdu, self._response)
        return replace(self._next_chunk(), busy_s=busy_s)

    def _on_r_block(self, pcb: int) -> _Reply | None:
        if pcb & 1 == self._block and self._last:  # rule 11: the reader missed our last block
            return _Reply(self._last)
        if pcb & _PCB_NAK:  # rule 12 (nfcpy's presence check): not a block to repeat later
            return _Reply(bytes([_R_ACK | self._block]))
        if self._response:  # rule 13 / E: the reader acknowledges our chained block
            self._block ^= 1
            return self._next_chunk()
        return None

    def _next_chunk(self) -> _Reply:
        chunk, self._response = self._response[: self._max_inf], self._response[self._max_inf :]
        pcb = 0x02 | self._block | (_PCB_CHAINING if self._response else 0)
        return self._sent(bytes([pcb]) + chunk)

    def _sent(self, frame: bytes) -> _Reply:
        self._last = frame
        return _Reply(frame)


def _parse_frame(datagram: bytes, technology: Technology) -> bytes | None:
    """The frame of a "<brty> <hex>" datagram of `technology`; None for anything else (other
    types and bit rates too: a Type B card does not hear a REQA)."""
    try:
        brty, hex_frame = datagram.decode("ascii").split()
        frame = bytes.fromhex(hex_frame)
    except ValueError:  # UnicodeDecodeError is one too
        # its length only: a frame may be a VERIFY with its PIN
        log.debug("ignoring a malformed datagram of %d bytes", len(datagram))
        return None
    return frame if brty == technology.value else None


def _bcc(uid: bytes) -> int:
    return functools.reduce(operator.xor, uid, 0)


class Technology(enum.Enum):
    """The ISO/IEC 14443 type a card answers as; the value is nfcpy's bit-rate-and-type tag."""

    A = "106A"
    B = "106B"


class _State(enum.Enum):
    OFF = "off"  # out of the field, or the field is off
    IDLE = "idle"
    READY = "ready"
    SELECTED = "selected"  # Type A: anticollision done, waiting for RATS
    ACTIVE = "active"  # ISO-DEP
    HALT = "halt"


class _Fault(enum.Enum):
    REMOVE = "remove"
    HANG = "hang"


Address = tuple[str, int]


class CardResponder:
    """A Type A or B card for nfcpy's udp driver on host:port (port 0 picks a free one: `port`).

    `start()` serves from a thread, `serve_forever(stop)` from the caller's. The card starts
    in the field unless `present=False`. `remove()` takes it out (it answers nothing, and
    loses power); `hang()` makes it stop answering until its next power-on (a field reset).
    Both can wait for `after_frames` more ISO-DEP answers, to strike mid-chain (one scripted
    removal or hang at a time: the later call replaces the earlier).
    """

    def __init__(
        self,
        card: CardModel,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        technology: Technology = Technology.B,
        fsci: int = 8,
        fwi: int = 10,
        nfcid: bytes | None = None,
        application_data: bytes = DEFAULT_APPLICATION_DATA,
        timing: CardTiming = CardTiming(),
        present: bool = True,
    ) -> None:
        if not 0 <= fsci <= 8 or not 0 <= fwi <= 14:
            raise ValueError(f"FSCI {fsci} / FWI {fwi} out of range (0..8 / 0..14)")
        if nfcid is None:
            nfcid = DEFAULT_NFCID1 if technology is Technology.A else DEFAULT_NFCID0
        if len(nfcid) != 4 or len(application_data) != 4:
            raise ValueError("the NFCID and the application data are 4 bytes each")
        self.card = card
        self.technology = technology
        self.fwt = frame_waiting_time(fwi)
        self.timing = timing
        self._nfcid = nfcid
        self._application_data = application_data
        # Protocol info: 106-424 kbps, same both ways; FSCI, ISO 14443-4; FWI, ADC 0, CID.
        self.sensb_res = b"\x50" + nfcid + application_data + bytes([0xB3, fsci << 4 | 1,
                                                                    fwi << 4 | 1])
        self.ats = bytes([5, _ATS_T0_TA_TB_TC | fsci, _ATS_TA_106_ONLY, fwi << 4, _ATS_TC_CID])
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self._pending: collections.deque[tuple[bytes, Address]] = collections.deque()
        self._lock = threading.Lock()  # guards the requests below, set from other threads
        self._want_present = present
        self._fault: tuple[_Fault, int] | None = None
        self._answers_to_lose = 0
        # Owned by the server thread:
        self._state = _State.OFF
        self._field: Address | None = None
        self._hung = False
        self._picc: _IsoDepPicc | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- scripting the card (any thread) ---------------------------------------------------

    @property
    def present(self) -> bool:
        return self._want_present

    @property
    def faults_pending(self) -> bool:
        """Whether a scripted removal, hang or loss still waits for its frame."""
        with self._lock:
            return self._fault is not None or self._answers_to_lose > 0

    def insert(self) -> None:
        with self._lock:
            self._want_present, self._fault = True, None

    def remove(self, after_frames: int = 0) -> None:
        self._schedule(_Fault.REMOVE, after_frames)

    def hang(self, after_frames: int = 0) -> None:
        self._schedule(_Fault.HANG, after_frames)

    def lose_answers(self, count: int) -> None:
        """The card's next `count` ISO-DEP answers are lost on the air (the reader recovers)."""
        with self._lock:
            self._answers_to_lose = count

    def _schedule(self, fault: _Fault, after_frames: int) -> None:
        with self._lock:
            self._fault = (fault, after_frames)

    # --- running ---------------------------------------------------------------------------

    def start(self) -> CardResponder:
        self._thread = threading.Thread(
            target=self.serve_forever, args=(self._stop,), name=f"nfc-udp:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self, stop: threading.Event) -> None:
        """Answer frames until `stop` is set (the `sim serve --nfc-udp` command)."""
        self._stop = stop  # also ends a modelled computation early
        log.info("Type %s card answering nfcpy's udp driver on port %d",
                 self.technology.name, self.port)
        while not stop.is_set():
            self._apply_requests()
            datagram = self._next_datagram(_POLL_S)
            if datagram is not None:
                self._apply_requests()
                self._on_datagram(*datagram)
        self._power_off()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._sock.close()

    def __enter__(self) -> CardResponder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the server thread -----------------------------------------------------------------

    def _apply_requests(self) -> None:
        with self._lock:
            due = self._fault if self._fault is not None and self._fault[1] <= 0 else None
            if due is not None:
                self._fault = None
                if due[0] is _Fault.REMOVE:
                    self._want_present = False
            present = self._want_present
        if due is not None and due[0] is _Fault.HANG:
            self._hung = True
        if not present:
            self._power_off()

    def _lose_answer(self) -> bool:
        with self._lock:
            lose = self._answers_to_lose > 0
            self._answers_to_lose -= lose
        return lose

    def _count_answer(self) -> None:
        with self._lock:
            if self._fault is not None:
                self._fault = (self._fault[0], self._fault[1] - 1)
        self._apply_requests()

    def _power_off(self) -> None:
        if self._state is not _State.OFF:
            self.card.power_off()
        self._state, self._field, self._picc, self._hung = _State.OFF, None, None, False

    def _next_datagram(self, timeout: float) -> tuple[bytes, Address] | None:
        if self._pending:
            return self._pending.popleft()
        readable, _, _ = select.select([self._sock], [], [], timeout)
        if not readable:
            return None
        data, addr = self._sock.recvfrom(4096)
        return data, addr

    def _on_datagram(self, data: bytes, addr: Address) -> None:
        if data.startswith(RFOFF):
            if addr == self._field:
                self._power_off()
            return
        frame = _parse_frame(data, self.technology)
        if not frame or not self._want_present:
            return
        if addr != self._field:  # a new reader socket: the old field is gone
            self._power_off()
            self.card.power_on()
            self._state, self._field = _State.IDLE, addr
        reply = self._on_frame(frame)
        if reply is None:
            return
        if reply.busy_s > 0 and not self._compute(reply.busy_s, addr):
            return
        iso_dep = self._state is _State.ACTIVE or reply.deselected
        if not (iso_dep and self._lose_answer()):
            self._send(reply.frame, addr)
        if iso_dep:
            self._count_answer()

    def _on_frame(self, frame: bytes) -> _Reply | None:
        if self._state is _State.ACTIVE:
            if self._hung or self._picc is None:
                return None
            reply = self._picc.on_block(frame)
            if reply is not None and reply.deselected:
                self._state, self._picc = _State.HALT, None
            return reply
        if self.technology is Technology.A:
            return self._on_type_a_frame(frame)
        if frame[0] == 0x05 and len(frame) == 3:
            return self._on_sensb_req(afi=frame[1], allb=bool(frame[2] & 0x08))
        if frame[0] == 0x1D and len(frame) >= 9 and frame[1:5] == self._nfcid:
            return self._on_attrib(fsdi=frame[6] & 0x0F)
        return None

    def _on_type_a_frame(self, frame: bytes) -> _Reply | None:
        """ISO/IEC 14443-3 Type A up to RATS (single-size UID, one cascade level)."""
        # A REQA also restarts a half-done anticollision; only WUPA wakes a halted card.
        wakes = self._state is not _State.HALT or frame == _WUPA
        if frame in (_REQA, _WUPA):
            if not wakes:
                return None
            self._state = _State.READY
            return _Reply(ATQA)
        if self._state is _State.READY and frame == _SDD_REQ_CL1:
            return _Reply(self._nfcid + bytes([_bcc(self._nfcid)]))
        if (self._state is _State.READY and frame[:2] == _SEL_REQ_CL1
                and frame[2:] == self._nfcid + bytes([_bcc(self._nfcid)])):
            self._state = _State.SELECTED
            return _Reply(SAK_ISO14443_4)
        if self._state is _State.SELECTED and frame == _HLTA:
            self._state = _State.HALT
            return None
        if self._state is _State.SELECTED and frame[0] == _RATS and len(frame) == 2:
            fsd = FSC_BY_INDEX[min(frame[1] >> 4, 8)]
            self._picc = _IsoDepPicc(self.card, fsd - 3, self.timing)
            self._state = _State.ACTIVE
            return _Reply(self.ats)
        return None

    def _on_sensb_req(self, *, afi: int, allb: bool) -> _Reply | None:
        if afi not in (0, self._application_data[0]):
            return None
        if self._state in (_State.IDLE, _State.READY) or (self._state is _State.HALT and allb):
            self._state = _State.READY
            return _Reply(self.sensb_res)
        return None

    def _on_attrib(self, *, fsdi: int) -> _Reply | None:  # Type B
        if self._state is not _State.READY:
            return None
        fsd = FSC_BY_INDEX[min(fsdi, 8)]
        self._picc = _IsoDepPicc(self.card, fsd - 3, self.timing)
        self._state = _State.ACTIVE
        return _Reply(b"\x00")

    def _compute(self, seconds: float, addr: Address) -> bool:
        """Spend `seconds` on a computation; False if the card lost the field meanwhile."""
        if self.timing.wtx and seconds > self.fwt / 2:
            wtxm = min(_MAX_WTXM, math.ceil(seconds / self.fwt) + 1)
            self._send(bytes([_S_WTX, wtxm]), addr)
            answer = self._await_frame(addr, self.fwt)
            if answer is None or answer[0] != _S_WTX:
                return False
        if self._stop.wait(seconds):
            return False
        self._drop_unheard(addr)
        self._apply_requests()
        return self._field == addr

    def _await_frame(self, addr: Address, timeout: float) -> bytes | None:
        """The reader's next frame from `addr`; other traffic waits in the queue."""
        while (datagram := self._next_datagram(timeout)) is not None:
            data, sender = datagram
            if sender == addr and not data.startswith(RFOFF):
                return _parse_frame(data, self.technology)
            self._pending.append(datagram)
            if sender == addr:
                return None
        return None

    def _drop_unheard(self, addr: Address) -> None:
        """Frames the reader sent while the card was busy were never received by it."""
        while select.select([self._sock], [], [], 0)[0]:
            data, sender = self._sock.recvfrom(4096)
            if sender != addr or data.startswith(RFOFF):
                self._pending.append((data, sender))

    def _send(self, frame: bytes, addr: Address) -> None:
        self._sock.sendto(f"{self.technology.value} {frame.hex()}".encode("ascii"), addr)
