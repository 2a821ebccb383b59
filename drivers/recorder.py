"""Record a live card session as a transcript, scrubbed of personal data before it is written.

The recorder is a channel observer. It follows SELECT and READ BINARY to know which file
each response belongs to, rebuilds every personal file from its reads, scrubs it
(`scrub.py`) and cuts the scrubbed bytes back into the recorded responses. VERIFY and CHANGE
data never reach it unmasked (`transcript.masked_hex`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.channel import (
    INS_CHANGE_REFERENCE_DATA,
    INS_GET_RESPONSE,
    INS_VERIFY,
    Exchange,
)
from myna_reader.drivers.files import (
    INS_READ_BINARY,
    INS_SELECT,
    P1_SELECT_DF_NAME,
    P1_SELECT_EF_UNDER_DF,
)
from myna_reader.drivers.scrub import is_personal, scrub_file
from myna_reader.drivers.transcript import CardEvent, Entry, Header, Step, Transcript, masked_hex

_NOTES = {INS_VERIFY: "VERIFY", INS_CHANGE_REFERENCE_DATA: "CHANGE REFERENCE DATA",
          0x2A: "COMPUTE DIGITAL SIGNATURE", 0x84: "GET CHALLENGE",
          INS_GET_RESPONSE: "GET RESPONSE"}


@dataclass(slots=True)
class _Read:
    """Where the data of one recorded response lies in which file."""

    index: int  # position in the recording
    aid: bytes
    fid: int
    offset: int
    length: int


class Recorder:
    def __init__(self) -> None:
        self._start = time.monotonic()
        self._entries: list[Entry] = []
        self._reads: list[_Read] = []
        self._aid = b""
        self._fid: int | None = None
        self._last_read: _Read | None = None

    def card_event(self, kind: ReaderEventKind) -> None:
        self._entries.append(CardEvent(kind, time.monotonic() - self._start))

    def __call__(self, exchange: Exchange) -> None:
        command, response = exchange.command, exchange.response
        ok = response[-2:] == b"\x90\x00"
        ins, p1 = command[1], command[2]
        note = _NOTES.get(ins, "")
        if ins == INS_SELECT and len(command) > 5:
            target = command[5 : 5 + command[4]]
            if p1 == P1_SELECT_DF_NAME and ok:
                self._aid, self._fid = target, None
            elif p1 == P1_SELECT_EF_UNDER_DF and ok:
                self._fid = int.from_bytes(target, "big")
            note = f"SELECT {'AP' if p1 == P1_SELECT_DF_NAME else 'EF'} {target.hex().upper()}"
        read: _Read | None = None
        data_length = max(len(response) - 2, 0)
        if ins == INS_READ_BINARY and data_length:
            fid, offset = self._fid, (p1 << 8) | command[3]
            if p1 & 0x80:  # short EF identifier form
                fid, offset = p1 & 0x1F, command[3]
                self._fid = fid
            if fid is not None:
                read = _Read(len(self._entries), self._aid, fid, offset, data_length)
            note = f"READ BINARY {fid or 0:04X} @{offset}"
        elif ins == INS_GET_RESPONSE and self._last_read is not None and data_length:
            last = self._last_read
            read = _Read(len(self._entries), last.aid, last.fid, last.offset + last.length,
                         data_length)
        self._last_read = read if response[-2:-1] == b"\x61" else None
        if read is not None:
            self._reads.append(read)
        self._entries.append(Step(masked_hex(command), response,
                                  time.monotonic() - self._start - exchange.seconds,
                                  exchange.seconds * 1e3, note))

    def transcript(self, header: Header) -> Transcript:
        """The recording, with every personal file scrubbed."""
        images: dict[tuple[bytes, int], bytearray] = {}
        for read in self._reads:
            if not is_personal(read.aid, read.fid):
                continue
            step = self._entries[read.index]
            assert isinstance(step, Step)
            image = images.setdefault((read.aid, read.fid), bytearray())
            end = read.offset + read.length
            if len(image) < end:
                image.extend(b"\x00" * (end - len(image)))
            image[read.offset : end] = step.response[: read.length]
        scrubbed = {key: scrub_file(key[0], key[1], bytes(image)) for key, image in images.items()}
        entries = list(self._entries)
        for read in self._reads:
            clean = scrubbed.get((read.aid, read.fid))
            if clean is None:
                continue
            step = entries[read.index]
            assert isinstance(step, Step)
            data = clean[read.offset : read.offset + read.length]
            entries[read.index] = Step(step.command, data + step.response[read.length :],
                                       step.t, step.ms, step.note)
        return Transcript(header, tuple(entries))
