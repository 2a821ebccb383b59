"""The repository's root, for tests that read its own files (docs, fixtures, systemd)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
