"""Headless display for the canary runs: the real pygame loop on SDL's dummy drivers."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
