"""Run the crash writer, SIGKILL it at a random moment, and collect what it acknowledged."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

WRITER = Path(__file__).with_name("crash_writer.py")
#: Kill rounds per store in CI; MYNA_CRASH_ROUNDS raises it for the long run (docs figures).
ROUNDS = int(os.environ.get("MYNA_CRASH_ROUNDS", "30"))


@dataclass(frozen=True)
class Op:
    kind: str
    arg: str
    done: bool  # False: in flight when the kill came


def kill_at_random(kind: str, state_dir: Path, start: int, rng: random.Random) -> list[Op]:
    """Start the writer, let it complete a random number of operations and then a random
    few milliseconds more, SIGKILL it; return every operation it announced, in order."""
    seed = str(rng.randrange(1 << 30))
    child = subprocess.Popen([sys.executable, str(WRITER), kind, str(state_dir), str(start),
                              seed], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    lines: list[str] = []
    wanted = rng.randrange(1, 40)
    while lines.count("done") < wanted:
        line = child.stdout.readline()
        if not line:
            raise AssertionError(f"the writer ended by itself (rc {child.wait()})")
        lines.append(line.strip())
    time.sleep(rng.uniform(0, 0.02))
    child.send_signal(signal.SIGKILL)
    lines += child.stdout.read().splitlines()
    assert child.wait() == -signal.SIGKILL
    return parse_ops(lines)


def parse_ops(lines: list[str]) -> list[Op]:
    ops: list[Op] = []
    for line in lines:
        if line == "done":
            ops[-1] = Op(ops[-1].kind, ops[-1].arg, done=True)
        elif line.startswith("begin "):
            _, kind, arg = line.split()
            ops.append(Op(kind, arg, done=False))
    return ops


def leftover_temp_files(state_dir: Path) -> list[Path]:
    """Temporary files a kill inside `write_atomic` left behind (never read by the store)."""
    return sorted(state_dir.glob(".*.tmp"))
