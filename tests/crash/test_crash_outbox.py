"""SIGKILL while the outbox puts and acks: every acknowledged write survives, whole.

After every kill the outbox opens (SQLite recovers its WAL), passes SQLite's integrity check,
and holds exactly the results put and not yet acked, each payload intact; an ack that
returned is never undone. Only the one operation in flight may have landed or not.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from myna_reader.daemon.store.outbox import OUTBOX_FILE, Outbox
from tests.crash.crash_support import ROUNDS, Op, kill_at_random
from tests.crash.crash_writer import result_for


@dataclass(frozen=True)
class Model:
    pending: frozenset[str] = frozenset()
    delivered: frozenset[str] = frozenset()

    def apply(self, op: Op) -> Model:
        if op.kind == "put":
            return Model(self.pending | {op.arg}, self.delivered)
        return Model(self.pending - {op.arg}, self.delivered | {op.arg})


def on_disk(state_dir: Path) -> Model:
    path = state_dir / OUTBOX_FILE
    outbox = Outbox(path)  # the daemon's own open: recovery, schema check
    try:
        pending = outbox.pending()
    finally:
        outbox.close()
    for item in pending:
        assert item.wire == json.loads(json.dumps(result_for(item.id).to_wire())), item.id
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        delivered = frozenset(row[0] for row in db.execute("SELECT id FROM delivered"))
    return Model(frozenset(item.id for item in pending), delivered)


def test_sigkill_never_loses_or_tears_an_outbox_write(tmp_path: Path) -> None:
    rng = random.Random()
    model = Model()
    next_id = 0
    kills_in_flight = 0
    for _ in range(ROUNDS):
        ops = kill_at_random("outbox", tmp_path, next_id, rng)
        for op in ops:
            if op.done:
                model = model.apply(op)
            if op.kind == "put":
                next_id = max(next_id, int(op.arg[1:]) + 1)
        in_flight = ops[-1] if ops and not ops[-1].done else None
        kills_in_flight += in_flight is not None
        allowed = [model] + ([model.apply(in_flight)] if in_flight else [])
        found = on_disk(tmp_path)
        assert found in allowed, (f"pending {sorted(found.pending)} delivered "
                                  f"{len(found.delivered)}; expected one of {allowed}")
        model = found
    assert kills_in_flight > 0, "no kill landed inside an operation: the test proved little"
    print(f"outbox: {ROUNDS} kills, {kills_in_flight} inside an operation, "
          f"{len(model.pending)} pending and {len(model.delivered)} delivered at the end")
