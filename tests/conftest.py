"""Fixtures shared across test folders.

`pcscd`: the one real pcscd of the session (its client socket path is fixed, so two cannot
run), with a private vpcd channel; the pcsc tests and the contract suite both use it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pcscd import PcscdInstance, PcscdUnavailableError, private_pcscd


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscdInstance]:
    server = private_pcscd(tmp_path_factory.mktemp("pcscd"), apdu_log=True)
    try:
        instance = server.__enter__()
    except PcscdUnavailableError as exc:
        pytest.fail(f"pcscd with vpcd is required: {exc}", pytrace=False)
    try:
        yield instance
    finally:
        server.__exit__(None, None, None)
