"""The canary values and the search for them in every byte the system wrote.

Each canary is searched in every form a leak could take: its UTF-8 text, and the hex of its
bytes (upper and lower case, with and without spaces: APDU traces and transcripts are hex),
and for the long ones base64 at every alignment (host messages and the outbox carry base64).
A 4-digit code is searched as a token not inside a longer run of hex digits: a timestamp or a
fingerprint that happens to contain "7391" is not a leak, "pin=7391" or `"7391"` is.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

PIN = "7391"
WRONG_PIN = "6047"
PASSCODE = "8264"
WRONG_PASSCODE = "5093"
MY_NUMBER_BODY = "90817263544"  # + the check digit generate.py computes
FAMILY = "鷺ノ宮"
GIVEN = "鈴鳴"
ADDRESS = "鵲県燕市雲雀町四丁目九番地"

CODES = (PIN, WRONG_PIN, PASSCODE, WRONG_PASSCODE)


@dataclass(frozen=True)
class Hit:
    source: str
    canary: str
    form: str
    offset: int

    def __str__(self) -> str:
        return f"{self.source} @{self.offset}: {self.form} form of canary {self.canary!r}"


def _hex_forms(raw: bytes) -> dict[str, re.Pattern[bytes]]:
    plain = raw.hex()
    spaced = raw.hex(" ")
    return {"hex": re.compile(re.escape(plain.encode()), re.IGNORECASE),
            "spaced hex": re.compile(re.escape(spaced.encode()), re.IGNORECASE)}


def _base64_forms(raw: bytes) -> list[bytes]:
    """The part of base64(x + raw + y) that depends only on `raw`, for each alignment."""
    forms = []
    for pad in range(3):
        encoded = base64.b64encode(b"\x00" * pad + raw + b"\x00\x00")
        # the characters whose 6 bits all come from `raw`
        forms.append(encoded[(8 * pad + 5) // 6 : (8 * pad + 8 * len(raw)) // 6])
    return forms


def patterns(canary: str) -> dict[str, re.Pattern[bytes]]:
    raw = canary.encode("utf-8")
    if canary.isdigit() and len(canary) == 4:
        text = re.compile(rb"(?<![0-9A-Fa-f])" + raw + rb"(?![0-9A-Fa-f])")
    else:
        text = re.compile(re.escape(raw))
    found = {"text": text, **_hex_forms(raw)}
    if len(raw) >= 9:
        for i, form in enumerate(_base64_forms(raw)):
            found[f"base64/{i}"] = re.compile(re.escape(form))
    return found


def search(sources: dict[str, bytes], canaries: tuple[str, ...]) -> list[Hit]:
    hits = []
    for canary in canaries:
        for form, pattern in patterns(canary).items():
            for source, data in sources.items():
                hits += [Hit(source, canary, form, m.start()) for m in pattern.finditer(data)]
    return hits


def files_under(*roots: Path) -> dict[str, bytes]:
    """Every file under `roots` (recursively), by path."""
    return {str(path): path.read_bytes() for root in roots for path in sorted(root.rglob("*"))
            if path.is_file()}
