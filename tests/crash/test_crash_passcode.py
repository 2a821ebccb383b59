"""SIGKILL while the passcode store sets and checks: the file is always whole and current.

After every kill the store opens (the daemon's own reader of the file), and its state is the
one after the last acknowledged operation, or after the one in flight: the hash of the code
last set, the failure count and the lock, nothing older and nothing torn.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

from myna_reader.daemon.engine import LockoutPolicy, Secret
from myna_reader.daemon.store.passcode import PASSCODE_FILE, PasscodeStore, ScryptParams
from tests.crash.crash_support import ROUNDS, Op, kill_at_random, leftover_temp_files
from tests.crash.crash_writer import CHEAP_SCRYPT, code_for

MAX_FAILURES = LockoutPolicy().max_failures


@dataclass(frozen=True)
class Model:
    generation: int = 0
    failures: int = 0
    locked: bool = False

    def apply(self, op: Op) -> Model:
        if op.kind == "set":
            return Model(int(op.arg))
        if self.locked:
            return self  # no hash is computed while locked, nothing is counted
        if op.kind == "right":
            return replace(self, failures=0)
        failures = self.failures + 1
        return replace(self, failures=failures, locked=failures >= MAX_FAILURES)


def on_disk(state_dir: Path, newest: int) -> Model | None:
    """The state the file holds, read as the daemon reads it (status), and which generation's
    code (0..newest) its hash is of."""
    state = PasscodeStore(state_dir, scrypt=CHEAP_SCRYPT).status()
    if not state.provisioned:
        return None
    raw = json.loads((state_dir / PASSCODE_FILE).read_bytes())
    params = ScryptParams(raw["n"], raw["r"], raw["p"], raw["dklen"])
    salt, digest = base64.b64decode(raw["salt"]), base64.b64decode(raw["hash"])
    matches = [g for g in range(newest + 1)
               if params.derive(Secret(code_for(g)), salt) == digest]
    assert len(matches) == 1, f"the stored hash matches generations {matches}"
    return Model(matches[0], state.failures, state.locked_for_s > 0)


def test_sigkill_never_loses_or_tears_a_passcode_write(tmp_path: Path) -> None:
    rng = random.Random()
    model = Model()
    kills_in_flight = swept = 0
    for _ in range(ROUNDS):
        ops = kill_at_random("passcode", tmp_path, model.generation, rng)
        assert ops, "the writer announced nothing"
        for op in ops:
            if op.done:
                model = model.apply(op)
        in_flight = ops[-1] if not ops[-1].done else None
        kills_in_flight += in_flight is not None
        allowed = {model} | ({model.apply(in_flight)} if in_flight else set())
        swept += len(leftover_temp_files(tmp_path))
        found = on_disk(tmp_path, max(m.generation for m in allowed))
        assert found in allowed, f"on disk {found}, expected one of {allowed} after {ops[-3:]}"
        assert not leftover_temp_files(tmp_path), "the store did not sweep a torn temp file"
        model = found  # the next round starts from what survived
    assert kills_in_flight > 0, "no kill landed inside an operation: the test proved little"
    print(f"passcode: {ROUNDS} kills, {kills_in_flight} inside an operation, "
          f"{swept} torn temporary files swept by the next open")
