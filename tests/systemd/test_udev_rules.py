"""The udev rules file, linted: no udevd runs here and systemd 252 has no `udevadm verify`,
so each rule is parsed into KEY op "value" tokens and every key is checked to be used as a
match (==, !=) or an assignment (=, +=) as udev(7) defines it. A rule that udev would skip
with a warning (a typo'd key, `=` where `==` was meant) fails here."""

from __future__ import annotations

import re

from tests.support.repo import REPO

RULES = REPO / "systemd" / "60-myna-reader.rules"
TOKEN = re.compile(r'\s*([A-Z_]+)(\{[^}]+\})?\s*(==|!=|\+=|=)\s*"([^"]*)"\s*(,|$)')
MATCH_KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "ATTR", "ATTRS", "ENV"}
ASSIGN_KEYS = {"GROUP", "MODE", "TAG", "ENV", "SYMLINK", "GOTO", "LABEL"}


def rules() -> list[list[tuple[str, str, str]]]:
    parsed = []
    for number, line in enumerate(RULES.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        tokens, position = [], 0
        while position < len(line):
            token = TOKEN.match(line, position)
            assert token, f"line {number}: cannot parse at {line[position:]!r}"
            tokens.append((token.group(1), token.group(3), token.group(4)))
            position = token.end()
        parsed.append(tokens)
    return parsed


def test_every_rule_parses_and_uses_keys_as_udev_defines_them() -> None:
    for tokens in rules():
        for key, op, _value in tokens:
            if op in ("==", "!="):
                assert key in MATCH_KEYS, key
            else:
                assert key in ASSIGN_KEYS, key


def test_goto_has_its_label_and_the_readers_are_covered() -> None:
    flat = [token for tokens in rules() for token in tokens]
    gotos = {value for key, _op, value in flat if key == "GOTO"}
    labels = {value for key, _op, value in flat if key == "LABEL"}
    assert gotos <= labels
    text = RULES.read_text()
    for needle in ('ATTR{idProduct}=="06c1|06c3|02e1"', 'ENV{ID_USB_INTERFACES}=="*:0b????:*"',
                   'SYMLINK+="myna-reader-link"', 'TAG+="uaccess"', 'GROUP="plugdev"'):
        assert needle in text, needle
