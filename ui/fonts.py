"""Fonts: two faces, chosen by glyph coverage.

- Text: BIZ UDPGothic (proportional kana and Latin, so English reads as prose, not as a
  terminal), IPAex Gothic as fallback. Every sentence, title and button label.
- Mono: BIZ UDGothic (fixed width), only where characters must line up in columns: the
  keypad's digits. Without it the text face draws them too.

Coverage is read from the font file's own character map (fontTools), not from pygame:
pygame's `Font.metrics()` reports a box glyph for a missing kanji as if it were there. At
start the first configured family whose files cover every catalog text wins; if none does
the UI refuses to start (FontCoverageError names the characters), rather than draw boxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

import pygame
from fontTools.ttLib import TTFont

from myna_reader.daemon.errors import DaemonError
from myna_reader.ui.settings import DEFAULT_FAMILIES

MONO_FAMILIES: tuple[str, ...] = ("BIZ UDGothic",)
MONO_CHARS = "0123456789"  # what the mono face draws (keypad digits)
# characters the screens draw that are not in any catalog (the PIN mask)
EXTRA_CHARS = "●○"


class Weight(StrEnum):
    REGULAR = "regular"
    BOLD = "bold"


class Face(StrEnum):
    TEXT = "text"  # proportional: running text, titles, labels, Latin
    MONO = "mono"  # fixed width: digits that line up (the keypad)


class FontError(DaemonError):
    """No usable font: none installed, or none covers the texts (the message says which)."""


class FontCoverageError(FontError):
    pass


@cache
def codepoints_of(path: str) -> frozenset[int]:
    """The code points the font file maps to a glyph (its best Unicode cmap)."""
    with TTFont(path, fontNumber=0, lazy=True) as font:
        cmap = font.getBestCmap()
    return frozenset(cmap or {})


def missing_chars(path: str, texts: Iterable[str]) -> set[str]:
    """Characters of `texts` the font file has no glyph for (line breaks and spaces aside)."""
    have = codepoints_of(path)
    wanted = {c for text in texts for c in text if not c.isspace()}
    return {c for c in wanted if ord(c) not in have}


def find_family(family: str) -> dict[Weight, str] | None:
    """The files of an installed family through fontconfig, or None when it is missing."""
    name = family.replace(" ", "").lower()
    regular = pygame.font.match_font(name)
    bold = pygame.font.match_font(name, bold=True)
    if regular is None:
        return None
    return {Weight.REGULAR: regular, Weight.BOLD: bold or regular}


@dataclass
class FontSet:
    """The chosen families' files and a cache of loaded pygame fonts by (face, weight, size)."""

    family: str
    files: dict[Weight, str]
    mono_family: str = ""  # empty: the text face draws the digits too
    mono_files: dict[Weight, str] = field(default_factory=dict)
    _cache: dict[tuple[Face, Weight, int], pygame.font.Font] = field(default_factory=dict,
                                                                     repr=False)

    def get(self, size: int, weight: Weight = Weight.REGULAR,
            face: Face = Face.TEXT) -> pygame.font.Font:
        key = (face, weight, size)
        font = self._cache.get(key)
        if font is None:
            files = self.mono_files if face is Face.MONO and self.mono_files else self.files
            font = pygame.font.Font(files[weight], size)
            self._cache[key] = font
        return font

    def missing(self, texts: Iterable[str]) -> set[str]:
        texts = list(texts)
        return set().union(*(missing_chars(path, texts) for path in set(self.files.values())))


def _mono(families: Sequence[str]) -> tuple[str, dict[Weight, str]]:
    """The first installed fixed-width family that has every keypad digit, or ("", {})."""
    for family in families:
        files = find_family(family)
        if files is not None and not set().union(
                *(missing_chars(path, [MONO_CHARS]) for path in set(files.values()))):
            return family, files
    return "", {}


def choose_fonts(texts: Iterable[str], families: Sequence[str] = DEFAULT_FAMILIES,
                 paths: Sequence[str] = (), mono: Sequence[str] = MONO_FAMILIES) -> FontSet:
    """The first text family (explicit font file `paths` first) covering every char of
    `texts`, with the first fixed-width family of `mono` for the keypad's digits."""
    if not pygame.font.get_init():
        pygame.font.init()
    texts = [*texts, EXTRA_CHARS]
    candidates: list[tuple[str, dict[Weight, str]]] = [
        (path, {Weight.REGULAR: path, Weight.BOLD: path}) for path in paths]
    for family in families:
        files = find_family(family)
        if files is not None:
            candidates.append((family, files))
    if not candidates:
        raise FontError(f"no font installed of {', '.join(families)}: "
                        "install fonts-morisawa-bizud-gothic (or fonts-ipaexfont-gothic)")
    reports = []
    for name, files in candidates:
        lacking = FontSet(name, files).missing(texts)
        if not lacking:
            return FontSet(name, files, *_mono(mono))
        reports.append(f"{name} lacks {''.join(sorted(lacking))[:40]!r}")
    raise FontCoverageError("no configured font has every glyph the screens need: "
                            + "; ".join(reports))
