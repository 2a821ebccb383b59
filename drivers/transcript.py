"""APDU transcripts: the JSONL format that `record` writes and the `replay` backend plays.

Line 1 is a header; every later line is one exchange or one card event:

    {"format": "myna-reader-transcript", "version": 1, "scenario": "pin-mode-ok",
     "flow": "pin", "profile": "standard", "reader": "sim:standard", "supports_extended": false,
     "atr": "3B8880...", "note": "..."}
    {"event": "card-inserted", "t": 0.0}
    {"t": 0.0012, "ms": 0.21, "cmd": "00A4040C0AD392F000260100000001", "rsp": "9000",
     "note": "SELECT JPKI AP"}
    {"t": 0.0150, "ms": 0.30, "cmd": "0020008004XXXXXXXX", "rsp": "9000", "note": "VERIFY"}
    {"event": "card-removed", "t": 1.2}

`t` is seconds since the start of the recording, `ms` the exchange's own duration. In `cmd`,
`XX` stands for one masked byte (VERIFY and CHANGE data are never written): replay accepts any
byte there. Hex is upper case without spaces. Notes are free text for the reader of the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from myna_reader.drivers.backends.base import ReaderEventKind
from myna_reader.drivers.channel import split_secret
from myna_reader.drivers.errors import FormatError

FORMAT = "myna-reader-transcript"
VERSION = 1
MASK = "XX"


class TranscriptError(FormatError):
    """A transcript file that does not follow the format (the line number says where)."""


@dataclass(frozen=True, slots=True)
class Header:
    scenario: str
    flow: str = ""  # the card conversation recorded (daemon/card_flows.py FLOWS)
    profile: str = ""
    reader: str = ""
    supports_extended: bool = False
    atr: bytes = b""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One exchange: `command` is hex with `XX` for masked bytes; `response` is raw."""

    command: str
    response: bytes
    t: float = 0.0
    ms: float = 0.0
    note: str = ""

    def matches(self, apdu: bytes) -> bool:
        """Whether `apdu` is this step's command, masked bytes matching any byte."""
        pattern = self.command
        if len(pattern) != 2 * len(apdu):
            return False
        actual = apdu.hex().upper()
        return all(
            pattern[i : i + 2] in (MASK, actual[i : i + 2]) for i in range(0, len(pattern), 2)
        )


@dataclass(frozen=True, slots=True)
class CardEvent:
    kind: ReaderEventKind
    t: float = 0.0


Entry = Step | CardEvent


@dataclass(frozen=True, slots=True)
class Transcript:
    header: Header
    entries: tuple[Entry, ...] = field(default_factory=tuple)

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(e for e in self.entries if isinstance(e, Step))


def masked_hex(apdu: bytes) -> str:
    """A command as transcript hex, with VERIFY/CHANGE data replaced by XX."""
    parts = split_secret(apdu)
    if parts is None:
        return apdu.hex().upper()
    head, secret_length, tail = parts
    return head.hex().upper() + MASK * secret_length + tail.hex().upper()


def _hex(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise TranscriptError(f"{where}: expected a hex string, got {type(value).__name__}")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise TranscriptError(f"{where}: not hex: {value[:40]!r}") from exc


def _command_pattern(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) % 2 or len(value) < 8:
        raise TranscriptError(f"{where}: 'cmd' must be hex of at least 4 bytes")
    pattern = value.upper()
    for i in range(0, len(pattern), 2):
        pair = pattern[i : i + 2]
        if pair != MASK:
            _hex(pair, where)
    return pattern


def _number(obj: dict[str, Any], key: str, where: str) -> float:
    value = obj.get(key, 0.0)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TranscriptError(f"{where}: {key!r} must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        number = math.inf
    if not math.isfinite(number):  # 1e999 is inf to json; a replay cannot wait for ever
        raise TranscriptError(f"{where}: {key!r} must be a finite number of seconds")
    return number


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    """A header field or note: any text but a NUL, which no recording writes and which
    would cut the string short for the C side of a reader spec or a file name."""
    value = str(obj.get(key, ""))
    if "\0" in value:
        raise TranscriptError(f"{where}: {key!r} holds a NUL character")
    return value


def _parse_entry(obj: dict[str, Any], where: str) -> Entry:
    if "event" in obj:
        try:
            kind = ReaderEventKind(obj["event"])
        except ValueError as exc:
            known = ", ".join(k.value for k in ReaderEventKind)
            raise TranscriptError(f"{where}: unknown event {obj['event']!r} ({known})") from exc
        return CardEvent(kind, _number(obj, "t", where))
    if "cmd" not in obj or "rsp" not in obj:
        raise TranscriptError(f"{where}: an exchange needs 'cmd' and 'rsp'")
    response = _hex(obj["rsp"], where)
    if len(response) < 2:
        raise TranscriptError(f"{where}: 'rsp' must hold at least SW1 SW2")
    note = _text(obj, "note", where) if isinstance(obj.get("note"), str) else ""
    return Step(_command_pattern(obj["cmd"], where), response, _number(obj, "t", where),
                _number(obj, "ms", where), note)


def parse_lines(lines: Iterable[str], source: str = "<transcript>") -> Transcript:
    header: Header | None = None
    entries: list[Entry] = []
    for number, line in enumerate(lines, 1):
        where = f"{source}:{number}"
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"{where}: not JSON ({exc.msg})") from exc
        except ValueError:  # an integer past Python's 4300 digits for int()
            raise TranscriptError(f"{where}: a number has thousands of digits") from None
        except RecursionError:  # "[[[[..." deeper than the parser's stack
            raise TranscriptError(f"{where}: JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise TranscriptError(f"{where}: each line must be a JSON object")
        if header is None:
            if obj.get("format") != FORMAT:
                raise TranscriptError(f"{where}: the first line must be a {FORMAT} header")
            if obj.get("version") != VERSION:
                raise TranscriptError(f"{where}: unsupported version {obj.get('version')!r}")
            header = Header(
                scenario=_text(obj, "scenario", where),
                flow=_text(obj, "flow", where),
                profile=_text(obj, "profile", where),
                reader=_text(obj, "reader", where),
                supports_extended=bool(obj.get("supports_extended", False)),
                atr=_hex(obj.get("atr", ""), where),
                note=_text(obj, "note", where),
            )
            continue
        entries.append(_parse_entry(obj, where))
    if header is None:
        raise TranscriptError(f"{source}: empty transcript (no header line)")
    return Transcript(header, tuple(entries))


def load(path: Path) -> Transcript:
    try:
        with path.open(encoding="utf-8") as fh:
            return parse_lines(fh, str(path))
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{path}: not UTF-8 text") from exc


def header_line(header: Header) -> str:
    return json.dumps({
        "format": FORMAT, "version": VERSION, "scenario": header.scenario, "flow": header.flow,
        "profile": header.profile, "reader": header.reader,
        "supports_extended": header.supports_extended, "atr": header.atr.hex().upper(),
        "note": header.note,
    }, ensure_ascii=False)


def entry_line(entry: Entry) -> str:
    if isinstance(entry, CardEvent):
        return json.dumps({"event": entry.kind.value, "t": round(entry.t, 6)})
    obj: dict[str, Any] = {"t": round(entry.t, 6), "ms": round(entry.ms, 3),
                           "cmd": entry.command, "rsp": entry.response.hex().upper()}
    if entry.note:
        obj["note"] = entry.note
    return json.dumps(obj, ensure_ascii=False)


def dump_lines(transcript: Transcript) -> Iterator[str]:
    yield header_line(transcript.header)
    for entry in transcript.entries:
        yield entry_line(entry)


def write(transcript: Transcript, out: TextIO) -> None:
    for line in dump_lines(transcript):
        out.write(line + "\n")
