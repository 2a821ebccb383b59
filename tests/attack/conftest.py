"""Fixtures of the attack runs: a headless display (the real pygame loop on SDL's dummy
drivers) and a real second, unprivileged user for the attacker's processes."""

from __future__ import annotations

import os

import pytest

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

from tests.attack.second_user import Rogue, SecondUserError, second_user


@pytest.fixture(scope="session")
def rogue() -> Rogue:
    try:
        return second_user()
    except SecondUserError as exc:
        pytest.fail(str(exc), pytrace=False)
